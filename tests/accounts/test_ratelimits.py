"""Leased rate limits: never more than the limit across processes, cheap on the hot path."""

from __future__ import annotations

import threading
import uuid

import pytest
from django_ratelimit.core import get_usage

from accounts.ratelimits import GROUP, LeasedLimiter, chunk_for


@pytest.fixture
def key() -> str:
    return f"k{uuid.uuid4().hex[:12]}"


def test_it_admits_exactly_a_small_limit(key):
    limiter = LeasedLimiter()
    decisions = [limiter.hit(key, "10/m") for _ in range(25)]
    assert sum(d.allowed for d in decisions) == 10
    assert [d.remaining for d in decisions[:10]] == list(range(9, -1, -1))
    refused = decisions[-1]
    assert not refused.allowed and refused.remaining == 0 and 1 <= refused.reset_seconds <= 60


def test_limiters_in_different_processes_share_the_limit(key):
    """Two limiters stand for two serving processes: their leases come from one counter."""
    first, second = LeasedLimiter(), LeasedLimiter()
    admitted = 0
    for i in range(3000):
        limiter = first if i % 3 else second
        admitted += limiter.hit(key, "1000/h").allowed
    assert 950 <= admitted <= 1000  # never over; unspent leases may be lost at most


def test_concurrent_threads_never_exceed_the_limit(key):
    limiter = LeasedLimiter()
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


def test_it_uses_django_ratelimits_own_counter(key):
    limiter = LeasedLimiter()
    for _ in range(5):
        limiter.hit(key, "10/m")
    usage = get_usage(None, group=GROUP, key=lambda _g, _r: key, rate="10/m")
    assert usage["count"] == 5 and usage["limit"] == 10


def test_headers_report_the_budget(key):
    decision = LeasedLimiter().hit(key, "10/m")
    headers = dict(decision.headers())
    assert headers["RateLimit-Limit"] == "10"
    assert headers["RateLimit-Remaining"] == "9"
    assert headers["RateLimit-Policy"] == '"60s";q=10;w=60'
    assert headers["RateLimit"].startswith('"60s";r=9;t=')


def test_chunks_shrink_near_the_limit():
    assert chunk_for(10, 0) == 1
    assert chunk_for(100_000, 0) == 64
    assert chunk_for(100_000, 99_990) == 2
    assert chunk_for(100_000, 100_000) == 1
