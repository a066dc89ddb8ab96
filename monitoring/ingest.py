"""Ingestion of prediction events: prediction log rows plus 10-second, minute, hour and day rollups.

Idempotent: the prediction log's unique request id is the record of what was ingested. Each batch
inserts its log rows with `ON CONFLICT DO NOTHING RETURNING request_id` and rolls up only the
events that came back, in the same transaction, so a redelivered batch adds nothing. Rollups are
upserted with `INSERT ... ON CONFLICT DO UPDATE SET col = col + excluded.col` (PostgreSQL and
SQLite both speak it), summed per group in Python first so a statement touches each row once.
"""

from __future__ import annotations

import logging
import os
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from django.db import connection, reset_queries, transaction

from monitoring.constants import TEN_SECONDS, Resolution
from monitoring.histograms import EDGES_MS, N_BUCKETS
from monitoring.models import (
    BUCKET_FIELDS,
    METRIC_COUNTERS,
    KeyRollup,
    MetricRollup,
    PredictionLog,
)
from serving.events import STREAM_KEY, PredictionEvent
from serving.refusals import REFUSED_STATUSES

logger = logging.getLogger(__name__)

LOG_CHUNK = 1000
ROLLUP_CHUNK = 500
STREAM_GROUP = "monitoring"
LOG_COLUMNS = (
    "request_id",
    "ts",
    "model",
    "deployment",
    "deployment_id",
    "version",
    "version_id",
    "variant",
    "key_prefix",
    "protocol",
    "status",
    "latency_ms",
    "rows",
    "batch_size",
    "cache_hit",
    "shadow",
    "error",
    "inputs",
    "outputs",
)
METRIC_KEY = ("deployment_id", "resolution", "bucket_start", "version", "variant")
METRIC_SUMS = (*METRIC_COUNTERS, *BUCKET_FIELDS)
KEY_KEY = ("key_prefix", "resolution", "bucket_start", "model", "deployment", "status")
KEY_SUMS = ("count", "errors", "latency_sum_ms", *BUCKET_FIELDS)


@dataclass(frozen=True)
class IngestResult:
    received: int
    ingested: int
    duplicates: int


def request_id_of(event: PredictionEvent) -> str:
    """The request id behind an event's prediction ids (`<request_id>-<row>`)."""
    if event.request_id:
        return event.request_id
    if event.prediction_ids:
        first = event.prediction_ids[0]
        return first.rsplit("-", 1)[0] if event.rows and "-" in first else first
    # An event without ids cannot be deduplicated; give it a fresh one rather than drop it.
    return os.urandom(10).hex()


def _json(value) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _log_row(event: PredictionEvent, request_id: str, keep_payload: bool, adapt) -> tuple:
    return (
        request_id,
        adapt(datetime.fromtimestamp(event.ts, UTC)),
        event.model,
        event.deployment,
        event.deployment_id,
        event.version,
        event.version_id,
        event.variant,
        event.key_prefix,
        event.protocol,
        event.status,
        float(event.latency_ms),
        event.rows,
        event.batch_size,
        bool(event.cache_hit),
        bool(event.shadow),
        event.error or "",
        _json(event.inputs) if keep_payload else None,
        _json(event.outputs) if keep_payload else None,
    )


def _insert_logs_postgresql(rows: list[tuple]) -> set[str]:
    """COPY into a session temp table, then one INSERT ... SELECT: several times faster than
    multi-row VALUES with tens of thousands of bound parameters."""
    qn = connection.ops.quote_name
    table = qn(PredictionLog._meta.db_table)
    columns = ", ".join(qn(c) for c in LOG_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS _mg_log_in ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        cursor.execute("DELETE FROM _mg_log_in")
        with cursor.cursor.copy(f"COPY _mg_log_in ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _mg_log_in "  # noqa: S608
            "ON CONFLICT (request_id) DO NOTHING RETURNING request_id"
        )
        return {r[0] for r in cursor.fetchall()}


def _insert_logs(rows: list[tuple]) -> set[str]:
    """Insert log rows, skipping request ids already present; returns the ids inserted."""
    if connection.vendor == "postgresql":
        return _insert_logs_postgresql(rows)
    table = connection.ops.quote_name(PredictionLog._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in LOG_COLUMNS)
    placeholder = "(" + ", ".join(["%s"] * len(LOG_COLUMNS)) + ")"
    inserted: set[str] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), LOG_CHUNK):
            chunk = rows[start : start + LOG_CHUNK]
            # Identifiers come from model metadata; every value is a bound parameter.
            values = ", ".join([placeholder] * len(chunk))
            sql = f"INSERT INTO {table} ({columns}) VALUES {values} "  # noqa: S608
            sql += "ON CONFLICT (request_id) DO NOTHING RETURNING request_id"
            cursor.execute(sql, [value for row in chunk for value in row])
            inserted.update(r[0] for r in cursor.fetchall())
    return inserted


def _aggregate(events: Iterable[PredictionEvent]) -> tuple[dict, dict]:
    """Sum events into 10-second groups: metric rollups and per-key rollups."""
    metrics: dict[tuple, list] = {}
    keys: dict[tuple, list] = {}
    n_metric, n_key = 6 + N_BUCKETS, 3 + N_BUCKETS
    for e in events:
        tick = int(e.ts // TEN_SECONDS) * TEN_SECONDS
        # A refused call (401, 403, 429) never reached a version: it is neither traffic nor an
        # error of the deployment, only a per-key (or, without a known key, anonymous) count.
        refused = e.status in REFUSED_STATUSES
        is_error = 1 if e.status >= 400 and not refused else 0
        bucket = bisect_left(EDGES_MS, e.latency_ms)
        if not refused:
            mkey = (e.deployment_id, tick, e.version, e.variant)
            m = metrics.get(mkey)
            if m is None:
                m = metrics[mkey] = [0] * n_metric
                m[2] = 0.0
            m[0] += 1
            m[1] += is_error
            m[2] += e.latency_ms
            m[3] += e.batch_size
            m[4] += e.rows
            m[5] += 1 if e.cache_hit else 0
            m[6 + bucket] += 1
        if e.key_prefix or refused:
            kkey = (e.key_prefix, tick, e.model, e.deployment, e.status)
            k = keys.get(kkey)
            if k is None:
                k = keys[kkey] = [0] * n_key
                k[2] = 0.0
            k[0] += 1
            k[1] += is_error
            k[2] += e.latency_ms
            k[3 + bucket] += 1
    return metrics, keys


def _coarsen(groups: dict[tuple, list], time_index: int) -> dict[int, dict[tuple, list]]:
    """Derive minute, hour and day groups from 10-second groups by adding them up."""
    levels: dict[int, dict[tuple, list]] = {TEN_SECONDS: groups}
    for resolution in (Resolution.MINUTE, Resolution.HOUR, Resolution.DAY):
        coarse: dict[tuple, list] = {}
        for key, sums in groups.items():
            start = key[time_index] // resolution * resolution
            ckey = key[:time_index] + (start,) + key[time_index + 1 :]
            total = coarse.get(ckey)
            if total is None:
                coarse[ckey] = list(sums)
            else:
                for i, value in enumerate(sums):
                    total[i] += value
        levels[resolution] = coarse
    return levels


def _upsert(model, key_columns: Sequence[str], sum_columns: Sequence[str], rows: list[tuple]):
    """Add `rows` (key values then sums) into the rollup table, creating missing rows."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = [*key_columns, *sum_columns]
    updates = ", ".join(f"{qn(c)} = {table}.{qn(c)} + excluded.{qn(c)}" for c in sum_columns)
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    names = ", ".join(qn(c) for c in columns)
    keys = ", ".join(qn(c) for c in key_columns)
    rows.sort(key=lambda r: r[: len(key_columns)])  # one lock order for concurrent ingesters
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROLLUP_CHUNK):
            chunk = rows[start : start + ROLLUP_CHUNK]
            values = ", ".join([placeholder] * len(chunk))
            sql = f"INSERT INTO {table} ({names}) VALUES {values} "  # noqa: S608
            sql += f"ON CONFLICT ({keys}) DO UPDATE SET {updates}"
            cursor.execute(sql, [value for row in chunk for value in row])


def _rollup_rows(levels: dict[int, dict[tuple, list]], time_index: int, adapt) -> list[tuple]:
    rows = []
    for resolution, groups in levels.items():
        for key, sums in groups.items():
            start = adapt(datetime.fromtimestamp(key[time_index], UTC))
            rows.append(
                key[:time_index] + (int(resolution), start) + key[time_index + 1 :] + tuple(sums)
            )
    return rows


def ingest_events(events: Sequence[PredictionEvent]) -> IngestResult:
    """Write log rows and rollups for events not ingested before; safe to call again with the
    same events (redelivery adds nothing)."""
    adapt = connection.ops.adapt_datetimefield_value
    by_id: dict[str, PredictionEvent] = {}
    for event in events:
        by_id.setdefault(request_id_of(event), event)
    if not by_id:
        return IngestResult(received=len(events), ingested=0, duplicates=0)
    # Serving already sampled at the deployment's rate (serving/sampling.py): keep what came.
    rows = [
        _log_row(e, rid, e.inputs is not None or e.outputs is not None, adapt)
        for rid, e in by_id.items()
    ]
    with transaction.atomic():
        inserted = _insert_logs(rows)
        fresh = [by_id[rid] for rid in inserted]
        metrics, keys = _aggregate(fresh)
        # Group keys carry the 10-second tick at index 1; rollup rows put the resolution before it.
        _upsert(MetricRollup, METRIC_KEY, METRIC_SUMS, _rollup_rows(_coarsen(metrics, 1), 1, adapt))
        _upsert(KeyRollup, KEY_KEY, KEY_SUMS, _rollup_rows(_coarsen(keys, 1), 1, adapt))
    return IngestResult(
        received=len(events), ingested=len(fresh), duplicates=len(events) - len(fresh)
    )


# -- sinks and the Redis stream ----------------------------------------------------------------
def _release_thread_connection() -> None:
    """Free what the flush thread's connection accumulates between batches (issue 15).

    With DEBUG on (`make run`), Django logs every query of this thread with its parameters
    interpolated: up to 9,000 multi-row INSERTs of ~100 kB each, never reset because no
    request_started signal reaches a background thread. That was the embedded serving process's
    steady growth. sqlite3 also caches up to 128 prepared statements per connection, and every
    batch size is a new multi-row statement text; closing the connection (reopened on the next
    flush, about once a second) keeps that cache from filling with them."""
    reset_queries()
    connection.close()


def database_sink():
    """Factory for MODELGATE_EVENT_SINK in embedded mode: the flush thread ingests directly."""

    def sink(batch: list[PredictionEvent]) -> None:
        try:
            ingest_events(batch)
        finally:
            if not connection.in_atomic_block:  # never inside a caller's transaction (tests)
                _release_thread_connection()

    return sink


def decode_entry(fields: dict) -> PredictionEvent:
    """A stream entry's `e` field back into an event."""
    raw = fields.get(b"e", fields.get("e"))
    if raw is None:
        raise ValueError("stream entry has no 'e' field")
    return PredictionEvent(**orjson.loads(raw))


def _ensure_group(client) -> None:
    import redis

    try:
        client.xgroup_create(STREAM_KEY, STREAM_GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _ingest_entries(client, entries) -> int:
    events, ids, bad = [], [], 0
    for entry_id, fields in entries:
        ids.append(entry_id)
        if not fields:  # claimed entries trimmed from the stream meanwhile
            continue
        try:
            events.append(decode_entry(fields))
        except (ValueError, TypeError) as exc:
            bad += 1
            logger.error("dropping malformed prediction event %s: %s", entry_id, exc)
    if events:
        ingest_events(events)
    if ids:
        # Acknowledge only after the transaction committed: a crash before this line leaves the
        # entries pending, and XAUTOCLAIM hands them to the next drain (ingestion is idempotent).
        client.xack(STREAM_KEY, STREAM_GROUP, *ids)
    return len(events)


def drain_stream(
    *,
    client=None,
    consumer: str | None = None,
    count: int = 5000,
    max_batches: int = 50,
    claim_idle_ms: int = 60_000,
) -> int:
    """Ingest what waits in the Redis stream (stuck pending entries first); returns events done."""
    if client is None:
        from django_redis import get_redis_connection

        client = get_redis_connection("default")
    consumer = consumer or f"{os.uname().nodename}-{os.getpid()}"
    _ensure_group(client)
    done = 0
    cursor = "0-0"
    while True:
        cursor, claimed, *_ = client.xautoclaim(
            STREAM_KEY,
            STREAM_GROUP,
            consumer,
            min_idle_time=claim_idle_ms,
            start_id=cursor,
            count=count,
        )
        done += _ingest_entries(client, claimed)
        if cursor in (b"0-0", "0-0"):
            break
    for _ in range(max_batches):
        reply = client.xreadgroup(STREAM_GROUP, consumer, {STREAM_KEY: ">"}, count=count)
        entries = reply[0][1] if reply else []
        if not entries:
            break
        done += _ingest_entries(client, entries)
    return done
