"""Console pages of monitoring (under /monitoring/)."""

from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("predictions/", views.prediction_page, name="prediction"),
    path("keys/<int:key_id>/", views.key_page, name="key"),
    path("keys/<int:key_id>/charts", views.key_charts, name="key-charts"),
    path("alerts/<int:alert_id>/resolve", views.alert_resolve, name="alert-resolve"),
    path("<str:model>/<slug:deployment>/", views.deployment_page, name="deployment"),
    path("<str:model>/<slug:deployment>/charts", views.deployment_charts, name="deployment-charts"),
    path("<str:model>/<slug:deployment>/slo", views.slo_edit, name="slo-edit"),
]
