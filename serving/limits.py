"""Rate limits on the predict path: which rate applies to a key, counted by accounts' limiter."""

from __future__ import annotations

from django.conf import settings

from accounts.ratelimits import RateDecision, rate_limit_hit


def rate_for(principal) -> str | None:
    """The key's own limit when it has one, else the default for predict calls."""
    return getattr(principal, "rate_limit", None) or settings.MODELGATE_DEFAULT_RATE_LIMIT or None


def check_rate(principal) -> RateDecision | None:
    """Count this request against the key's window; None when the key is unlimited."""
    rate = rate_for(principal)
    if not rate:
        return None
    return rate_limit_hit(principal.prefix, rate)


def retry_after(decision: RateDecision) -> str:
    return decision.retry_after()
