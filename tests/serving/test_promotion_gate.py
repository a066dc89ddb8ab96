"""The promotion gate: no deploy without a passed validation run, unless an admin overrides."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEntry
from registry.models import ModelVersion
from serving.models import DeploymentEvent
from tests.serving.conftest import auth

pytestmark = pytest.mark.django_db
DEPLOY = "/api/v1/models/churn/deployments/production/deploy"


@pytest.fixture
def unvalidated(churn):
    """churn v1 as freshly registered: no validation run, state `registered`."""
    v1, _ = churn
    v1.validation_runs.all().delete()
    ModelVersion.objects.filter(pk=v1.pk).update(state="registered")
    v1.refresh_from_db()
    return v1


def test_the_api_refuses_an_unvalidated_version_with_409_and_the_reason(
    client, unvalidated, deploy_key
):
    response = client.post(
        DEPLOY, {"version": 1}, content_type="application/json", **auth(deploy_key)
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "not_validated"
    assert "churn v1 has no passed validation run" in body["error"]
    assert not DeploymentEvent.objects.exists()


def test_a_failed_latest_run_is_refused_with_the_failed_checks(
    client, churn, deploy_key, alice, monkeypatch
):
    """A validated version validated again whose run fails is rejected, and the gate (which
    reads only the version's state) quotes that run's failed checks."""
    from jobs.validation import runs
    from jobs.validation.context import CheckResult

    v1, _ = churn
    assert v1.state == "validated"

    def load_fails(ctx, on_result):
        result = CheckResult(check="load", passed=False, message="p99 over the policy")
        on_result(result, 1, 1)
        return [result]

    monkeypatch.setattr(runs, "run_checks", load_fails)
    run = runs.validation_start(version=v1, actor=alice, enqueue=False)
    assert runs.validation_execute(run_id=run.pk).status == "failed"
    v1.refresh_from_db()
    assert v1.state == "rejected"
    response = client.post(
        DEPLOY, {"version": 1}, content_type="application/json", **auth(deploy_key)
    )
    assert response.status_code == 409
    assert (
        f"latest validation run #{run.pk} failed (failed checks: load)" in response.json()["error"]
    )


def test_a_validated_version_deploys(client, churn, deploy_key):
    response = client.post(
        DEPLOY, {"version": 2}, content_type="application/json", **auth(deploy_key)
    )
    assert response.status_code == 201 and response.json()["override"] is False


def test_an_admin_override_deploys_is_audited_and_shown_in_history(
    client, unvalidated, charlie, make_key
):
    key = make_key(charlie, ["admin", "deploy", "read"])
    response = client.post(
        DEPLOY,
        {"version": 1, "override": True, "reason": "hotfix for incident 42"},
        content_type="application/json",
        **auth(key),
    )
    assert response.status_code == 201
    event = DeploymentEvent.objects.get()
    assert event.override is True and event.reason == "hotfix for incident 42"
    entry = AuditEntry.objects.filter(action="deployment.deployed").get()
    assert entry.after["reason"] == "hotfix for incident 42" and entry.after["event"] == event.pk
    history = client.get("/api/v1/models/churn/deployments/production", **auth(key)).json()
    assert history["events"][0]["override"] is True


def test_the_console_disables_deploy_with_the_reason_and_offers_admins_the_override(
    client, unvalidated, alice, charlie
):
    url = reverse("registry:version-detail", args=["churn", 1])
    client.force_login(alice)
    page = client.get(url).content.decode()
    assert "has no passed validation run" in page
    assert 'disabled title="churn v1 has no passed validation run' in page
    assert reverse("serving:version-deploy", args=["churn", 1]) not in page
    assert "Run validation suite" in page
    client.force_login(charlie)
    page = client.get(url).content.decode()
    assert reverse("serving:version-deploy", args=["churn", 1]) in page
    assert 'name="override" required' in page


def test_the_console_deploy_is_refused_without_validation(client, unvalidated, alice):
    client.force_login(alice)
    response = client.post(
        reverse("serving:version-deploy", args=["churn", 1]),
        {"deployment": "production", "reason": "try"},
        follow=True,
    )
    assert "has no passed validation run" in response.content.decode()
    assert not DeploymentEvent.objects.exists()
