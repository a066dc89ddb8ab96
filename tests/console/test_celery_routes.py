"""Celery's routes and beat schedule name tasks that exist: a route or a schedule entry for a
moved or missing module fails silently in production (the message waits on a queue no worker
reads, or beat sends a name no worker knows)."""

from __future__ import annotations

from fnmatch import fnmatch

import pytest

from console.celery import app
from monitoring.schedule import beat_schedule


@pytest.fixture(scope="module")
def task_names() -> set[str]:
    app.loader.import_default_modules()  # the worker's autodiscovery of every app's tasks
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_route_names_a_registered_task(task_names):
    for pattern in app.conf.task_routes:
        assert any(fnmatch(name, pattern) for name in task_names), pattern


def test_the_heavy_tasks_go_to_the_gpu_queue_and_the_sweeper_does_not(task_names):
    def queue(name: str) -> str:
        return app.amqp.router.route({}, name)["queue"].name

    assert queue("jobs.tasks.run_validation") == "gpu"
    assert queue("jobs.tasks.run_batch_job") == "gpu"
    assert queue("jobs.tasks.sweep_lost_work") == "default"
    assert queue("monitoring.tasks.check_slos") == "default"


def test_every_scheduled_task_is_registered(task_names, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"  # includes the stream drain
    schedule = beat_schedule()
    assert "drain-prediction-stream" in schedule
    assert {entry["task"] for entry in schedule.values()} <= task_names


def test_the_schedule_follows_the_settings(settings):
    settings.MODELGATE_SLO_CHECK_SECONDS = 12.0
    settings.REDIS_URL = ""
    schedule = beat_schedule()
    assert schedule["check-slos"]["schedule"] == 12.0
    assert "drain-prediction-stream" not in schedule  # the embedded default needs no drain


def test_beat_runs_the_schedule():
    assert set(beat_schedule()) <= set(app.conf.beat_schedule)
    assert app.conf.beat_schedule["sweep-lost-work"]["task"] == "jobs.tasks.sweep_lost_work"
