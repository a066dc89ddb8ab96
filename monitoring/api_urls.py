"""Monitoring API routes (under /api/v1/)."""

from django.urls import path

from monitoring import api, archive_views, drift_api, experiment_api

urlpatterns = [
    path(
        "models/<str:model>/deployments/<slug:deployment>/metrics",
        api.DeploymentMetricsApi.as_view(),
        name="deployment-metrics",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/slo",
        api.SloApi.as_view(),
        name="deployment-slo",
    ),
    path("predictions/<str:prediction_id>", api.PredictionApi.as_view(), name="prediction-detail"),
    path("keys/<int:key_id>/metrics", api.KeyMetricsApi.as_view(), name="key-metrics"),
    path("alerts", api.AlertListApi.as_view(), name="alert-list"),
    path(
        "predictions/<str:prediction_id>/feedback",
        drift_api.FeedbackApi.as_view(),
        name="prediction-feedback",
    ),
    path("feedback", drift_api.FeedbackBulkApi.as_view(), name="feedback-bulk"),
    path(
        "models/<str:model>/deployments/<slug:deployment>/drift",
        drift_api.DriftApi.as_view(),
        name="deployment-drift",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/drift/run",
        drift_api.DriftRunApi.as_view(),
        name="deployment-drift-run",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/quality",
        drift_api.QualityApi.as_view(),
        name="deployment-quality",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/shadow",
        drift_api.ShadowApi.as_view(),
        name="deployment-shadow",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/archive",
        archive_views.DeploymentArchiveApi.as_view(),
        name="deployment-archive",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/experiments",
        experiment_api.ExperimentListApi.as_view(),
        name="experiment-list",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/experiments/<int:experiment_id>",
        experiment_api.ExperimentDetailApi.as_view(),
        name="experiment-detail",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/experiments/<int:experiment_id>/promote",
        experiment_api.ExperimentEndApi.as_view(end_action="promote"),
        name="experiment-promote",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/experiments/<int:experiment_id>/stop",
        experiment_api.ExperimentEndApi.as_view(end_action="stop"),
        name="experiment-stop",
    ),
]
