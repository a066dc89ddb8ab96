"""Ingestion: log rows, minute/hour/day rollups, per-key rollups, idempotent redelivery,
per-deployment payload sampling, and the embedded database sink behind the event buffer."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import numpy as np
import pytest

from monitoring import histograms
from monitoring.constants import Resolution
from monitoring.ingest import database_sink, ingest_events
from monitoring.models import KeyRollup, MetricRollup, PredictionLog

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 4, 10, 58, 30, tzinfo=UTC).timestamp()


def test_it_writes_a_log_row_per_request_and_rolls_up_per_minute(make_event):
    events = [make_event(ts=T0 + i, latency_ms=1.0 + i, rows=2) for i in range(40)]
    events += [make_event(ts=T0 + 5, status=500, error="boom", latency_ms=30.0)]
    result = ingest_events(events)
    assert (result.ingested, result.duplicates) == (41, 0)
    assert PredictionLog.objects.count() == 41
    minutes = MetricRollup.objects.filter(resolution=Resolution.MINUTE).order_by("bucket_start")
    # 10:58:30 + 0..39 s straddles two minutes.
    assert [m.count for m in minutes] == [31, 10]
    assert sum(m.errors for m in minutes) == 1
    assert sum(m.rows for m in minutes) == 81
    first = minutes[0]
    assert first.bucket_start == datetime(2025, 3, 4, 10, 58, tzinfo=UTC)
    assert first.latency_sum_ms == pytest.approx(sum(1.0 + i for i in range(30)) + 30.0)
    assert sum(first.buckets()) == first.count


def test_it_derives_hour_and_day_rollups_that_add_up(make_event):
    ingest_events([make_event(ts=T0 + i * 7, latency_ms=float(i % 9)) for i in range(300)])
    by_res = {res: list(MetricRollup.objects.filter(resolution=res)) for res in Resolution.values}
    assert sum(r.count for r in by_res[Resolution.MINUTE]) == 300
    assert [r.count for r in by_res[Resolution.DAY]] == [300]
    assert sorted(r.bucket_start.hour for r in by_res[Resolution.HOUR]) == [10, 11]
    day = by_res[Resolution.DAY][0]
    assert day.buckets() == histograms.merge(*(r.buckets() for r in by_res[Resolution.MINUTE]))


def test_it_does_not_double_count_a_redelivered_batch(make_event):
    events = [make_event(ts=T0 + i) for i in range(25)]
    ingest_events(events[:10])
    again = ingest_events(events)  # a redelivery overlapping the first batch
    assert (again.ingested, again.duplicates) == (15, 10)
    ingest_events(events)
    assert PredictionLog.objects.count() == 25
    day = MetricRollup.objects.get(resolution=Resolution.DAY)
    assert day.count == 25
    assert KeyRollup.objects.get(resolution=Resolution.DAY).count == 25


def test_it_keeps_per_key_rollups_by_status(make_event):
    ingest_events(
        [make_event(ts=T0, key_prefix="mg_k1") for _ in range(3)]
        + [make_event(ts=T0, key_prefix="mg_k1", status=429)]
        + [make_event(ts=T0, key_prefix="mg_k1", status=500)]
        + [make_event(ts=T0, key_prefix="mg_k2")]
    )
    rows = KeyRollup.objects.filter(resolution=Resolution.MINUTE, key_prefix="mg_k1")
    # A refusal (429) is counted under its status but is no error; a 500 is.
    assert {(r.status, r.count, r.errors) for r in rows} == {(200, 3, 0), (429, 1, 0), (500, 1, 1)}


def test_it_keeps_the_payloads_serving_sampled(make_event, deployed):
    # Serving applies the deployment's sample rate (tests/monitoring/test_payload_sampling.py);
    # ingestion must not cut again, or "100% kept" would mean a share of a share.
    from monitoring.models import SloPolicy
    from serving.models import Deployment

    deployment = Deployment.objects.get(name="production")
    SloPolicy.objects.create(deployment=deployment, payload_sample_rate=0.25)
    with_payload = [make_event(deployment_id=deployment.pk) for _ in range(40)]
    without = [
        make_event(deployment_id=deployment.pk, inputs=None, outputs=None) for _ in range(10)
    ]
    ingest_events(with_payload + without)
    assert PredictionLog.objects.filter(inputs__isnull=False).count() == 40
    assert PredictionLog.objects.count() == 50


def test_it_stores_numpy_payloads_and_the_row_count(make_event):
    ingest_events(
        [
            make_event(
                request_id="abc", rows=3, inputs={"features": np.ones((3, 4), dtype="float32")}
            )
        ]
    )
    log = PredictionLog.objects.get(request_id="abc")
    assert log.rows == 3
    assert log.inputs == {"features": [[1.0] * 4] * 3}


def test_the_database_sink_ingests_from_the_event_buffer(make_event):
    from serving.events import EventBuffer

    buffer = EventBuffer(database_sink(), interval=60)
    for i in range(5):
        buffer.publish(make_event(ts=T0 + i))
    buffer._thread = object()  # keep the flush in this thread (and this test's transaction)
    assert buffer.flush() == 5
    assert buffer.stats()["sink_errors"] == 0
    assert MetricRollup.objects.get(resolution=Resolution.DAY).count == 5


def test_a_served_prediction_can_be_looked_up_by_its_id(
    client, deployed, predict_key, monkeypatch, alice
):
    from serving import events

    buffer = events.EventBuffer(database_sink(), interval=60)
    buffer._thread = object()  # flushed explicitly below, in this thread
    monkeypatch.setattr(events, "_buffer", buffer)
    response = client.post(
        "/api/v1/models/churn/deployments/production/predict",
        data={"inputs": {"features": [[0.1, 0.2, 0.3, 0.4], [1, 2, 3, 4]]}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {predict_key}",
    )
    assert response.status_code == 200, response.content
    ids = response.json()["prediction_ids"]
    assert buffer.flush() == 1
    client.force_login(alice)
    found = client.get(f"/api/v1/predictions/{ids[1]}")
    assert found.status_code == 200, found.content
    body = found.json()
    assert (body["id"], body["model"], body["version"], body["rows"]) == (ids[1], "churn", 1, 2)
    assert body["inputs"] == {
        "features": [
            [pytest.approx(0.1), pytest.approx(0.2), pytest.approx(0.3), pytest.approx(0.4)],
            [1.0, 2.0, 3.0, 4.0],
        ]
    }
    assert body["key_prefix"] and f"_{body['key_prefix']}_" in predict_key


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_it_drains_the_redis_stream_and_recovers_unacked_entries(make_event, settings):
    import redis

    from monitoring import ingest
    from serving.events import STREAM_KEY, redis_stream_sink

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete(STREAM_KEY)
    redis_stream_sink(client)([make_event(ts=T0 + i) for i in range(30)])
    # A consumer that read 10 entries and died before acknowledging them...
    ingest._ensure_group(client)
    client.xreadgroup(ingest.STREAM_GROUP, "dead", {STREAM_KEY: ">"}, count=10)
    assert ingest.drain_stream(client=client, consumer="live", count=7) == 20
    # ...leaves them pending until they are idle long enough to be claimed.
    assert ingest.drain_stream(client=client, consumer="live", claim_idle_ms=0) == 10
    assert client.xpending(STREAM_KEY, ingest.STREAM_GROUP)["pending"] == 0
    assert MetricRollup.objects.get(resolution=Resolution.DAY).count == 30
    client.delete(STREAM_KEY)
