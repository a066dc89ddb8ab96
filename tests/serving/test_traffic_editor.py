"""The traffic split editor: a row per variant (version picked from a list, weight, role)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from serving.deploy import deployment_deploy
from serving.models import Deployment

pytestmark = pytest.mark.django_db
PAGE = "/deployments/churn/production/"


@pytest.fixture
def production(churn, alice):
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )


def _split() -> list[tuple[int, int, str]]:
    dep = Deployment.objects.get(name="production")
    return sorted((v.version.number, v.weight, v.role) for v in dep.variants.all())


def test_the_editor_shows_a_row_per_variant_with_pickers(client, production, alice):
    client.force_login(alice)
    html = client.get(PAGE).content.decode()
    assert "data-traffic-editor" in html and "js/traffic_editor.js" in html
    assert '<option value="1" selected>v1 (validated)</option>' in html
    assert '<option value="2">v2 (validated)</option>' in html
    assert 'name="split"' not in html


def test_rows_change_the_split_and_blank_rows_are_skipped(client, production, alice):
    client.force_login(alice)
    response = client.post(
        reverse("serving:deployment-traffic", args=["churn", "production"]),
        {
            "version": ["1", "2", ""],
            "weight": ["90", "10", "0"],
            "role": ["primary", "candidate", "candidate"],
            "reason": "canary",
        },
        follow=True,
    )
    assert "Traffic of churn/production changed." in response.content.decode()
    assert _split() == [(1, 90, "primary"), (2, 10, "candidate")]


def test_a_bad_split_says_what_is_wrong_and_changes_nothing(client, production, alice):
    client.force_login(alice)
    response = client.post(
        reverse("serving:deployment-traffic", args=["churn", "production"]),
        {
            "version": ["1", "2"],
            "weight": ["90", "20"],
            "role": ["primary", "candidate"],
            "reason": "oops",
        },
        follow=True,
    )
    assert "the serving weights must add up to 100, not 110" in response.content.decode()
    assert _split() == [(1, 100, "primary")]
