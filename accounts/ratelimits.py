"""Per-key rate limits on django-ratelimit's counters, leased in chunks for the hot path.

django-ratelimit counts each request with one or two cache round trips (add, then incr). On the
predict path that is ~120 µs of CPU a request against Redis, more than the model. So a process
leases tokens: it increments django-ratelimit's own counter (same cache key, same fixed window)
by a chunk, spends the chunk locally, and leases again when it runs out. The counter on the
shared cache therefore never admits more than the limit across every process and replica; the
price is that tokens leased but unspent at the end of a window are lost (never over-admission).
Chunks shrink as a key nears its limit and are 1 for small limits, which is exact per request.
`django_ratelimit.core.get_usage(...)` (increment=False) reads the same counters.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django_ratelimit.core import _get_window, _make_cache_key, _split_rate

GROUP = "modelgate.predict"
QUOTA_GROUP = "modelgate.quota"
MAX_CHUNK = 64


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
    __slots__ = ("window", "tokens", "counter", "exhausted")

    def __init__(self, window: int):
        self.window = window
        self.tokens = 0  # leased, not yet spent, in this process
        self.counter = 0  # the shared counter as of our last lease
        self.exhausted = False


def chunk_for(limit: int, counter: int) -> int:
    """Lease ~2% of the limit at a time, never more than what is left, 1 near the edge."""
    left = limit - counter
    if left <= 0:
        return 1
    return max(1, min(MAX_CHUNK, limit // 50, left // 4 or 1))


class LeasedLimiter:
    """Process-wide token leases keyed by (key value, rate)."""

    def __init__(self, group: str = GROUP):
        self.group = group
        self._leases: dict[tuple[str, str], _Lease] = {}
        self._lock = threading.Lock()

    def hit(self, value: str, rate: str) -> RateDecision:
        limit, period = _split_rate(rate)
        window = _get_window(value, period)
        reset = max(1, int(window - time.time()))
        return self.hit_window(value, rate, limit, window, period, reset)

    def hit_window(
        self,
        value: str,
        rate: str,
        limit: int,
        window: int,
        period: int,
        reset: int,
        code: str = "rate_limited",
    ) -> RateDecision:
        """Count one request in an explicit window (calendar quotas use their own windows)."""
        key = (value, rate)
        with self._lock:
            lease = self._leases.get(key)
            if lease is None or lease.window != window:
                lease = self._leases[key] = _Lease(window)
                if len(self._leases) > 100_000:  # stale windows of idle keys
                    self._forget_old(window)
            if lease.tokens > 0:
                lease.tokens -= 1
                return RateDecision(True, limit, _remaining(limit, lease), reset, period, code)
            if lease.exhausted:
                return RateDecision(False, limit, 0, reset, period, code)
            chunk = chunk_for(limit, lease.counter)
        counter = self._lease(value, rate, window, period, chunk)
        granted = max(0, min(chunk, limit - (counter - chunk)))
        with self._lock:
            lease.counter = max(lease.counter, counter)
            if granted <= 0:
                lease.exhausted = True
                return RateDecision(False, limit, 0, reset, period, code)
            lease.tokens += granted - 1
            return RateDecision(True, limit, _remaining(limit, lease), reset, period, code)

    def _lease(self, value: str, rate: str, window: int, period: int, chunk: int) -> int:
        """Add `chunk` to django-ratelimit's counter for this window; returns the new count."""
        cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
        cache_key = _make_cache_key(self.group, window, rate, value, None)
        if cache.add(cache_key, chunk, period + 1):
            return chunk
        try:
            return int(cache.incr(cache_key, chunk))
        except ValueError:  # expired between add and incr: start the window again
            cache.add(cache_key, chunk, period + 1)
            return chunk

    def _forget_old(self, current_window: int) -> None:
        for key in [k for k, lease in self._leases.items() if lease.window < current_window]:
            del self._leases[key]

    def reset(self) -> None:
        with self._lock:
            self._leases.clear()


def _remaining(limit: int, lease: _Lease) -> int:
    return max(0, limit - lease.counter + lease.tokens)


_limiter = LeasedLimiter()
_quota_limiter = LeasedLimiter(QUOTA_GROUP)


def rate_limit_hit(value: str, rate: str) -> RateDecision:
    """Count one request for `value` (an API key prefix) against `rate` ("100/m", "5/s")."""
    return _limiter.hit(value, rate)


def quota_hit(value: str, quota: str, *, now: float | None = None) -> RateDecision:
    """Count one request against a calendar-day or calendar-month quota ("10000/d", "5000/mo")."""
    from accounts.limits import quota_parts, quota_window

    limit, unit = quota_parts(quota)
    start, reset = quota_window(unit, time.time() if now is None else now)
    period = 86400 if unit == "d" else 31 * 86400
    # The counter lives a little longer than its window so the key page can read it at the edge.
    return _quota_limiter.hit_window(value, quota, limit, start, period, reset, "quota_exceeded")


def quota_used(value: str, quota: str, *, now: float | None = None) -> int:
    """Requests counted (leased, so an upper bound) against the quota in its current window."""
    from accounts.limits import quota_parts, quota_window

    _, unit = quota_parts(quota)
    start, _ = quota_window(unit, time.time() if now is None else now)
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    return int(cache.get(_make_cache_key(QUOTA_GROUP, start, quota, value, None)) or 0)


def reset_rate_limits() -> None:
    """Forget this process's leases (tests)."""
    _limiter.reset()
    _quota_limiter.reset()
