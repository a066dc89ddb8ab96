"""Console pages: start a validation and watch it live, edit a model's policy, batch jobs, workers.

The live panels are htmx fragments that poll every 2 s while their run or job is active; a
finished one is rendered without the trigger, so polling stops by itself.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from core.errors import ServiceError
from jobs import batch_jobs, workers
from jobs.forms import BatchJobForm, policy_form
from jobs.templatetags.jobs_tags import version_actions_context
from jobs.validation import policy as validation_policy
from jobs.validation import runs
from registry import selectors as registry_selectors


@require_POST
@role_required("deploy")
def validation_start(request, model: str, number: int):
    version = registry_selectors.version_get(model, number)
    try:
        run = runs.validation_start(version=version, actor=request.actor)
        messages.success(request, f"Validation run #{run.pk} queued on the gpu workers.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("registry:version-detail", model, number)


@role_required("read")
def validation_panel(request, run_id: int):
    run = runs.validation_get(run_id)
    if not run.finished:
        return render(request, "jobs/_validation_panel.html", {"run": run})
    # The verdict changes the header state, the validate button and the deploy gate: swap them
    # in the same response so the page never shows a verdict above a stale gate.
    version = registry_selectors.version_get(run.version.model.name, run.version.number)
    context = version_actions_context(request, version, get_token(request))
    context.update({"run": run, "version": version})
    return render(request, "jobs/_validation_done.html", context)


@role_required("read")
def validation_policy_edit(request, model: str):
    obj = registry_selectors.model_get(model)
    can_edit = request.actor.can("deploy", model=model)
    current = validation_policy.policy_effective(obj)
    form = policy_form(request.POST if request.method == "POST" else None, initial=current)
    if request.method == "POST":
        if not can_edit:
            return render(request, "accounts/forbidden.html", {"scope": "deploy"}, status=403)
        if form.is_valid():
            changes = {k: v for k, v in form.cleaned_data.items() if v != current[k]}
            if not changes:
                messages.info(request, "Nothing changed.")
                return redirect("jobs:validation-policy", model)
            try:
                validation_policy.policy_update(model=obj, changes=changes, actor=request.actor)
                messages.success(request, f"Policy saved ({', '.join(sorted(changes))}).")
                return redirect("jobs:validation-policy", model)
            except ServiceError as exc:
                form.add_error(None, exc.message)
    return render(
        request,
        "jobs/validation_policy.html",
        {"model": obj, "form": form, "can_edit": can_edit},
    )


@role_required("read")
def batch_job_list(request):
    form = BatchJobForm(request.POST or None)
    if request.method == "POST":
        request.actor.require("deploy", what="start a batch job")
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = batch_jobs.batch_job_create(
                    version=registry_selectors.version_get(data["model"], data["version"]),
                    dataset=registry_selectors.dataset_get(data["dataset"]),
                    batch_size=data["batch_size"],
                    actor=request.actor,
                )
                messages.success(request, f"Batch job #{job.pk} queued.")
                return redirect("jobs:batch-job-detail", job.pk)
            except ServiceError as exc:
                form.add_error(None, exc.message)
    return render(
        request,
        "jobs/batch_job_list.html",
        {
            "jobs": batch_jobs.batch_job_list()[:100],
            "form": form,
            "can_start": request.actor.can("deploy"),
        },
    )


@role_required("read")
def batch_job_detail(request, job_id: int):
    job = batch_jobs.batch_job_get(job_id)
    template = "jobs/_batch_job_progress.html" if request.htmx else "jobs/batch_job_detail.html"
    context = {"job": job, "can_cancel": request.actor.can("deploy")}
    return render(request, template, context)


@require_POST
@role_required("deploy")
def batch_job_cancel(request, job_id: int):
    job = batch_jobs.batch_job_get(job_id)
    try:
        batch_jobs.batch_job_cancel(job=job, actor=request.actor)
        messages.success(request, f"Cancel requested for batch job #{job.pk}.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("jobs:batch-job-detail", job.pk)


@role_required("read")
def batch_job_download(request, job_id: int, fmt: str):
    job = batch_jobs.batch_job_get(job_id)
    path = batch_jobs.batch_job_result_path(job, fmt)
    return FileResponse(
        open(path, "rb"), as_attachment=True, filename=f"batch-job-{job.pk}-predictions.{fmt}"
    )


@role_required("read")
def worker_list(request):
    return render(
        request,
        "jobs/worker_list.html",
        {"workers": workers.worker_list(), "stale_seconds": workers.stale_after().total_seconds()},
    )
