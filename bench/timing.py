"""Timing helpers the micro-benchmarks share."""

from __future__ import annotations

import time
from collections.abc import Callable


def per_call_us(fn: Callable[[], object], calls: int) -> float:
    """Best of three timings of `calls` calls, in microseconds per call."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, time.perf_counter() - started)
    return best / calls * 1e6
