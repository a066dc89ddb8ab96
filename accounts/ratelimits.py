"""The counters a key's calls spend on the shared cache: sliding-window rate limits and quotas,
leased in chunks for the hot path, and the day's usage, tallied in-process (end of module).

A rate "N/period" must hold at every instant: never more than N requests in ANY span of one
period, so a burst straddling a boundary cannot get 2N. The period is cut into SUB_WINDOWS
buckets, each a counter on the shared cache (Redis in production: exact across processes and
replicas). A request in bucket b is admitted only while the counters of buckets b-SUB_WINDOWS..b
(which cover at least the last full period) stay under N. The price of the whole-bucket edge is
that a steady client gets N per period plus one bucket (about 9% less than N per period), never
more than N in any period.

Counting each request with a cache round trip costs ~120 µs of CPU against Redis, more than the
model; so a process leases tokens: it adds a chunk to the current bucket, spends the chunk
locally and leases again when it runs out. Buckets before the current one are closed, so their
sum is read once per bucket. Tokens leased but unspent when a bucket closes are lost (counted,
never over-admitted). Chunks are ~2% of the limit, smaller near the edge, 1 for limits under 100
(exact per request: logins, small keys).

Quotas ("10000/d", "300000/mo") count in calendar windows by definition (a day is a day): they
use the same leases with one bucket per calendar window.

Every limit reads `clock()` (time.time), so tests drive windows with a controlled clock.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings
from django.core.cache import caches

from accounts.limits import quota_parts, quota_window

GROUP = "modelgate.predict"
QUOTA_GROUP = "modelgate.quota"
MAX_CHUNK = 64
SUB_WINDOWS = 10
# Leases kept per process: one per (value, rate) seen in the current bucket. Past this bound
# the stale ones go first, then all (a flood of distinct values costs re-leasing, not memory).
MAX_LEASES = 20_000
_RATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def clock() -> float:
    """The time every limiter reads; tests replace it (monkeypatch) with a controlled clock."""
    return time.time()


@lru_cache(maxsize=256)
def split_rate(rate: str) -> tuple[int, int]:
    """'100/m' -> (100, 60); '500/5m' -> (500, 300)."""
    count, _, per = rate.partition("/")
    digits = per.rstrip("smhd")
    unit = per[len(digits) :] or "s"
    return int(count), int(digits or 1) * _RATE_UNITS[unit]


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The verdict for one request and what the RateLimit headers report."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    period: int
    code: str = "rate_limited"  # what a refusal answers: rate_limited or quota_exceeded

    def headers(self) -> list[tuple[str, str]]:
        """IETF RateLimit headers: the draft-7 trio plus the newer Policy/RateLimit pair."""
        reset = str(self.reset_seconds)
        return [
            ("RateLimit-Limit", str(self.limit)),
            ("RateLimit-Remaining", str(self.remaining)),
            ("RateLimit-Reset", reset),
            ("RateLimit-Policy", f'"{self.period}s";q={self.limit};w={self.period}'),
            ("RateLimit", f'"{self.period}s";r={self.remaining};t={reset}'),
        ]

    def retry_after(self) -> str:
        return str(max(1, self.reset_seconds))


class _Lease:
    __slots__ = ("bucket", "tokens", "counter", "prior", "prior_sum", "frees_at", "exhausted")

    def __init__(self, bucket: int, prior: tuple[int, ...], frees_at: float):
        self.bucket = bucket
        self.prior = prior  # the closed buckets still in the window, oldest first
        self.prior_sum = sum(prior)
        self.frees_at = frees_at  # when budget comes back (RateLimit-Reset, Retry-After)
        self.tokens = 0  # leased, not yet spent, in this process
        self.counter = 0  # the current bucket's shared counter as of our last lease
        self.exhausted = False


def chunk_for(limit: int, used: int) -> int:
    """Lease ~2% of the limit at a time, never more than what is left, 1 near the edge."""
    left = limit - used
    if left <= 0:
        return 1
    return max(1, min(MAX_CHUNK, limit // 50, left // 4 or 1))


@dataclass(frozen=True, slots=True)
class _Window:
    limit: int
    period: int
    bucket: int  # index of the current bucket
    buckets_back: int  # closed buckets that still count (SUB_WINDOWS; 0 for calendar quotas)
    width: float  # seconds per bucket
    ends_at: float  # for a calendar window: when it ends


_all_limiters: weakref.WeakSet = weakref.WeakSet()


class LeasedLimiter:
    """Process-wide token leases keyed by (value, rate); counters on the shared cache."""

    def __init__(self, group: str = GROUP, clock=None):
        self.group = group
        self._clock = clock
        self._leases: dict[tuple[str, str], _Lease] = {}
        self._lock = threading.Lock()
        _all_limiters.add(self)

    def now(self) -> float:
        return self._clock() if self._clock is not None else clock()

    def hit(self, value: str, rate: str, *, now: float | None = None) -> RateDecision:
        """Count one request for value against a sliding-window rate."""
        now = self.now() if now is None else now
        limit, period = split_rate(rate)
        width = period / SUB_WINDOWS
        bucket = int(now // width)
        with self._lock:  # the hot path: a leased token in the current bucket
            lease = self._leases.get((value, rate))
            if lease is not None and lease.bucket == bucket and lease.tokens > 0:
                lease.tokens -= 1
                remaining = limit - lease.prior_sum - lease.counter + lease.tokens
                reset = max(1, math.ceil(lease.frees_at - now))
                return RateDecision(True, limit, max(0, remaining), reset, period)
        window = _Window(limit, period, bucket, SUB_WINDOWS, width, 0.0)
        return self._hit(value, rate, window, now, "rate_limited")

    def hit_window(
        self,
        value: str,
        rate: str,
        limit: int,
        start: int,
        period: int,
        ends_at: float,
        code: str,
        *,
        now: float | None = None,
    ) -> RateDecision:
        """Count one request in one fixed window (calendar quotas) starting at `start`."""
        window = _Window(limit, period, start, 0, float(period), ends_at)
        return self._hit(value, rate, window, self.now() if now is None else now, code)

    def usage(self, value: str, rate: str, *, now: float | None = None) -> int:
        """Requests counted (leased, so an upper bound) in the sliding window now; no increment."""
        now = self.now() if now is None else now
        limit, period = split_rate(rate)
        bucket = int(now // (period / SUB_WINDOWS))
        keys = [self._key(value, rate, b) for b in range(bucket - SUB_WINDOWS, bucket + 1)]
        found = self._cache().get_many(keys)
        return sum(int(found.get(k) or 0) for k in keys)

    def _hit(self, value: str, rate: str, window: _Window, now: float, code: str):
        key = (value, rate)
        with self._lock:
            lease = self._leases.get(key)
            if lease is not None and lease.bucket == window.bucket:
                spent = self._spend(lease, window, now, code)
                if isinstance(spent, RateDecision):
                    return spent  # the common case: one lock, no round trip
        if lease is None or lease.bucket != window.bucket:
            # A new bucket: read the closed ones once (a round trip, outside the lock).
            prior = self._read_prior(value, rate, window)
            fresh = _Lease(window.bucket, prior, self._frees_at(prior, window))
            with self._lock:
                lease = self._keep(key, fresh)
                spent = self._spend(lease, window, now, code)
                if isinstance(spent, RateDecision):
                    return spent
        counter = self._add(value, rate, window, spent)
        granted = max(0, min(spent, window.limit - lease.prior_sum - (counter - spent)))
        if granted < spent:
            # Give back what was not granted: refusals must not spend the budget, or a client
            # that keeps asking would keep its window full for ever.
            self._add(value, rate, window, granted - spent)
            counter += granted - spent
        with self._lock:
            lease.counter = max(lease.counter, counter)
            if granted <= 0:
                lease.exhausted = True
                return self._decision(False, lease, window, now, code)
            lease.tokens += granted - 1
            return self._decision(True, lease, window, now, code)

    def _spend(self, lease: _Lease, window: _Window, now: float, code: str):
        """Under the lock: a decision from local tokens, or the chunk to lease next."""
        if lease.tokens > 0:
            lease.tokens -= 1
            return self._decision(True, lease, window, now, code)
        if lease.exhausted:
            return self._decision(False, lease, window, now, code)
        return chunk_for(window.limit, lease.prior_sum + lease.counter)

    def give_back(self, value: str, rate: str, *, counted_at: float) -> None:
        """Un-count one admitted request (a login that succeeded), in the bucket it counted in.
        Only for limits under 100, where each request leased exactly one token."""
        limit, period = split_rate(rate)
        width = period / SUB_WINDOWS
        window = _Window(limit, period, int(counted_at // width), SUB_WINDOWS, width, 0.0)
        self._add(value, rate, window, -1)
        with self._lock:
            lease = self._leases.get((value, rate))
            if lease is not None and lease.bucket == window.bucket:
                lease.counter = max(0, lease.counter - 1)
                lease.exhausted = False

    def _keep(self, key, lease: _Lease) -> _Lease:
        """Store a fresh lease unless another thread stored one for the same bucket first."""
        existing = self._leases.get(key)
        if existing is not None and existing.bucket == lease.bucket:
            return existing
        if len(self._leases) >= MAX_LEASES:
            stale = [k for k, old in self._leases.items() if old.bucket < lease.bucket]
            for old_key in stale:
                del self._leases[old_key]
            if len(self._leases) >= MAX_LEASES:
                self._leases.clear()
        self._leases[key] = lease
        return lease

    def _decision(self, allowed, lease: _Lease, window: _Window, now: float, code: str):
        remaining = max(0, window.limit - lease.prior_sum - lease.counter + lease.tokens)
        reset = max(1, math.ceil(lease.frees_at - now))
        return RateDecision(allowed, window.limit, remaining, reset, window.period, code)

    @staticmethod
    def _frees_at(prior: tuple[int, ...], window: _Window) -> float:
        """When budget comes back: the oldest bucket with counts leaves the window."""
        if window.buckets_back == 0:
            return window.ends_at
        # prior[i] is bucket (bucket - buckets_back + i); it stops counting once the current
        # bucket is bucket + i + 1. With no closed counts, the current bucket is what must pass.
        oldest = next((i for i, n in enumerate(prior) if n), len(prior))
        return (window.bucket + oldest + 1) * window.width

    def _cache(self):
        return caches[settings.RATELIMIT_USE_CACHE]

    def _key(self, value: str, rate: str, bucket: int) -> str:
        # Hashed: values may be usernames with any characters; keys stay short and safe.
        digest = hashlib.sha256(f"{self.group}|{rate}|{value}".encode()).hexdigest()[:32]
        return f"rl:{digest}:{bucket}"

    def _read_prior(self, value: str, rate: str, window: _Window) -> tuple[int, ...]:
        if window.buckets_back == 0:
            return ()
        first = window.bucket - window.buckets_back
        keys = [self._key(value, rate, b) for b in range(first, window.bucket)]
        found = self._cache().get_many(keys)
        return tuple(int(found.get(k) or 0) for k in keys)

    def _add(self, value: str, rate: str, window: _Window, chunk: int) -> int:
        """Add chunk to the current bucket's shared counter; returns its new value."""
        cache = self._cache()
        cache_key = self._key(value, rate, window.bucket)
        # A bucket must outlive the window it counts in, plus a little clock skew.
        ttl = math.ceil(window.width * (window.buckets_back + 2)) + 1
        if chunk < 0:  # a give-back: the bucket exists (we just added to it)
            try:
                return int(cache.incr(cache_key, chunk))
            except ValueError:
                return 0
        if cache.add(cache_key, chunk, ttl):
            return chunk
        try:
            return int(cache.incr(cache_key, chunk))
        except ValueError:  # expired between add and incr: start the bucket again
            cache.add(cache_key, chunk, ttl)
            return chunk

    def reset(self) -> None:
        with self._lock:
            self._leases.clear()


_limiter = LeasedLimiter()
_quota_limiter = LeasedLimiter(QUOTA_GROUP)


def rate_limit_hit(value: str, rate: str) -> RateDecision:
    """Count one request for `value` (an API key prefix) against `rate` ("100/m", "5/s")."""
    return _limiter.hit(value, rate)


def rate_used(value: str, rate: str) -> int:
    """Requests counted against a key's rate in the sliding window now (the key page)."""
    return _limiter.usage(value, rate)


def quota_hit(value: str, quota: str, *, now: float | None = None) -> RateDecision:
    """Count one request against a calendar-day or calendar-month quota ("10000/d", "5000/mo")."""

    limit, unit = quota_parts(quota)
    now = clock() if now is None else now
    start, reset = quota_window(unit, now)
    period = 86400 if unit == "d" else 31 * 86400
    return _quota_limiter.hit_window(
        value, quota, limit, start, period, now + reset, "quota_exceeded", now=now
    )


def quota_used(value: str, quota: str, *, now: float | None = None) -> int:
    """Requests counted (leased, so an upper bound) against the quota in its current window."""

    _, unit = quota_parts(quota)
    start, _ = quota_window(unit, clock() if now is None else now)
    return int(_quota_limiter._cache().get(_quota_limiter._key(value, quota, start)) or 0)


def reset_rate_limits() -> None:
    """Forget every limiter's leases in this process (tests)."""
    for limiter in list(_all_limiters):
        limiter.reset()


# --- usage ------------------------------------------------------------------------------------
# The counters a key's calls spend on the shared cache: limits (leased, above) and the day's usage
# (tallied, flushed once a second): statistics must not cost a predict a round trip, so a process
# tallies per (prefix, UTC day) and adds to the shared counters at most once a second (on a later
# request) or on flush_usage(). The key page reads them (accounts/usage.py), a second behind.

FLUSH_INTERVAL_SECONDS = 1.0
USAGE_TTL_SECONDS = 40 * 86400  # enough for a 30-day chart

_usage_lock = threading.Lock()
_tally: dict[tuple[str, str], int] = {}
_last_flush = 0.0
_day_memo: tuple[int, str] = (-1, "")


def usage_day(moment: float | None = None) -> str:
    """The UTC day as YYYYMMDD; memoised per epoch day since it runs on every predict call."""
    global _day_memo
    moment = time.time() if moment is None else moment
    epoch_day = int(moment // 86400)
    if _day_memo[0] != epoch_day:
        _day_memo = (epoch_day, datetime.fromtimestamp(moment, UTC).strftime("%Y%m%d"))
    return _day_memo[1]


def usage_cache_key(prefix: str, day: str) -> str:
    """The shared counter of a key's requests on one day (YYYYMMDD)."""
    return f"modelgate:usage:{prefix}:{day}"


def usage_count(prefix: str) -> None:
    """Count one request for the key with this prefix (cheap: a dict update in the common case)."""
    global _last_flush
    now = time.monotonic()
    bucket = (prefix, usage_day())
    with _usage_lock:
        _tally[bucket] = _tally.get(bucket, 0) + 1
        due = now - _last_flush >= FLUSH_INTERVAL_SECONDS
        if due:
            _last_flush = now
    if due:
        flush_usage()


def flush_usage() -> int:
    """Add this process's tallies to the shared counters; returns how many buckets were written."""
    with _usage_lock:
        batch = dict(_tally)
        _tally.clear()
    cache = caches[settings.RATELIMIT_USE_CACHE]
    for (prefix, day), count in batch.items():
        key = usage_cache_key(prefix, day)
        if not cache.add(key, count, USAGE_TTL_SECONDS):
            try:
                cache.incr(key, count)
            except ValueError:  # expired between add and incr
                cache.add(key, count, USAGE_TTL_SECONDS)
    return len(batch)
