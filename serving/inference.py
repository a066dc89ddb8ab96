"""The batched call behind every wire format: the signature check, the prediction cache, the
version's batcher, and the `Prediction` each call ends in, from which its event is built and
published without waiting (failures too). serving/gateway.py's `PredictCall` strings these
together for the REST and gRPC protocols; serving/shadow.py uses the same public functions."""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field

from serving import cache as prediction_cache
from serving import events, sampling, telemetry
from serving.batching import BatcherClosed, QueueFull
from serving.inputcheck import check_feeds
from serving.replies import ProtocolError
from serving.routes import LoadedVersion, Route

PINNED_MAX_ROWS = 1024  # a /versions/<n> call has no deployment config; this is the default


def new_request_id() -> str:
    """A request's id: its response's X-Request-Id, its event's and log row's `request_id`."""
    return os.urandom(10).hex()


def prediction_ids(request_id: str, rows: int) -> list[str]:
    """One id per row (`<request id>-<row>`); a 0-row call keeps the request id."""
    return [f"{request_id}-{i}" for i in range(rows)] if rows else [request_id]


@dataclass(slots=True)
class Prediction:
    """One predict call as it ended: what the protocol answers from, and what its event says
    (serving/events.py builds the event from it)."""

    protocol: str
    request_id: str
    loaded: LoadedVersion
    route: Route | None
    role: str
    key_prefix: str
    started: float  # time.perf_counter() when the call arrived
    feeds: dict | None = None
    rows: int = 0
    outputs: dict | None = None
    prediction_ids: list[str] = field(default_factory=list)
    cache_hit: bool = False
    batch_rows: int = 0  # rows of the batch that ran it: 0 for a cache hit
    status: int = 200
    error: str = ""


def check(loaded: LoadedVersion, route: Route | None, feeds: dict) -> tuple[dict, int]:
    """Feeds converted to the signature's dtypes and shapes, and their rows, within the
    deployment's per-request row limit."""
    limit = route.config["max_request_rows"] if route is not None else PINNED_MAX_ROWS
    return check_feeds(loaded.signature, feeds, max_rows=limit)


def infer(loaded: LoadedVersion, route: Route | None, feeds: dict, rows: int):
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


def publish(result: Prediction) -> None:
    """Count the call and queue its event; the payload is kept at the deployment's sample rate
    (successes only)."""
    deployment_id = result.route.deployment_id if result.route is not None else 0
    rate = sampling.rate_for(deployment_id)
    sampled = result.status == 200 and rate > 0 and (rate >= 1 or random.random() < rate)  # noqa: S311
    event = events.event_of(result, sampled=sampled, ts=time.time())
    telemetry.observe(event)
    events.publish(event)
