"""Console pages of validation, batch jobs and workers (under /deployments/, as before the
move out of serving; the URL names keep the `serving:` namespace's spellings under `jobs:`)."""

from django.urls import path

from jobs import views

app_name = "jobs"

urlpatterns = [
    path(
        "validate/<str:model>/v<int:number>",
        views.validation_start,
        name="validation-start",
    ),
    path("validations/<int:run_id>/panel", views.validation_panel, name="validation-panel"),
    path("policy/<str:model>", views.validation_policy_edit, name="validation-policy"),
    path("batch-jobs/", views.batch_job_list, name="batch-job-list"),
    path("batch-jobs/<int:job_id>", views.batch_job_detail, name="batch-job-detail"),
    path("batch-jobs/<int:job_id>/cancel", views.batch_job_cancel, name="batch-job-cancel"),
    path(
        "batch-jobs/<int:job_id>/predictions.<str:fmt>",
        views.batch_job_download,
        name="batch-job-download",
    ),
    path("workers/", views.worker_list, name="worker-list"),
]
