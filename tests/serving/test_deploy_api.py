"""The deployment management API: deploy, rollback, config, history, time travel."""

from __future__ import annotations

import pytest

from serving.models import Deployment, DeploymentEvent

from .conftest import auth

pytestmark = pytest.mark.django_db

BASE = "/api/v1/models/churn/deployments/production"


def test_it_deploys_over_the_api_with_a_deploy_key(client, churn, deploy_key):
    response = client.post(
        f"{BASE}/deploy",
        {"version": 2, "reason": "ci"},
        content_type="application/json",
        **auth(deploy_key),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "deployed" and body["after"][0]["version"] == 2
    assert body["actor"].startswith("key:")
    detail = client.get(BASE, **auth(deploy_key)).json()
    assert detail["variants"] == [{"version": 2, "weight": 100, "role": "primary"}]
    assert detail["events"][0]["reason"] == "ci"


def test_it_rolls_back_over_the_api(client, churn, deploy_key):
    for version in (1, 2):
        client.post(
            f"{BASE}/deploy",
            {"version": version},
            content_type="application/json",
            **auth(deploy_key),
        )
    response = client.post(
        f"{BASE}/rollback",
        {"reason": "latency"},
        content_type="application/json",
        **auth(deploy_key),
    )
    assert response.status_code == 201, response.content
    assert response.json()["after"][0]["version"] == 1
    missing = client.post(
        f"{BASE}/rollback", {}, content_type="application/json", **auth(deploy_key)
    )
    assert missing.status_code == 400
    assert "reason" in missing.json()["error"]


def test_it_refuses_callers_without_the_deploy_scope(client, churn, make_key, alice, bob):
    read_key = make_key(alice, ["read"])
    response = client.post(
        f"{BASE}/deploy", {"version": 1}, content_type="application/json", **auth(read_key)
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    client.force_login(bob)  # a viewer
    assert (
        client.post(f"{BASE}/deploy", {"version": 1}, content_type="application/json").status_code
        == 403
    )
    client.logout()
    anonymous = client.post(f"{BASE}/deploy", {"version": 1}, content_type="application/json")
    assert anonymous.status_code == 401
    assert not DeploymentEvent.objects.exists()


def test_it_explains_bad_input(client, churn, deploy_key):
    response = client.post(
        f"{BASE}/deploy", {"version": "two"}, content_type="application/json", **auth(deploy_key)
    )
    assert response.status_code == 400
    assert "version" in response.json()["error"]
    response = client.post(
        f"{BASE}/deploy", {"version": 7}, content_type="application/json", **auth(deploy_key)
    )
    assert response.status_code == 404
    assert response.json() == {"error": "churn has no version 7", "code": "not_found"}


def test_only_admins_may_override_the_gate(client, churn, deploy_key, charlie, make_key):
    response = client.post(
        f"{BASE}/deploy",
        {"version": 1, "override": True, "reason": "x"},
        content_type="application/json",
        **auth(deploy_key),
    )
    assert response.status_code == 403
    admin_key = make_key(charlie, ["admin"])
    no_reason = client.post(
        f"{BASE}/deploy",
        {"version": 1, "override": True},
        content_type="application/json",
        **auth(admin_key),
    )
    assert no_reason.status_code == 400
    ok = client.post(
        f"{BASE}/deploy",
        {"version": 1, "override": True, "reason": "hotfix for incident 42"},
        content_type="application/json",
        **auth(admin_key),
    )
    assert ok.status_code == 201 and ok.json()["override"] is True


def test_it_changes_batching_settings(client, churn, deploy_key):
    client.post(
        f"{BASE}/deploy", {"version": 1}, content_type="application/json", **auth(deploy_key)
    )
    response = client.patch(
        BASE,
        {"max_batch_size": 16, "max_delay_ms": 2},
        content_type="application/json",
        **auth(deploy_key),
    )
    assert response.status_code == 200, response.content
    dep = Deployment.objects.get(name="production")
    assert (dep.max_batch_size, dep.max_delay_ms) == (16, 2.0)
    assert response.json()["events"][0]["kind"] == "config_changed"
    bad = client.patch(
        BASE, {"max_batch_size": 0}, content_type="application/json", **auth(deploy_key)
    )
    assert bad.status_code == 400 and "max_batch_size" in bad.json()["error"]


def test_it_answers_state_at_time(client, churn, deploy_key):
    client.post(
        f"{BASE}/deploy", {"version": 1}, content_type="application/json", **auth(deploy_key)
    )
    now = client.get(f"{BASE}/state", {"at": "2999-01-01T00:00:00Z"}, **auth(deploy_key))
    assert now.status_code == 200 and now.json()["variants"][0]["version"] == 1
    before = client.get(f"{BASE}/state", {"at": "2000-01-01T00:00:00Z"}, **auth(deploy_key))
    assert before.json()["variants"] == [] and before.json()["event"] is None
    bad = client.get(f"{BASE}/state", {"at": "yesterday"}, **auth(deploy_key))
    assert bad.status_code == 400 and "ISO 8601" in bad.json()["error"]


def test_it_lists_deployments(client, churn, deploy_key):
    client.post(
        f"{BASE}/deploy", {"version": 1}, content_type="application/json", **auth(deploy_key)
    )
    listing = client.get("/api/v1/deployments", **auth(deploy_key)).json()
    assert [(d["model"], d["name"]) for d in listing] == [("churn", "production")]
    assert (
        client.get("/api/v1/models/churn/deployments/nope", **auth(deploy_key)).status_code == 404
    )
