"""Monitoring API routes (under /api/v1/)."""

from django.urls import path

from monitoring import api

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
]
