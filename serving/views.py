"""Console pages of deployments: list, detail with history and rollback, deploy from a version."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.permissions import role_required
from core.errors import ServiceError
from registry import selectors as registry_selectors
from serving import deploy, selectors
from serving.forms import (
    CONSOLE_WAIT_SECONDS,
    ConfigForm,
    DeploymentCreateForm,
    RollbackForm,
    StateAtForm,
    deploy_form,
)
from serving.history import rollback_preview
from serving.replicas import replica_id
from serving.rollout import deployment_rollout_status, deployment_rollout_wait


@role_required("read")
@vary_on_headers("HX-Request")  # the same URL answers the page or its refreshed table
def deployment_list(request):
    template = (  # the 10-second refresh asks for the table alone
        "serving/_deployment_list_table.html" if request.htmx else "serving/deployment_list.html"
    )
    return render(
        request,
        template,
        {"deployments": selectors.deployment_list_with_last_change()},
    )


def _rollout_context(request, obj) -> dict:
    """The rollout card: every live replica, whether this process is one, the latest event."""
    rollout = deployment_rollout_status(deployment=obj)
    here = replica_id()
    return {
        "deployment": obj,
        "rollout": rollout,
        "can_deploy": request.actor.can("deploy", model=obj.model.name),
        "shown_event": selectors.deployment_events(obj).values_list("pk", flat=True).first() or 0,
        # A web-only process loads no models: say so rather than show it as "loading".
        "this_replica": {
            "name": here,
            "serves": any(r["replica"] == here for r in rollout["replicas"]),
        },
    }


def _state_context(request, obj) -> dict:
    """Everything on the page that the deployment's state (its latest event) decides."""
    events = list(selectors.deployment_events(obj)[:200])
    return {
        "events": events,
        "last_event": events[0] if events else None,
        "rollback_target": rollback_preview(obj),
        "traffic_versions": registry_selectors.version_list(obj.model).exclude(state="archived"),
        "is_admin": request.actor.can("admin"),
        "current_state": [v.state() for v in obj.variants.all()],
    }


@role_required("read")
def deployment_detail(request, model: str, deployment: str):
    obj = selectors.deployment_get(model, deployment)
    state_form = StateAtForm(request.GET or None)
    state_at = None
    if state_form.is_valid():
        event = deploy.deployment_state_at(obj, state_form.cleaned_data["at"])
        state_at = {"at": state_form.cleaned_data["at"], "event": event}
    context = {
        **_rollout_context(request, obj),
        **_state_context(request, obj),
        "config_form": ConfigForm(instance=obj),
        "state_form": state_form,
        "state_at": state_at,
        "grpc_port": settings.MODELGATE_GRPC_PORT,
    }
    return render(request, "serving/deployment_detail.html", context)


@role_required("read")
def deployment_rollout(request, model: str, deployment: str):
    """The rollout card's refresh. `?shown=<event id>` is the latest event the page shows: when
    a newer one landed, the answer also re-renders what that state changes, out of band."""
    obj = selectors.deployment_get(model, deployment)
    context = _rollout_context(request, obj)
    shown = request.GET.get("shown")
    context["state_changed"] = shown is not None and shown != str(context["shown_event"])
    if context["state_changed"]:
        context.update(_state_context(request, obj))
    return render(request, "serving/_rollout_live.html", context)


def _service_call(request, fn, **kwargs):
    """Call a service as the request's actor; its refusal becomes a message on the next page
    (the pages these forms return to differ on success and failure)."""
    try:
        fn(actor=request.actor, **kwargs)
        return True
    except ServiceError as exc:
        messages.error(request, exc.message)
        return False


@require_POST
@role_required("deploy")
def deploy_version(request, model: str, number: int):
    version = registry_selectors.version_get(model, number)
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
        label = f"Deployed {model} v{number} to {name}"
        if form.cleaned_data["wait"]:
            obj = selectors.deployment_get(model, name)
            messages.add_message(request, *_landing(obj, label))
        else:
            messages.success(request, f"{label}.")
        return redirect("serving:deployment-detail", model, name)
    return redirect("registry:version-detail", model, number)


def _landing(obj, label: str) -> tuple[int, str]:
    """Wait (bounded: a page request holds a web thread) until every live replica serves the
    new state; the message level and text say whether it landed, lags or failed to load."""
    timeout = min(settings.MODELGATE_ROLLOUT_WAIT_SECONDS, CONSOLE_WAIT_SECONDS)
    status = deployment_rollout_wait(deployment=obj, timeout=timeout)
    total = len(status["replicas"])
    if status["converged"]:
        return messages.SUCCESS, f"{label}: landed on {total}/{total} replica{pluralize(total)}."
    if not total:
        return messages.WARNING, (
            f"{label}, but no serving replica reported within {timeout:g} s: nothing serves it "
            "until a serving process starts."
        )
    if not status["timed_out"]:  # every replica that lags failed to load the new state
        return messages.ERROR, (
            f"{label}, but {status['message']}. The previous state keeps serving; roll back below."
        )
    landed = total - len(status["lagging"])
    return messages.WARNING, (
        f"{label}; still rolling out after {timeout:g} s: landed on {landed}/{total} "
        f"replica{pluralize(total)}. The Rollout card below follows it live."
    )


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
    obj = selectors.deployment_get(model, deployment)
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
