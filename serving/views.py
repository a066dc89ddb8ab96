"""Console pages of deployments: list, detail with history and rollback, deploy from a version."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.permissions import actor_can, request_ip, role_required
from core.errors import NotFound, ServiceError
from registry import selectors as registry_selectors
from serving import deploy, selectors
from serving.forms import ConfigForm, DeploymentCreateForm, RollbackForm, StateAtForm, deploy_form
from serving.history import rollback_preview
from serving.pool import get_pool
from serving.rollout import deployment_rollout_status


def _found(fn, *args):
    """A missing model/version/deployment is a 404 page in the console, not a 500."""
    try:
        return fn(*args)
    except NotFound as exc:
        raise Http404(exc.message) from None


@role_required("read")
def deployment_list(request):
    return render(
        request,
        "serving/deployment_list.html",
        {"deployments": selectors.deployment_list_with_last_change()},
    )


@role_required("read")
def deployment_detail(request, model: str, deployment: str):
    obj = _found(selectors.deployment_get, model, deployment)
    state_form = StateAtForm(request.GET or None)
    state_at = None
    if state_form.is_valid():
        event = deploy.deployment_state_at(obj, state_form.cleaned_data["at"])
        state_at = {"at": state_form.cleaned_data["at"], "event": event}
    return render(
        request,
        "serving/deployment_detail.html",
        {
            "deployment": obj,
            "events": selectors.deployment_events(obj)[:200],
            "can_deploy": actor_can(request.user, None, "deploy", model_name=model),
            "config_form": ConfigForm(instance=obj),
            "rollback_target": rollback_preview(obj),
            "traffic_versions": registry_selectors.version_list(obj.model).exclude(
                state="archived"
            ),
            "is_admin": actor_can(request.user, None, "admin"),
            "current_state": [v.state() for v in obj.variants.all()],
            "state_form": state_form,
            "state_at": state_at,
            "pool": get_pool().stats(),
            "rollout": deployment_rollout_status(deployment=obj),
        },
    )


@role_required("read")
def deployment_rollout(request, model: str, deployment: str):
    """The rollout card alone, for a live refresh of the deployment page."""
    obj = _found(selectors.deployment_get, model, deployment)
    return render(
        request,
        "serving/_rollout_status.html",
        {
            "deployment": obj,
            "rollout": deployment_rollout_status(deployment=obj),
            "can_deploy": actor_can(request.user, None, "deploy", model_name=model),
        },
    )


def _service_call(request, fn, **kwargs):
    try:
        fn(actor=request.user, ip=request_ip(request), **kwargs)
        return True
    except ServiceError as exc:
        messages.error(request, exc.message)
        return False


@require_POST
@role_required("deploy")
def deploy_version(request, model: str, number: int):
    version = _found(registry_selectors.version_get, model, number)
    form = deploy_form(selectors.deployment_names(version.model), request.POST)
    if not form.is_valid():
        messages.error(request, f"Deploy failed: {form.errors.as_text()}")
        return redirect("registry:version-detail", model, number)
    override = form.cleaned_data["override"]
    name = form.cleaned_data["deployment"]
    if _service_call(
        request,
        deploy.deployment_deploy,
        model_name=model,
        deployment_name=name,
        version_number=version.number,
        reason=form.cleaned_data["reason"],
        override=override,
        create=False,
    ):
        messages.success(request, f"Deployed {model} v{number} to {name}.")
        return redirect("serving:deployment-detail", model, name)
    return redirect("registry:version-detail", model, number)


@require_POST
@role_required("deploy")
def deployment_create(request, model: str):
    """Create an empty deployment (the explicit action), then back to the page that asked."""
    form = DeploymentCreateForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("serving:deployment-list")
    if not form.is_valid():
        messages.error(request, f"Not created: {form.errors['name'].as_text()}")
    else:
        name = form.cleaned_data["name"]
        if _service_call(request, deploy.deployment_create, model_name=model, deployment_name=name):
            messages.success(request, f"Created {model}/{name}; it serves nothing yet.")
    return redirect(back)


@require_POST
@role_required("deploy")
def rollback(request, model: str, deployment: str):
    form = RollbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A rollback needs a reason.")
    elif _service_call(
        request,
        deploy.deployment_rollback,
        model_name=model,
        deployment_name=deployment,
        reason=form.cleaned_data["reason"],
        to_event_id=form.cleaned_data["to_event"],
    ):
        messages.success(request, f"Rolled back {model}/{deployment}.")
    return redirect("serving:deployment-detail", model, deployment)


@require_POST
@role_required("deploy")
def configure(request, model: str, deployment: str):
    obj = _found(selectors.deployment_get, model, deployment)
    form = ConfigForm(request.POST, instance=obj)
    if not form.is_valid():
        messages.error(request, f"Invalid settings: {form.errors.as_text()}")
    else:
        changes = {f: form.cleaned_data[f] for f in form.changed_data}
        if changes and _service_call(
            request, deploy.deployment_configure, deployment=obj, changes=changes
        ):
            messages.success(request, "Settings saved; every replica picks them up.")
    return redirect("serving:deployment-detail", model, deployment)
