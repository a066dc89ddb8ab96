"""Console pages of deployments: deploy from the version page, history, rollback, time travel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from serving.deploy import deployment_create, deployment_deploy
from serving.models import Deployment, DeploymentEvent

pytestmark = pytest.mark.django_db


def _serving() -> list[int]:
    dep = Deployment.objects.get(model__name="churn", name="production")
    return [v.version.number for v in dep.variants.all()]


def test_the_version_page_offers_deploy_to_deployers_only(client, churn, alice, bob):
    url = reverse("registry:version-detail", args=["churn", 1])
    client.force_login(alice)
    page = client.get(url).content.decode()
    assert reverse("serving:version-deploy", args=["churn", 1]) in page
    client.force_login(bob)
    page = client.get(url).content.decode()
    assert "Deploying needs the deployer role" in page and "disabled" in page


def test_a_viewer_cannot_deploy_or_roll_back(client, churn, bob, alice):
    client.force_login(bob)
    response = client.post(
        reverse("serving:version-deploy", args=["churn", 1]),
        {"deployment": "production", "reason": "x"},
    )
    assert response.status_code == 403
    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=alice,
        reason="setup",
    )
    response = client.post(
        reverse("serving:deployment-rollback", args=["churn", "production"]), {"reason": "x"}
    )
    assert response.status_code == 403
    assert DeploymentEvent.objects.count() == 1


def test_a_deployer_deploys_and_rolls_back_from_the_console(client, churn, alice):
    deployment_create(model_name="churn", deployment_name="production", actor=alice)
    client.force_login(alice)
    for number in (1, 2):
        response = client.post(
            reverse("serving:version-deploy", args=["churn", number]),
            {"deployment": "production", "reason": f"ship v{number}"},
        )
        assert response.status_code == 302
        assert response.url == reverse("serving:deployment-detail", args=["churn", "production"])
    assert _serving() == [2]
    page = client.get(reverse("serving:deployment-detail", args=["churn", "production"]))
    html = page.content.decode()
    assert "ship v2" in html and "Roll back to v1 · state of #" in html
    client.post(
        reverse("serving:deployment-rollback", args=["churn", "production"]), {"reason": "too slow"}
    )
    assert _serving() == [1]
    assert DeploymentEvent.objects.first().reason == "too slow"


def test_restoring_an_earlier_event_and_reasons_are_required(client, churn, alice):
    first = deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=alice,
        reason="one",
    )
    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=2,
        actor=alice,
        reason="two",
    )
    client.force_login(alice)
    url = reverse("serving:deployment-rollback", args=["churn", "production"])
    response = client.post(url, {"reason": "", "to_event": first.pk}, follow=True)
    assert "A rollback needs a reason." in response.content.decode()
    assert _serving() == [2]
    client.post(url, {"reason": "back to one", "to_event": first.pk})
    assert _serving() == [1]
    assert DeploymentEvent.objects.first().restored_event_id == first.pk


def test_the_page_answers_what_was_serving_at_a_time(client, churn, alice):
    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=alice,
        reason="one",
    )
    client.force_login(alice)
    url = reverse("serving:deployment-detail", args=["churn", "production"])
    html = client.get(url, {"at": "2999-01-01T00:00"}).content.decode()
    assert 'id="state-at"' in html and "v1 (100% primary)" in html
    html = client.get(url, {"at": "2000-01-01T00:00"}).content.decode()
    assert "Nothing was deployed at" in html


def test_settings_are_edited_from_the_console(client, churn, alice):
    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=alice,
        reason="one",
    )
    client.force_login(alice)
    url = reverse("serving:deployment-configure", args=["churn", "production"])
    data = {
        "max_batch_size": 8,
        "max_delay_ms": 1.5,
        "max_queue_rows": 100,
        "max_request_rows": 50,
        "cache_ttl_seconds": 0,
    }
    client.post(url, data)
    dep = Deployment.objects.get(name="production")
    assert (dep.max_batch_size, dep.max_delay_ms, dep.max_request_rows) == (8, 1.5, 50)
    response = client.post(url, {**data, "max_batch_size": 0}, follow=True)
    assert "Invalid settings" in response.content.decode()
    assert Deployment.objects.get(name="production").max_batch_size == 8


def test_unknown_models_and_deployments_are_404(client, churn, alice):
    client.force_login(alice)
    assert (
        client.get(reverse("serving:deployment-detail", args=["churn", "nope"])).status_code == 404
    )
    response = client.post(
        reverse("serving:version-deploy", args=["ghost", 1]), {"deployment": "production"}
    )
    assert response.status_code == 404
