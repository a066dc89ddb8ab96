"""Deployment management API (under /api/v1/); the native predict route is the protocol table's
(serving/protocol_urls.py)."""

from django.urls import path

from serving import api, rollout_api, traffic_api

urlpatterns = [
    path("deployments", api.DeploymentListApi.as_view(), name="deployment-list-all"),
    path("models/<str:model>/deployments", api.DeploymentListApi.as_view(), name="deployment-list"),
    path(
        "models/<str:model>/deployments/<slug:deployment>",
        api.DeploymentDetailApi.as_view(),
        name="deployment-detail",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/deploy",
        api.DeployApi.as_view(),
        name="deployment-deploy",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/rollback",
        api.RollbackApi.as_view(),
        name="deployment-rollback",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/status",
        rollout_api.RolloutStatusApi.as_view(),
        name="deployment-rollout-status",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/state",
        api.StateAtApi.as_view(),
        name="deployment-state",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/traffic",
        traffic_api.TrafficApi.as_view(),
        name="deployment-traffic",
    ),
]
