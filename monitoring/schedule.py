"""Every periodic schedule of Modelgate, in one place (wired into Celery beat by console)."""

from __future__ import annotations

from celery.schedules import crontab
from django.conf import settings


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
                "drain-prediction-stream": {
                    "task": "monitoring.tasks.drain_prediction_stream",
                    "schedule": drain,
                    # A drain that waited longer than two periods is stale: the next one covers it.
                    "options": {"expires": drain * 2},
                }
            }
            if settings.REDIS_URL
            else {}
        ),
        "check-slos": {
            "task": "monitoring.tasks.check_slos",
            "schedule": slo_check,
            "options": {"expires": slo_check},
        },
        "check-load-failures": {
            "task": "monitoring.tasks.check_load_failures",
            "schedule": slo_check,
            "options": {"expires": slo_check},
        },
        "purge-prediction-logs": {
            "task": "monitoring.tasks.purge_prediction_logs",
            "schedule": crontab(minute=17, hour=3),
        },
        # Validation runs and batch jobs whose gpu worker died are marked `error`, never left
        # running.
        "sweep-lost-work": {
            "task": "jobs.tasks.sweep_lost_work",
            "schedule": sweep,
            "options": {"expires": sweep},
        },
        "run-drift": {
            "task": "monitoring.tasks.run_drift",
            "schedule": drift,
            "options": {"expires": drift},
        },
    }
