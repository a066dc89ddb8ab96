"""A "leader" dynamic batcher: the request thread that finds the model free runs the batch itself.

There is no batching thread. A request that arrives while the model is idle runs at once on its
own thread (no hand-off, no delay). Requests that arrive while a batch runs queue up; when the
running batch ends, the leader takes everything queued (up to `max_batch_size` rows) into the
next batch, and once its own request is answered it passes the lead to the oldest waiter. So
under load every `run_batch` call covers whatever queued meanwhile, and at concurrency 1 a call
costs `run_batch` plus a few microseconds.

Contract of `run_batch`: one call at a time per batcher (never concurrent with itself); it takes
`{input: array}` with a shared row count on axis 0 and returns `{output: array}` with that many
rows, in fresh arrays (results are handed out as row slices of them). It may see 0 rows: a
0-row request goes through the queue like any other and, when nothing else is queued beside it,
`run_batch` gets the 0-row feeds (`ModelRuntime.predict` answers those without running the model).
Requests batched together must agree on input names and non-batch dims; the batcher never mixes
requests whose trailing shapes differ (a variable-length input simply forms smaller batches).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

Feeds = dict[str, np.ndarray]
RunBatch = Callable[[Feeds], Feeds]

_allocate_lock = threading.Lock
_perf = time.perf_counter


class BatcherError(Exception):
    """Base class of the batcher's own refusals."""


class QueueFull(BatcherError):
    """The queue holds `max_queue_rows` rows already; retry after `retry_after_seconds`."""

    def __init__(self, retry_after_seconds: float, message: str = "") -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(
            message or f"the batch queue is full; retry after {retry_after_seconds:.3f}s"
        )


class BatcherClosed(BatcherError):
    """The batcher is draining or closed (its model version is being swapped out)."""


class _Ticket:
    """One `submit` call: its chunks' results, and the lock its thread sleeps on."""

    __slots__ = ("results", "error", "pending", "wake", "batch_rows")

    def __init__(self, chunks: int) -> None:
        self.results: list[Any] = [None] * chunks
        self.batch_rows = 0  # rows of the largest batch that carried this call's rows
        self.error: BaseException | None = None
        self.pending = chunks
        self.wake: Any = None  # a held lock, allocated only if the thread has to wait


class _Chunk:
    """A queued piece of a request (at most `max_batch_size` rows)."""

    __slots__ = ("ticket", "slot", "feeds", "rows", "queued_at")

    def __init__(self, ticket: _Ticket, slot: int, feeds: Feeds, rows: int, queued_at: float):
        self.ticket = ticket
        self.slot = slot
        self.feeds = feeds
        self.rows = rows
        self.queued_at = queued_at


def _rows_of(feeds: Feeds) -> int:
    if not feeds:
        raise ValueError("a request needs at least one input")
    rows = -1
    for name, value in feeds.items():
        shape = value.shape
        if not shape:
            raise ValueError(f"input {name!r} is a scalar; inputs need a batch dimension")
        if rows < 0:
            rows = shape[0]
        elif shape[0] != rows:
            # Rows of one request must line up, or concatenation would shift other requests' rows.
            raise ValueError(
                f"inputs disagree on the number of rows ({rows} vs {shape[0]} in {name!r})"
            )
    return rows


def _compatible(first: Feeds, other: Feeds) -> bool:
    if first.keys() != other.keys():
        return False
    for name, value in first.items():
        peer = other[name]
        if value.shape[1:] != peer.shape[1:] or value.dtype != peer.dtype:
            return False
    return True


class Batcher:
    """Thread-safe zero-delay dynamic batcher with a bounded queue and leader hand-off."""

    def __init__(
        self,
        run_batch: RunBatch,
        *,
        max_batch_size: int = 64,
        max_delay_ms: float = 0.0,
        max_queue_rows: int = 1024,
        name: str = "",
    ) -> None:
        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        if max_queue_rows < max_batch_size:
            raise ValueError("max_queue_rows must be at least max_batch_size")
        if max_delay_ms < 0:
            raise ValueError("max_delay_ms cannot be negative")
        self.run_batch = run_batch
        self.max_batch_size = max_batch_size
        self.max_delay = max_delay_ms / 1000.0
        self.max_queue_rows = max_queue_rows
        self.name = name
        self._lock = threading.Lock()
        self._filled = threading.Condition(self._lock) if self.max_delay > 0 else None
        self._queue: deque[_Chunk] = deque()
        self._queued_rows = 0
        self._busy = False  # someone holds the lead
        self._closed = False
        self._idle = threading.Event()
        # Counters: requests is written under the lock, the rest only by the leader (one at a time).
        self._requests = 0
        self._batches = 0
        self._rows = 0
        self._max_batch_seen = 0
        self._histogram = [0] * (max_batch_size + 1)
        self._batch_seconds = 0.0  # moving average of one run_batch call, for Retry-After

    # -- public API -------------------------------------------------------------------------

    def submit(self, feeds: Feeds) -> Feeds:
        """Run `feeds` through the model in whatever batch forms; block until answered."""
        return self.submit_measured(feeds)[0]

    def submit_measured(self, feeds: Feeds) -> tuple[Feeds, int]:
        """`submit`, plus the rows of the largest batch this call's rows ran in (what monitoring
        charts as the batch size: the batcher's real batches, not the request's rows)."""
        rows = _rows_of(feeds)
        limit = self.max_batch_size
        if rows > self.max_queue_rows:
            raise ValueError(
                f"the request has {rows} rows; this model queues at most {self.max_queue_rows}"
            )
        if rows <= limit:
            ticket = _Ticket(1)
            chunks = [_Chunk(ticket, 0, feeds, rows, 0.0)]
        else:
            count = -(-rows // limit)
            ticket = _Ticket(count)
            chunks = [
                _Chunk(
                    ticket, i, {k: v[i * limit : (i + 1) * limit] for k, v in feeds.items()}, 0, 0.0
                )
                for i in range(count)
            ]
            for chunk in chunks:
                chunk.rows = min(limit, rows - chunk.slot * limit)
        if self.max_delay:
            now = _perf()
            for chunk in chunks:
                chunk.queued_at = now
        with self._lock:
            if self._closed:
                raise BatcherClosed(f"batcher {self.name!r} is closed")
            if self._queued_rows + rows > self.max_queue_rows:
                raise QueueFull(self._retry_after())
            self._requests += 1
            self._queue.extend(chunks)
            self._queued_rows += rows
            lead = not self._busy
            if lead:
                self._busy = True
            else:
                ticket.wake = wake = _allocate_lock()
                wake.acquire()
                if self._filled is not None:
                    self._filled.notify()
        if not lead:
            wake.acquire()  # released when the ticket is answered or handed the lead
            if ticket.pending:
                self._lead(ticket)
        else:
            self._lead(ticket)
        if ticket.error is not None:
            raise ticket.error
        results = ticket.results
        if len(results) == 1:
            return results[0], ticket.batch_rows
        merged = {name: np.concatenate([part[name] for part in results]) for name in results[0]}
        return merged, ticket.batch_rows

    def stats(self) -> dict[str, Any]:
        """Counters for heartbeats and metrics: batches, rows, requests, depth, batch sizes."""
        with self._lock:
            return {
                "name": self.name,
                "batches": self._batches,
                "rows": self._rows,
                "requests": self._requests,
                "queue_rows": self._queued_rows,
                "max_batch_seen": self._max_batch_seen,
                "mean_batch_rows": (self._rows / self._batches) if self._batches else 0.0,
                "batch_sizes": {size: n for size, n in enumerate(self._histogram) if n},
                "closed": self._closed,
            }

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, timeout: float | None = None) -> bool:
        """Refuse new requests, let queued and running ones finish; True once drained."""
        with self._lock:
            self._closed = True
            if not self._busy and not self._queue:
                self._idle.set()
        return self._idle.wait(timeout)

    # -- the leader -------------------------------------------------------------------------

    def _retry_after(self) -> float:
        batches_ahead = self._queued_rows / self.max_batch_size + 1
        return max(0.001, batches_ahead * (self._batch_seconds or 0.001))

    def _take_batch(self) -> list[_Chunk]:
        """Pop the next batch; the caller holds the lock and the queue is not empty."""
        queue = self._queue
        if self._filled is not None:
            # Wait for the batch to fill, but never hold the oldest request past its deadline.
            deadline = queue[0].queued_at + self.max_delay
            while self._queued_rows < self.max_batch_size:
                remaining = deadline - _perf()
                if remaining <= 0:
                    break
                self._filled.wait(remaining)
        first = queue.popleft()
        batch = [first]
        total = first.rows
        limit = self.max_batch_size
        while queue:
            nxt = queue[0]
            if total + nxt.rows > limit or not _compatible(first.feeds, nxt.feeds):
                break
            batch.append(queue.popleft())
            total += nxt.rows
        self._queued_rows -= total
        return batch

    def _lead(self, me: _Ticket) -> None:
        """Run batches until `me` is answered, then pass the lead on (or go idle)."""
        try:
            while me.pending:
                with self._lock:
                    batch = self._take_batch()
                self._run(batch, me)
        finally:
            with self._lock:
                if me.pending:
                    # Only on an unexpected escape (e.g. KeyboardInterrupt): drop our own chunks so
                    # the lead never passes to a thread that is not waiting.
                    own = [c for c in self._queue if c.ticket is me]
                    for chunk in own:
                        self._queue.remove(chunk)
                        self._queued_rows -= chunk.rows
                if self._queue:
                    successor = self._queue[0].ticket
                    successor.wake.release()  # it wakes with pending work and leads
                else:
                    self._busy = False
                    if self._closed:
                        self._idle.set()

    def _run(self, batch: list[_Chunk], me: _Ticket) -> None:
        """Run one batch and answer its chunks; only the leader calls this."""
        started = _perf()
        if len(batch) == 1:
            feeds = batch[0].feeds
            total = batch[0].rows
        else:
            names = batch[0].feeds.keys()
            feeds = {name: np.concatenate([c.feeds[name] for c in batch]) for name in names}
            total = sum(c.rows for c in batch)
        error: BaseException | None = None
        try:
            outputs = self.run_batch(feeds)
            if len(batch) > 1:
                for name, value in outputs.items():
                    if value.shape[0] != total:
                        got = value.shape[0]
                        raise ValueError(f"the model returned {got} rows of {name!r} for {total}")
        except BaseException as exc:  # noqa: BLE001 - delivered to every request of the batch
            error = exc
        elapsed = _perf() - started
        self._batches += 1
        self._rows += total
        self._histogram[total] += 1
        if total > self._max_batch_seen:
            self._max_batch_seen = total
        self._batch_seconds = (
            elapsed if not self._batch_seconds else 0.8 * self._batch_seconds + 0.2 * elapsed
        )
        start = 0
        for chunk in batch:
            ticket = chunk.ticket
            if total > ticket.batch_rows:
                ticket.batch_rows = total
            if error is not None:
                ticket.error = error
            elif len(batch) == 1:
                ticket.results[chunk.slot] = outputs
            else:
                end = start + chunk.rows
                ticket.results[chunk.slot] = {
                    name: value[start:end] for name, value in outputs.items()
                }
                start = end
            ticket.pending -= 1
            if ticket.pending == 0 and ticket is not me:
                ticket.wake.release()
