"""Console pages of drift, prediction quality, shadow comparison and bulk feedback."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from core.errors import ServiceError
from monitoring import (
    drift_figures,
    drift_service,
    feedback,
    figures,
    quality,
    selectors,
    shadow_compare,
)
from monitoring.constants import WINDOWS
from monitoring.drift_forms import DriftPolicyForm, FeedbackBulkForm
from monitoring.models import DriftReport
from monitoring.views import _window_or_error, save_policy_form
from serving import selectors as serving_selectors


def _events(deployment, window) -> list[dict]:
    return figures.event_marks(selectors.deployment_events_in(deployment, window))


def _safe(charts):
    return [(i, title, mark_safe(fig)) for i, title, fig in charts]  # noqa: S308 - escaped JSON


def _base(request, model, deployment) -> tuple[dict, object]:
    obj = serving_selectors.deployment_get(model, deployment)
    window, error = _window_or_error(request)
    context = {
        "deployment": obj,
        "error": error,
        "windows": list(WINDOWS),
        "query": request.GET,
        "window": window,
        "can_deploy": request.actor.can("deploy", model=model),
    }
    return context, window


@role_required("read")
def drift_page(request, model: str, deployment: str):
    context, window = _base(request, model, deployment)
    obj = context["deployment"]
    policy = drift_service.drift_policy_get(obj)
    context["policy"] = policy
    context["policy_form"] = DriftPolicyForm(instance=policy) if context["can_deploy"] else None
    if window is not None:
        reports = list(
            DriftReport.objects.filter(
                deployment=obj, created_at__gte=window.start, created_at__lte=window.end
            ).order_by("created_at", "id")
        )
        latest = {}
        for report in reports:
            latest[(report.version, report.variant)] = report
        context["charts"] = _safe(
            drift_figures.drift_figures(reports, _events(obj, window), window.as_dict())
        )
        context["latest"] = list(latest.values())
        chosen = _chosen_feature(request, latest)
        if chosen is not None:
            context["histogram"] = (
                chosen[0],
                chosen[1]["name"],
                mark_safe(drift_figures.histogram_figure(chosen[1])),  # noqa: S308 - escaped JSON
            )
    return render(
        request, "monitoring/drift.html", context, status=400 if context["error"] else 200
    )


def _chosen_feature(request, latest: dict):
    """The (report, feature) whose histograms to show: ?report=&feature=, else the most drifted."""
    reports = {str(r.pk): r for r in latest.values() if r.features}
    report = reports.get(request.GET.get("report", "")) or next(iter(reports.values()), None)
    if report is None:
        return None
    wanted = request.GET.get("feature")
    for feature in report.features:
        if feature["name"] == wanted:
            return report, feature
    ranked = sorted(report.features, key=lambda f: (not f["drifted"], f["name"]))
    return report, ranked[0]


@require_POST
@role_required("deploy")
def drift_run(request, model: str, deployment: str):
    obj = serving_selectors.deployment_get(model, deployment)
    try:
        reports = drift_service.drift_run(deployment=obj, actor=request.actor)
    except ServiceError as exc:
        messages.error(request, f"Drift not computed: {exc.message}")
        return redirect("monitoring:drift", model, deployment)
    drifted = sum(r.dataset_drift for r in reports)
    skipped = [f"v{r.version} {r.variant}: {r.skipped}" for r in reports if r.skipped]
    if not reports:
        messages.warning(request, "No logged inputs in the window: nothing to compare.")
    else:
        messages.success(request, f"{len(reports)} report(s), {drifted} with dataset drift.")
    for line in skipped:
        messages.warning(request, f"Skipped {line}")
    return redirect("monitoring:drift", model, deployment)


@require_POST
@role_required("deploy")
def drift_policy_edit(request, model: str, deployment: str):
    obj = serving_selectors.deployment_get(model, deployment)
    form = DriftPolicyForm(request.POST, instance=drift_service.drift_policy_get(obj))
    update = drift_service.drift_policy_update
    save_policy_form(request, form, update, deployment=obj, label="Drift settings")
    return redirect("monitoring:drift", model, deployment)


@role_required("read")
def quality_page(request, model: str, deployment: str):
    context, window = _base(request, model, deployment)
    obj = context["deployment"]
    if window is not None:
        data = quality.quality_series(deployment_id=obj.pk, task=obj.model.task, window=window)
        context["quality"] = data
        context["charts"] = _safe(drift_figures.quality_figures(data, _events(obj, window)))
    return render(
        request, "monitoring/quality.html", context, status=400 if context["error"] else 200
    )


@role_required("read")
def shadow_page(request, model: str, deployment: str):
    context, window = _base(request, model, deployment)
    obj = context["deployment"]
    if window is not None:
        context["comparison"] = shadow_compare.shadow_compare(
            deployment_id=obj.pk, task=obj.model.task, since=window.start, until=window.end
        )
    return render(
        request, "monitoring/shadow.html", context, status=400 if context["error"] else 200
    )


@role_required("deploy")
def feedback_bulk(request):
    form = FeedbackBulkForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            done = feedback.feedback_record_bulk(
                items=feedback.parse_bulk(form.cleaned_data["labels"]),
                actor=request.actor,
            )
            messages.success(request, f"{len(done)} label(s) recorded.")
            return redirect("monitoring:feedback-bulk")
        except ServiceError as exc:
            form.add_error("labels", exc.message)
    if request.method == "POST":
        status = 400
    return render(request, "monitoring/feedback_bulk.html", {"form": form}, status=status)
