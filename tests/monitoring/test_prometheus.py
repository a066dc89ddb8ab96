"""GET /metrics: Prometheus text format, parsed by prometheus_client, behind a token or IPs."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from serving import telemetry

pytestmark = pytest.mark.django_db


def _families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_it_exposes_counters_histograms_and_pool_gauges(client, deployed, make_event):
    for latency, hit in ((0.7, False), (3.0, True), (40.0, False)):
        telemetry.observe(
            make_event(model="promtest", latency_ms=latency, cache_hit=hit, batch_size=3)
        )
    telemetry.observe(make_event(model="promtest", status=500))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    families = _families(response.content.decode())
    requests = {
        s.labels["status"]: s.value
        for s in families["modelgate_requests"].samples
        if s.labels.get("model") == "promtest" and s.name == "modelgate_requests_total"
    }
    assert requests == {"200": 3.0, "500": 1.0}
    buckets = {
        s.labels["le"]: s.value
        for s in families["modelgate_request_duration_seconds"].samples
        if s.name.endswith("_bucket") and s.labels["model"] == "promtest"
    }
    assert buckets["0.001"] == 1.0 and buckets["0.005"] == 3.0 and buckets["+Inf"] == 4.0
    assert "modelgate_batch_size" in families and "modelgate_cache_hits" in families
    queue = families["modelgate_queue_rows"].samples
    assert any(
        s.labels
        == {"model": "churn", "version": "1", "deployment": "production", "variant": "primary"}
        for s in queue
    )
    assert families["modelgate_loaded_models"].samples[0].value >= 1


def test_it_refuses_other_addresses_without_the_token(client, settings):
    settings.MODELGATE_METRICS_TOKEN = "s3cret"
    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 403
    assert b"send the metrics token" in response.content
    assert (
        client.get(
            "/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer wrong"
        ).status_code
        == 401
    )
    ok = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer s3cret")
    assert ok.status_code == 200


def test_it_serves_an_allowed_network(client, settings):
    settings.MODELGATE_METRICS_ALLOW_IPS = "10.0.0.0/8"
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
