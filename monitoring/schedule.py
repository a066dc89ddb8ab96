"""Every periodic schedule of Modelgate, in one place (wired into Celery beat by console)."""

from __future__ import annotations

import os

from celery.schedules import crontab

SLO_CHECK_SECONDS = float(os.environ.get("MODELGATE_SLO_CHECK_SECONDS", "30"))
DRAIN_SECONDS = float(os.environ.get("MODELGATE_DRAIN_SECONDS", "2"))
DRIFT_SECONDS = float(os.environ.get("MODELGATE_DRIFT_SECONDS", "900"))
SWEEP_SECONDS = float(os.environ.get("MODELGATE_SWEEP_SECONDS", "30"))

BEAT_SCHEDULE = {
    # Without Redis (the embedded default) serving writes events to the database itself.
    **(
        {
            "drain-prediction-stream": {
                "task": "monitoring.tasks.drain_prediction_stream",
                "schedule": DRAIN_SECONDS,
                # A drain that waited longer than two periods is stale: the next one covers it.
                "options": {"expires": DRAIN_SECONDS * 2},
            }
        }
        if os.environ.get("REDIS_URL")
        else {}
    ),
    "check-slos": {
        "task": "monitoring.tasks.check_slos",
        "schedule": SLO_CHECK_SECONDS,
        "options": {"expires": SLO_CHECK_SECONDS},
    },
    "check-load-failures": {
        "task": "monitoring.tasks.check_load_failures",
        "schedule": SLO_CHECK_SECONDS,
        "options": {"expires": SLO_CHECK_SECONDS},
    },
    "purge-prediction-logs": {
        "task": "monitoring.tasks.purge_prediction_logs",
        "schedule": crontab(minute=17, hour=3),
    },
    # Validation runs and batch jobs whose gpu worker died are marked `error`, never left running.
    "sweep-lost-work": {
        "task": "jobs.tasks.sweep_lost_work",
        "schedule": SWEEP_SECONDS,
        "options": {"expires": SWEEP_SECONDS},
    },
    "run-drift": {
        "task": "monitoring.tasks.run_drift",
        "schedule": DRIFT_SECONDS,
        "options": {"expires": DRIFT_SECONDS},
    },
}
