"""Console pages of monitoring (under /monitoring/)."""

from django.urls import path

from monitoring import archive_views, drift_views, experiment_views, views

app_name = "monitoring"

urlpatterns = [
    path("predictions/", views.prediction_page, name="prediction"),
    path("keys/<int:key_id>/", views.key_page, name="key"),
    path("keys/<int:key_id>/charts", views.key_charts, name="key-charts"),
    path("keys/<int:key_id>/refusals", views.key_refusals, name="key-refusals"),
    path("alerts/<int:alert_id>/resolve", views.alert_resolve, name="alert-resolve"),
    path("<str:model>/<slug:deployment>/", views.deployment_page, name="deployment"),
    path("<str:model>/<slug:deployment>/charts", views.deployment_charts, name="deployment-charts"),
    path("<str:model>/<slug:deployment>/slo", views.slo_edit, name="slo-edit"),
    path(
        "<str:model>/<slug:deployment>/archive",
        archive_views.deployment_archive,
        name="deployment-archive",
    ),
    path("feedback/", drift_views.feedback_bulk, name="feedback-bulk"),
    path("<str:model>/<slug:deployment>/drift/", drift_views.drift_page, name="drift"),
    path("<str:model>/<slug:deployment>/drift/run", drift_views.drift_run, name="drift-run"),
    path(
        "<str:model>/<slug:deployment>/drift/policy",
        drift_views.drift_policy_edit,
        name="drift-policy",
    ),
    path("<str:model>/<slug:deployment>/quality/", drift_views.quality_page, name="quality"),
    path("<str:model>/<slug:deployment>/shadow/", drift_views.shadow_page, name="shadow"),
    path(
        "<str:model>/<slug:deployment>/experiments/",
        experiment_views.experiment_list,
        name="experiment-list",
    ),
    path(
        "<str:model>/<slug:deployment>/experiments/<int:experiment_id>/",
        experiment_views.experiment_detail,
        name="experiment",
    ),
    path(
        "<str:model>/<slug:deployment>/experiments/<int:experiment_id>/promote",
        experiment_views.experiment_promote,
        name="experiment-promote",
    ),
    path(
        "<str:model>/<slug:deployment>/experiments/<int:experiment_id>/stop",
        experiment_views.experiment_stop,
        name="experiment-stop",
    ),
]
