"""Celery tasks of monitoring (queue `default`): thin wrappers around the services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from monitoring import ingest, services
from monitoring.drift_service import drift_run_all
from monitoring.load_alerts import load_failures_check


@shared_task(
    name="monitoring.tasks.drain_prediction_stream",
    acks_late=True,
    soft_time_limit=50,
    time_limit=60,
    ignore_result=True,
)
def drain_prediction_stream() -> int:
    """Ingest what the serving processes wrote to the Redis stream (nothing to do without it)."""
    if not settings.REDIS_URL:
        return 0
    return ingest.drain_stream()


@shared_task(
    name="monitoring.tasks.check_slos",
    acks_late=True,
    soft_time_limit=50,
    time_limit=60,
    ignore_result=True,
)
def check_slos() -> int:
    """Judge every recent deploy against its SLO; roll back where allowed."""
    return len(services.slo_check_all())


@shared_task(
    name="monitoring.tasks.check_load_failures",
    acks_late=True,
    soft_time_limit=50,
    time_limit=60,
    ignore_result=True,
)
def check_load_failures() -> int:
    """Alert on versions that serving replicas fail to load; resolve the cleared ones."""

    return len(load_failures_check())


@shared_task(
    name="monitoring.tasks.purge_prediction_logs",
    acks_late=True,
    soft_time_limit=600,
    time_limit=900,
    ignore_result=True,
)
def purge_prediction_logs() -> dict:
    """Delete prediction logs and minute rollups past their retention."""
    return services.retention_purge()


@shared_task(
    name="monitoring.tasks.run_drift",
    acks_late=True,
    soft_time_limit=540,
    time_limit=600,
    ignore_result=True,
)
def run_drift() -> int:
    """Compare every deployment's recent inputs with its reference; alert on dataset drift."""

    return drift_run_all()
