"""Monitoring writes: SLO policies, the SLO check with automatic rollback, alerts, retention."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.actors import as_actor
from core.actor import Actor
from core.audit import audit_record
from core.errors import Conflict, InvalidInput, NotFound
from monitoring import selectors
from monitoring.constants import FINE_RETENTION, TEN_SECONDS, AlertKind, Resolution
from monitoring.models import SLO_FIELDS, Alert, KeyRollup, MetricRollup, PredictionLog, SloPolicy
from monitoring.policies import policy_get, policy_update
from serving import sampling
from serving.constants import EventKind
from serving.deploy import deployment_rollback
from serving.models import Deployment, DeploymentEvent

logger = logging.getLogger(__name__)

JUDGED_KINDS = (EventKind.DEPLOYED, EventKind.TRAFFIC_CHANGED)


def _slo_defaults() -> dict:
    """What a new SLO policy starts from besides the model's defaults."""
    return {"payload_sample_rate": sampling.default_rate()}


def slo_policy_get(deployment: Deployment) -> SloPolicy:
    """The deployment's policy, or an unsaved default one (sampling at the global default)."""
    return policy_get(SloPolicy, deployment, defaults=_slo_defaults())


def payload_sample_rates() -> dict[int, float]:
    """{deployment id: payload sample rate} of the deployments whose policy sets one; serving
    applies these (serving/sampling.py), the global setting covers the rest."""
    return dict(SloPolicy.objects.values_list("deployment_id", "payload_sample_rate"))


@transaction.atomic
def slo_policy_update(*, deployment: Deployment, actor: Actor, changes: dict) -> SloPolicy:
    """Change a deployment's SLOs, auto-rollback switch or payload sampling; audited."""
    policy = policy_update(
        SloPolicy,
        deployment=deployment,
        fields=SLO_FIELDS,
        label="SLO",
        action="slo.update",
        changes=changes,
        actor=actor,
        check=_check_auto_rollback,
        defaults=_slo_defaults(),
    )
    # This process at once; every other replica within sampling.REFRESH_SECONDS.
    transaction.on_commit(sampling.invalidate)
    return policy


def _check_auto_rollback(policy: SloPolicy) -> None:
    if policy.auto_rollback and policy.p95_ms is None and policy.error_rate_pct is None:
        raise InvalidInput("automatic rollback needs a p95 or an error-rate objective")


@transaction.atomic
def alert_resolve(*, alert_id: int, actor: Actor) -> Alert:
    """Mark an alert as seen and handled (deploy on the alert's model)."""
    alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    actor = as_actor(actor).require(
        "deploy", model=alert.deployment.model.name, what="resolve an alert"
    )
    if alert.resolved_at is not None:
        raise Conflict("that alert is already resolved")
    alert.resolved_at = timezone.now()
    alert.save(update_fields=["resolved_at"])
    audit_record(
        actor=actor,
        action="alert.resolve",
        target=f"alert:{alert.pk}",
        after={"deployment": str(alert.deployment)},
    )
    return alert


def _latest_change(deployment: Deployment) -> DeploymentEvent | None:
    return (
        deployment.events.exclude(kind=EventKind.CONFIG_CHANGED)
        .order_by("-created_at", "-id")
        .first()
    )


def _worse(value, previous, limit) -> bool:
    if limit is None or value is None or value <= limit:
        return False
    return previous is None or previous < value


def _breaches(policy: SloPolicy, new: dict, previous: dict) -> list[str]:
    """What the new version violates, where the previous version did better (or had no data):
    rolling back to a version that is just as slow would not help."""
    found = []
    if _worse(new["p95"], previous["p95"], policy.p95_ms):
        found.append(f"p95 {new['p95']:.1f} ms > SLO {policy.p95_ms:g} ms")
    if _worse(new["error_rate_pct"], previous["error_rate_pct"], policy.error_rate_pct):
        found.append(f"error rate {new['error_rate_pct']:.2f}% > SLO {policy.error_rate_pct:g}%")
    return found


def _judge(policy: SloPolicy, event: DeploymentEvent, now) -> dict | None:
    """Figures of the versions `event` brought in (since it happened) and of the ones before it
    (the same span before it), or None when there is too little traffic to judge."""
    new_versions = sorted(
        {v["version"] for v in event.after if v.get("role") != "shadow"}
        - {v["version"] for v in event.before}
    )
    old_versions = sorted({v["version"] for v in event.before if v.get("role") != "shadow"})
    if not new_versions or not old_versions:
        return None
    since = max(event.created_at, now - timedelta(minutes=policy.window_minutes))
    new = selectors.version_figures(
        deployment_id=policy.deployment_id,
        versions=new_versions,
        since=since,
        until=now + timedelta(minutes=1),
    )
    if new["requests"] < policy.min_requests:
        return None
    span = max(now - since, timedelta(minutes=1))
    previous = selectors.version_figures(
        deployment_id=policy.deployment_id,
        versions=old_versions,
        since=event.created_at - span,
        until=event.created_at,
    )
    return {
        "new_versions": new_versions,
        "previous_versions": old_versions,
        "new": new,
        "previous": previous,
        "since": since.isoformat(),
        "until": now.isoformat(),
        "slo": policy.as_dict(),
    }


def slo_check_deployment(*, policy: SloPolicy, now=None) -> Alert | None:
    """Judge the newest deploy of one deployment; on breach alert, and roll back if allowed."""
    now = now or timezone.now()
    deployment = policy.deployment
    with transaction.atomic():
        # Lock first, so two checkers cannot both roll back (the second would undo the first).
        Deployment.objects.select_for_update().filter(pk=deployment.pk).first()
        event = _latest_change(deployment)
        if event is None or event.kind not in JUDGED_KINDS or not event.before:
            return None
        if Alert.objects.filter(judged_event=event).exists():
            return None
        figures = _judge(policy, event, now)
        if figures is None:
            return None
        breaches = _breaches(policy, figures["new"], figures["previous"])
        if not breaches:
            return None
        versions = ", ".join(f"v{n}" for n in figures["new_versions"])
        message = f"{deployment}: {versions} breached its SLO: {'; '.join(breaches)}"
        figures["breaches"] = breaches
        rollback = None
        if policy.auto_rollback:
            rollback = deployment_rollback(
                model_name=deployment.model.name,
                deployment_name=deployment.name,
                actor=None,
                reason=f"automatic rollback: {'; '.join(breaches)}",
                automatic=True,
                metrics=figures,
            )
            message += f"; rolled back to {rollback.after}"
        logger.warning("%s", message)
        return Alert.objects.create(
            deployment=deployment,
            kind=AlertKind.AUTO_ROLLED_BACK if rollback else AlertKind.SLO_BREACH,
            message=message,
            metrics=figures,
            judged_event=event,
            rollback_event=rollback,
        )


def slo_check_all(*, now=None) -> list[Alert]:
    """Run the SLO check on every deployment with an objective; returns the alerts raised."""
    alerts = []
    policies = SloPolicy.objects.select_related("deployment__model").exclude(
        p95_ms__isnull=True, error_rate_pct__isnull=True
    )
    for policy in policies:
        alert = slo_check_deployment(policy=policy, now=now)
        if alert is not None:
            alerts.append(alert)
    return alerts


def retention_purge(*, now=None) -> dict[str, int]:
    """Delete prediction logs past MODELGATE_LOG_RETENTION_DAYS, minute rollups past
    MODELGATE_MINUTE_ROLLUP_RETENTION_DAYS and 10-second rollups past a day (hourly and daily
    rollups are kept)."""
    now = now or timezone.now()
    log_days = settings.MODELGATE_LOG_RETENTION_DAYS
    minute_days = settings.MODELGATE_MINUTE_ROLLUP_RETENTION_DAYS
    logs, _ = PredictionLog.objects.filter(ts__lt=now - timedelta(days=log_days)).delete()
    cutoff = now - timedelta(days=minute_days)
    minutes, _ = MetricRollup.objects.filter(
        resolution=Resolution.MINUTE, bucket_start__lt=cutoff
    ).delete()
    keys, _ = KeyRollup.objects.filter(
        resolution=Resolution.MINUTE, bucket_start__lt=cutoff
    ).delete()
    fine_cutoff = now - FINE_RETENTION
    fine = sum(
        model.objects.filter(resolution=TEN_SECONDS, bucket_start__lt=fine_cutoff).delete()[0]
        for model in (MetricRollup, KeyRollup)
    )
    return {"logs": logs, "minute_rollups": minutes + keys, "ten_second_rollups": fine}
