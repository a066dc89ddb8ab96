"""The validation API: start (202), read a run, list a version's runs, edit the policy."""

from __future__ import annotations

import pytest

from core.models import AuditEntry
from jobs.validation.runs import VALIDATION_RUNS, validation_execute
from registry.models import ModelVersion
from tests.jobs.conftest import FAST_POLICY
from tests.serving.conftest import auth

pytestmark = pytest.mark.django_db
START = "/api/v1/models/churn/versions/1/validations"
POLICY = "/api/v1/models/churn/validation-policy"


@pytest.fixture
def fresh(churn):
    v1, _ = churn
    v1.validation_runs.all().delete()
    ModelVersion.objects.filter(pk=v1.pk).update(state="registered")
    return v1


def test_it_starts_a_run_with_202_and_reports_its_checks(
    client, fresh, deploy_key, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(VALIDATION_RUNS, "enqueue", queued.append)
    client.patch(POLICY, FAST_POLICY, content_type="application/json", **auth(deploy_key))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(START, **auth(deploy_key))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["progress"] == 0.0 and body["checks"] == []
    assert queued == [body["id"]]  # enqueued on the gpu queue once the row is committed
    validation_execute(run_id=body["id"])
    run = client.get(f"/api/v1/validations/{body['id']}", **auth(deploy_key)).json()
    assert run["status"] == "passed" and run["progress"] == 1.0
    assert {c["check"] for c in run["checks"]} >= {"performance", "accuracy", "load"}
    assert set(run["checks"][0]) == {"check", "passed", "metrics", "message"}
    listed = client.get(START, **auth(deploy_key)).json()
    assert [r["id"] for r in listed] == [body["id"]]


def test_it_refuses_viewers_unknown_versions_and_a_second_active_run(
    client, fresh, make_key, bob, deploy_key
):
    viewer = make_key(bob, ["read"])
    assert client.post(START, **auth(viewer)).status_code == 403
    assert client.post(START, **auth("mg_bogus")).status_code == 401
    missing = client.post("/api/v1/models/churn/versions/9/validations", **auth(deploy_key))
    assert missing.status_code == 404 and "no version 9" in missing.json()["error"]
    assert client.post(START, **auth(deploy_key)).status_code == 202
    again = client.post(START, **auth(deploy_key))
    assert again.status_code == 409 and "already has validation run" in again.json()["error"]
    assert fresh.validation_runs.count() == 1
    assert client.get("/api/v1/validations/999", **auth(viewer)).status_code == 404


def test_the_policy_has_defaults_and_patches_are_checked_and_audited(
    client, churn, deploy_key, make_key, bob
):
    defaults = client.get(POLICY, **auth(deploy_key)).json()
    assert defaults["accuracy_tolerance"] == 0.01 and defaults["signature_allow_breaking"] is False
    changed = client.patch(
        POLICY,
        {"accuracy_tolerance": 0.05, "parity_fail_on": ["python"]},
        content_type="application/json",
        **auth(deploy_key),
    )
    assert changed.status_code == 200
    assert changed.json()["accuracy_tolerance"] == 0.05 and changed.json()["parity_fail_on"] == [
        "python"
    ]
    entry = AuditEntry.objects.get(action="validation_policy.update")
    assert entry.after["accuracy_tolerance"] == 0.05
    for bad, message in (
        ({"accuracy_tolerance": 5}, "accuracy_tolerance must lie between 0 and 1"),
        ({"nope": 1}, "unknown policy setting 'nope'"),
        ({"parity_fail_on": ["gpu_model"]}, "unknown field(s) ['gpu_model']"),
        ({}, "nothing to change"),
    ):
        response = client.patch(POLICY, bad, content_type="application/json", **auth(deploy_key))
        assert response.status_code == 400 and message in response.json()["error"], response.json()
    viewer = make_key(bob, ["read"])
    denied = client.patch(
        POLICY, {"load_seconds": 1}, content_type="application/json", **auth(viewer)
    )
    assert denied.status_code == 403


def test_the_console_starts_a_run_and_polls_its_panel_until_finished(client, fresh, alice):
    from django.urls import reverse

    client.force_login(alice)
    response = client.post(reverse("jobs:validation-start", args=["churn", 1]), follow=True)
    page = response.content.decode()
    run = fresh.validation_runs.get()
    panel_url = reverse("jobs:validation-panel", args=[run.pk])
    assert f'hx-get="{panel_url}" hx-trigger="every 2s"' in page
    validation_execute(run_id=run.pk)
    panel = client.get(panel_url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in panel and "check-load" in panel
