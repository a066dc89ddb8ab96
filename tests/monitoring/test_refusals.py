"""Refused calls (401, 403, 429): counted per key and per deployment, apart from traffic and
errors, on the monitoring pages and in /metrics; published without a database write."""

from __future__ import annotations

import pytest

from accounts.ratelimits import reset_rate_limits
from accounts.services import api_key_create, api_key_revoke
from monitoring import refusal_selectors, selectors
from monitoring.constants import Resolution
from monitoring.ingest import database_sink
from monitoring.models import KeyRollup, MetricRollup, PredictionLog
from serving import events, telemetry
from serving.models import Deployment

pytestmark = pytest.mark.django_db

PREDICT = "/api/v1/models/churn/deployments/production/predict"
BODY = {"inputs": {"features": [[0.1, 0.2, 0.3, 0.4]]}}


@pytest.fixture
def buffer(monkeypatch):
    """The event buffer, flushed explicitly in this thread into the database sink."""
    fresh = events.EventBuffer(database_sink(), interval=60)
    fresh._thread = object()  # no flush thread: the test flushes inside its own transaction
    monkeypatch.setattr(events, "_buffer", fresh)
    reset_rate_limits()
    yield fresh
    reset_rate_limits()


def _post(client, key=None, path=PREDICT):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.post(path, data=BODY, content_type="application/json", **headers)


def _refused_counter(model: str) -> dict[tuple[str, str], float]:
    samples = telemetry.REFUSED.collect()[0].samples
    return {
        (s.labels["status"], s.labels["reason"]): s.value
        for s in samples
        if s.name.endswith("_total") and s.labels["model"] == model
    }


@pytest.fixture
def refused_traffic(client, deployed, alice, make_key, buffer):
    """Two served calls and one 429 from a 2/m key, a call without a key, a revoked key's call
    and a call outside a key's scope; all ingested."""
    limited, raw = api_key_create(user=alice, name="limited", scopes=["predict"], rate_limit="2/m")
    before = _refused_counter("churn")
    assert [_post(client, raw).status_code for _ in range(3)] == [200, 200, 429]
    assert _post(client).status_code == 401
    revoked, revoked_raw = api_key_create(user=alice, name="old", scopes=["predict"])
    api_key_revoke(key=revoked, actor=alice)
    assert _post(client, revoked_raw).status_code == 401
    assert _post(client, make_key(alice, ["predict:other"])).status_code == 403
    assert MetricRollup.objects.count() == 0  # nothing written on the request path
    buffer.flush()
    return limited, revoked, before


def test_it_counts_refusals_per_key_apart_from_served_calls_and_errors(refused_traffic):
    limited, revoked, _ = refused_traffic
    day = MetricRollup.objects.get(resolution=Resolution.DAY)
    assert (day.count, day.errors) == (2, 0)
    by_status = {
        r.status: (r.count, r.errors)
        for r in KeyRollup.objects.filter(key_prefix=limited.prefix, resolution=Resolution.DAY)
    }
    assert by_status == {200: (2, 0), 429: (1, 0)}
    refusal = refusal_selectors.recent_refusals(key_prefix=limited.prefix).get()
    assert (refusal.status, refusal.deployment) == (429, "production")
    assert "rate limit exceeded" in refusal.error
    revoked_call = refusal_selectors.recent_refusals(key_prefix=revoked.prefix).get()
    assert revoked_call.status == 401 and "invalid or expired" in revoked_call.error
    assert not selectors.recent_errors(key_prefix=limited.prefix).exists()


def test_it_counts_every_refusal_of_a_deployment_by_status(refused_traffic):
    window = selectors.window_resolve("15m")
    refused = refusal_selectors.deployment_refusals(
        model="churn", deployment="production", window=window
    )
    assert refused == {"total": 4, "by_status": {401: 2, 403: 1, 429: 1}}
    deployment = Deployment.objects.get(model__name="churn", name="production")
    metrics = selectors.deployment_metrics(deployment_id=deployment.pk, window=window)
    assert (metrics["totals"]["requests"], metrics["totals"]["errors"]) == (2, 0)


def test_it_exports_refusals_with_bounded_labels_and_no_key(refused_traffic):
    _, _, before = refused_traffic
    after = _refused_counter("churn")
    grown = {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}
    assert grown == {
        ("429", "rate_limited"): 1.0,
        ("401", "missing_key"): 1.0,
        ("401", "invalid_key"): 1.0,
        ("403", "scope"): 1.0,
    }
    assert set(telemetry.REFUSED._labelnames) == {"model", "deployment", "status", "reason"}


def test_it_keeps_made_up_model_names_out_of_labels_and_rows(client, deployed, buffer):
    before = _refused_counter("-").get(("401", "missing_key"), 0.0)
    for i in range(3):
        assert _post(client, path=f"/v2/models/made-up-{i}/infer").status_code == 401
    assert _refused_counter("-")[("401", "missing_key")] == before + 3
    assert not [s for s in telemetry.REFUSED.collect()[0].samples if "made-up" in str(s.labels)]
    buffer.flush()
    assert set(PredictionLog.objects.values_list("model", "status")) == {("", 401)}


def test_it_shows_refusals_on_the_deployment_and_key_pages(client, refused_traffic, alice, clock):
    limited, _, _ = refused_traffic
    clock.shift(30)
    client.force_login(alice)
    page = client.get("/monitoring/churn/production/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Refused in window" in html
    assert '<span class="tile-value" data-tile="refused">4</span>' in html
    key_page = client.get(f"/monitoring/keys/{limited.pk}/")
    text = key_page.content.decode()
    assert "Recent refused calls" in text and "rate limit exceeded for this API key" in text
    assert "<dd data-refused>1 (429: 1)</dd>" in text


def test_it_counts_an_address_throttled_for_failed_key_lookups(client, deployed, buffer, settings):
    from accounts.key_format import generate_key

    settings.MODELGATE_AUTH_FAILURES_PER_IP = "2/m"
    before = _refused_counter("churn")
    codes = [_post(client, generate_key()[0]).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    after = _refused_counter("churn")
    assert after[("429", "auth_throttled")] - before.get(("429", "auth_throttled"), 0) == 1
    assert after[("401", "invalid_key")] - before.get(("401", "invalid_key"), 0) == 2
    buffer.flush()
    # Made-up keys name no stored key: counted for the deployment, attributed to no key.
    assert set(PredictionLog.objects.values_list("key_prefix", "status")) == {("", 401), ("", 429)}
