"""Every periodic schedule of Modelgate, in one place (wired into Celery beat by console)."""

from __future__ import annotations

from celery.schedules import crontab
from django.conf import settings


def _every(task: str, seconds: float, *, expires: float | None = None) -> dict:
    """Run `task` every `seconds`; a run still queued after `expires` (one period by default)
    is dropped, since the next one covers it."""
    return {"task": task, "schedule": seconds, "options": {"expires": expires or seconds}}


def beat_schedule() -> dict:
    """Celery beat's schedule, from the MODELGATE_*_SECONDS settings."""
    slo_check = settings.MODELGATE_SLO_CHECK_SECONDS
    drain = settings.MODELGATE_DRAIN_SECONDS
    sweep = settings.MODELGATE_SWEEP_SECONDS
    drift = settings.MODELGATE_DRIFT_SECONDS
    return {
        # Without Redis (the embedded default) serving writes events to the database itself.
        **(
            {
                # A drain that waited longer than two periods is stale: the next one covers it.
                "drain-prediction-stream": _every(
                    "monitoring.tasks.drain_prediction_stream", drain, expires=drain * 2
                )
            }
            if settings.REDIS_URL
            else {}
        ),
        "check-slos": _every("monitoring.tasks.check_slos", slo_check),
        "check-load-failures": _every("monitoring.tasks.check_load_failures", slo_check),
        "purge-prediction-logs": {
            "task": "monitoring.tasks.purge_prediction_logs",
            "schedule": crontab(minute=17, hour=3),
        },
        # Validation runs and batch jobs whose gpu worker died are marked `error`, never left
        # running.
        "sweep-lost-work": _every("jobs.tasks.sweep_lost_work", sweep),
        "run-drift": _every("monitoring.tasks.run_drift", drift),
    }
