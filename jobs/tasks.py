"""Celery tasks of jobs: thin wrappers (ids in, one service call). Suites and batch jobs go
to the `gpu` queue (console/celery.py routes them); the sweeper runs on `default`.

The only module that imports both services: it gives each kind's lifecycle the task that runs
it (`runs_with`), which the services queue once their row is committed. jobs.apps loads it, so a
web process that never autodiscovers tasks can queue them too."""

from __future__ import annotations

from celery import shared_task
from celery.signals import task_postrun, task_prerun, worker_ready, worker_shutdown

from jobs import workers
from jobs.batch_jobs import BATCH_JOBS, batch_job_execute
from jobs.validation.runs import VALIDATION_RUNS, validation_execute

# A lost worker's message comes back (acks_late + reject_on_worker_lost); the services are
# idempotent, so a redelivered run restarts cleanly instead of running twice.
GPU_TASK = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
}


@shared_task(name="jobs.tasks.run_validation", soft_time_limit=3300, time_limit=3600, **GPU_TASK)
def run_validation(self, run_id: int) -> str | None:
    """Run a validation suite."""
    run = validation_execute(run_id=run_id, worker_host=self.request.hostname)
    return run.status if run else None


@shared_task(name="jobs.tasks.run_batch_job", soft_time_limit=21000, time_limit=21600, **GPU_TASK)
def run_batch_job(self, job_id: int) -> str | None:
    """Score a batch job."""
    job = batch_job_execute(job_id=job_id, worker_host=self.request.hostname)
    return job.status if job else None


# Lambdas: reading `.delay` now would finalize the Celery app while Django is still starting.
VALIDATION_RUNS.runs_with(lambda run_id: run_validation.delay(run_id))
BATCH_JOBS.runs_with(lambda job_id: run_batch_job.delay(job_id))


@shared_task(
    name="jobs.tasks.sweep_lost_work",
    acks_late=True,
    soft_time_limit=50,
    time_limit=60,
    ignore_result=True,
)
def sweep_lost_work() -> dict:
    """Mark runs and jobs whose worker stopped heartbeating as `error`."""
    return workers.work_sweep()


_beat: dict = {}


@worker_ready.connect
def _start_heartbeat(sender=None, **_):
    consumer = sender
    hostname = consumer.hostname
    queues = sorted(q.name for q in consumer.task_consumer.queues) if consumer.task_consumer else []
    thread = workers.HeartbeatThread(hostname, queues, workers.heartbeat_seconds())
    thread.start()
    _beat["thread"] = thread


@worker_shutdown.connect
def _stop_heartbeat(**_):
    thread = _beat.pop("thread", None)
    if thread is not None:
        thread.stop()


def _tracked_host(sender) -> str | None:
    """The worker's hostname when `sender` is a suite or batch task (shown on the workers page)."""
    hostname = getattr(sender.request, "hostname", None) if sender else None
    if hostname and sender.name in (run_validation.name, run_batch_job.name):
        return hostname
    return None


@task_prerun.connect
def _note_task(sender=None, task_id=None, args=None, **_):
    if hostname := _tracked_host(sender):
        workers.worker_set_current_task(hostname=hostname, task=f"{sender.name}{tuple(args or ())}")


@task_postrun.connect
def _clear_task(sender=None, **_):
    if hostname := _tracked_host(sender):
        workers.worker_set_current_task(hostname=hostname, task="")
