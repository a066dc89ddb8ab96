"""Payload sampling: the share of a deployment's requests whose inputs and outputs travel with
their prediction event into the log. One knob: the deployment's rate (kept with monitoring's SLO
policy) is what serving applies; MODELGATE_PAYLOAD_SAMPLE_RATE is only the rate of a deployment
that never set one.

serving cannot import monitoring, so monitoring registers a reader of every deployment's rate
at start-up. Rates are cached per process and re-read at most every REFRESH_SECONDS, by one
request thread while the others keep the cached copy: a change reaches every replica within that
bound, and a request pays a dict lookup, not a query.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 10.0

_reader: Callable[[], dict[int, float]] | None = None
_rates: dict[int, float] = {}
_loaded_at = float("-inf")
_reloading = threading.Lock()


def register_reader(reader: Callable[[], dict[int, float]]) -> None:
    """Monitoring's `{deployment id: rate}` of the deployments that set one."""
    global _reader
    _reader = reader
    invalidate()


def invalidate() -> None:
    """Re-read on the next call (this process; other replicas within REFRESH_SECONDS)."""
    global _loaded_at
    _loaded_at = float("-inf")


def default_rate() -> float:
    return float(settings.MODELGATE_PAYLOAD_SAMPLE_RATE)


def rate_for(deployment_id: int) -> float:
    """The share of this deployment's requests to log with payloads (0 for none, 1 for all)."""
    if time.monotonic() - _loaded_at > REFRESH_SECONDS:
        _reload()
    return _rates.get(deployment_id, default_rate())


def _reload() -> None:
    global _rates, _loaded_at
    if not _reloading.acquire(blocking=False):
        return  # another thread is reading them; keep the cached copy meanwhile
    try:
        if _reader is not None:
            _rates = dict(_reader())
    except DatabaseError as exc:
        logger.warning("payload sample rates not refreshed (keeping the cached ones): %s", exc)
    finally:
        _loaded_at = time.monotonic()
        _reloading.release()
