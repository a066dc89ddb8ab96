"""Per-process Prometheus counters of the serving path, in their own registry.

`observe(event)` runs on every request (from the gateway's event publication), so it caches the
labelled children and costs a few dict lookups and increments. Gauges that are cheap to read at
scrape time (queue depth, loaded models) come from a collector instead of being kept up to date.
monitoring's /metrics view renders this registry; serving never imports monitoring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

# Prometheus' default buckets, plus finer ones under 5 ms where a small model answers.
DURATION_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.004,
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
LABELS = ("model", "version", "deployment", "variant")

registry = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "modelgate_requests", "Prediction requests served.", [*LABELS, "status"], registry=registry
)
DURATION = Histogram(
    "modelgate_request_duration_seconds",
    "Time from request parsed to answer ready.",
    LABELS,
    buckets=DURATION_BUCKETS,
    registry=registry,
)
BATCH_SIZE = Histogram(
    "modelgate_batch_size",
    "Rows per prediction request.",
    LABELS,
    buckets=BATCH_BUCKETS,
    registry=registry,
)
CACHE_HITS = Counter(
    "modelgate_cache_hits",
    "Requests answered from the prediction cache.",
    LABELS,
    registry=registry,
)

REFUSED = Counter(
    "modelgate_refused_requests",
    "Prediction calls refused before serving (401, 403, 429); not counted as requests or errors.",
    ["model", "deployment", "status", "reason"],
    registry=registry,
)

_children: dict[tuple, tuple] = {}
# Bounded: served (model, deployment) pairs x the statuses and REASONS of serving.refusals.
_refused: dict[tuple, object] = {}
_requests: dict[tuple, object] = {}


def observe(event) -> None:
    """Count one served request (a serving.events.PredictionEvent)."""
    key = (event.model, event.version, event.deployment, event.variant)
    children = _children.get(key)
    if children is None:
        labels = (event.model, str(event.version), event.deployment or "-", event.variant or "-")
        children = _children[key] = (
            DURATION.labels(*labels),
            BATCH_SIZE.labels(*labels),
            CACHE_HITS.labels(*labels),
            labels,
        )
    duration, batch, hits, labels = children
    status_key = (key, event.status)
    counter = _requests.get(status_key)
    if counter is None:
        counter = _requests[status_key] = REQUESTS.labels(*labels, str(event.status))
    counter.inc()
    duration.observe(event.latency_ms / 1000.0)
    batch.observe(event.batch_size)
    if event.cache_hit:
        hits.inc()


def observe_refusal(model: str, deployment: str, status: int, reason: str) -> None:
    """Count one refused call; callers pass only served names (or "") and a known reason."""
    key = (model, deployment, status, reason)
    counter = _refused.get(key)
    if counter is None:
        labels = (model or "-", deployment or "-", str(status), reason)
        counter = _refused[key] = REFUSED.labels(*labels)
    counter.inc()


class PoolCollector(Collector):
    """Queue depth per served version and the number of loaded models, read at scrape time."""

    def __init__(self, pool_getter: Callable[[], object] | None = None):
        self.pool_getter = pool_getter

    def collect(self) -> Iterable:
        if self.pool_getter is None:
            from serving.pool import get_pool

            pool = get_pool()
        else:
            pool = self.pool_getter()
        queue = GaugeMetricFamily(
            "modelgate_queue_rows", "Rows waiting in a version's batcher.", labels=[*LABELS]
        )
        loaded = GaugeMetricFamily(
            "modelgate_loaded_models", "Model versions loaded in this process."
        )
        table = pool.table
        for (model, deployment), route in table.routes.items():
            entries = [(v, role) for v, _, role in route.variants]
            if route.shadow is not None:
                entries.append((route.shadow, "shadow"))
            for version, role in entries:
                depth = version.batcher.stats()["queue_rows"]
                queue.add_metric([model, str(version.number), deployment, role], depth)
        loaded.add_metric([], pool.stats()["loaded_runtimes"])
        yield queue
        yield loaded

    def describe(self) -> Iterable:
        return []


class EventsCollector(Collector):
    """This process's prediction-event buffer, read at scrape time: what was published, handed
    to the sink, dropped (whole events, or only their sampled payloads) and is waiting."""

    def collect(self) -> Iterable:
        from serving import events

        buffer = events._buffer
        stats = buffer.stats() if buffer is not None else {}
        published = CounterMetricFamily(
            "modelgate_events_published", "Prediction events accepted by the buffer."
        )
        flushed = CounterMetricFamily(
            "modelgate_events_flushed", "Prediction events handed to the sink."
        )
        dropped = CounterMetricFamily(
            "modelgate_events_dropped",
            "Events dropped (buffer full or sink down), or payloads stripped to make room.",
            labels=["what"],
        )
        buffered = GaugeMetricFamily("modelgate_events_buffered", "Events waiting for the sink.")
        published.add_metric([], stats.get("published", 0))
        flushed.add_metric([], stats.get("flushed", 0))
        dropped.add_metric(["events"], stats.get("dropped_events", 0))
        dropped.add_metric(["payloads"], stats.get("dropped_payloads", 0))
        buffered.add_metric([], stats.get("buffered", 0))
        yield from (published, flushed, dropped, buffered)

    def describe(self) -> Iterable:
        return []


registry.register(PoolCollector())
registry.register(EventsCollector())
