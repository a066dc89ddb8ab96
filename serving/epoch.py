"""The deployment epoch: one number that changes whenever any deployment changes.

Every deploy, rollback or config change writes a DeploymentEvent, so the newest event id is the
epoch of record. With Redis, the deploy transaction also bumps a Redis counter after commit and
serving processes poll that (one GET, no database load across replicas); in the embedded default
they poll the newest event id directly.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

REDIS_KEY = "modelgate:serving:epoch"


def _redis():
    if not settings.REDIS_URL:
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def epoch_bump_on_commit() -> None:
    """Tell every serving process to re-read deployments once this transaction commits."""

    def _bump() -> None:
        client = _redis()
        if client is not None:
            try:
                client.incr(REDIS_KEY)
            except Exception:  # the database epoch below still propagates the change
                logger.exception("could not bump the Redis deployment epoch")

    transaction.on_commit(_bump)


def epoch_current() -> str:
    """The epoch a serving process compares with the one its route table was built at."""
    client = _redis()
    if client is not None:
        try:
            return "r" + (client.get(REDIS_KEY) or b"0").decode()
        except Exception:
            logger.warning("Redis unreachable; falling back to the database epoch")
    from serving.models import DeploymentEvent

    newest = DeploymentEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return f"d{newest or 0}"
