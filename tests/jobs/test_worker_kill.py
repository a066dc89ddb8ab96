"""Against a real Celery worker: a run and a batch job complete through the gpu queue, a worker
told to stop (SIGTERM) finishes the run it is on first, and a worker killed mid-run leaves its run
`error` (via the heartbeat sweeper), never stuck `running`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from jobs.models import ValidationRun, WorkerHeartbeat
from jobs.validation.policy import policy_update
from jobs.validation.runs import validation_start
from jobs.validation.suite import CHECK_NAMES
from jobs.workers import work_sweep
from tests.jobs.conftest import FAST_POLICY
from tests.support.servers import ROOT, server_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


@pytest.fixture
def worker(tmp_path):
    """`celery -A console worker -Q gpu -c 1` on the test database, in its own process group."""
    from django.conf import settings

    log = tmp_path / "worker.log"
    env = server_env(MODELGATE_WORKER_HEARTBEAT_SECONDS="0.5")
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    hostname = f"gpu-test-{os.getpid()}@localhost"
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "console",
        "worker",
        "-Q",
        "gpu",
        "-c",
        "1",
        "-n",
        hostname,
        "--without-mingle",
        "--without-gossip",
        "-l",
        "info",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    proc.hostname, proc.log = hostname, log
    try:  # a worker that never got ready is stopped too, or it lingers and takes later tasks
        _wait(lambda: WorkerHeartbeat.objects.filter(hostname=hostname).exists(), 60, proc)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _wait(condition, timeout, proc):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"worker exited:\n{proc.log.read_text()[-4000:]}")
        time.sleep(0.2)
    raise AssertionError(f"timed out; worker log:\n{proc.log.read_text()[-4000:]}")


def _in_load_check(run) -> bool:
    current = ValidationRun.objects.get(pk=run.pk)
    return current.status == "running" and current.current_check == "load"


@pytest.fixture
def version(churn, alice):
    v1, _ = churn
    policy_update(model=v1.model, changes=FAST_POLICY, actor=alice)
    from registry.models import ModelVersion

    # A fresh, unvalidated version of the same model (churn's are validated by the fixture).
    ModelVersion.objects.filter(pk=v1.pk).update(state="registered")
    v1.validation_runs.all().delete()
    v1.refresh_from_db()
    return v1


def test_it_runs_a_suite_on_a_real_worker(worker, version, alice):
    run = validation_start(version=version, actor=alice)
    _wait(lambda: ValidationRun.objects.get(pk=run.pk).finished, 60, worker)
    run.refresh_from_db()
    assert run.status == "passed", (run.error, run.log)
    assert run.worker_host == worker.hostname
    beat = WorkerHeartbeat.objects.get(hostname=worker.hostname)
    assert beat.queues == ["gpu"] and beat.gpu is None and beat.device == "CPU"
    assert beat.memory["worker_rss"] > 0


def test_it_scores_a_batch_job_on_a_real_worker(worker, version, alice, tmp_path):
    import numpy as np

    from jobs.batch_jobs import batch_job_create, batch_job_result_path
    from jobs.models import BatchJob
    from registry.services import dataset_create

    x = np.random.default_rng(2).normal(size=(500, 4)).astype("float32")
    np.savez(tmp_path / "rows.npz", features=x)
    dataset = dataset_create(
        name="rows", upload=tmp_path / "rows.npz", filename="rows.npz", actor=alice
    )
    job = batch_job_create(version=version, dataset=dataset, actor=alice, batch_size=128)
    _wait(lambda: BatchJob.objects.get(pk=job.pk).finished, 60, worker)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert job.worker_host == worker.hostname and job.rows_done == 500
    scores = np.load(batch_job_result_path(job, "npz"))["score"]
    assert scores.shape == (500, 1) and np.isfinite(scores).all()


def test_a_sigtermed_worker_finishes_the_running_suite_before_it_exits(worker, version, alice):
    policy_update(model=version.model, changes={"load_seconds": 3.0}, actor=alice)
    run = validation_start(version=version, actor=alice)
    _wait(lambda: _in_load_check(run), 60, worker)
    worker.send_signal(signal.SIGTERM)  # the main process only, as Kubernetes stops a pod
    exit_code = worker.wait(30)

    run.refresh_from_db()
    log = worker.log.read_text()
    # The worker heard the signal mid-task and still let the task succeed.
    succeeded = re.search(r"run_validation\[[^]]+\] succeeded in [^:]+: 'passed'", log)
    assert succeeded and log.index("Warm shutdown") < succeeded.start(), log[-4000:]
    assert exit_code == 0, log[-4000:]
    assert run.status == "passed", (run.error, run.log)
    assert run.attempts == 1  # finished where it was, not re-queued and restarted
    assert [c["check"] for c in run.checks] == CHECK_NAMES  # the whole suite, load included
    version.refresh_from_db()
    assert version.state == "validated"


def test_a_killed_worker_leaves_the_run_error_not_running(worker, version, alice, time_machine):
    policy_update(model=version.model, changes={"load_seconds": 60.0}, actor=alice)
    run = validation_start(version=version, actor=alice)
    _wait(lambda: _in_load_check(run), 60, worker)
    os.killpg(worker.pid, signal.SIGKILL)  # the main process and its pool child, no goodbye
    worker.wait(10)
    # The worker is gone, so only this process's clock matters now: hold it, then move it.
    time_machine.move_to(datetime.now(UTC), tick=False)

    # While the heartbeat is fresh the sweeper leaves the run alone...
    assert work_sweep(older_than=timedelta(seconds=30))["validation_runs"] == []
    assert ValidationRun.objects.get(pk=run.pk).status == "running"
    time_machine.shift(31)
    # ...once it is older than the stale bound, the run is given up as an error.
    swept = work_sweep(older_than=timedelta(seconds=30))
    assert swept["validation_runs"] == [run.pk]
    run.refresh_from_db()
    assert run.status == "error" and "stopped heartbeating" in run.error
    version.refresh_from_db()
    assert version.state == "validating"  # an infrastructure error: it can be run again
    _forget_unacked_task(run.pk)


def _forget_unacked_task(run_id: int) -> None:
    """On Redis the killed worker's message waits in kombu's `unacked` set for redelivery
    (acks_late): check it is there, then drop it so no later test's worker picks it up."""
    import base64
    import json

    import redis
    from django.conf import settings

    if not str(settings.CELERY_BROKER_URL).startswith("redis"):
        return
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    mine = []
    for tag, raw in client.hgetall("unacked").items():
        message = json.loads(raw)[0]
        args = json.loads(base64.b64decode(message["body"]))[0]
        if message["headers"]["task"] == "jobs.tasks.run_validation" and args == [run_id]:
            mine.append(tag)
    assert len(mine) == 1  # kept by the broker for redelivery, not lost with the worker
    client.hdel("unacked", *mine)
    client.zrem("unacked_index", *mine)
