"""The lifecycle every gpu-queue task shares (validation runs, batch jobs): queue it once its row
is committed, claim it on a worker, beat while it works, finish it once, and give up on it when
its worker is gone or it was tried too often.

Each kind of task is one `Lifecycle` (jobs.batch_jobs.BATCH_JOBS,
jobs.validation.runs.VALIDATION_RUNS) whose hooks add what only that kind does. The Celery task
that runs a kind is given to it by jobs.tasks (`runs_with`), so the services never import the
task module that imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db import transaction
from django.utils import timezone

from jobs.models import WorkerTask

MAX_ATTEMPTS = 3
RUNNING = "running"  # the same value in ValidationStatus and BatchJobStatus
ERROR = "error"

Task = TypeVar("Task", bound=WorkerTask)


class Lifecycle(Generic[Task]):
    """Claim, heartbeat, finish and lost-work handling of one WorkerTask model."""

    # A restarted validation run keeps its first start (its duration counts the lost attempt);
    # a batch job measures each attempt from its own start.
    keeps_first_start = False

    def __init__(self, model: type[Task]) -> None:
        self.model = model
        self._runner: Callable[[int], Any] | None = None

    # --- hooks -------------------------------------------------------------------------------

    def starting(self, task: Task, *, now: datetime, restarted: bool) -> None:
        """Reset the kind's progress for a fresh attempt (before the claim is saved)."""

    def finishing(self, task: Task) -> None:
        """Set the kind's own fields of a finished task (before it is saved)."""

    def finished(self, task: Task) -> None:
        """What follows a finish in the same transaction (after the task is saved)."""

    def lost(self, task: Task, why: str) -> None:
        """Note that the worker was lost (before the task is finished as an error)."""

    def why_lost(self, task: Task) -> str:
        return f"worker {task.worker_host or '?'} stopped heartbeating"

    # --- queueing ----------------------------------------------------------------------------

    def runs_with(self, runner: Callable[[int], Any]) -> None:
        """Called by jobs.tasks: `runner(pk)` queues the Celery task for one row."""
        self._runner = runner

    def enqueue(self, pk: int) -> None:
        if self._runner is None:
            raise RuntimeError(f"no task runs {self.model.__name__}: jobs.tasks is not loaded")
        self._runner(pk)

    def enqueue_on_commit(self, pk: int) -> None:
        """Queue once the row is committed, so the worker finds it."""
        transaction.on_commit(lambda: self.enqueue(pk))

    # --- the worker's side -------------------------------------------------------------------

    def claim(self, pk: int, worker_host: str) -> Task | None:
        """Mark the task running on this worker; None if it is finished or gone (a duplicate
        delivery) or was tried MAX_ATTEMPTS times already (it is then finished as an error)."""
        with transaction.atomic():
            task = self.model.objects.select_for_update().filter(pk=pk).first()
            if task is None or task.finished:
                return None
            restarted = task.status == RUNNING
            task.attempts += 1
            if task.attempts > MAX_ATTEMPTS:
                self.finish(task, ERROR, f"gave up after {MAX_ATTEMPTS} attempts")
                return None
            now = timezone.now()
            task.status, task.worker_host, task.heartbeat_at = RUNNING, worker_host, now
            task.started_at = (task.started_at if self.keeps_first_start else None) or now
            self.starting(task, now=now, restarted=restarted)
            task.save()
        return task

    def heartbeat(self, task: Task, **progress) -> None:
        """Record progress and that the worker is alive (one UPDATE, no lock)."""
        task.heartbeat_at = timezone.now()
        self.model.objects.filter(pk=task.pk).update(heartbeat_at=task.heartbeat_at, **progress)

    def finish(self, task: Task, status: str, error: str = "") -> None:
        """Record how the task ended (inside the caller's transaction, on a locked row)."""
        task.status, task.error, task.finished_at = status, error, timezone.now()
        self.finishing(task)
        task.save()
        self.finished(task)

    def end(self, task: Task, status: str, error: str = "", **fields) -> Task:
        """Finish a task the worker was running, unless the sweeper gave up on it meanwhile (its
        verdict stands); `fields` are saved with the finish."""
        with transaction.atomic():
            locked = self.model.objects.select_for_update().get(pk=task.pk)
            if locked.finished:
                return locked
            for name, value in fields.items():
                setattr(locked, name, value)
            self.finish(locked, status, error)
        return locked

    # --- the sweeper's side ------------------------------------------------------------------

    def mark_lost(self, task: Task, why: str) -> bool:
        """Give up on a running task whose worker is gone; False if it moved on meanwhile."""
        with transaction.atomic():
            locked = self.model.objects.select_for_update().get(pk=task.pk)
            if locked.status != RUNNING:
                return False
            self.lost(locked, why)
            self.finish(locked, ERROR, why)
        return True

    def sweep(self, *, cutoff: datetime, alive: Collection[str]) -> list[int]:
        """Mark lost the running tasks silent since `cutoff` whose worker is not `alive`."""
        silent = self.model.objects.filter(status=RUNNING, heartbeat_at__lt=cutoff)
        return [
            task.pk
            for task in silent
            if task.worker_host not in alive and self.mark_lost(task, self.why_lost(task))
        ]
