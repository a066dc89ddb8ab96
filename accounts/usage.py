"""Requests a key made per calendar day (UTC), tallied in-process and added to the shared cache.

The predict path must not pay a cache round trip a request just to keep statistics, so each
process counts locally and adds its tallies to the shared counters at most once a second (on a
later request) or when flush_usage() is called. The key page reads the shared counters; a count is
at most about a second behind. Counters live 40 days, enough for a 30-day chart.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.cache import caches

FLUSH_INTERVAL_SECONDS = 1.0
_TTL_SECONDS = 40 * 86400

_lock = threading.Lock()
_tally: dict[tuple[str, str], int] = {}
_last_flush = 0.0


def _cache():
    return caches[settings.RATELIMIT_USE_CACHE]


_day_memo: tuple[int, str] = (-1, "")


def _day(moment: float | None = None) -> str:
    """The UTC day as YYYYMMDD; memoised per epoch day since it runs on every predict call."""
    global _day_memo
    moment = time.time() if moment is None else moment
    epoch_day = int(moment // 86400)
    if _day_memo[0] != epoch_day:
        _day_memo = (epoch_day, datetime.fromtimestamp(moment, UTC).strftime("%Y%m%d"))
    return _day_memo[1]


def _cache_key(prefix: str, day: str) -> str:
    return f"modelgate:usage:{prefix}:{day}"


def usage_count(prefix: str) -> None:
    """Count one request for the key with this prefix (cheap: a dict update in the common case)."""
    global _last_flush
    now = time.monotonic()
    bucket = (prefix, _day())
    with _lock:
        _tally[bucket] = _tally.get(bucket, 0) + 1
        due = now - _last_flush >= FLUSH_INTERVAL_SECONDS
        if due:
            _last_flush = now
    if due:
        flush_usage()


def flush_usage() -> int:
    """Add this process's tallies to the shared counters; returns how many buckets were written."""
    with _lock:
        batch = dict(_tally)
        _tally.clear()
    cache = _cache()
    for (prefix, day), count in batch.items():
        key = _cache_key(prefix, day)
        if not cache.add(key, count, _TTL_SECONDS):
            try:
                cache.incr(key, count)
            except ValueError:  # expired between add and incr
                cache.add(key, count, _TTL_SECONDS)
    return len(batch)


def usage_days(prefix: str, *, days: int = 30, today: date | None = None) -> list[tuple[date, int]]:
    """Requests per day for the last `days` days, oldest first (shared counters only)."""
    today = today or datetime.now(UTC).date()
    dates = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    keys = {_cache_key(prefix, d.strftime("%Y%m%d")): d for d in dates}
    found = _cache().get_many(list(keys))
    return [(d, int(found.get(k) or 0)) for k, d in keys.items()]


def usage_today(prefix: str) -> int:
    return int(_cache().get(_cache_key(prefix, _day())) or 0)


def usage_today_many(prefixes: list[str]) -> dict[str, int]:
    """Requests today for several keys in one cache round trip (the key list)."""
    day = _day()
    keys = {_cache_key(p, day): p for p in prefixes}
    found = _cache().get_many(list(keys)) if keys else {}
    return {p: int(found.get(k) or 0) for k, p in keys.items()}
