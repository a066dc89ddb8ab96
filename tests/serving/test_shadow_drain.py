"""Shutdown: shadow copies still queued are dropped, later ones skipped, the primary unharmed."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from serving import inference, shadow


class _SlowBatcher:
    def __init__(self):
        self.started, self.release, self.calls = threading.Event(), threading.Event(), 0

    def submit_measured(self, feeds):
        """The batcher's call with the batch size it ran in (serving.batching.Batcher's API)."""
        self.calls += 1
        self.started.set()
        self.release.wait(5)
        return {"score": feeds["features"]}, len(feeds["features"])


def test_drain_finishes_running_copies_drops_queued_ones_and_skips_later_ones(monkeypatch):
    monkeypatch.setattr(shadow, "_executor", ThreadPoolExecutor(max_workers=1))
    monkeypatch.setattr(shadow, "_pending", threading.BoundedSemaphore(4))
    batcher = _SlowBatcher()
    route = SimpleNamespace(shadow=SimpleNamespace(batcher=batcher))
    published = []
    monkeypatch.setattr(inference, "publish", published.append)
    primary = SimpleNamespace(
        route=route, feeds={"features": [[1.0]]}, rows=1, key_prefix="", protocol="native"
    )

    def call():
        return shadow.mirror(primary)

    assert call() and call()  # one runs (held in the batcher), one waits in the queue
    assert batcher.started.wait(5)
    drained = threading.Thread(target=shadow.drain)
    drained.start()
    # Let the drain cancel the queued copy before the running one frees the only thread.
    deadline = time.monotonic() + 5
    while not shadow._executor._shutdown and time.monotonic() < deadline:
        time.sleep(0.01)
    with shadow._executor._shutdown_lock:  # held by shutdown() until the queue is cancelled
        pass
    batcher.release.set()
    drained.join(5)
    assert not drained.is_alive()
    assert batcher.calls == 1  # the queued copy was dropped, not run
    assert [result.status for result in published] == [200]
    assert call() is False  # after the drain: skipped, no exception for the primary request
