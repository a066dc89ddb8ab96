"""Console pages: a deployment's charts with live refresh, a key's page, prediction lookup."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from monitoring.ingest import ingest_events

pytestmark = pytest.mark.django_db
PAGE = "/monitoring/churn/production/"


@pytest.fixture
def traffic(deployed, make_event):
    from serving.models import Deployment

    dep = Deployment.objects.get(name="production")
    ingest_events(
        [make_event(deployment_id=dep.pk, ts=time.time() - i, latency_ms=2.0) for i in range(30)]
    )
    return dep


def _figures(html: str) -> dict:
    blocks = re.findall(
        r'<script type="application/json" data-figure="([^"]+)">(.*?)</script>', html, re.S
    )
    return {name: json.loads(body) for name, body in blocks}


def test_it_draws_five_charts_with_deployment_event_markers(client, bob, traffic):
    client.force_login(bob)
    response = client.get(PAGE, {"window": "1h"})
    assert response.status_code == 200
    html = response.content.decode()
    figures = _figures(html)
    assert set(figures) == {f"chart-{n}" for n in ("rate", "latency", "errors", "batch", "cache")}
    latency = figures["chart-latency"]
    names = [t["name"] for t in latency["data"]]
    assert "v1 primary p95" in names and "deployment events" in names
    marker = next(t for t in latency["data"] if t["name"] == "deployment events")
    assert "Deployed by alice" in marker["hovertext"][0]
    assert latency["layout"]["shapes"], "a vertical line per deployment event"
    assert (
        "data-live-refresh" in html
        and 'data-live-url="/monitoring/churn/production/charts?' in html
    )
    assert "/static/vendor/plotly.min.js" in html and "cdn" not in html.lower()
    # No inline script: only JSON data blocks and external files.
    assert not re.search(r"<script(?![^>]*(src=|type=\"application/json\"))[^>]*>", html)


def test_the_refresh_is_json_figures_and_a_summary(client, bob, traffic):
    client.force_login(bob)
    response = client.get(PAGE + "charts", {"window": "15m"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body["figures"]) == {
        f"chart-{n}" for n in ("rate", "latency", "errors", "batch", "cache")
    }
    assert body["figures"]["chart-rate"]["layout"]["xaxis"]["title"]["text"] == "time (UTC)"
    assert "<html" not in body["summary"] and "Rate now" in body["summary"]
    assert body["updated"].endswith(" UTC")


def test_a_bad_window_is_a_400_with_the_reason(client, bob, traffic):
    client.force_login(bob)
    response = client.get(PAGE, {"window": "custom", "start": "nope"})
    assert response.status_code == 400
    assert "start must be an ISO 8601 date-time" in response.content.decode()


def test_only_deployers_see_the_slo_form(client, alice, bob, traffic):
    client.force_login(bob)
    assert 'action="/monitoring/churn/production/slo"' not in client.get(PAGE).content.decode()
    client.force_login(alice)
    assert 'action="/monitoring/churn/production/slo"' in client.get(PAGE).content.decode()
    client.force_login(bob)
    assert client.post(PAGE + "slo", {"p95_ms": "5"}).status_code == 403


def test_the_key_page_is_for_its_owner_or_an_admin(client, alice, bob, charlie, make_event):
    from accounts.services import api_key_create

    key, _ = api_key_create(user=alice, name="scripts", scopes=["predict"])
    ingest_events(
        [
            make_event(
                key_prefix=key.prefix,
                request_id="bad1",
                status=400,
                error="features: expected 4 values",
            )
        ]
    )
    for user in (alice, charlie):
        client.force_login(user)
        response = client.get(f"/monitoring/keys/{key.pk}/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "features: expected 4 values" in html and set(_figures(html)) == {
            "chart-calls",
            "chart-latency",
        }
    client.force_login(bob)
    assert client.get(f"/monitoring/keys/{key.pk}/").status_code == 404


def test_the_prediction_page_shows_one_prediction(client, bob, make_event):
    ingest_events([make_event(request_id="feed", rows=2, latency_ms=3.25)])
    client.force_login(bob)
    html = client.get("/monitoring/predictions/", {"id": "feed-1"}).content.decode()
    assert "3.250 ms" in html and "1 of 2" in html and "0.5" in html
    assert client.get("/monitoring/predictions/", {"id": "nope-0"}).status_code == 404


def test_an_alert_is_resolved_from_the_snippet(client, alice, traffic):
    from django.template.loader import render_to_string

    from monitoring.models import Alert
    from monitoring.selectors import alerts_open

    alert = Alert.objects.create(deployment=traffic, kind="auto_rolled_back", message="rolled")
    client.force_login(alice)
    html = render_to_string("monitoring/_alerts.html", {"alerts": alerts_open(), "user": alice})
    assert "rolled" in html and f"/monitoring/alerts/{alert.pk}/resolve" in html
    assert client.post(f"/monitoring/alerts/{alert.pk}/resolve").status_code == 302
    assert not alerts_open().exists()


def test_plotly_is_the_packaged_copy():
    import plotly

    vendored = Path(__file__).resolve().parents[2] / "static/vendor/plotly.min.js"
    packaged = Path(plotly.__file__).parent / "package_data/plotly.min.js"
    assert vendored.read_bytes() == packaged.read_bytes()
