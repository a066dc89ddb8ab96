"""Archive a deployment once it takes no traffic: the request counts live here, in monitoring,
so the check sits above serving's `deployment_archive`, which detaches the versions."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.actors import as_actor
from core.errors import Conflict
from monitoring.constants import Resolution
from monitoring.models import MetricRollup
from serving import deploy
from serving import selectors as serving_selectors
from serving.models import DeploymentEvent

QUIET_PERIOD = timedelta(hours=1)


def deployment_requests_since(*, deployment_id: int, since) -> int:
    """Requests counted in rollups that may overlap [since, now] (a bucket that began up to one
    resolution earlier counts whole: erring towards "still serving")."""
    total = 0
    for resolution in Resolution:
        total += (
            MetricRollup.objects.filter(
                deployment_id=deployment_id,
                resolution=resolution,
                bucket_start__gte=since - timedelta(seconds=int(resolution)),
            ).aggregate(n=Sum("count"))["n"]
            or 0
        )
    return total


@transaction.atomic
def deployment_archive_when_idle(
    *, model_name: str, deployment_name: str, actor, reason: str, now=None
) -> DeploymentEvent:
    """Archive a deployment that answered no request during the quiet period (audited)."""
    actor = as_actor(actor).require("deploy", model=model_name, what="archive a deployment")
    deployment = serving_selectors.deployment_get(model_name, deployment_name)
    if deployment.archived_at is not None:
        raise Conflict(f"{deployment} is already archived", code="archived")
    since = (now or timezone.now()) - QUIET_PERIOD
    recent = deployment_requests_since(deployment_id=deployment.pk, since=since)
    if recent:
        raise Conflict(
            f"{deployment} answered {recent} request(s) in the last hour; archive it once it "
            "takes no traffic (point its clients at another deployment first)",
            code="still_serving",
        )
    return deploy.deployment_archive(deployment=deployment, actor=actor, reason=reason)
