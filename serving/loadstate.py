"""Load failures as an explicit state: capped exponential backoff and one log line per attempt.

A version that fails to load (a broken artifact, a model the runtime cannot warm) used to be
retried on every pool poll with a full traceback each time. Here each failure records its cause
and the earliest time of the next attempt; the pool skips the load until then. Pure Python with
an injectable clock, so the schedule is tested without sleeping.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadFailure:
    """The latest failed attempt to load one version: why, how often, when to try again."""

    label: str  # e.g. "churn v2"
    cause: str  # one line: "ModelLoadError: could not load ..."
    attempts: int
    retry_at: float  # on the backoff's clock
    retry_in: float  # seconds from the failure to the next attempt


class LoadFailed(RuntimeError):
    """A version in backoff: not tried again until its retry time; carries the last cause."""


def cause_of(exc: BaseException) -> str:
    """The exception's type and the first line of its message (TF messages run to pages)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:500]


class LoadBackoff:
    """Per-key failure records; delays double from `base` up to `cap` seconds."""

    def __init__(
        self, *, base: float = 1.0, cap: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.base = base
        self.cap = cap
        self.clock = clock
        self._failures: dict[Hashable, LoadFailure] = {}

    def check(self, key: Hashable) -> None:
        """Raise LoadFailed while `key` waits for its next attempt; return when it may load."""
        failure = self._failures.get(key)
        if failure is not None and self.clock() < failure.retry_at:
            raise LoadFailed(failure.cause)

    def failed(self, key: Hashable, label: str, exc: BaseException) -> LoadFailure:
        """Record a failed attempt and log it as one line (no traceback: the cause says why)."""
        previous = self._failures.get(key)
        attempts = previous.attempts + 1 if previous else 1
        delay = min(self.base * 2 ** (attempts - 1), self.cap)
        cause = exc.args[0] if isinstance(exc, LoadFailed) else cause_of(exc)
        failure = LoadFailure(label, cause, attempts, self.clock() + delay, delay)
        self._failures[key] = failure
        logger.warning(
            "could not load %s (attempt %d, next in %.0fs): %s", label, attempts, delay, cause
        )
        return failure

    def succeeded(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def failure(self, key: Hashable) -> LoadFailure | None:
        return self._failures.get(key)

    def forget_except(self, keys: set) -> None:
        """Drop records of versions no deployment wants any more (rolled back, replaced)."""
        for key in list(self._failures):
            if key not in keys:
                del self._failures[key]

    def next_retry_at(self) -> float | None:
        """When the earliest waiting version may be tried again; None when nothing failed."""
        return min((f.retry_at for f in self._failures.values()), default=None)
