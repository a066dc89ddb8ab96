"""Traffic splits: the service (validated, evented, audited), its API and console form, and the
per-request variant override header."""

from __future__ import annotations

import json

import pytest

from core.models import AuditEntry
from serving.constants import EventKind
from serving.deploy import deployment_set_traffic
from serving.models import DeploymentEvent
from tests.serving.conftest import auth

pytestmark = pytest.mark.django_db
URL = "/api/v1/models/churn/deployments/production/traffic"
SPLIT = [
    {"version": 1, "weight": 90, "role": "primary"},
    {"version": 2, "weight": 10, "role": "candidate"},
]


@pytest.fixture(autouse=True)
def _controlled_clock(clock):
    """Windows (minute rollups, drift windows) never straddle a real boundary."""
    return clock


def test_it_splits_traffic_with_an_event_and_an_audit_entry(production, alice):
    event = deployment_set_traffic(
        model_name="churn", deployment_name="production", variants=SPLIT, actor=alice, reason="ab"
    )
    assert event.kind == EventKind.TRAFFIC_CHANGED
    assert event.before == [{"version": 1, "weight": 100, "role": "primary"}]
    assert event.after == SPLIT
    states = sorted(v.state()["weight"] for v in production.variants.all())
    assert states == [10, 90]
    entry = AuditEntry.objects.filter(action="deployment.traffic_changed").get()
    assert entry.after["variants"] == SPLIT


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ([], "at least one variant"),
        ([{"version": 1, "weight": 90, "role": "primary"}], "add up to 100, not 90"),
        (
            [
                {"version": 1, "weight": 50, "role": "primary"},
                {"version": 2, "weight": 50, "role": "primary"},
            ],
            "exactly one primary",
        ),
        (
            [
                {"version": 1, "weight": 100, "role": "primary"},
                {"version": 2, "weight": 5, "role": "shadow"},
            ],
            "v2: a shadow variant takes no traffic share",
        ),
        ([{"version": 1, "weight": 100, "role": "boss"}], "unknown role 'boss'"),
        ([{"version": 1, "weight": 101, "role": "primary"}], "between 0 and 100, not 101"),
        (
            [
                {"version": 1, "weight": 50, "role": "primary"},
                {"version": 1, "weight": 50, "role": "candidate"},
            ],
            "v1 appears twice",
        ),
    ],
)
def test_it_refuses_a_bad_split_and_changes_nothing(production, alice, variants, message):
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput, match=message):
        deployment_set_traffic(
            model_name="churn",
            deployment_name="production",
            variants=variants,
            actor=alice,
            reason="x",
        )
    assert DeploymentEvent.objects.filter(kind=EventKind.TRAFFIC_CHANGED).count() == 0
    assert [v.state() for v in production.variants.all()] == [
        {"version": 1, "weight": 100, "role": "primary"}
    ]


def test_it_refuses_unknown_versions_and_unchanged_splits(production, alice):
    from core.errors import Conflict, NotFound

    with pytest.raises(NotFound, match="churn has no version"):
        deployment_set_traffic(
            model_name="churn",
            deployment_name="production",
            variants=[{"version": 7, "weight": 100, "role": "primary"}],
            actor=alice,
            reason="x",
        )
    with pytest.raises(Conflict, match="already serves that split"):
        deployment_set_traffic(
            model_name="churn",
            deployment_name="production",
            variants=[{"version": 1, "weight": 100, "role": "primary"}],
            actor=alice,
            reason="x",
        )


def test_the_api_changes_traffic_for_a_deployer_only(client, production, alice, bob, deploy_key):
    body = json.dumps({"variants": SPLIT, "reason": "canary"})
    client.force_login(bob)
    denied = client.post(URL, body, content_type="application/json")
    assert denied.status_code == 403
    client.logout()
    ok = client.post(URL, body, content_type="application/json", **auth(deploy_key))
    assert ok.status_code == 201, ok.content
    assert ok.json()["kind"] == "traffic_changed" and ok.json()["after"] == SPLIT
    bad = client.post(
        URL,
        json.dumps({"variants": [{"version": 1, "weight": 80, "role": "primary"}], "reason": "x"}),
        content_type="application/json",
        **auth(deploy_key),
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "the serving weights must add up to 100, not 80"
    no_reason = client.post(
        URL, json.dumps({"variants": SPLIT}), content_type="application/json", **auth(deploy_key)
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.content.decode()


def test_the_console_form_changes_traffic(client, production, alice):
    client.force_login(alice)
    page = client.get("/deployments/churn/production/")
    assert '<option value="1" selected>v1 (validated)</option>' in page.content.decode()
    response = client.post(
        "/deployments/churn/production/traffic",
        {"split": "v1:90:primary, v2:10:candidate", "reason": "canary"},
        follow=True,
    )
    assert "Traffic of churn/production changed." in response.content.decode()
    assert DeploymentEvent.objects.filter(kind=EventKind.TRAFFIC_CHANGED).get().after == SPLIT
    bad = client.post(
        "/deployments/churn/production/traffic",
        {"split": "v1-90", "reason": "x"},
        follow=True,
    )
    assert (
        "Traffic not changed: &#x27;v1-90&#x27; is not like v2:10:candidate" in bad.content.decode()
    )


def _native(client, key, **headers):
    return client.post(
        "/api/v1/models/churn/deployments/production/predict",
        json.dumps({"instances": [[0.1, 0.2, 0.3, 0.4]]}),
        content_type="application/json",
        **auth(key),
        **headers,
    )


def test_the_override_header_pins_a_variant_and_subjects_stay_sticky(
    client, deployed, alice, pool, predict_key
):
    deployment_set_traffic(
        model_name="churn", deployment_name="production", variants=SPLIT, actor=alice, reason="ab"
    )
    pool.refresh()
    for _ in range(5):
        assert _native(client, predict_key, HTTP_X_MODELGATE_VARIANT="v2").json()["version"] == 2
    assert _native(client, predict_key, HTTP_X_MODELGATE_VARIANT="v1").json()["version"] == 1
    sticky = {
        _native(client, predict_key, HTTP_X_MODELGATE_SUBJECT="user-42").json()["version"]
        for _ in range(8)
    }
    assert len(sticky) == 1
    bad = _native(client, predict_key, HTTP_X_MODELGATE_VARIANT="v9")
    assert bad.status_code == 400
    assert bad.json()["error"] == (
        "X-Modelgate-Variant 'v9' is not a serving variant of churn/production "
        "(serving: v1, v2; use v<N>)"
    )
