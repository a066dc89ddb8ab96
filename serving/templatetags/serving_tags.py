"""`{% version_actions version %}`: the validation panel and the deploy controls of a version."""

from django import template

from accounts.permissions import actor_can
from core.errors import Conflict
from serving.deploy import check_promotable
from serving.forms import DeploymentCreateForm, deploy_form
from serving.selectors import deployment_list, deployment_names, deployments_of_version
from serving.validation.runs import NOT_VALIDATABLE, revalidation_refused, validation_runs_of

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
        "can_deploy": actor_can(request.user, None, "deploy", model_name=version.model.name),
        "is_admin": actor_can(request.user, None, "admin"),
        "csrf_token": csrf_token,
        "latest_run": latest,
        "can_validate": not blocked,
        "validate_blocked": blocked,
        "gate_reason": _gate_reason(version),
    }


@register.filter
def state_label(state) -> str:
    """A deployment state in words: `v2`, or `v3 90% / v2 10% / v4 shadow`; `nothing` if empty."""
    if not state:
        return "nothing"
    if len(state) == 1 and state[0]["weight"] == 100:
        return f"v{state[0]['version']}"
    return " / ".join(
        f"v{s['version']} shadow" if s["role"] == "shadow" else f"v{s['version']} {s['weight']}%"
        for s in state
    )


@register.simple_tag(takes_context=True)
def serving_of(context, model) -> list[tuple[str, str]]:
    """[(deployment name, "v1 80%, v2 20%")] of a model's live deployments; every model's are
    read in one query per render, whatever the number of rows asking."""
    cache = context.render_context.get("serving_of")
    if cache is None:
        cache = context.render_context["serving_of"] = {}
        for dep in deployment_list().order_by("model_id", "name"):
            served = ", ".join(
                f"v{v.version.number} shadow"
                if v.role == "shadow"
                else f"v{v.version.number} {v.weight}%"
                for v in dep.variants.all()
            )
            if served:
                cache.setdefault(dep.model_id, []).append((dep.name, served))
    return cache.get(model.pk, [])
