"""Console pages of deployments (under /deployments/)."""

from django.urls import path

from serving import views

app_name = "serving"

urlpatterns = [
    path("", views.deployment_list, name="deployment-list"),
    path("<str:model>/<slug:deployment>/", views.deployment_detail, name="deployment-detail"),
    path("<str:model>/<slug:deployment>/rollback", views.rollback, name="deployment-rollback"),
    path("<str:model>/<slug:deployment>/configure", views.configure, name="deployment-configure"),
    path("deploy/<str:model>/v<int:number>", views.deploy_version, name="version-deploy"),
]
