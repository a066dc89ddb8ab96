"""Alerts for versions that fail to load on serving replicas.

Serving replicas report their load failures to the shared store (serving/replicas.py); this
check, run by beat, turns them into one open Alert per deployment and failure message
("churn/production: v2 failed to load on 3 replicas: <cause>"), and resolves the alert by
itself once no live replica reports that failure any more (loaded, rolled back or replaced).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from monitoring.constants import AlertKind
from monitoring.models import Alert
from serving.models import Deployment
from serving.replicas import replicas_live
from serving.rollout import failure_summaries

logger = logging.getLogger(__name__)


@transaction.atomic
def load_failures_check(*, now=None) -> list[Alert]:
    """Raise an alert per new (deployment, version, cause), keep its message's replica count
    current, resolve the ones no live replica reports; returns the alerts raised."""
    now = now or timezone.now()
    documents = replicas_live()
    current: dict[tuple[int, int, str], str] = {}
    for deployment in Deployment.objects.select_related("model").filter(archived_at__isnull=True):
        key = f"{deployment.model.name}/{deployment.name}"
        for summary in failure_summaries(documents, key):
            identity = (deployment.pk, summary["version"], summary["cause"])
            current[identity] = f"{key}: {summary['message']}"
    open_alerts = Alert.objects.select_for_update().filter(
        kind=AlertKind.LOAD_FAILURE, resolved_at__isnull=True
    )
    known = set()
    for alert in open_alerts:
        identity = (alert.deployment_id, alert.metrics.get("version"), alert.metrics.get("cause"))
        message = current.get(identity)
        if message is None:
            alert.resolved_at = now
            alert.save(update_fields=["resolved_at"])
        else:
            known.add(identity)
            if alert.message != message:  # the replica count moved
                alert.message = message
                alert.save(update_fields=["message"])
    raised = []
    for identity, message in sorted(current.items()):
        if identity in known:
            continue
        deployment_id, version, cause = identity
        logger.warning("%s", message)
        raised.append(
            Alert.objects.create(
                deployment_id=deployment_id,
                kind=AlertKind.LOAD_FAILURE,
                message=message,
                metrics={"version": version, "cause": cause},
            )
        )
    return raised
