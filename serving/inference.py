"""The batched call behind every wire format: signature check, prediction cache, the version's
batcher, the shadow copy, and the prediction event (published without waiting, failures too)."""

from __future__ import annotations

import os
import random
import time

from core.errors import ServiceError
from serving import cache as prediction_cache
from serving import events, sampling, telemetry
from serving.batching import BatcherClosed, QueueFull
from serving.inputcheck import check_feeds
from serving.replies import ProtocolError

PINNED_MAX_ROWS = 1024  # a /versions/<n> call has no deployment config; this is the default


def _infer(loaded, route, feeds: dict, rows: int) -> tuple[dict, bool, int]:
    """(outputs, cache hit, rows of the batch that ran them: 0 for a cache hit)."""
    ttl = route.config["cache_ttl_seconds"] if route is not None else 0
    cache_key = None
    if ttl:
        cache_key = prediction_cache.key_for(loaded.version_id, feeds)
        hit = prediction_cache.get(cache_key)
        if hit is not None:
            return hit, True, 0
    try:
        outputs, batch_rows = loaded.batcher.submit_measured(feeds)
    except QueueFull as exc:
        raise ProtocolError(
            503,
            "the model's queue is full; retry shortly",
            "overloaded",
            [("Retry-After", str(max(1, round(exc.retry_after_seconds))))],
        ) from None
    except BatcherClosed:
        # The version was swapped out between routing and submit: the new table serves it.
        raise ProtocolError(
            503,
            "the deployment is switching versions; retry",
            "unavailable",
            [("Retry-After", "1")],
        ) from None
    if cache_key is not None:
        prediction_cache.set(cache_key, outputs, ttl)
    return outputs, False, batch_rows


def _publish(
    *,
    request_id,
    ids,
    loaded,
    route,
    role,
    principal,
    protocol,
    status,
    started,
    rows,
    feeds,
    outputs,
    cache_hit,
    batch_size=0,
    error="",
):
    deployment_id = route.deployment_id if route is not None else 0
    rate = sampling.rate_for(deployment_id)
    sample = status == 200 and rate > 0 and (rate >= 1 or random.random() < rate)  # noqa: S311
    event = events.PredictionEvent(
        prediction_ids=ids,
        model=loaded.model_name,
        deployment=route.name if route is not None else "",
        deployment_id=deployment_id,
        version=loaded.number,
        version_id=loaded.version_id,
        variant=role,
        key_prefix=principal.prefix,
        protocol=protocol,
        status=status,
        latency_ms=(time.perf_counter() - started) * 1000.0,
        rows=rows,
        batch_size=batch_size,
        cache_hit=cache_hit,
        ts=time.time(),
        inputs={k: v.tolist() for k, v in feeds.items()} if sample and feeds else None,
        outputs={k: v.tolist() for k, v in outputs.items()} if sample and outputs else None,
        error=error,
        request_id=request_id,
        shadow=role == "shadow",
    )
    telemetry.observe(event)
    events.publish(event)


def _prediction_ids(rows: int) -> tuple[str, list[str]]:
    request_id = os.urandom(10).hex()
    return request_id, [f"{request_id}-{i}" for i in range(rows)] if rows else [request_id]


def _serve(protocol, loaded, route, role, principal, feeds, rows, started):
    outputs, hit, batch_rows = _infer(loaded, route, feeds, rows)
    request_id, ids = _prediction_ids(rows)
    _publish(
        request_id=request_id,
        ids=ids,
        loaded=loaded,
        route=route,
        role=role,
        principal=principal,
        protocol=protocol,
        status=200,
        started=started,
        rows=rows,
        feeds=feeds,
        outputs=outputs,
        cache_hit=hit,
        batch_size=batch_rows,
    )
    if route is not None and route.shadow is not None:
        _mirror(route, feeds, rows, principal, protocol)
    return outputs, request_id, ids


def _mirror(route, feeds, rows, principal, protocol) -> None:
    """Send a copy to the shadow variant without waiting; its answer is only logged."""
    from serving.shadow import mirror

    mirror(route, feeds, rows, principal, protocol, _publish, _prediction_ids)


def predict(protocol, target, principal, started, parse):
    """Parse, check, run and log one predict call; a failure is logged with its status too."""
    loaded, route, role = target
    try:
        request = parse(loaded.signature)
        limit = route.config["max_request_rows"] if route is not None else PINNED_MAX_ROWS
        feeds, rows = check_feeds(loaded.signature, request.feeds, max_rows=limit)
        outputs, request_id, ids = _serve(
            protocol, loaded, route, role, principal, feeds, rows, started
        )
    except (ProtocolError, ServiceError) as exc:
        _publish_failure(protocol, target, principal, started, exc.status, exc.message)
        raise
    except Exception as exc:
        _publish_failure(protocol, target, principal, started, 500, f"{type(exc).__name__}: {exc}")
        raise
    return request, outputs, request_id, ids


def _publish_failure(protocol, target, principal, started, status, message) -> None:
    loaded, route, role = target
    request_id, _ = _prediction_ids(0)
    _publish(
        request_id=request_id,
        ids=[],
        loaded=loaded,
        route=route,
        role=role,
        principal=principal,
        protocol=protocol,
        status=status,
        started=started,
        rows=0,
        feeds=None,
        outputs=None,
        cache_hit=False,
        error=message[:500],
    )
