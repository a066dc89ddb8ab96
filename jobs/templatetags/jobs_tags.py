"""`{% version_actions version %}`: the validation panel and the deploy controls of a version;
`{% version_serving version %}`: where it serves, alone (the version page's 10-second refresh)."""

from django import template

from accounts.permissions import request_actor
from core.errors import Conflict
from jobs.validation.runs import NOT_VALIDATABLE, revalidation_refused, validation_runs_of
from serving.deploy import check_promotable
from serving.forms import DeploymentCreateForm, deploy_form
from serving.selectors import deployment_names, deployments_of_version

register = template.Library()


def _gate_reason(version) -> str:
    """Why the promotion gate refuses this version ("" when it may deploy)."""
    try:
        check_promotable(version, override=False)
    except Conflict as exc:
        return exc.message
    return ""


@register.inclusion_tag("serving/_version_actions.html", takes_context=True)
def version_actions(context, version):
    return version_actions_context(context["request"], version, context.get("csrf_token"))


@register.inclusion_tag("serving/_version_serving.html")
def version_serving(version):
    return {"version": version, "deployments": deployments_of_version(version)}


def version_actions_context(request, version, csrf_token) -> dict:
    """What the validation card and the deploy card of a version page show; the finished
    validation panel re-renders them from the same context (out-of-band swaps)."""
    latest = validation_runs_of(version).first()
    if version.state in NOT_VALIDATABLE:
        blocked = f"This version is {version.state}; register a new version to validate again."
    elif latest is not None and not latest.finished:
        blocked = f"Run #{latest.pk} is {latest.status}."
    else:
        blocked = revalidation_refused(version)
    return {
        "version": version,
        "deployments": deployments_of_version(version),
        "form": deploy_form(deployment_names(version.model)),
        "create_form": DeploymentCreateForm(),
        "request_path": request.get_full_path(),
        "can_deploy": request_actor(request).can("deploy", model=version.model.name),
        "is_admin": request_actor(request).can("admin"),
        "csrf_token": csrf_token,
        "latest_run": latest,
        "can_validate": not blocked,
        "validate_blocked": blocked,
        "gate_reason": _gate_reason(version),
    }
