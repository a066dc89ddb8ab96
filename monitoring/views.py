"""Console pages of monitoring: a deployment's charts and SLOs, a key's calls, one prediction."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from accounts.selectors import api_key_get
from core.errors import InvalidInput, NotFound, ServiceError
from monitoring import figures, refusal_selectors, selectors, services
from monitoring.constants import WINDOWS
from monitoring.forms import SloForm
from serving import sampling
from serving import selectors as serving_selectors


def _window_or_error(request):
    """The requested window, or (None, message) for a bad one."""
    try:
        return selectors.window_resolve(
            request.GET.get("window"), request.GET.get("start"), request.GET.get("end")
        ), ""
    except InvalidInput as exc:
        return None, exc.message


def _deployment_charts(deployment, window) -> dict:
    metrics = selectors.deployment_metrics(deployment_id=deployment.pk, window=window)
    events = selectors.deployment_events_in(deployment, window)
    figs = figures.deployment_figures(metrics, figures.event_marks(events))
    return {
        "metrics": metrics,
        "now": selectors.deployment_rate_now(deployment_id=deployment.pk),
        "refused": refusal_selectors.deployment_refusals(
            model=deployment.model.name, deployment=deployment.name, window=window
        ),
        "window": window,
        "figures": [
            (name, title, mark_safe(figs[name]))  # noqa: S308 - escaped JSON
            for name, title, _ in figures.CHARTS
        ],
    }


def _live_charts_response(
    request, summary_template: str, context: dict, replace: dict[str, str] | None = None
) -> HttpResponse:
    """The refresh of a live charts box as JSON: the figures (for Plotly.react on the charts
    already drawn, so axes, legends and toolbars stay), the re-rendered summary, and `replace`:
    other parts of the page (by element id) that the same events change."""
    summary = render_to_string(summary_template, context, request=request)
    body = figures.live_payload(
        {f"chart-{name}": fig for name, _, fig in context["figures"]},
        summary=summary,
        updated=timezone.now(),
        replace=replace,
    )
    return HttpResponse(body, content_type="application/json")


@role_required("read")
def deployment_page(request, model: str, deployment: str):
    obj = serving_selectors.deployment_get(model, deployment)
    window, error = _window_or_error(request)
    can_deploy = request.actor.can("deploy", model=model)
    context = {
        "deployment": obj,
        "error": error,
        "windows": list(WINDOWS),
        "query": request.GET,
        "policy": services.slo_policy_get(obj),
        "can_deploy": can_deploy,
        "slo_form": SloForm(instance=services.slo_policy_get(obj)) if can_deploy else None,
        "alerts": selectors.alerts_open().filter(deployment=obj),
        "default_sample_rate": sampling.default_rate(),
    }
    if window is not None:
        context.update(_deployment_charts(obj, window))
    return render(request, "monitoring/deployment.html", context, status=400 if error else 200)


@role_required("read")
def deployment_charts(request, model: str, deployment: str):
    """The charts' refresh (JSON: figures and summary)."""
    obj = serving_selectors.deployment_get(model, deployment)
    window, error = _window_or_error(request)
    if window is None:
        return HttpResponse(
            figures.error_payload(error), content_type="application/json", status=400
        )
    # Open alerts too: one resolved elsewhere (or raised, e.g. an automatic rollback) leaves
    # the page in the same refresh that redraws the charts with the new deploy marks.
    alerts = render_to_string(
        "monitoring/_alerts.html",
        {
            "alerts": selectors.alerts_open().filter(deployment=obj),
            # A resolve returns to the page (same window), not to this JSON.
            "alerts_next": reverse("monitoring:deployment", args=[model, deployment])
            + (f"?{request.GET.urlencode()}" if request.GET else ""),
        },
        request=request,
    )
    return _live_charts_response(
        request, "monitoring/_summary.html", _deployment_charts(obj, window), {"alerts": alerts}
    )


def save_policy_form(request, form, update, *, deployment, label: str) -> None:
    """Save a policy's form (SLO, drift) through its service `update`, and say how it went."""
    if not form.is_valid():
        messages.error(request, f"{label} not saved: {form.errors.as_text()}")
        return
    try:
        update(
            deployment=deployment,
            actor=request.actor,
            changes={f: form.cleaned_data[f] for f in form.Meta.fields},
        )
        messages.success(request, f"{label} saved.")
    except ServiceError as exc:
        messages.error(request, f"{label} not saved: {exc.message}")


@require_POST
@role_required("deploy")
def slo_edit(request, model: str, deployment: str):
    obj = serving_selectors.deployment_get(model, deployment)
    form = SloForm(request.POST, instance=services.slo_policy_get(obj))
    save_policy_form(request, form, services.slo_policy_update, deployment=obj, label="SLO")
    return redirect("monitoring:deployment", model, deployment)


@require_POST
@role_required("deploy")
def alert_resolve(request, alert_id: int):
    try:
        alert = services.alert_resolve(alert_id=alert_id, actor=request.actor)
        messages.success(request, f"Alert on {alert.deployment} resolved.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect(_same_site_path(request.POST.get("next")) or "dashboard")


def _same_site_path(target: str | None) -> str | None:
    """`next` only as a path on this site: another host would make an open redirect."""
    if (
        target
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(target, allowed_hosts=None)
    ):
        return target
    return None


def _key_context(request, key_id: int) -> tuple[dict, int]:
    key = api_key_get(user=request.user, key_id=key_id)
    window, error = _window_or_error(request)
    context = {"key": key, "error": error, "windows": list(WINDOWS), "query": request.GET}
    if window is not None:
        metrics = selectors.key_metrics(key_prefix=key.prefix, window=window)
        figs = figures.key_figures(metrics)
        context.update(
            {
                "window": window,
                "metrics": metrics,
                "figures": [
                    (name, name.title(), mark_safe(figs[name]))  # noqa: S308 - escaped JSON
                    for name in ("calls", "latency")
                ],
                "recent_errors": selectors.recent_errors(key_prefix=key.prefix),
                "recent_refusals": refusal_selectors.recent_refusals(key_prefix=key.prefix),
            }
        )
    return context, 400 if error else 200


@role_required("read")
def key_page(request, key_id: int):
    context, status = _key_context(request, key_id)
    return render(request, "monitoring/key.html", context, status=status)


@role_required("read")
def key_charts(request, key_id: int):
    context, status = _key_context(request, key_id)
    if status != 200:
        return HttpResponse(
            figures.error_payload(context["error"]), content_type="application/json", status=status
        )
    return _live_charts_response(request, "monitoring/_key_charts.html", context)


@role_required("read")
def key_refusals(request, key_id: int):
    """The key portal's fragment: refused calls of the last 24 hours by status, and the latest
    ones with their reasons."""
    key = api_key_get(user=request.user, key_id=key_id)
    context = {
        "key": key,
        "refused": refusal_selectors.key_refusals(
            key_prefix=key.prefix, window=selectors.window_resolve("24h")
        ),
        "recent_refusals": refusal_selectors.recent_refusals(key_prefix=key.prefix),
    }
    return render(request, "monitoring/_key_refusals.html", context)


@role_required("read")
def prediction_page(request):
    prediction_id = request.GET.get("id", "").strip()
    context, status = {"prediction_id": prediction_id}, 200
    if prediction_id:
        try:
            context["log"], context["row"] = selectors.prediction_get(prediction_id)
        except NotFound as exc:
            context["error"], status = exc.message, 404
    return render(request, "monitoring/prediction.html", context, status=status)
