"""Overriding the promotion gate takes an admin and a written reason, on every path: the service,
console, API, CLI, the traffic split and the promotion of an A/B winner."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from core.errors import InvalidInput, PermissionDenied
from core.models import AuditEntry
from monitoring.experiments import experiment_start
from registry.models import ModelVersion
from serving.deploy import deployment_deploy, deployment_set_traffic
from serving.governance import MIN_OVERRIDE_REASON
from serving.models import Deployment, DeploymentEvent
from tests.serving.conftest import auth

pytestmark = pytest.mark.django_db
REASON = "incident 42: the load check flakes on CI; v2 was verified by hand"
SPLIT = [
    {"version": 1, "weight": 50, "role": "primary"},
    {"version": 2, "weight": 50, "role": "candidate"},
]


@pytest.fixture
def rejected(churn, alice):
    """churn v1 serves production; v2 was rejected by its validation."""
    v1, v2 = churn
    ModelVersion.objects.filter(pk=v2.pk).update(state="rejected")
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    return v2


def _serving() -> list[int]:
    dep = Deployment.objects.get(model__name="churn", name="production")
    return [v.version.number for v in dep.variants.all()]


@pytest.mark.parametrize("reason", ["", "   ", "because", "x" * (MIN_OVERRIDE_REASON - 1)])
def test_it_refuses_an_admin_override_without_a_written_reason(rejected, charlie, reason):
    with pytest.raises(InvalidInput, match=f"at least {MIN_OVERRIDE_REASON} characters"):
        deployment_deploy(
            model_name="churn",
            deployment_name="production",
            version_number=2,
            actor=charlie,
            reason=reason,
            override=True,
        )
    assert _serving() == [1] and DeploymentEvent.objects.count() == 1


def test_it_refuses_an_override_by_a_deployer_or_the_system(rejected, alice):
    for actor in (alice, None):
        with pytest.raises(PermissionDenied, match="only an admin"):
            deployment_deploy(
                model_name="churn",
                deployment_name="production",
                version_number=2,
                actor=actor,
                reason=REASON,
                override=True,
            )
    assert _serving() == [1]


def test_an_admin_override_with_a_reason_deploys_and_is_audited(rejected, charlie):
    event = deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=2,
        actor=charlie,
        reason=f"  {REASON}  ",
        override=True,
    )
    assert _serving() == [2] and event.override and event.reason == REASON
    audit = AuditEntry.objects.get(action="deployment.deployed", after__event=event.pk)
    assert audit.after["override"] is True and audit.after["reason"] == REASON


def test_the_console_form_says_why_an_override_was_refused(client, rejected, charlie):
    client.force_login(charlie)
    response = client.post(
        reverse("serving:version-deploy", args=["churn", 2]),
        {"deployment": "production", "reason": "", "override": "on"},
        follow=True,
    )
    assert "an override needs a written reason" in response.content.decode()
    assert _serving() == [1]


def test_the_api_answers_400_without_a_reason_and_403_for_a_deployer(
    client, rejected, charlie, deploy_key, make_key
):
    url = "/api/v1/models/churn/deployments/production/deploy"
    admin_key = make_key(charlie, ["admin", "deploy", "read"])
    response = client.post(
        url,
        {"version": 2, "override": True, "reason": " "},
        content_type="application/json",
        **auth(admin_key),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "override_reason_required"
    assert "written reason" in response.json()["error"]
    response = client.post(
        url,
        {"version": 2, "override": True, "reason": REASON},
        content_type="application/json",
        **auth(deploy_key),
    )
    assert response.status_code == 403 and "only an admin" in response.json()["error"]
    assert _serving() == [1]


def test_the_cli_refuses_without_a_reason_and_deploys_with_one(rejected, charlie, capsys):
    args = ["deploy", "churn", "production", "2", "--user", "charlie", "--override"]
    with pytest.raises(CommandError, match="an override needs a written reason"):
        call_command(*args)
    with pytest.raises(CommandError, match="only an admin"):
        call_command("deploy", "churn", "production", "2", "--override", "--reason", REASON)
    with pytest.raises(CommandError, match="rejected and cannot be deployed"):
        call_command("deploy", "churn", "production", "2", "--user", "charlie")
    assert _serving() == [1]
    call_command(*args, "--reason", REASON)
    assert _serving() == [2]
    assert "override" in capsys.readouterr().out


def test_the_traffic_split_takes_the_same_audited_override(client, rejected, charlie, make_key):
    with pytest.raises(InvalidInput, match="written reason"):
        deployment_set_traffic(
            model_name="churn",
            deployment_name="production",
            variants=SPLIT,
            actor=charlie,
            reason="ab",
            override=True,
        )
    url = "/api/v1/models/churn/deployments/production/traffic"
    admin_key = make_key(charlie, ["admin", "deploy", "read"])
    gated = client.post(
        url,
        {"variants": SPLIT, "reason": REASON},
        content_type="application/json",
        **auth(admin_key),
    )
    assert gated.status_code == 409 and "rejected" in gated.json()["error"]
    ok = client.post(
        url,
        {"variants": SPLIT, "reason": REASON, "override": True},
        content_type="application/json",
        **auth(admin_key),
    )
    assert ok.status_code == 201 and ok.json()["override"] is True
    assert sorted(_serving()) == [1, 2]
    audit = AuditEntry.objects.get(action="deployment.traffic_changed")
    assert audit.after["override"] is True and audit.after["reason"] == REASON


def test_the_console_traffic_form_refuses_a_deployer_override(client, rejected, alice):
    client.force_login(alice)
    response = client.post(
        reverse("serving:deployment-traffic", args=["churn", "production"]),
        {
            "version": ["1", "2"],
            "weight": ["50", "50"],
            "role": ["primary", "candidate"],
            "reason": REASON,
            "override": "on",
        },
        follow=True,
    )
    assert "only an admin may override" in response.content.decode()
    assert _serving() == [1]


def test_promoting_an_ab_winner_takes_the_override_terms(client, rejected, charlie, make_key):
    deployment_set_traffic(
        model_name="churn",
        deployment_name="production",
        variants=SPLIT,
        actor=charlie,
        reason=REASON,
        override=True,
    )
    experiment = experiment_start(
        deployment=Deployment.objects.get(name="production"),
        name="rejected but better",
        control_version=1,
        treatment_version=2,
        metric="conversion",
        mde=0.10,
        baseline=0.10,
        actor=charlie,
    )
    url = f"/api/v1/models/churn/deployments/production/experiments/{experiment.pk}/promote"
    admin_key = make_key(charlie, ["admin", "deploy", "read"])
    no_override = client.post(
        url, {"force": True}, content_type="application/json", **auth(admin_key)
    )
    assert no_override.status_code == 409 and "rejected" in no_override.json()["error"]
    no_reason = client.post(
        url, {"force": True, "override": True}, content_type="application/json", **auth(admin_key)
    )
    assert no_reason.status_code == 400 and "written reason" in no_reason.json()["error"]
    ok = client.post(
        url,
        {"force": True, "override": True, "reason": REASON},
        content_type="application/json",
        **auth(admin_key),
    )
    assert ok.status_code == 200 and ok.json()["status"] == "promoted"
    event = DeploymentEvent.objects.order_by("-id").first()
    assert event.override and event.reason.endswith(f"override: {REASON}")
    assert _serving() == [2]


def test_the_console_promote_and_split_forms_say_why_an_override_was_refused(
    client, rejected, charlie
):
    client.force_login(charlie)
    traffic = client.post(
        reverse("serving:deployment-traffic", args=["churn", "production"]),
        {
            "version": ["1", "2"],
            "weight": ["50", "50"],
            "role": ["primary", "candidate"],
            "reason": "ab",
            "override": "on",
        },
        follow=True,
    )
    assert "Traffic not changed: an override needs a written reason" in traffic.content.decode()
    deployment_set_traffic(
        model_name="churn",
        deployment_name="production",
        variants=SPLIT,
        actor=charlie,
        reason=REASON,
        override=True,
    )
    experiment = experiment_start(
        deployment=Deployment.objects.get(name="production"),
        name="console promote",
        control_version=1,
        treatment_version=2,
        metric="conversion",
        mde=0.10,
        baseline=0.10,
        actor=charlie,
    )
    page = client.get(f"/monitoring/churn/production/experiments/{experiment.pk}/").content
    assert b'name="override"' in page and b'id="promote-reason"' in page
    url = reverse("monitoring:experiment-promote", args=["churn", "production", experiment.pk])
    refused = client.post(url, {"force": "on", "override": "on", "reason": " "}, follow=True)
    assert "an override needs a written reason" in refused.content.decode()
    client.post(url, {"force": "on", "override": "on", "reason": REASON})
    assert _serving() == [2]
