"""Sliding-window leased limits: never more than the limit in any span of one period, across
processes, on a controlled clock (no test depends on where a boundary falls)."""

from __future__ import annotations

import threading
import uuid

import pytest

from accounts.ratelimits import SUB_WINDOWS, LeasedLimiter, chunk_for, split_rate


class Clock:
    """A controlled clock: starts at an arbitrary instant, moves only when told."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def key() -> str:
    return f"k{uuid.uuid4().hex[:12]}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_it_parses_rates():
    assert split_rate("100/m") == (100, 60)
    assert split_rate("500/5m") == (500, 300)
    assert split_rate("3/s") == (3, 1)
    assert split_rate("10/d") == (10, 86400)


def test_it_admits_exactly_a_small_limit(key, clock):
    limiter = LeasedLimiter(clock=clock)
    decisions = [limiter.hit(key, "10/m") for _ in range(25)]
    assert sum(d.allowed for d in decisions) == 10
    assert [d.remaining for d in decisions[:10]] == list(range(9, -1, -1))
    refused = decisions[-1]
    assert not refused.allowed and refused.remaining == 0 and 1 <= refused.reset_seconds <= 66


@pytest.mark.parametrize("offset", [0.0, 0.001, 2.9, 5.999, 30.0, 59.999])
def test_a_burst_straddling_any_boundary_gets_no_more_than_the_limit(key, clock, offset):
    """Fixed windows gave 2x: a full burst just before a boundary and another just after."""
    clock.advance(offset)
    limiter = LeasedLimiter(clock=clock)
    before = sum(limiter.hit(key, "10/m").allowed for _ in range(20))
    clock.advance(0.002)  # across whatever boundary lies near
    after = sum(limiter.hit(key, "10/m").allowed for _ in range(20))
    assert before + after == 10


def test_no_span_of_one_period_ever_holds_more_than_the_limit(key, clock):
    """A client that asks every 0.7 s for ten minutes: every 60 s span holds at most 10."""
    limiter = LeasedLimiter(clock=clock)
    admitted = []
    for _ in range(int(600 / 0.7)):
        if limiter.hit(key, "10/m").allowed:
            admitted.append(clock.now)
        clock.advance(0.7)
    assert max(sum(1 for t in admitted if start <= t < start + 60) for start in admitted) == 10
    # Still a useful rate: at least N per period plus one bucket.
    per_minute = len(admitted) / 10
    assert 10 * SUB_WINDOWS / (SUB_WINDOWS + 1) - 0.5 <= per_minute <= 10


def test_budget_comes_back_as_old_buckets_leave_the_window(key, clock):
    limiter = LeasedLimiter(clock=clock)
    assert sum(limiter.hit(key, "10/m").allowed for _ in range(10)) == 10
    refused = limiter.hit(key, "10/m")
    assert not refused.allowed
    clock.advance(refused.reset_seconds - 1)
    assert not limiter.hit(key, "10/m").allowed
    clock.advance(1.0)
    assert limiter.hit(key, "10/m").allowed


def test_limiters_in_different_processes_share_the_limit(key, clock):
    """Two limiters stand for two serving processes: their leases come from one counter."""
    first, second = LeasedLimiter(clock=clock), LeasedLimiter(clock=clock)
    admitted = 0
    for i in range(3000):
        limiter = first if i % 3 else second
        admitted += limiter.hit(key, "1000/h").allowed
    assert 950 <= admitted <= 1000  # never over; unspent leases may be lost at most


def test_big_limits_lease_in_chunks_but_never_over_admit_across_buckets(key, clock):
    first, second = LeasedLimiter(clock=clock), LeasedLimiter(clock=clock)
    admitted = []
    for step in range(4000):
        limiter = first if step % 2 else second
        if limiter.hit(key, "1000/m").allowed:
            admitted.append(clock.now)
        clock.advance(0.03)  # 120 s in all, across many buckets
    worst = max(sum(1 for t in admitted if start <= t < start + 60) for start in admitted[::50])
    assert worst <= 1000 and len(admitted) >= 1500


def test_concurrent_threads_never_exceed_the_limit(key, clock):
    limiter = LeasedLimiter(clock=clock)
    admitted = []
    lock = threading.Lock()

    def worker():
        mine = sum(limiter.hit(key, "500/m").allowed for _ in range(200))
        with lock:
            admitted.append(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 490 <= sum(admitted) <= 500


def test_usage_reads_the_window_without_counting(key, clock):
    limiter = LeasedLimiter(clock=clock)
    for _ in range(5):
        limiter.hit(key, "10/m")
    assert limiter.usage(key, "10/m") == 5
    assert limiter.usage(key, "10/m") == 5
    clock.advance(66.0)
    assert limiter.usage(key, "10/m") == 0


def test_headers_report_the_budget(key, clock):
    decision = LeasedLimiter(clock=clock).hit(key, "10/m")
    headers = dict(decision.headers())
    assert headers["RateLimit-Limit"] == "10"
    assert headers["RateLimit-Remaining"] == "9"
    assert headers["RateLimit-Policy"] == '"60s";q=10;w=60'
    assert headers["RateLimit"].startswith('"60s";r=9;t=')


def test_leases_per_process_are_bounded(clock, monkeypatch):
    from accounts import ratelimits

    monkeypatch.setattr(ratelimits, "MAX_LEASES", 50)
    limiter = LeasedLimiter(clock=clock)
    for i in range(500):
        limiter.hit(f"flood{i}", "10/m")
    assert len(limiter._leases) <= 50


def test_chunks_shrink_near_the_limit():
    assert chunk_for(10, 0) == 1
    assert chunk_for(100_000, 0) == 64
    assert chunk_for(100_000, 99_990) == 2
    assert chunk_for(100_000, 100_000) == 1
