"""grpc.health.v1 over the serving pool's readiness: Check reads it live, Watch streams changes.

The reference HealthServicer streams only what `set()` is told, so a Watch opened while the pool
loads would say SERVING forever and one opened before a drain would never hear of it. A daemon
thread follows the pool instead (an attribute read every FOLLOW_SECONDS) and calls `set()` for
every service on each change: loading -> SERVING, not ready -> NOT_SERVING. A graceful shutdown
turns every service NOT_SERVING for good (the reference servicer's own behaviour) and ends it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from grpc_health.v1 import health, health_pb2

from serving.pool import get_pool

FOLLOW_SECONDS = 0.25
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def pool_ready() -> bool:
    return get_pool().ready


class PoolHealth(health.HealthServicer):
    """Health of `services` (and the server, "") as the pool's readiness; unknown: NOT_FOUND."""

    def __init__(
        self,
        services: Iterable[str],
        *,
        ready: Callable[[], bool] = pool_ready,
        interval: float = FOLLOW_SECONDS,
    ) -> None:
        super().__init__()
        self._services = ("", *services)
        self._ready = ready
        self._interval = interval
        self._stopped = threading.Event()
        self._current: int | None = None
        self.follow_once()
        threading.Thread(target=self._follow, name="grpc-health", daemon=True).start()

    def _status(self) -> int:
        return SERVING if self._ready() and not self._gracefully_shutting_down else NOT_SERVING

    def follow_once(self) -> None:
        """Tell every watcher the pool's readiness if it changed since the last look."""
        status = self._status()
        if status != self._current:
            self._current = status
            for name in self._services:
                self.set(name, status)  # ignored once shutting down: it stays NOT_SERVING

    def _follow(self) -> None:
        while not self._stopped.wait(self._interval):
            self.follow_once()  # an attribute read and, on a change, a notification

    def Check(self, request, context):
        if request.service not in self._services:
            return super().Check(request, context)  # unknown service: NOT_FOUND
        return health_pb2.HealthCheckResponse(status=self._status())

    def enter_graceful_shutdown(self) -> None:
        self._stopped.set()
        super().enter_graceful_shutdown()
