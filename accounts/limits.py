"""Per-key limits as text: rates ("100/m", "20/s", "500/5m"), quotas ("10000/d", "300000/mo"),
and the role ceilings they are checked against. No Django request machinery: serving uses this."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from core.errors import InvalidInput

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_RE = re.compile(r"^(?P<count>[1-9][0-9]{0,9})/(?P<mult>[1-9][0-9]{0,4})?(?P<unit>[smhd])$")
QUOTA_RE = re.compile(r"^(?P<count>[1-9][0-9]{0,11})/(?P<unit>d|mo)$")
# A month counts as 31 days when a monthly quota is compared with a daily ceiling.
_QUOTA_SECONDS = {"d": 86400, "mo": 31 * 86400}


@dataclass(frozen=True)
class Ceilings:
    """The most a role's keys may be allowed; None means no ceiling."""

    max_rate: str | None = None
    max_burst: str | None = None
    max_quota: str | None = None


def rate_per_second(rate: str) -> float:
    """'100/m' -> 1.667; raises InvalidInput for anything that is not a rate."""
    match = RATE_RE.match(rate or "")
    if match is None:
        raise InvalidInput(
            f"'{rate}' is not a rate; write <count>/<unit> with unit s, m, h or d, e.g. 100/m."
        )
    seconds = int(match["mult"] or 1) * _UNIT_SECONDS[match["unit"]]
    return int(match["count"]) / seconds


def quota_parts(quota: str) -> tuple[int, str]:
    """'10000/d' -> (10000, 'd'); raises InvalidInput for anything that is not a quota."""
    match = QUOTA_RE.match(quota or "")
    if match is None:
        raise InvalidInput(
            f"'{quota}' is not a quota; write <count>/d (per day) or <count>/mo (per month)."
        )
    return int(match["count"]), match["unit"]


def quota_per_second(quota: str) -> float:
    count, unit = quota_parts(quota)
    return count / _QUOTA_SECONDS[unit]


def clean_limit(field: str, value: str | None, *, kind: str) -> str:
    """The normalised text of a rate or quota ('' for none); InvalidInput names the field."""
    value = (value or "").strip().replace(" ", "")
    if not value:
        return ""
    try:
        (quota_parts if kind == "quota" else rate_per_second)(value)
    except InvalidInput as exc:
        raise InvalidInput(f"{field}: {exc.message}") from None
    return value


def check_within(field: str, value: str, ceiling: str | None, *, kind: str) -> None:
    """InvalidInput unless value is at most the ceiling (both in requests per second)."""
    if not value or not ceiling:
        return
    measure = quota_per_second if kind == "quota" else rate_per_second
    if measure(value) > measure(ceiling) + 1e-12:
        raise InvalidInput(f"{field}: {value} exceeds your role's ceiling of {ceiling}.")


def quota_window(unit: str, now: float) -> tuple[int, int]:
    """The calendar window (UTC) a quota counts in: (start, seconds until the next one)."""
    moment = datetime.fromtimestamp(now, UTC)
    if unit == "d":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        length = 86400
    else:
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        length = calendar.monthrange(moment.year, moment.month)[1] * 86400
    begin = int(start.timestamp())
    return begin, max(1, begin + length - int(now))


def default_ceilings(role: str) -> Ceilings:
    """The settings' ceilings for a role (MODELGATE_ROLE_LIMITS) when no RoleLimits row exists."""
    table = settings.MODELGATE_ROLE_LIMITS
    row = table.get(str(role), {})
    return Ceilings(
        max_rate=row.get("max_rate") or None,
        max_burst=row.get("max_burst") or None,
        max_quota=row.get("max_quota") or None,
    )


def stricter_rate(*rates: str | None) -> str | None:
    """The lowest of the given rates (ignoring empty ones); None when none is given."""
    given = [rate for rate in rates if rate]
    return min(given, key=rate_per_second) if given else None


def effective_rate(own: str | None, ceiling: str | None) -> str | None:
    """A key's own rate, else the predict default capped by the role's ceiling."""
    return own or stricter_rate(settings.MODELGATE_DEFAULT_RATE_LIMIT, ceiling)
