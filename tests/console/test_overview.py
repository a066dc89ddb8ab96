"""The overview at /: every deployment with what serves, req/s now, p95, errors, drift, open
alerts, the last change and a sparkline; every model with the versions it serves."""

from __future__ import annotations

import re
import time

import pytest

from monitoring.ingest import ingest_events
from serving.events import PredictionEvent
from tests.serving.conftest import churn  # noqa: F401, F811 - fixture

pytestmark = pytest.mark.django_db


def _event(n: int, *, deployment_id: int, ts: float, **fields) -> PredictionEvent:
    base = dict(
        prediction_ids=[f"ov{n:06d}-0"],
        model="churn",
        deployment="production",
        deployment_id=deployment_id,
        version=1,
        version_id=1,
        variant="primary",
        key_prefix="",
        protocol="native",
        status=200,
        latency_ms=4.0,
        rows=1,
        batch_size=1,
        cache_hit=False,
        ts=ts,
    )
    base.update(fields)
    return PredictionEvent(**base)


@pytest.fixture
def overview_traffic(churn, alice, clock):  # noqa: F811 - the imported fixture
    from monitoring.models import Alert
    from serving.deploy import deployment_deploy
    from serving.models import Deployment

    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=alice,
        reason="first",
    )
    deployment_deploy(
        model_name="churn",
        deployment_name="staging",
        version_number=2,
        actor=alice,
        reason="try v2",
    )
    prod = Deployment.objects.get(name="production")
    now = time.time()
    # 30 requests 15 s ago (inside the last full minute) and 10 failures 90 s ago (inside the
    # last 15 full minutes, outside the last one); the clock holds still while the page renders.
    events = [_event(i, deployment_id=prod.pk, ts=now - 15) for i in range(30)]
    events += [
        _event(100 + i, deployment_id=prod.pk, ts=now - 90, status=500, latency_ms=50.0)
        for i in range(10)
    ]
    ingest_events(events)
    Alert.objects.create(deployment=prod, kind="slo_breach", message="p95 over 20 ms")
    return prod


def _row(html: str, name: str) -> str:
    match = re.search(rf'<tr data-deployment="{re.escape(name)}">(.*?)</tr>', html, re.S)
    assert match, f"no overview row for {name}"
    return match.group(1)


def test_it_shows_every_deployment_with_its_health(client, bob, overview_traffic):
    client.force_login(bob)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    prod = _row(html, "churn/production")
    assert 'href="/deployments/churn/production/"' in prod
    assert ">v1</a> 100%" in prod
    assert 'data-cell="rps-now">0.50<' in prod  # 30 requests in the last minute
    assert "25.00%" in prod  # 10 of the 40 requests of the last 15 minutes failed
    assert "1 open" in prod and "not checked" in prod
    assert "Deployed by alice" in prod
    assert re.search(r'<polyline points="[0-9., ]+"', prod)
    assert 'href="/monitoring/churn/production/"' in prod
    staging = _row(html, "churn/staging")
    assert ">v2</a> 100%" in staging and 'data-cell="rps-now">0.00<' in staging


def test_the_models_table_says_which_version_serves_where(client, bob, overview_traffic):
    client.force_login(bob)
    html = client.get("/").content.decode()
    assert "v1 in production" in html and "v2 in staging" in html


def test_it_reads_a_fixed_number_of_queries(
    client, bob, overview_traffic, django_assert_max_num_queries
):
    client.force_login(bob)
    with django_assert_max_num_queries(15):  # one more: refused calls
        assert client.get("/").status_code == 200


def test_it_needs_a_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_models_list_says_what_serves_where_in_one_query(
    client, bob, overview_traffic, django_assert_max_num_queries
):
    client.force_login(bob)
    with django_assert_max_num_queries(10):
        html = client.get("/models/").content.decode()
    row = html[html.index('<td class="serving-cell">') :]
    assert 'v1 100% in <a href="/deployments/churn/production/">production</a>' in row
    assert 'v2 100% in <a href="/deployments/churn/staging/">staging</a>' in row


def test_the_deployments_table_refreshes_itself(client, bob, overview_traffic):
    client.force_login(bob)
    page = client.get("/").content.decode()
    assert 'id="overview-deployments" hx-get="/" hx-trigger="every 10s"' in page
    fragment = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "<h2>Models</h2>" not in fragment
    assert 'data-deployment="churn/production"' in fragment


def test_refused_calls_are_counted_apart_from_errors(client, bob, overview_traffic):
    """Four 429s and two 401s in the last minute: the error rate keeps to the 10 failures of 40
    requests that reached a version, and the Refused cell counts the six by status."""
    now = time.time()
    refusals = [
        _event(
            200 + i,
            deployment_id=0,
            ts=now - 15,
            status=429 if i < 4 else 401,
            version=0,
            version_id=0,
            variant="",
            key_prefix="mg_abcd" if i < 4 else "",
            rows=0,
            prediction_ids=[],
        )
        for i in range(6)
    ]
    ingest_events(refusals)
    client.force_login(bob)
    prod = _row(client.get("/").content.decode(), "churn/production")
    assert "25.00%" in prod  # 10 of 40, not 16 of 46
    refused = re.search(r'data-cell="refused">(.*?)</td>', prod, re.S).group(1)
    assert refused.startswith("6<br>") and "401: 2" in refused and "429: 4" in refused
