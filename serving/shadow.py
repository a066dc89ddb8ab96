"""Shadow traffic: a copy of each request goes to the shadow variant; its answer is only logged."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

logger = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="shadow")
_pending = threading.BoundedSemaphore(256)  # never let shadow work pile up behind the primary


def mirror(route, feeds, rows, principal, protocol, publish, new_ids) -> bool:
    """Queue the shadow call; False when the shadow backlog is full (the copy is skipped)."""
    if not _pending.acquire(blocking=False):
        return False
    shadow = route.shadow

    def run() -> None:
        started = time.perf_counter()
        try:
            outputs, batch_rows = shadow.batcher.submit_measured(feeds)
            status, error = 200, ""
        except Exception as exc:  # the shadow's failure is data, not the caller's problem
            outputs, status, error, batch_rows = {}, 500, f"{type(exc).__name__}: {exc}", 0
        finally:
            _pending.release()
        request_id, ids = new_ids(rows)
        publish(
            request_id=request_id,
            ids=ids,
            loaded=shadow,
            route=route,
            role="shadow",
            principal=principal,
            protocol=protocol,
            status=status,
            started=started,
            rows=rows,
            feeds=feeds,
            outputs=outputs,
            cache_hit=False,
            batch_size=batch_rows,
            error=error,
        )

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
