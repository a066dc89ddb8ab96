"""Reads for users and API keys."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.constants import Role
from accounts.limits import Ceilings, default_ceilings, effective_rate, quota_parts
from accounts.models import ApiKey, RoleLimits
from accounts.permissions import user_role
from accounts.ratelimits import quota_used, rate_used, split_rate
from accounts.usage import usage_days
from core.errors import NotFound


def api_key_list(*, user, include_all: bool = False) -> QuerySet[ApiKey]:
    """The user's keys, newest first; an admin asking for all gets everyone's."""
    keys = ApiKey.objects.select_related("owner")
    if include_all and user_role(user) == Role.ADMIN:
        return keys
    return keys.filter(owner=user)


def api_key_get(*, user, key_id: int) -> ApiKey:
    """One key the user may manage (their own; any for an admin). Another's key is NotFound,
    so a key's existence is not revealed to those who may not see it."""
    try:
        return api_key_list(user=user, include_all=True).get(pk=key_id)
    except ApiKey.DoesNotExist:
        raise NotFound(f"API key {key_id} not found.") from None


def role_ceilings(*, role: str) -> Ceilings:
    """The ceilings a role's keys may choose: the admins' RoleLimits row, else the settings."""
    row = RoleLimits.objects.filter(role=role).first()
    if row is None:
        return default_ceilings(role)
    return Ceilings(
        max_rate=row.max_rate or None,
        max_burst=row.max_burst or None,
        max_quota=row.max_quota or None,
    )


def role_ceilings_all() -> list[tuple[str, Ceilings]]:
    """Every role with its ceilings, in role order (the admin's ceilings table)."""
    return [(role, role_ceilings(role=role)) for role in Role.values]


def api_key_limits(*, key: ApiKey) -> dict[str, str | None]:
    """The limits that apply to a key: its own, else its owner's role ceilings."""
    ceilings = role_ceilings(role=user_role(key.owner))
    return {
        "rate_limit": effective_rate(key.rate_limit, ceilings.max_rate),
        "burst_limit": key.burst_limit or ceilings.max_burst,
        "quota": key.quota or ceilings.max_quota,
    }


def api_key_usage(*, key: ApiKey, days: int = 30) -> dict:
    """What a key used against its limits: per day, this rate window and this quota period."""
    limits = api_key_limits(key=key)
    rate = limits["rate_limit"]
    window = None
    if rate:
        limit, _ = split_rate(rate)
        count = rate_used(key.prefix, rate)
        window = {"rate": rate, "used": min(count, limit), "count": count, "limit": limit}
    quota = None
    if limits["quota"]:
        limit, unit = quota_parts(limits["quota"])
        used = quota_used(key.prefix, limits["quota"])
        quota = {"quota": limits["quota"], "limit": limit, "unit": unit, "used": min(used, limit)}
    series = usage_days(key.prefix, days=days)
    return {
        "limits": limits,
        "rate": rate,
        "days": series,
        "today": series[-1][1] if series else 0,
        "window": window,
        "quota": quota,
    }
