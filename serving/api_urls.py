"""Deployment management API and the native predict route (under /api/v1/)."""

from django.urls import path

from serving import api, protocol_views, rollout_api, traffic_api

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
        "models/<str:model>/deployments/<slug:deployment>/predict",
        protocol_views.serve,
        name="deployment-predict",
    ),
    path(
        "models/<str:model>/deployments/<slug:deployment>/traffic",
        traffic_api.TrafficApi.as_view(),
        name="deployment-traffic",
    ),
]

# Validation runs, policies, batch jobs and workers (serving/validation_api.py).
from serving import validation_api  # noqa: E402

urlpatterns += [
    path(
        "models/<str:model>/versions/<int:number>/validations",
        validation_api.VersionValidationsApi.as_view(),
        name="version-validations",
    ),
    path("validations/<int:run_id>", validation_api.ValidationRunApi.as_view(), name="validation"),
    path(
        "models/<str:model>/validation-policy",
        validation_api.ValidationPolicyApi.as_view(),
        name="validation-policy",
    ),
    path("batch-jobs", validation_api.BatchJobListApi.as_view(), name="batch-job-list"),
    path("batch-jobs/<int:job_id>", validation_api.BatchJobApi.as_view(), name="batch-job"),
    path(
        "batch-jobs/<int:job_id>/cancel",
        validation_api.BatchJobCancelApi.as_view(),
        name="batch-job-cancel",
    ),
    path(
        "batch-jobs/<int:job_id>/predictions.<str:fmt>",
        validation_api.BatchJobPredictionsApi.as_view(),
        name="batch-job-predictions",
    ),
    path("workers", validation_api.WorkerListApi.as_view(), name="worker-list"),
]
