"""The Deployments list and a version's "Serving in" refresh in place: each page polls its own
URL every 10 s, and an htmx request to that URL answers only the part, drawn from the state now."""

from __future__ import annotations

import pytest

from serving.deploy import deployment_create, deployment_deploy, deployment_rollback

pytestmark = pytest.mark.django_db

LIST = "/deployments/"
VERSION_2 = "/models/churn/v2/"


def _deploy(actor, number: int) -> None:
    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=number,
        actor=actor,
        reason=f"ship v{number}",
        create=True,
    )


def _htmx(client, url: str) -> str:
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]  # a cache never hands the part out as the page
    fragment = response.content.decode()
    assert "<html" not in fragment and "<nav" not in fragment  # the part alone, no base layout
    return fragment


def test_the_deployments_list_polls_its_own_url(client, bob, churn, alice):
    _deploy(alice, 1)
    client.force_login(bob)
    page = client.get(LIST).content.decode()
    assert (
        '<div id="deployment-list-table" hx-get="/deployments/" hx-trigger="every 10s" '
        'hx-swap="outerHTML">' in page
    )
    assert "v1 (100% primary)" in page


def test_the_deployments_list_refresh_shows_a_later_deploy(client, bob, churn, alice):
    _deploy(alice, 1)
    client.force_login(bob)
    assert "v1 (100% primary)" in client.get(LIST).content.decode()
    _deploy(alice, 2)
    fragment = _htmx(client, LIST)
    assert "<h1>Deployments</h1>" not in fragment
    assert '<div id="deployment-list-table" hx-get="/deployments/"' in fragment  # keeps polling
    assert "v2 (100% primary)" in fragment and "v1 (100% primary)" not in fragment
    assert '<a href="/deployments/churn/production/">production</a>' in fragment


def test_an_empty_deployments_list_keeps_polling_until_something_deploys(client, bob, churn, alice):
    client.force_login(bob)
    page = client.get(LIST).content.decode()
    assert "Nothing is deployed yet." in page and 'id="deployment-list-table"' in page
    deployment_create(model_name="churn", deployment_name="staging", actor=alice)
    fragment = _htmx(client, LIST)
    assert "Nothing is deployed yet." not in fragment
    assert '<a href="/deployments/churn/staging/">staging</a>' in fragment
    assert '<span class="muted">nothing</span>' in fragment  # created, serves nothing yet


def test_the_version_page_polls_its_own_url_for_where_it_serves(client, bob, churn):
    client.force_login(bob)
    page = client.get(VERSION_2).content.decode()
    assert (
        '<div id="version-serving" hx-get="/models/churn/v2/" hx-trigger="every 10s" '
        'hx-swap="outerHTML">' in page
    )
    serving = page[page.index('<div id="version-serving"') :]
    assert serving.index("Not serving in any deployment.") < serving.index("</div>")


def test_the_version_refresh_follows_a_deploy_and_a_rollback(client, alice, churn):
    _deploy(alice, 1)
    client.force_login(alice)
    assert "Not serving in any deployment." in client.get(VERSION_2).content.decode()

    _deploy(alice, 2)
    fragment = _htmx(client, VERSION_2)
    assert 'id="signature"' not in fragment
    assert 'id="version-deploy"' not in fragment and "Deploy v2" not in fragment
    assert '<div id="version-serving" hx-get="/models/churn/v2/"' in fragment  # keeps polling
    assert "Serving in:" in fragment
    assert '<a href="/deployments/churn/production/">production</a>' in fragment

    deployment_rollback(
        model_name="churn", deployment_name="production", actor=alice, reason="too slow"
    )
    fragment = _htmx(client, VERSION_2)
    assert "Not serving in any deployment." in fragment and "Serving in:" not in fragment
    assert "production" in _htmx(client, "/models/churn/v1/")
