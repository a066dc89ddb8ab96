"""SLO policies (console and API, audited) and the periodic check with automatic rollback."""

from __future__ import annotations

import time

import pytest

from core.models import AuditEntry
from monitoring.ingest import ingest_events
from monitoring.models import Alert, SloPolicy
from monitoring.selectors import alerts_open
from monitoring.services import slo_check_all
from serving.constants import EventKind
from serving.models import Deployment, DeploymentEvent

pytestmark = pytest.mark.django_db
URL = "/api/v1/models/churn/deployments/production/slo"


@pytest.fixture
def v2_live(deployed, alice):
    """v1 served for a while, then v2 was deployed."""
    from serving.deploy import deployment_deploy

    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=2,
        actor=alice,
        reason="new weights",
    )
    return Deployment.objects.get(name="production")


def _traffic(make_event, deployment, version, n, latency_ms, status=200, at=None):
    at = at or time.time()
    ingest_events(
        [
            make_event(
                deployment_id=deployment.pk,
                version=version,
                ts=at - i * 0.01,
                latency_ms=latency_ms,
                status=status,
            )
            for i in range(n)
        ]
    )


def test_it_rolls_back_a_latency_regression_within_one_check(make_event, v2_live):
    SloPolicy.objects.create(deployment=v2_live, p95_ms=20, min_requests=50, auto_rollback=True)
    _traffic(make_event, v2_live, 1, 200, 2.0, at=time.time() - 120)  # v1 before the deploy
    _traffic(make_event, v2_live, 2, 120, 180.0)  # v2: much slower
    alerts = slo_check_all()
    assert len(alerts) == 1
    event = DeploymentEvent.objects.filter(deployment=v2_live).latest()
    assert event.kind == EventKind.AUTO_ROLLED_BACK
    assert event.actor_label == "system"
    assert event.after == [{"version": 1, "weight": 100, "role": "primary"}]
    assert event.metrics["new"]["requests"] == 120
    assert event.metrics["new"]["p95"] > 100
    assert event.metrics["new_versions"] == [2]
    assert "p95" in event.reason
    assert list(alerts_open()) == alerts
    assert alerts[0].rollback_event == event
    # The next check has nothing left to judge: no second rollback, no second alert.
    assert slo_check_all() == []
    assert DeploymentEvent.objects.filter(kind=EventKind.AUTO_ROLLED_BACK).count() == 1


def test_it_waits_for_the_minimum_traffic(make_event, v2_live):
    SloPolicy.objects.create(deployment=v2_live, p95_ms=20, min_requests=500, auto_rollback=True)
    _traffic(make_event, v2_live, 2, 100, 180.0)
    assert slo_check_all() == []
    assert DeploymentEvent.objects.filter(deployment=v2_live).latest().kind == EventKind.DEPLOYED


def test_it_rolls_back_an_error_rate_breach(make_event, v2_live):
    SloPolicy.objects.create(
        deployment=v2_live, error_rate_pct=5, min_requests=20, auto_rollback=True
    )
    _traffic(make_event, v2_live, 1, 100, 2.0, at=time.time() - 60)
    _traffic(make_event, v2_live, 2, 30, 2.0)
    _traffic(make_event, v2_live, 2, 10, 2.0, status=500)
    [alert] = slo_check_all()
    assert alert.kind == "auto_rolled_back"
    assert alert.metrics["new"]["error_rate_pct"] == pytest.approx(25.0)


def test_it_only_alerts_when_auto_rollback_is_off(make_event, v2_live):
    SloPolicy.objects.create(deployment=v2_live, p95_ms=20, min_requests=10)
    _traffic(make_event, v2_live, 2, 50, 300.0)
    [alert] = slo_check_all()
    assert alert.kind == "slo_breach" and alert.rollback_event is None
    assert DeploymentEvent.objects.filter(deployment=v2_live).latest().kind == EventKind.DEPLOYED


def test_it_keeps_a_version_no_worse_than_the_previous_one(make_event, v2_live):
    SloPolicy.objects.create(deployment=v2_live, p95_ms=20, min_requests=10, auto_rollback=True)
    _traffic(make_event, v2_live, 1, 100, 400.0, at=time.time() - 60)  # v1 was slower still
    _traffic(make_event, v2_live, 2, 50, 150.0)
    assert slo_check_all() == []
    assert not Alert.objects.exists()


def test_a_deployer_sets_slos_through_the_api(client, alice, v2_live):
    client.force_login(alice)
    response = client.patch(
        URL,
        {"p95_ms": 50, "auto_rollback": True, "min_requests": 30},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["p95_ms"] == 50.0
    policy = SloPolicy.objects.get(deployment=v2_live)
    assert policy.auto_rollback and policy.min_requests == 30
    entry = AuditEntry.objects.get(action="slo.update")
    assert entry.actor == alice and entry.after["p95_ms"] == 50.0
    assert client.get(URL).json()["min_requests"] == 30


def test_a_viewer_cannot_change_slos(client, bob, v2_live):
    client.force_login(bob)
    response = client.patch(URL, {"p95_ms": 50}, content_type="application/json")
    assert response.status_code == 403
    assert "'deploy' permission" in response.json()["error"]
    assert not SloPolicy.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"p95_ms": -1}, "p95_ms"),
        ({"payload_sample_rate": 2}, "payload_sample_rate"),
        ({"bogus": 1}, "unknown SLO setting(s): bogus"),
        ({"auto_rollback": True}, "automatic rollback needs a p95 or an error-rate objective"),
        ({}, "nothing to change"),
    ],
)
def test_it_rejects_bad_slo_input(client, alice, v2_live, body, message):
    client.force_login(alice)
    response = client.patch(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SloPolicy.objects.exists()


def test_a_deployer_sets_slos_in_the_console(client, alice, v2_live):
    client.force_login(alice)
    response = client.post(
        "/monitoring/churn/production/slo",
        {
            "p95_ms": "25",
            "error_rate_pct": "1",
            "min_requests": "10",
            "auto_rollback": "on",
            "window_minutes": "15",
            "payload_sample_rate": "0.5",
        },
    )
    assert response.status_code == 302
    policy = SloPolicy.objects.get(deployment=v2_live)
    assert (policy.p95_ms, policy.payload_sample_rate, policy.auto_rollback) == (25, 0.5, True)


def test_the_console_says_why_an_slo_was_not_saved(client, alice, v2_live):
    client.force_login(alice)
    base = {"min_requests": "10", "window_minutes": "15", "payload_sample_rate": "0.5"}
    saved = client.post("/monitoring/churn/production/slo", {**base, "p95_ms": "25"}, follow=True)
    assert "SLO saved." in saved.content.decode()
    refused = client.post(  # the service refuses: nothing to roll back on
        "/monitoring/churn/production/slo", {**base, "auto_rollback": "on"}, follow=True
    )
    assert "SLO not saved: automatic rollback needs" in refused.content.decode()
    invalid = client.post(  # the form refuses
        "/monitoring/churn/production/slo", {**base, "window_minutes": "0"}, follow=True
    )
    assert "SLO not saved:" in invalid.content.decode()
    assert SloPolicy.objects.get(deployment=v2_live).p95_ms == 25
