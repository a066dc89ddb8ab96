"""Console pages of deployments (under /deployments/)."""

from django.urls import path

from serving import traffic_views, views

app_name = "serving"

urlpatterns = [
    path("", views.deployment_list, name="deployment-list"),
    path("<str:model>/<slug:deployment>/", views.deployment_detail, name="deployment-detail"),
    path("<str:model>/<slug:deployment>/rollback", views.rollback, name="deployment-rollback"),
    path("<str:model>/<slug:deployment>/configure", views.configure, name="deployment-configure"),
    path(
        "<str:model>/<slug:deployment>/rollout",
        views.deployment_rollout,
        name="deployment-rollout",
    ),
    path("deploy/<str:model>/v<int:number>", views.deploy_version, name="version-deploy"),
    path("create/<str:model>", views.deployment_create, name="deployment-create"),
    path(
        "<str:model>/<slug:deployment>/traffic",
        traffic_views.set_traffic,
        name="deployment-traffic",
    ),
]

# Validation, batch jobs and workers (serving/validation_views.py).
from serving import validation_views  # noqa: E402

# Two-segment paths end without a slash: `<model>/<deployment>/` above would capture them.
urlpatterns += [
    path(
        "validate/<str:model>/v<int:number>",
        validation_views.validation_start,
        name="validation-start",
    ),
    path(
        "validations/<int:run_id>/panel", validation_views.validation_panel, name="validation-panel"
    ),
    path("policy/<str:model>", validation_views.validation_policy_edit, name="validation-policy"),
    path("batch-jobs/", validation_views.batch_job_list, name="batch-job-list"),
    path("batch-jobs/<int:job_id>", validation_views.batch_job_detail, name="batch-job-detail"),
    path(
        "batch-jobs/<int:job_id>/cancel", validation_views.batch_job_cancel, name="batch-job-cancel"
    ),
    path(
        "batch-jobs/<int:job_id>/predictions.<str:fmt>",
        validation_views.batch_job_download,
        name="batch-job-download",
    ),
    path("workers/", validation_views.worker_list, name="worker-list"),
]
