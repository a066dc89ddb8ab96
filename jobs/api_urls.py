"""Validation runs, policies, batch jobs and workers in the management API (under /api/v1/)."""

from django.urls import path

from jobs import api

urlpatterns = [
    path(
        "models/<str:model>/versions/<int:number>/validations",
        api.VersionValidationsApi.as_view(),
        name="version-validations",
    ),
    path("validations/<int:run_id>", api.ValidationRunApi.as_view(), name="validation"),
    path(
        "models/<str:model>/validation-policy",
        api.ValidationPolicyApi.as_view(),
        name="validation-policy",
    ),
    path("batch-jobs", api.BatchJobListApi.as_view(), name="batch-job-list"),
    path("batch-jobs/<int:job_id>", api.BatchJobApi.as_view(), name="batch-job"),
    path(
        "batch-jobs/<int:job_id>/cancel",
        api.BatchJobCancelApi.as_view(),
        name="batch-job-cancel",
    ),
    path(
        "batch-jobs/<int:job_id>/predictions.<str:fmt>",
        api.BatchJobPredictionsApi.as_view(),
        name="batch-job-predictions",
    ),
    path("workers", api.WorkerListApi.as_view(), name="worker-list"),
]
