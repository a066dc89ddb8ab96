"""Deployments are picked, created explicitly (a typo never goes live) and archived once idle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import Conflict
from core.models import AuditEntry
from monitoring.archiving import deployment_archive_when_idle
from monitoring.constants import Resolution
from monitoring.models import MetricRollup
from serving.deploy import deployment_configure, deployment_create, deployment_deploy
from serving.models import Deployment
from serving.pool import _read_deployments
from tests.serving.conftest import auth

pytestmark = pytest.mark.django_db
VERSION_PAGE = "/models/churn/v2/"


@pytest.fixture
def production(churn, alice):
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    return Deployment.objects.get(name="production")


def test_the_version_page_picks_from_existing_deployments(client, production, alice):
    deployment_create(model_name="churn", deployment_name="staging", actor=alice)
    client.force_login(alice)
    html = client.get(VERSION_PAGE).content.decode()
    assert '<select name="deployment"' in html
    assert '<option value="production" selected>production</option>' in html
    assert '<option value="staging">staging</option>' in html
    assert "Create deployment" in html


def test_a_typo_in_the_deploy_form_creates_nothing(client, production, alice):
    client.force_login(alice)
    response = client.post(
        reverse("serving:version-deploy", args=["churn", 2]),
        {"deployment": "prodution", "reason": "ship"},
        follow=True,
    )
    assert "prodution is not a deployment of this model; create it first." in (
        response.content.decode()
    )
    assert list(Deployment.objects.values_list("name", flat=True)) == ["production"]


def test_creating_is_explicit_empty_and_audited_then_deploy_picks_it(client, production, alice):
    client.force_login(alice)
    back = VERSION_PAGE
    response = client.post(
        reverse("serving:deployment-create", args=["churn"]), {"name": "canary", "next": back}
    )
    assert response.status_code == 302 and response.url == back
    canary = Deployment.objects.get(name="canary")
    assert not canary.variants.exists() and not canary.events.exists()
    assert AuditEntry.objects.filter(action="deployment.created", target__contains="canary")
    again = client.post(
        reverse("serving:deployment-create", args=["churn"]), {"name": "canary"}, follow=True
    )
    assert "churn/canary already exists" in again.content.decode()
    bad = client.post(
        reverse("serving:deployment-create", args=["churn"]), {"name": "Not a slug!"}, follow=True
    )
    assert "Not created:" in bad.content.decode()
    client.post(
        reverse("serving:version-deploy", args=["churn", 2]),
        {"deployment": "canary", "reason": "canary of v2"},
    )
    assert [v.version.number for v in canary.variants.all()] == [2]


def test_the_api_creates_and_can_refuse_unknown_deployments(client, production, deploy_key):
    refused = client.post(
        "/api/v1/models/churn/deployments/prodution/deploy",
        {"version": 2, "create": False},
        content_type="application/json",
        **auth(deploy_key),
    )
    assert refused.status_code == 404 and "create it first" in refused.json()["error"]
    created = client.post(
        "/api/v1/models/churn/deployments",
        {"name": "staging"},
        content_type="application/json",
        **auth(deploy_key),
    )
    assert created.status_code == 201 and created.json()["variants"] == []
    assert not Deployment.objects.filter(name="prodution").exists()


def test_an_idle_deployment_is_archived_and_leaves_lists_and_routing(
    client, production, alice, deploy_key
):
    typo = deployment_deploy(
        model_name="churn", deployment_name="prodution", version_number=2, actor=alice
    ).deployment
    client.force_login(alice)
    response = client.post(
        reverse("monitoring:deployment-archive", args=["churn", "prodution"]),
        {"reason": "created by a typo"},
    )
    assert response.status_code == 302
    typo.refresh_from_db()
    assert typo.archived_at is not None and not typo.variants.exists()
    assert typo.events.first().kind == "archived" and typo.events.first().before[0]["version"] == 2
    assert AuditEntry.objects.filter(action="deployment.archived").exists()
    listed = client.get("/api/v1/models/churn/deployments", **auth(deploy_key)).json()
    assert [d["name"] for d in listed] == ["production"]
    page = client.get(reverse("serving:deployment-list")).content.decode()
    assert "Archived churn/prodution" in page and 'href="/deployments/churn/prodution/"' not in page
    deploy_again = client.post(
        "/api/v1/models/churn/deployments/prodution/deploy",
        {"version": 2},
        content_type="application/json",
        **auth(deploy_key),
    )
    assert deploy_again.status_code == 409 and "archived" in deploy_again.json()["error"]
    with pytest.raises(Conflict, match="archived"):
        deployment_configure(deployment=typo, actor=alice, changes={"max_batch_size": 8})
    assert "prodution" not in [d["name"] for d in _read_deployments()]
    revived = deployment_create(model_name="churn", deployment_name="prodution", actor=alice)
    assert revived.archived_at is None and not revived.variants.exists()


def test_a_deployment_that_took_traffic_in_the_last_hour_is_not_archived(
    client, production, alice, deploy_key
):
    now = timezone.now()
    MetricRollup.objects.create(
        deployment_id=production.pk,
        version=1,
        variant="primary",
        resolution=Resolution.MINUTE,
        bucket_start=now - timedelta(minutes=20),
        count=3,
    )
    with pytest.raises(Conflict, match="answered 3 request"):
        deployment_archive_when_idle(
            model_name="churn", deployment_name="production", actor=alice, reason="x", now=now
        )
    response = client.post(
        "/api/v1/models/churn/deployments/production/archive",
        {"reason": "retire"},
        content_type="application/json",
        **auth(deploy_key),
    )
    assert response.status_code == 409 and response.json()["code"] == "still_serving"
    event = deployment_archive_when_idle(
        model_name="churn",
        deployment_name="production",
        actor=alice,
        reason="quiet for two hours",
        now=now + timedelta(hours=2),
    )
    assert event.kind == "archived" and event.after == []
