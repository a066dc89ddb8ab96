"""A/B experiments: start one between two serving versions, analyse it from the prediction log,
feedback and rollups (statistics in abstats.py), promote the winner or stop it."""

from __future__ import annotations

import numpy as np
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.actors import as_actor
from core.actor import Actor
from core.audit import audit_record
from core.errors import Conflict, InvalidInput, NotFound
from monitoring import abstats, selectors
from monitoring.constants import ExperimentMetric, ExperimentStatus
from monitoring.models import Experiment, Feedback, PredictionLog
from serving.constants import VariantRole
from serving.deploy import deployment_deploy, deployment_set_traffic
from serving.governance import override_authorize
from serving.models import Deployment

RATE_METRICS = (ExperimentMetric.ACCURACY, ExperimentMetric.CONVERSION)
# Guardrails: the treatment may be at most 25% slower at p95 and 1 point worse in error rate.
GUARDRAIL_P95_RATIO = 1.25
GUARDRAIL_ERROR_POINTS = 1.0
GUARDRAIL_MIN_REQUESTS = 50


def _serving_weights(deployment: Deployment) -> dict[int, int]:
    return {
        v.version.number: v.weight
        for v in deployment.variants.select_related("version")
        if v.role != VariantRole.SHADOW and v.weight > 0
    }


def experiment_split_gone(experiment: Experiment, serving: dict[int, int]) -> str:
    """Why a running experiment no longer runs as planned ("v2 takes no traffic now"), or ""
    when both arms still serve (or the experiment has ended). `serving`: version -> weight."""
    if experiment.status != ExperimentStatus.RUNNING:
        return ""
    idle = [
        f"v{n}"
        for n in (experiment.control_version, experiment.treatment_version)
        if not serving.get(n)
    ]
    if not idle:
        return ""
    return f"{' and '.join(idle)} {'take' if len(idle) > 1 else 'takes'} no traffic now"


@transaction.atomic
def experiment_start(
    *,
    deployment: Deployment,
    name: str,
    control_version: int,
    treatment_version: int,
    metric: str,
    mde: float,
    actor: Actor,
    alpha: float = 0.05,
    power: float = 0.8,
    baseline: float | None = None,
) -> Experiment:
    """Start an A/B test between two versions that both serve traffic in the deployment."""
    actor = _authorized(actor, deployment, "start an experiment")
    if control_version == treatment_version:
        raise InvalidInput("control and treatment must be different versions")
    weights = _serving_weights(deployment)
    for role, number in (("control", control_version), ("treatment", treatment_version)):
        if number not in weights:
            serving = ", ".join(f"v{n} {w}%" for n, w in sorted(weights.items())) or "none"
            raise InvalidInput(
                f"the {role} v{number} does not serve traffic in {deployment} (serving: "
                f"{serving}); split the traffic first"
            )
    experiment = Experiment(
        deployment=deployment,
        name=name.strip(),
        control_version=control_version,
        treatment_version=treatment_version,
        metric=metric,
        alpha=alpha,
        power=power,
        mde=mde,
        baseline=baseline,
        started_at=timezone.now(),
        created_by=actor.user,
        # The split it started under: the sample-ratio check compares assignments with it.
        result={"weights": {str(k): w for k, w in weights.items()}},
    )
    try:
        experiment.full_clean(exclude=["deployment", "created_by"], validate_constraints=False)
    except ValidationError as exc:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise InvalidInput(f"invalid experiment: {details}") from exc
    if mde <= 0:
        raise InvalidInput("the minimum detectable effect must be positive")
    try:
        with transaction.atomic():
            experiment.save()
    except IntegrityError:
        raise Conflict(f"{deployment} already runs an experiment; stop it first") from None
    audit_record(
        actor=actor,
        action="experiment.start",
        target=f"deployment:{deployment}",
        after={"experiment": experiment.pk, "name": experiment.name, "weights": weights},
    )
    return experiment


def _required(experiment: Experiment, control: abstats.Comparison, outcomes) -> int | None:
    try:
        if experiment.metric in RATE_METRICS:
            base = experiment.baseline if experiment.baseline is not None else control.control
            if base is None:
                return None
            return abstats.sample_size_proportions(
                base, experiment.mde, alpha=experiment.alpha, power=experiment.power
            )
        std = experiment.baseline
        if std is None:
            pooled = np.concatenate([np.asarray(values, dtype=float) for values in outcomes])
            if pooled.size < 2:
                return None
            std = float(np.std(pooled, ddof=1))
        return abstats.sample_size_means(
            std, experiment.mde, alpha=experiment.alpha, power=experiment.power
        )
    except ValueError:
        return None  # e.g. an observed rate of 0: no plan until the data says more


def _guardrails(experiment: Experiment, until) -> dict:
    figures = {
        arm: selectors.version_figures(
            deployment_id=experiment.deployment_id,
            versions=[number],
            since=experiment.started_at,
            until=until,
        )
        for arm, number in (
            ("control", experiment.control_version),
            ("treatment", experiment.treatment_version),
        )
    }
    control, treatment = figures["control"], figures["treatment"]
    breaches = []
    if min(control["requests"], treatment["requests"]) >= GUARDRAIL_MIN_REQUESTS:
        if (treatment["p95"] or 0) > (control["p95"] or 0) * GUARDRAIL_P95_RATIO:
            breaches.append(
                f"treatment p95 {treatment['p95']:.1f} ms > {GUARDRAIL_P95_RATIO:g} x control "
                f"{control['p95']:.1f} ms"
            )
        errors_t, errors_c = treatment["error_rate_pct"] or 0, control["error_rate_pct"] or 0
        if errors_t > errors_c + GUARDRAIL_ERROR_POINTS:
            breaches.append(
                f"treatment error rate {errors_t:.2f}% > control {errors_c:.2f}% + "
                f"{GUARDRAIL_ERROR_POINTS:g} point"
            )
    return {**figures, "breaches": breaches}


def _exposures(experiment: Experiment, arms: tuple[int, int], until) -> list[int]:
    """Per arm, the rows it served (not as a shadow) since the experiment started."""
    served = dict(
        PredictionLog.objects.filter(
            deployment_id=experiment.deployment_id,
            version__in=arms,
            shadow=False,
            ts__gte=experiment.started_at,
            ts__lt=until,
        )
        .values("version")
        .annotate(n=Sum("rows"))
        .values_list("version", "n")
    )
    return [served.get(number) or 0 for number in arms]


def _outcomes(experiment: Experiment, arms: tuple[int, int], until) -> list[list[float]]:
    """Per arm, one outcome per labelled prediction: hit (accuracy), label > 0 (conversion) or
    the label itself (outcome)."""
    labelled = Feedback.objects.filter(
        deployment_id=experiment.deployment_id,
        version__in=arms,
        predicted_at__gte=experiment.started_at,
        predicted_at__lt=until,
    )
    if experiment.metric == ExperimentMetric.ACCURACY:
        labelled = labelled.exclude(predicted__isnull=True)
    per_arm: dict[int, list[float]] = {number: [] for number in arms}
    for version, predicted, label in labelled.values_list("version", "predicted", "label"):
        if experiment.metric == ExperimentMetric.ACCURACY:
            per_arm[version].append(float(predicted == label))
        elif experiment.metric == ExperimentMetric.CONVERSION:
            per_arm[version].append(float(label > 0))
        else:
            per_arm[version].append(label)
    return [per_arm[number] for number in arms]


def experiment_get(deployment: Deployment, experiment_id: int) -> Experiment:
    """One experiment of a deployment, or NotFound."""
    experiment = deployment.experiments.filter(pk=experiment_id).first()
    if experiment is None:
        raise NotFound(f"{deployment} has no experiment {experiment_id}")
    return experiment


def experiment_analyze(experiment: Experiment, *, now=None) -> dict:
    """Exposures, labelled n, the metric, lift with 95% CI, p-value, sample size still needed,
    the sample-ratio check, guardrails and the verdict."""
    until = experiment.ended_at or now or timezone.now()
    arms = (experiment.control_version, experiment.treatment_version)
    exposures = _exposures(experiment, arms, until)
    outcomes = _outcomes(experiment, arms, until)
    n_c, n_t = len(outcomes[0]), len(outcomes[1])
    if experiment.metric in RATE_METRICS:
        comparison = abstats.two_proportions(
            int(sum(outcomes[0])), n_c, int(sum(outcomes[1])), n_t, alpha=experiment.alpha
        )
    else:
        comparison = abstats.welch_samples(outcomes[0], outcomes[1], alpha=experiment.alpha)
    required = _required(experiment, comparison, outcomes)
    weights = experiment.result.get("weights") or _serving_weights(experiment.deployment)
    weights = {int(k): v for k, v in weights.items()}
    srm = abstats.sample_ratio_mismatch(exposures, [weights.get(n, 0) for n in arms])
    weights_now = _serving_weights(experiment.deployment)  # the planned split may be gone
    guardrails = _guardrails(experiment, until)
    verdict = abstats.verdict(
        comparison,
        n_control=n_c,
        n_treatment=n_t,
        required=required,
        alpha=experiment.alpha,
        srm_flagged=srm["flagged"],
        guardrail_breached=bool(guardrails["breaches"]),
    )
    return {
        "arms": [
            {"role": "control", "version": arms[0], "exposures": exposures[0], "labelled": n_c},
            {"role": "treatment", "version": arms[1], "exposures": exposures[1], "labelled": n_t},
        ],
        "comparison": comparison.as_dict(),
        "required_per_arm": required,
        "still_needed": None
        if required is None
        else [max(0, required - n_c), max(0, required - n_t)],
        "weights": weights,
        "weights_now": weights_now,
        "split_gone": experiment_split_gone(experiment, weights_now),
        "srm": srm,
        "guardrails": guardrails,
        "verdict": verdict,
        "verdict_text": abstats.VERDICT_TEXT[verdict],
        "as_of": until.isoformat(),
    }


def _running(experiment_id: int) -> Experiment:
    experiment = (
        Experiment.objects.select_for_update()
        .select_related("deployment__model")
        .filter(pk=experiment_id)
        .first()
    )
    if experiment is None:
        raise NotFound(f"experiment {experiment_id} not found")
    if experiment.status != ExperimentStatus.RUNNING:
        raise Conflict(f"experiment {experiment.name!r} is already {experiment.status}")
    return experiment


def _authorized(actor, deployment: Deployment, what: str) -> Actor:
    return as_actor(actor).require("deploy", model=deployment.model.name, what=what)


def _end(experiment: Experiment, status: str, analysis: dict, actor: Actor, event) -> None:
    experiment.status = status
    experiment.ended_at = timezone.now()
    experiment.result = {**analysis, "event": event.pk if event else None}
    experiment.save(update_fields=["status", "ended_at", "result"])
    audit_record(
        actor=actor,
        action=f"experiment.{status}",
        target=f"deployment:{experiment.deployment}",
        after={"experiment": experiment.pk, "verdict": analysis["verdict"]},
    )


@transaction.atomic
def experiment_promote(
    *,
    experiment_id: int,
    actor: Actor,
    force: bool = False,
    override: bool = False,
    reason: str = "",
) -> Experiment:
    """Deploy the treatment at 100% through the deploy service; refused unless it won (or
    `force`, a person's call against the statistics). An `override` of the promotion gate takes
    an admin and the person's own written `reason`, not the generated summary."""
    actor = as_actor(actor)
    if override:
        reason = override_authorize(actor=actor, reason=reason)
    experiment = _running(experiment_id)
    _authorized(actor, experiment.deployment, "promote an experiment")
    analysis = experiment_analyze(experiment)
    if analysis["verdict"] != abstats.TREATMENT_WINS and not force:
        raise Conflict(f"the treatment has not won ({analysis['verdict_text']}); not promoted")
    deployment = experiment.deployment
    event = deployment_deploy(
        model_name=deployment.model.name,
        deployment_name=deployment.name,
        version_number=experiment.treatment_version,
        actor=actor,
        reason=f"experiment {experiment.name!r}: promote v{experiment.treatment_version} "
        f"({analysis['verdict_text']})" + (f"; override: {reason}" if override else ""),
        override=override,
    )
    _end(experiment, ExperimentStatus.PROMOTED, analysis, actor, event)
    return experiment


@transaction.atomic
def experiment_stop(*, experiment_id: int, actor: Actor) -> Experiment:
    """End the experiment and send all traffic back to the control (a shadow stays)."""
    experiment = _running(experiment_id)
    actor = _authorized(actor, experiment.deployment, "stop an experiment")
    analysis = experiment_analyze(experiment)
    deployment = experiment.deployment
    shadows = [
        {"version": v.version.number, "weight": 0, "role": VariantRole.SHADOW}
        for v in deployment.variants.select_related("version")
        if v.role == VariantRole.SHADOW and v.version.number != experiment.control_version
    ]
    event = None
    try:
        event = deployment_set_traffic(
            model_name=deployment.model.name,
            deployment_name=deployment.name,
            variants=[
                {"version": experiment.control_version, "weight": 100, "role": "primary"},
                *shadows,
            ],
            actor=actor,
            reason=f"experiment {experiment.name!r} stopped: all traffic to the control",
        )
    except Conflict as exc:
        if "already serves" not in exc.message:
            raise
    _end(experiment, ExperimentStatus.STOPPED, analysis, actor, event)
    return experiment
