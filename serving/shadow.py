"""Shadow traffic: a copy of each request goes to the shadow variant; its answer is only logged."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from serving import inference

logger = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="shadow")
_pending = threading.BoundedSemaphore(256)  # never let shadow work pile up behind the primary


def mirror(primary: inference.Prediction) -> bool:
    """Queue the shadow call of a served prediction; False when the shadow backlog is full (the
    copy is skipped)."""
    if not _pending.acquire(blocking=False):
        return False
    shadow = primary.route.shadow

    def run() -> None:
        copy = inference.Prediction(
            protocol=primary.protocol,
            request_id=inference.new_request_id(),
            loaded=shadow,
            route=primary.route,
            role="shadow",
            key_prefix=primary.key_prefix,
            started=time.perf_counter(),
            feeds=primary.feeds,
            rows=primary.rows,
        )
        try:
            copy.outputs, copy.batch_rows = shadow.batcher.submit_measured(primary.feeds)
        except Exception as exc:  # the shadow's failure is data, not the caller's problem
            copy.outputs, copy.status, copy.error = {}, 500, f"{type(exc).__name__}: {exc}"
        finally:
            _pending.release()
        copy.prediction_ids = inference.prediction_ids(copy.request_id, copy.rows)
        inference.publish(copy)

    try:
        _executor.submit(run)
    except RuntimeError:  # shutting down (drain ran): skip the copy, never fail the primary
        _pending.release()
        return False
    return True


def drain() -> None:
    """At shutdown, before the batchers close: finish the shadow calls already running and drop
    the queued copies (best effort by design; a copy run against a closed batcher would only be
    logged as a spurious shadow error)."""
    _executor.shutdown(wait=True, cancel_futures=True)
