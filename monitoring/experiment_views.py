"""Console pages of A/B experiments: list and start, the analysis, promote the winner, stop."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from core.errors import ServiceError
from monitoring import experiments
from monitoring.drift_forms import ExperimentForm
from serving import selectors as serving_selectors


@role_required("read")
def experiment_list(request, model: str, deployment: str):
    obj = serving_selectors.deployment_get(model, deployment)
    can_deploy = request.actor.can("deploy", model=model)
    form, status = None, 200
    serving = {v.version.number: v.weight for v in obj.variants.all() if v.role != "shadow"}
    if request.method == "POST":
        request.actor.require("deploy", model=model, what="start an experiment")
        form = ExperimentForm(request.POST, deployment=obj)
        if form.is_valid():
            try:
                started = experiments.experiment_start(
                    deployment=obj, actor=request.actor, **form.cleaned_data
                )
                messages.success(request, f"Experiment {started.name!r} started.")
                return redirect("monitoring:experiment", model, deployment, started.pk)
            except ServiceError as exc:
                form.add_error(None, exc.message)
        status = 400
    elif can_deploy:
        form = ExperimentForm(initial={"alpha": 0.05, "power": 0.8}, deployment=obj)
    context = {
        "deployment": obj,
        "experiments": [
            (e, experiments.experiment_split_gone(e, serving)) for e in obj.experiments.all()[:100]
        ],
        "form": form,
        "weights": {v.version.number: (v.weight, v.role) for v in obj.variants.all()},
    }
    return render(request, "monitoring/experiment_list.html", context, status=status)


@role_required("read")
def experiment_detail(request, model: str, deployment: str, experiment_id: int):
    obj = serving_selectors.deployment_get(model, deployment)
    experiment = experiments.experiment_get(obj, experiment_id)
    context = {
        "deployment": obj,
        "experiment": experiment,
        "analysis": experiments.experiment_analyze(experiment),
        "can_deploy": request.actor.can("deploy", model=model),
        "is_admin": request.actor.can("admin"),
    }
    return render(request, "monitoring/experiment.html", context)


def _end(request, model, deployment, experiment_id, action):
    obj = serving_selectors.deployment_get(model, deployment)
    experiment = experiments.experiment_get(obj, experiment_id)
    try:
        if action == "promote":
            experiments.experiment_promote(
                experiment_id=experiment.pk,
                actor=request.actor,
                force=request.POST.get("force") == "on",
                override=request.POST.get("override") == "on",
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, f"v{experiment.treatment_version} now serves 100%.")
        else:
            experiments.experiment_stop(experiment_id=experiment.pk, actor=request.actor)
            messages.success(request, f"Stopped; v{experiment.control_version} serves 100%.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("monitoring:experiment", model, deployment, experiment.pk)


@require_POST
@role_required("deploy")
def experiment_promote(request, model: str, deployment: str, experiment_id: int):
    return _end(request, model, deployment, experiment_id, "promote")


@require_POST
@role_required("deploy")
def experiment_stop(request, model: str, deployment: str, experiment_id: int):
    return _end(request, model, deployment, experiment_id, "stop")
