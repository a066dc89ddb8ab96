"""Refused prediction calls (401, 403, 429): counted per deployment and per key, apart from errors.

A refusal is published like any served request (a PredictionEvent appended to the in-process
buffer, no database write on the request path) with version 0 and no rows; ingestion keeps it out
of the deployment's traffic and error figures and rolls it up per key and status. The Prometheus
counter takes only bounded labels: a model and deployment that the route table serves (else "-"),
the status and one of REASONS; never the key.
"""

from __future__ import annotations

import os
import time

from serving import events, telemetry
from serving.constants import PRODUCTION

REFUSED_STATUSES = frozenset({401, 403, 429})
# Every reason a refusal can carry (the Prometheus `reason` label takes only these).
REASONS = (
    "missing_key",
    "invalid_key",
    "auth_throttled",  # an address whose key lookups keep failing (429 before any query)
    "scope",
    "rate_limited",
    "quota_exceeded",
)


def publish_refusal(
    *,
    protocol: str,
    model: str,
    deployment: str | None,
    key_prefix: str,
    status: int,
    reason: str,
    message: str,
    request_id: str = "",
) -> None:
    """Count one refused call and hand its event to the buffer (never blocks, never queries).
    `request_id` is the id the caller's answer carries (one is made when none is given)."""
    from serving.pool import get_pool

    route = get_pool().table.routes.get((model, deployment or PRODUCTION))
    # A name typed in a refused URL is only kept when it is served: no label, row or rollup
    # group grows with what unauthenticated callers make up.
    served_model, served_deployment = (model, route.name) if route is not None else ("", "")
    reason = reason if reason in REASONS else "invalid_key"
    telemetry.observe_refusal(served_model, served_deployment, status, reason)
    events.publish(
        events.PredictionEvent(
            prediction_ids=[],
            model=served_model,
            deployment=served_deployment,
            deployment_id=route.deployment_id if route is not None else 0,
            version=0,
            version_id=0,
            variant="",
            key_prefix=key_prefix,
            protocol=protocol,
            status=status,
            latency_ms=0.0,
            rows=0,
            batch_size=0,
            cache_hit=False,
            ts=time.time(),
            error=message[:200],
            request_id=request_id or os.urandom(10).hex(),
            extra={"reason": reason},
        )
    )
