"""Limits on the predict path: a key's burst, rate and quota, counted by accounts' leased limiter.

Every figure comes from the KeyPrincipal (loaded with the key into the in-process cache), so a
request costs no query; the shared cache is touched only when a lease runs out. Order matters: a
request refused by its burst or rate does not spend quota.
"""

from __future__ import annotations

from django.conf import settings

from accounts.ratelimits import RateDecision, quota_hit, rate_limit_hit
from accounts.usage import usage_count


def rate_for(principal) -> str | None:
    """The key's own limit (or its role's ceiling) when it has one, else the predict default."""
    return getattr(principal, "rate_limit", None) or settings.MODELGATE_DEFAULT_RATE_LIMIT or None


def check_rate(principal) -> RateDecision | None:
    """Count this request against the key's burst, rate and quota; the refusal if one refuses,
    else the decision with the least budget left (for the RateLimit headers); None if unlimited."""
    decisions = []
    for rate in (getattr(principal, "burst_limit", None), rate_for(principal)):
        if rate:
            decision = rate_limit_hit(principal.prefix, rate)
            if not decision.allowed:
                return decision
            decisions.append(decision)
    quota = getattr(principal, "quota", None)
    if quota:
        decision = quota_hit(principal.prefix, quota)
        if not decision.allowed:
            return decision
        decisions.append(decision)
    usage_count(principal.prefix)
    if not decisions:
        return None
    return min(decisions, key=lambda d: d.remaining)


def retry_after(decision: RateDecision) -> str:
    return decision.retry_after()
