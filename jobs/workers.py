"""Worker heartbeats (host, queues, GPU via NVML when present, CPU/memory via psutil, current
task) and the sweeper that gives up on runs and jobs whose worker stopped beating.

The heartbeat thread runs in the worker's main process, which must not import TensorFlow (the
pool children load it after the fork), so GPU facts come from NVML, never from TensorFlow.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta
from typing import Any

import psutil
from django.conf import settings
from django.db import close_old_connections, reset_queries, transaction
from django.utils import timezone

from jobs.batch_jobs import BATCH_JOBS
from jobs.models import WorkerHeartbeat
from jobs.validation.runs import VALIDATION_RUNS

logger = logging.getLogger(__name__)


def heartbeat_seconds() -> float:
    return float(settings.MODELGATE_WORKER_HEARTBEAT_SECONDS)


def stale_after() -> timedelta:
    """A worker silent for this long is gone (three missed beats by default)."""
    return timedelta(seconds=float(settings.MODELGATE_WORKER_STALE_SECONDS))


def gpu_facts() -> list[dict[str, Any]] | None:
    """Model and memory of each GPU from NVML; None where NVML or a GPU is absent."""
    try:
        import pynvml  # nvidia-ml-py; optional
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no driver: a CPU worker
        return None
    try:
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            name = pynvml.nvmlDeviceGetName(handle)
            gpus.append(
                {
                    "index": index,
                    "model": name.decode() if isinstance(name, bytes) else name,
                    "memory_total": int(memory.total),
                    "memory_used": int(memory.used),
                    "utilization": int(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu),
                }
            )
        return gpus or None
    finally:
        pynvml.nvmlShutdown()


def heartbeat_payload() -> dict[str, Any]:
    """What a beat reports besides the host and queues."""
    gpus = gpu_facts()
    memory = psutil.virtual_memory()
    process = psutil.Process()
    return {
        "pid": os.getpid(),
        "device": f"GPU ({gpus[0]['model']})" if gpus else "CPU",
        "gpu": gpus,
        "cpu_percent": psutil.cpu_percent(interval=None),
        "memory": {
            "total": int(memory.total),
            "available": int(memory.available),
            "percent": float(memory.percent),
            "worker_rss": int(process.memory_info().rss),
        },
    }


def worker_heartbeat_record(
    *, hostname: str, queues: list[str], payload: dict[str, Any] | None = None
) -> WorkerHeartbeat:
    """Upsert this worker's heartbeat row (current_task is left to the task signals)."""
    payload = payload if payload is not None else heartbeat_payload()
    now = timezone.now()
    beat, created = WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={**payload, "queues": sorted(queues), "last_seen": now},
        create_defaults={**payload, "queues": sorted(queues), "last_seen": now, "started_at": now},
    )
    return beat


def worker_set_current_task(*, hostname: str, task: str) -> None:
    WorkerHeartbeat.objects.filter(hostname=hostname).update(current_task=task[:255])


def worker_list() -> list[WorkerHeartbeat]:
    """Every worker seen, each with `stale` set."""
    cutoff = timezone.now() - stale_after()
    workers = list(WorkerHeartbeat.objects.order_by("hostname"))
    for worker in workers:
        worker.stale = worker.last_seen < cutoff
    return workers


class HeartbeatThread(threading.Thread):
    """Beats every `interval` seconds until stopped."""

    def __init__(self, hostname: str, queues: list[str], interval: float) -> None:
        super().__init__(name="modelgate-heartbeat", daemon=True)
        self.hostname, self.queues, self.interval = hostname, queues, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        psutil.cpu_percent(interval=None)  # primes the CPU counter
        while not self.stopped.is_set():
            try:
                worker_heartbeat_record(hostname=self.hostname, queues=self.queues)
            except Exception:  # noqa: BLE001 - a missed beat is logged; the next one retries
                logger.exception("heartbeat of %s failed", self.hostname)
            finally:
                close_old_connections()
                reset_queries()  # a background thread's DEBUG query log is never reset
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()


def work_sweep(*, older_than: timedelta | None = None) -> dict[str, list[int]]:
    """Mark running runs and jobs `error` when their worker's heartbeat is gone."""
    cutoff = timezone.now() - (older_than or stale_after())
    alive = set(
        WorkerHeartbeat.objects.filter(last_seen__gte=cutoff).values_list("hostname", flat=True)
    )
    swept = {
        "validation_runs": VALIDATION_RUNS.sweep(cutoff=cutoff, alive=alive),
        "batch_jobs": BATCH_JOBS.sweep(cutoff=cutoff, alive=alive),
    }
    if swept["validation_runs"] or swept["batch_jobs"]:
        logger.warning("swept lost work: %s", swept)
    return swept


@transaction.atomic
def workers_forget_stale(*, older_than: timedelta) -> int:
    """Delete heartbeat rows of workers gone for longer than older_than."""
    deleted, _ = WorkerHeartbeat.objects.filter(last_seen__lt=timezone.now() - older_than).delete()
    return deleted
