"""Per-key rate limiting on the shared cache (django-ratelimit's counters on Redis)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django_ratelimit.core import _split_rate, get_usage


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> list[tuple[str, str]]:
        """IETF RateLimit headers (draft-7 names plus the older trio)."""
        window = self.reset_seconds
        return [
            ("RateLimit-Limit", str(self.limit)),
            ("RateLimit-Remaining", str(self.remaining)),
            ("RateLimit-Reset", str(window)),
            ("RateLimit-Policy", f"{self.limit};w={window}"),
            ("RateLimit", f"limit={self.limit}, remaining={self.remaining}, reset={window}"),
        ]


def rate_for(principal) -> str | None:
    """The key's own limit when it has one, else the deployment-wide default."""
    return getattr(principal, "rate_limit", None) or settings.MODELGATE_DEFAULT_RATE_LIMIT or None


def check_rate(principal, group: str = "predict") -> RateDecision | None:
    """Count this request against the key's window; None when the key is unlimited."""
    rate = rate_for(principal)
    if not rate:
        return None
    usage = get_usage(
        None, group=group, key=lambda _g, _r: principal.prefix, rate=rate, increment=True
    )
    limit, period = _split_rate(rate)
    count = usage["count"]
    reset = max(1, int(usage["time_left"] or period))
    return RateDecision(
        allowed=not usage["should_limit"],
        limit=limit,
        remaining=max(0, limit - count),
        reset_seconds=reset,
    )


def retry_after(decision: RateDecision) -> str:
    return str(max(1, decision.reset_seconds))
