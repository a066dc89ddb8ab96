"""Requests a key made per calendar day (UTC): the readers of the shared counters (the key page).

The predict path counts into them through accounts/ratelimits.py (usage_count, flush_usage),
beside the rate limits: tallied per process, added at most once a second, so a count read here
is at most about a second behind. Counters live 40 days, enough for a 30-day chart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.cache import caches

from accounts.ratelimits import usage_cache_key, usage_day


def _cache():
    return caches[settings.RATELIMIT_USE_CACHE]


def usage_days(prefix: str, *, days: int = 30, today: date | None = None) -> list[tuple[date, int]]:
    """Requests per day for the last `days` days, oldest first (shared counters only)."""
    today = today or datetime.now(UTC).date()
    dates = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    keys = {usage_cache_key(prefix, d.strftime("%Y%m%d")): d for d in dates}
    found = _cache().get_many(list(keys))
    return [(d, int(found.get(k) or 0)) for k, d in keys.items()]


def usage_today(prefix: str) -> int:
    return int(_cache().get(usage_cache_key(prefix, usage_day())) or 0)


def usage_today_many(prefixes: list[str]) -> dict[str, int]:
    """Requests today for several keys in one cache round trip (the key list)."""
    day = usage_day()
    keys = {usage_cache_key(p, day): p for p in prefixes}
    found = _cache().get_many(list(keys)) if keys else {}
    return {p: int(found.get(k) or 0) for k, p in keys.items()}
