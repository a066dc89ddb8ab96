"""A per-address throttle on failed API-key authentication that cost a database query.

Random well-formed keys each miss the in-process key cache, and each miss is a query. Once an
address has had MODELGATE_AUTH_FAILURES_PER_IP such failures in the sliding window, its further
cache misses are refused (429) before the query; keys already cached (valid ones included) are
answered as always, so a throttled address costs nothing but a cache read per miss.
"""

from __future__ import annotations

from django.conf import settings

from accounts.ratelimits import LeasedLimiter, split_rate

_limiter = LeasedLimiter("modelgate.auth-failures")


class AuthThrottled(Exception):
    """Too many failed key lookups from this address; retry_after in seconds."""

    def __init__(self, retry_after: int):
        super().__init__("too many failed API-key attempts from this address")
        self.retry_after = max(1, int(retry_after))


def _rate() -> str:
    return settings.MODELGATE_AUTH_FAILURES_PER_IP


def check_address(ip: str | None) -> None:
    """AuthThrottled when the address has spent its failures; one cache read."""
    rate = _rate()
    if not ip or not rate:
        return
    limit, period = split_rate(rate)
    if _limiter.usage(ip, rate) >= limit:
        raise AuthThrottled(period // 10 or 1)


def record_failure(ip: str | None) -> None:
    rate = _rate()
    if ip and rate:
        _limiter.hit(ip, rate)
