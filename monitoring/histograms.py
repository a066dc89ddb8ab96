"""Mergeable latency histograms: fixed bucket edges, so adding bucket counts merges windows.

Pure maths, no Django: percentiles of any window come from summed bucket counts, never from
scanning raw latencies.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

# Upper edges in milliseconds. Finer under 5 ms, where a healthy model spends its time; the last
# bucket (above the last edge) is open-ended.
EDGES_MS: tuple[float, ...] = (
    0.25,
    0.5,
    0.75,
    1.0,
    1.25,
    1.5,
    2.0,
    2.5,
    3.0,
    3.5,
    4.0,
    5.0,
    7.5,
    10.0,
    15.0,
    20.0,
    30.0,
    50.0,
    75.0,
    100.0,
    150.0,
    250.0,
    500.0,
    1000.0,
    2500.0,
    5000.0,
    10000.0,
)
N_BUCKETS = len(EDGES_MS) + 1


def bucket_index(latency_ms: float) -> int:
    """The bucket holding `latency_ms`: bucket i covers (EDGES_MS[i-1], EDGES_MS[i]]."""
    return bisect_left(EDGES_MS, latency_ms)


def bucket_bounds(index: int) -> tuple[float, float]:
    """Lower and upper edge of bucket `index`; the open last bucket ends at twice its lower edge."""
    lower = EDGES_MS[index - 1] if index > 0 else 0.0
    upper = EDGES_MS[index] if index < len(EDGES_MS) else EDGES_MS[-1] * 2
    return lower, upper


def histogram(latencies_ms: Sequence[float]) -> list[int]:
    """Bucket counts of raw latencies."""
    counts = [0] * N_BUCKETS
    for value in latencies_ms:
        counts[bucket_index(value)] += 1
    return counts


def merge(*histograms: Sequence[int]) -> list[int]:
    """Add histograms bucket by bucket."""
    total = [0] * N_BUCKETS
    for hist in histograms:
        for i, n in enumerate(hist):
            total[i] += n
    return total


def percentile(counts: Sequence[int], q: float) -> float | None:
    """The q-th percentile (0-100) of the latencies behind `counts`, interpolated linearly inside
    the bucket it falls in; None for an empty histogram."""
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    total = sum(counts)
    if total == 0:
        return None
    # The same rank convention as numpy's default ("linear"): rank q/100 * (n - 1), 0-based.
    rank = q / 100.0 * (total - 1)
    seen = 0
    for index, n in enumerate(counts):
        if n and rank < seen + n:
            lower, upper = bucket_bounds(index)
            return lower + (upper - lower) * ((rank - seen + 0.5) / n)
        seen += n
    return bucket_bounds(N_BUCKETS - 1)[1]


def percentiles(
    counts: Sequence[int], qs: Sequence[float] = (50, 95, 99)
) -> dict[str, float | None]:
    """{"p50": ..., "p95": ..., "p99": ...} for the given histogram."""
    return {f"p{q:g}": percentile(counts, q) for q in qs}


def bucket_width_at(value_ms: float) -> float:
    """Width of the bucket holding `value_ms`: the error bound of a histogram percentile."""
    lower, upper = bucket_bounds(bucket_index(value_ms))
    return upper - lower
