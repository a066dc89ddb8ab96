"""The Celery app: two queues, `gpu` (validation suites, batch jobs) and `default` (the rest)."""

from __future__ import annotations

import os

from celery import Celery, signals
from kombu import Queue

from console import devenv

devenv.load()  # `make run`'s var/dev.env: a worker started from any terminal needs no exports
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("modelgate")
app.config_from_object("django.conf:settings", namespace="CELERY")

app.conf.update(
    task_queues=(Queue("default"), Queue("gpu")),
    task_default_queue="default",
    # Heavy TensorFlow work goes to the GPU workers; everything else stays on `default` (the
    # sweeper too: it must not wait behind an hour-long suite on a busy gpu worker).
    # tests/console/test_celery_routes.py checks that every route names a real task.
    task_routes={
        "jobs.tasks.run_validation": {"queue": "gpu"},
        "jobs.tasks.run_batch_job": {"queue": "gpu"},
        "jobs.tasks.sweep_lost_work": {"queue": "default"},
        "monitoring.tasks.*": {"queue": "default"},
    },
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    timezone="UTC",
)


@app.on_after_configure.connect
def _periodic_tasks(sender, source, **kwargs) -> None:
    """Every periodic schedule is declared in one place: monitoring/schedule.py. Read once the
    configuration is (Django's settings loaded), so importing this module configures nothing."""
    from monitoring.schedule import beat_schedule

    source.beat_schedule = beat_schedule()


def _configure_embedded_broker() -> None:
    """kombu's SQLAlchemy transport reads polling_interval from its class, not transport options."""
    if str(app.conf.broker_url).startswith("sqla+"):
        from django.conf import settings
        from kombu.transport import sqlalchemy as kombu_sqlalchemy

        kombu_sqlalchemy.Transport.polling_interval = settings.CELERY_BROKER_POLLING_INTERVAL


@signals.task_postrun.connect
def _forget_debug_queries(**kwargs) -> None:
    """With DEBUG on (`make run`), Django logs every query a task runs and only a web request
    resets the log: a long-lived worker would keep up to 9,000 of them per thread."""
    from django.db import reset_queries

    reset_queries()


app.autodiscover_tasks()
