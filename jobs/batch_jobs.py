"""Batch inference: a version scores a dataset on a gpu worker in large batches through the
XLA runtime; progress is written about once a second, predictions are kept as .npz and .csv.

Only the shapes the job runs are compiled; the dataset is read ahead and the CSV written behind
the model on background threads (`jobs.batch_io`), so a job costs little more than its
model calls."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.actors import as_actor
from core.actor import Actor
from core.audit import audit_record
from core.errors import Conflict, InvalidInput, NotFound
from core.lookups import found_by_id
from jobs.batch_io import PredictionWriter, prefetched
from jobs.lifecycle import Lifecycle
from jobs.models import BatchJob, BatchJobStatus
from jobs.validation.suite import load_runtime
from registry.datasets import dataset_check_signature
from registry.models import Dataset, ModelVersion
from registry.selectors import dataset_input_batches
from serving.runtime import default_buckets

logger = logging.getLogger(__name__)
RESULT_FORMATS = ("npz", "csv")
PROGRESS_SECONDS = 1.0


def default_batch_size() -> int:
    return int(settings.MODELGATE_BATCH_JOB_BATCH_SIZE)


def result_root() -> Path:
    return Path(settings.MODELGATE_ARTIFACT_ROOT) / "batch-jobs"


class BatchJobLifecycle(Lifecycle[BatchJob]):
    def starting(self, task: BatchJob, *, now, restarted: bool) -> None:
        task.rows_done = 0


BATCH_JOBS = BatchJobLifecycle(BatchJob)


def batch_job_create(
    *,
    version: ModelVersion,
    dataset: Dataset,
    actor: Actor,
    batch_size: int | None = None,
    enqueue: bool = True,
) -> BatchJob:
    """Queue the scoring of `dataset` by `version` on the gpu queue."""
    actor = as_actor(actor).require("deploy", model=version.model.name, what="run a batch job")
    batch_size = default_batch_size() if batch_size is None else batch_size
    if not isinstance(batch_size, int) or not 1 <= batch_size <= 65536:
        raise InvalidInput("batch_size must be a whole number from 1 to 65536")
    if version.state == "archived":
        raise Conflict(f"{version} is archived")
    dataset_check_signature(dataset.schema, version.signature, role="batch")
    with transaction.atomic():
        job = BatchJob.objects.create(
            version=version,
            dataset=dataset,
            batch_size=batch_size,
            rows_total=dataset.row_count,
            created_by=actor.user,
        )
        audit_record(
            actor=actor,
            action="batch_job.create",
            target=str(job),
            after={"version": str(version), "dataset": dataset.pk, "batch_size": batch_size},
        )
        if enqueue:
            BATCH_JOBS.enqueue_on_commit(job.pk)
    return job


def batch_job_cancel(*, job: BatchJob, actor: Actor) -> BatchJob:
    """Cancel a queued job at once; ask a running one to stop at its next batch."""
    actor = as_actor(actor).require("deploy", model=job.version.model.name, what="cancel a job")
    with transaction.atomic():
        locked = BatchJob.objects.select_for_update().get(pk=job.pk)
        if locked.finished:
            raise Conflict(f"{locked} already {locked.status}")
        if locked.status == BatchJobStatus.QUEUED:
            locked.status, locked.finished_at = BatchJobStatus.CANCELLED, timezone.now()
        locked.cancel_requested = True
        locked.save()
        audit_record(actor=actor, action="batch_job.cancel", target=str(locked))
    return locked


@contextmanager
def _scratch_folder(job: BatchJob) -> Iterator[Path]:
    """A private folder for the job's files, removed unless `_publish` moved it into place."""
    root = result_root()
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".job-{job.pk}-", dir=root))
    try:
        yield scratch
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)


def _publish(job: BatchJob, scratch: Path) -> str:
    """Rename the finished files into place: a download never sees half a file."""
    target = result_root() / str(job.pk)
    if target.exists():
        shutil.rmtree(target)  # an earlier attempt's partial results
    os.rename(scratch, target)
    return f"batch-jobs/{job.pk}"


def job_buckets(rows: int, batch_size: int) -> list[int]:
    """The batch shapes a job runs: full batches and the padded remainder. The remainder pads to
    the bucket the serving runtime would give it, so predictions match a fully warmed runtime."""
    buckets = {batch_size}
    remainder = rows % batch_size
    if remainder:
        buckets.add(next(b for b in default_buckets(batch_size) if b >= remainder))
    return sorted(buckets)


def batch_job_execute(*, job_id: int, worker_host: str | None = None) -> BatchJob | None:
    """Score the job's dataset (idempotent: a finished job is left as it is)."""
    job = BATCH_JOBS.claim(job_id, worker_host or socket.gethostname())
    if job is None:
        return None
    try:
        return _score(job)
    except SoftTimeLimitExceeded:
        return BATCH_JOBS.end(job, BatchJobStatus.ERROR, "time limit exceeded")
    except Exception as exc:
        logger.exception("batch job %s crashed", job_id)
        return BATCH_JOBS.end(job, BatchJobStatus.FAILED, f"{type(exc).__name__}: {exc}")


def _score(job: BatchJob) -> BatchJob:
    version = ModelVersion.objects.select_related("artifact").get(pk=job.version_id)
    dataset = Dataset.objects.get(pk=job.dataset_id)
    rows = dataset.row_count
    size = min(job.batch_size, max(rows, 1))
    clock = time.perf_counter()
    batches = dataset_input_batches(dataset, version.signature, size)
    # Reading starts now, so the first batches (or a whole parsed file) are ready after warm-up.
    with prefetched(batches) as feeds, _scratch_folder(job) as scratch:
        runtime = load_runtime(version, size, buckets=job_buckets(rows, size))
        ready = time.perf_counter()
        with PredictionWriter(scratch, rows) as writer:
            done, seconds, cancelled = _run_batches(job, runtime, feeds, writer)
            if cancelled:
                return BATCH_JOBS.end(job, BatchJobStatus.CANCELLED, rows_done=done)
            if done != rows:
                raise RuntimeError(f"the dataset gave {done} rows; it has {rows}")
            writer.finish()
        result_dir = _publish(job, scratch)
    written = time.perf_counter() - ready - seconds
    logger.info(
        "batch job %s: %d rows; runtime ready in %.2f s, scoring %.2f s, results %.2f s more",
        *(job.pk, rows, ready - clock, seconds, written),
    )
    return BATCH_JOBS.end(
        job,
        BatchJobStatus.SUCCEEDED,
        rows_done=rows,
        rows_total=rows,
        rows_per_second=rows / seconds if seconds > 0 else 0.0,
        result_dir=result_dir,
    )


def _run_batches(
    job: BatchJob, runtime, feeds, writer: PredictionWriter
) -> tuple[int, float, bool]:
    """Score every batch into `writer`: (rows done, seconds, whether a cancel stopped it)."""
    done = 0
    started = last = time.perf_counter()
    for batch in feeds:
        done += writer.add(done, runtime.predict(batch))
        now = time.perf_counter()
        if now - last >= PROGRESS_SECONDS:
            last = now
            if _progress(job, done, done / (now - started)):
                return done, now - started, True
    return done, time.perf_counter() - started, False


def _progress(job: BatchJob, done: int, rate: float) -> bool:
    """Record progress; True when a cancel was requested."""
    BATCH_JOBS.heartbeat(job, rows_done=done, rows_per_second=rate)
    return BatchJob.objects.filter(pk=job.pk, cancel_requested=True).exists()


# --- selectors ---------------------------------------------------------------------------------


def batch_job_get(job_id) -> BatchJob:
    related = BatchJob.objects.select_related("version__model", "dataset", "created_by")
    return found_by_id(related, job_id, "batch job")


def batch_job_list():
    return BatchJob.objects.select_related("version__model", "dataset").order_by("-created_at")


def batch_job_result_path(job: BatchJob, fmt: str) -> Path:
    """The stored predictions file; NotFound until the job succeeded."""
    if fmt not in RESULT_FORMATS:
        raise NotFound(f"predictions come as {' or '.join(RESULT_FORMATS)}, not {fmt!r}")
    if job.status != BatchJobStatus.SUCCEEDED or not job.result_dir:
        raise NotFound(f"{job} has no predictions ({job.status})")
    path = Path(settings.MODELGATE_ARTIFACT_ROOT) / job.result_dir / f"predictions.{fmt}"
    if not path.is_file():
        raise NotFound(f"the predictions of {job} are missing from the store")
    return path
