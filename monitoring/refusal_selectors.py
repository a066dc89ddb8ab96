"""Read paths for refused calls (401, 403, 429): counted apart from traffic and errors."""

from __future__ import annotations

from monitoring.models import KeyRollup, PredictionLog
from monitoring.selectors import Window, count_refusals, floor_to
from serving.refusals import REFUSED_STATUSES


def recent_refusals(*, key_prefix: str, limit: int = 10):
    """A key's latest refused calls (401, 403, 429), newest first; `error` says why."""
    return PredictionLog.objects.filter(
        key_prefix=key_prefix, status__in=REFUSED_STATUSES
    ).order_by("-ts")[:limit]


def _refusal_counts(window: Window, **filters) -> dict:
    """{"total": n, "by_status": {401: n, 403: n, 429: n}} of the key rollups in `window`."""
    rows = KeyRollup.objects.filter(
        **filters,
        status__in=REFUSED_STATUSES,
        resolution=window.resolution,
        bucket_start__gte=floor_to(window.start, window.resolution),
        bucket_start__lt=window.end,
    ).values_list("status", "count")
    return count_refusals(rows)


def key_refusals(*, key_prefix: str, window: Window) -> dict:
    """A key's refused calls in `window`, by status (every deployment)."""
    return _refusal_counts(window, key_prefix=key_prefix)


def deployment_refusals(*, model: str, deployment: str, window: Window) -> dict:
    """Calls to a deployment refused in `window` (every key, and calls without a valid key)."""
    return _refusal_counts(window, model=model, deployment=deployment)
