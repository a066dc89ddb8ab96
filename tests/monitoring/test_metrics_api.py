"""The metrics, prediction, key-metrics and alerts API."""

from __future__ import annotations

import time

import pytest

from monitoring.ingest import ingest_events

pytestmark = pytest.mark.django_db
URL = "/api/v1/models/churn/deployments/production/metrics"


@pytest.fixture
def traffic(deployed, make_event):
    from serving.models import Deployment

    dep = Deployment.objects.get(name="production")
    now = time.time()
    ingest_events(
        [
            make_event(
                deployment_id=dep.pk,
                ts=now - i,
                latency_ms=1.0 + (i % 5),
                cache_hit=i % 4 == 0,
                batch_size=0 if i % 4 == 0 else 2,
            )
            for i in range(100)
        ]
        + [make_event(deployment_id=dep.pk, ts=now - 3, status=500, latency_ms=9.0, batch_size=0)]
        + [make_event(deployment_id=dep.pk, ts=now - 3, version=2, variant="shadow")]
    )
    return dep


def test_it_returns_series_and_percentiles_per_version_and_variant(client, bob, traffic):
    client.force_login(bob)
    response = client.get(URL, {"window": "15m"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["window"]["name"] == "15m" and body["window"]["step_seconds"] == 10
    labels = {s["label"]: s for s in body["series"]}
    assert set(labels) == {"v1 primary", "v2 shadow"}
    primary = labels["v1 primary"]["totals"]
    assert primary["requests"] == 101 and primary["errors"] == 1
    assert primary["cache_hit_pct"] == pytest.approx(25 / 101 * 100)
    # The batcher's batch per request, over the 75 requests it ran (no cache hits, no failure).
    assert primary["avg_batch_size"] == pytest.approx(2.0)
    assert 2.0 <= primary["p50"] <= 4.0 and primary["p99"] > primary["p50"]
    assert body["totals"]["requests"] == 102
    assert [e["kind"] for e in body["events"]] == ["deployed"]


def test_it_takes_a_custom_window(client, bob, traffic):
    client.force_login(bob)
    response = client.get(
        URL, {"window": "custom", "start": "2020-01-01T00:00:00Z", "end": "2020-01-08T00:00:00Z"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["window"]["resolution_seconds"] == 3600 and body["totals"]["requests"] == 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"window": "3y"}, "unknown window '3y'"),
        ({"window": "custom", "start": "yesterday"}, "start must be an ISO 8601 date-time"),
        (
            {"window": "custom", "start": "2024-01-02T00:00Z", "end": "2024-01-01T00:00Z"},
            "end must be after start",
        ),
    ],
)
def test_it_rejects_a_bad_window(client, bob, traffic, params, message):
    client.force_login(bob)
    response = client.get(URL, params)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_it_needs_authentication(client, traffic):
    response = client.get(URL)
    assert response.status_code in (401, 403)


def test_it_404s_for_an_unknown_deployment(client, bob, traffic):
    client.force_login(bob)
    response = client.get("/api/v1/models/churn/deployments/nope/metrics")
    assert response.status_code == 404
    assert "churn/nope does not exist" in response.json()["error"]


def test_an_unknown_prediction_is_404(client, bob, db):
    client.force_login(bob)
    response = client.get("/api/v1/predictions/deadbeef-0")
    assert response.status_code == 404
    assert "deadbeef-0" in response.json()["error"]


def test_a_row_past_the_request_is_404(client, bob, make_event):
    ingest_events([make_event(request_id="cafe", rows=2)])
    client.force_login(bob)
    assert client.get("/api/v1/predictions/cafe-1").status_code == 200
    assert client.get("/api/v1/predictions/cafe-2").status_code == 404


def test_key_metrics_are_for_the_owner_or_an_admin(client, alice, bob, charlie, make_event):
    from accounts.services import api_key_create

    key, _ = api_key_create(user=alice, name="k", scopes=["predict"])
    ingest_events(
        [make_event(key_prefix=key.prefix) for _ in range(3)]
        + [make_event(key_prefix=key.prefix, status=500)]
        + [make_event(key_prefix=key.prefix, status=429)]
    )
    url = f"/api/v1/keys/{key.pk}/metrics"
    for user in (alice, charlie):
        client.force_login(user)
        body = client.get(url).json()
        # The refused call is counted apart: neither a served request nor an error.
        assert body["totals"]["requests"] == 4 and body["totals"]["errors"] == 1
        assert body["refused"] == {"total": 1, "by_status": {"401": 0, "403": 0, "429": 1}}
        assert {s["status"] for s in body["series"]} == {200, 429, 500}
    client.force_login(bob)
    response = client.get(url)
    assert response.status_code == 404


def test_open_alerts_are_listed(client, bob, traffic):
    from monitoring.models import Alert

    Alert.objects.create(deployment=traffic, kind="slo_breach", message="p95 too high")
    client.force_login(bob)
    [alert] = client.get("/api/v1/alerts").json()
    assert alert["message"] == "p95 too high" and alert["deployment"] == "churn/production"
