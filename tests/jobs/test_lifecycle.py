"""The lifecycle validation runs and batch jobs share (jobs/lifecycle.py): claim and its attempts
limit, what each kind resets on a new attempt, the sweeper's give-up, and queueing on commit."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from jobs import tasks
from jobs.batch_jobs import BATCH_JOBS, batch_job_create
from jobs.lifecycle import MAX_ATTEMPTS
from jobs.models import BatchJob, ValidationRun
from jobs.validation.runs import VALIDATION_RUNS, validation_start
from registry.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(alice, keras_model_file):
    from registry.services import version_register

    return version_register(
        model_name="churn", upload=keras_model_file, filename="small.keras", actor=alice
    )


@pytest.fixture
def job(alice, version, tmp_path):
    from registry.services import dataset_create

    path = tmp_path / "rows.npz"
    np.savez(path, features=np.zeros((10, 4), dtype="float32"))
    dataset = dataset_create(name="rows", upload=path, filename="rows.npz", actor=alice)
    return batch_job_create(version=version, dataset=dataset, actor=alice, enqueue=False)


@pytest.fixture
def run(alice, version):
    return validation_start(version=version, actor=alice, enqueue=False)


def test_a_task_tried_too_often_is_given_up_as_an_error(job, run):
    for attempt in range(1, MAX_ATTEMPTS + 1):  # redeliveries of a task whose worker died
        assert BATCH_JOBS.claim(job.pk, "gpu1").attempts == attempt
        assert VALIDATION_RUNS.claim(run.pk, "gpu1").attempts == attempt
    assert BATCH_JOBS.claim(job.pk, "gpu1") is None
    assert VALIDATION_RUNS.claim(run.pk, "gpu1") is None
    job.refresh_from_db()
    run.refresh_from_db()
    for task in (job, run):
        assert task.status == "error" and task.error == f"gave up after {MAX_ATTEMPTS} attempts"
        assert task.finished_at is not None
    assert BATCH_JOBS.claim(job.pk, "gpu1") is None  # finished: a duplicate is ignored
    assert ModelVersion.objects.get(pk=run.version_id).state == "validating"  # not the model's


def test_a_restarted_run_keeps_its_first_start_and_a_job_restarts_its_clock(job, run):
    first_job = BATCH_JOBS.claim(job.pk, "gpu1")
    first_run = VALIDATION_RUNS.claim(run.pk, "gpu1")
    BatchJob.objects.filter(pk=job.pk).update(rows_done=7)
    earlier = timezone.now() - timedelta(minutes=5)
    BatchJob.objects.filter(pk=job.pk).update(started_at=earlier)
    ValidationRun.objects.filter(pk=run.pk).update(started_at=earlier)

    again_job = BATCH_JOBS.claim(job.pk, "gpu2")
    again_run = VALIDATION_RUNS.claim(run.pk, "gpu2")
    assert again_job.started_at > earlier and again_job.rows_done == 0
    assert again_run.started_at == earlier and again_run.worker_host == "gpu2"
    assert "started on gpu1 (attempt 1)" in first_run.log
    assert again_run.log.endswith(
        "restarted: the previous attempt's worker was lost on gpu2 (attempt 2)"
    )
    assert first_job.status == again_job.status == "running"


def test_the_sweeper_gives_up_on_silent_tasks_whose_worker_is_gone(job, run):
    BATCH_JOBS.claim(job.pk, "gone@gpu1")
    VALIDATION_RUNS.claim(run.pk, "alive@gpu2")
    cutoff = timezone.now() + timedelta(seconds=1)  # both are silent since before the cutoff

    assert VALIDATION_RUNS.sweep(cutoff=cutoff, alive={"alive@gpu2"}) == []
    assert BATCH_JOBS.sweep(cutoff=cutoff, alive={"alive@gpu2"}) == [job.pk]
    job.refresh_from_db()
    assert job.status == "error" and job.error == "worker gone@gpu1 stopped heartbeating"

    assert VALIDATION_RUNS.sweep(cutoff=cutoff, alive=set()) == [run.pk]
    run.refresh_from_db()
    assert run.error == "worker alive@gpu2 stopped heartbeating; the run was lost"
    assert run.log.endswith(run.error)
    assert not VALIDATION_RUNS.mark_lost(run, "again")  # it moved on: nothing to give up


def test_a_worker_that_finishes_after_the_sweeper_leaves_its_verdict(job):
    claimed = BATCH_JOBS.claim(job.pk, "gpu1")
    assert BATCH_JOBS.mark_lost(claimed, "worker gpu1 stopped heartbeating")
    ended = BATCH_JOBS.end(claimed, "succeeded", rows_done=10)
    assert ended.status == "error" and ended.rows_done == 0


def test_a_heartbeat_records_progress_and_the_time(job):
    claimed = BATCH_JOBS.claim(job.pk, "gpu1")
    earlier = timezone.now() - timedelta(minutes=1)
    BatchJob.objects.filter(pk=job.pk).update(heartbeat_at=earlier)
    BATCH_JOBS.heartbeat(claimed, rows_done=5)
    job.refresh_from_db()
    assert job.rows_done == 5 and job.heartbeat_at > earlier


def test_the_services_queue_the_celery_task_once_the_row_is_committed(
    alice, version, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.run_validation, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = validation_start(version=version, actor=alice)
    assert queued == [] and len(callbacks) == 1
    callbacks[0]()
    assert queued == [run.pk]
