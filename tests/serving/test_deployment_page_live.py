"""The deployment page is whole and says what the fleet does: the rollout card refreshes itself,
and when an event landed since the page was drawn the same answer carries "Serving now", the
rollback button, the traffic editor and the history out of band; a web-only process says it
serves no models instead of "loading"; the deploy form can wait until every replica serves."""

from __future__ import annotations

import re
import uuid

import pytest

from serving.deploy import deployment_deploy

PAGE = "/deployments/churn/production/"
ROLLOUT = "/deployments/churn/production/rollout"


@pytest.fixture(autouse=True)
def _own_replica_dir(settings, tmp_path):
    settings.MODELGATE_REPLICA_DIR = tmp_path / "replicas"
    settings.MODELGATE_REPLICA_KEY_PREFIX = f"test:{uuid.uuid4().hex}:replica:"  # with Redis


@pytest.fixture
def production(churn, alice):
    return deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )


def _poll_url(html: str) -> str:
    match = re.search(r'id="rollout-status" hx-get="([^"]+)" hx-trigger="every (\d+)s"', html)
    assert match, "the rollout card does not refresh itself"
    return match.group(1).replace("&amp;", "&")


@pytest.mark.django_db
def test_an_unchanged_state_refreshes_only_the_rollout_card(client, alice, production):
    client.force_login(alice)
    url = _poll_url(client.get(PAGE).content.decode())
    assert url == f"{ROLLOUT}?shown={production.pk}"
    fragment = client.get(url).content.decode()
    assert 'id="rollout-status"' in fragment and "hx-swap-oob" not in fragment


@pytest.mark.django_db
def test_a_new_event_swaps_everything_that_shows_the_state(client, alice, production):
    client.force_login(alice)
    url = _poll_url(client.get(PAGE).content.decode())
    event = deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=2,
        actor=alice,
        reason="retrained",
    )
    fragment = client.get(url).content.decode()
    assert _poll_url(fragment) == f"{ROLLOUT}?shown={event.pk}"  # the next poll knows it
    serving = fragment[fragment.index('<div class="card" id="serving-now" hx-swap-oob="true">') :]
    serving = serving[: serving.index('<dialog id="rollback-dialog"')]
    assert '">v2</a></td><td>100%' in serving and ">v1</a>" not in serving
    assert f"Since #{event.pk}: deployed by alice" in serving
    assert f"Roll back to v1 · state of #{production.pk}" in serving  # now it points at v1
    editor = fragment[fragment.index('data-traffic-editor hx-swap-oob="true"') :]
    assert '<option value="2" selected>v2 (validated)</option>' in editor
    history = fragment[fragment.index('<div id="history" hx-swap-oob="true">') :]
    assert f"<td>{event.pk}</td>" in history and "retrained" in history


@pytest.mark.django_db
def test_a_viewer_gets_the_state_without_the_deployer_controls(client, alice, bob, production):
    client.force_login(bob)
    url = _poll_url(client.get(PAGE).content.decode())
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=2, actor=alice
    )
    fragment = client.get(url).content.decode()
    assert '<div class="card" id="serving-now" hx-swap-oob="true">' in fragment
    assert "traffic-editor" not in fragment and "data-rollback-open" not in fragment


@pytest.mark.django_db
def test_a_web_only_process_says_it_serves_no_models(client, alice, production):
    client.force_login(alice)
    html = client.get(PAGE).content.decode()
    assert "This replica" not in html and ">loading<" not in html
    assert "No serving replica is reporting" in html
    assert "a web process that serves no models" in html


@pytest.mark.django_db(transaction=True)
def test_a_serving_process_names_itself_among_the_replicas(client, alice, production, pool):
    from serving.replicas import replica_id

    pool.refresh()  # this process loads v1 and reports
    client.force_login(alice)
    html = client.get(PAGE).content.decode()
    assert "Landed on 1/1 replica:" in html
    assert f"This page comes from replica <code>{replica_id()}</code>" in html
    assert f'{replica_id()} <span class="muted">(this process)</span>' in html


def _deploy(client, number: int, *, wait: bool):
    data = {"deployment": "production", "reason": "next"}
    if wait:
        data["wait"] = "on"
    response = client.post(f"/deployments/deploy/churn/v{number}", data, follow=True)
    assert response.redirect_chain[-1][0] == PAGE
    return [str(m) for m in response.context["messages"]]


@pytest.mark.django_db(transaction=True)
def test_the_deploy_form_waits_until_every_replica_serves(client, alice, production, pool):
    pool.ensure_started()  # the real background thread picks the deploy up
    client.force_login(alice)
    html = client.get("/models/churn/v2/").content.decode()
    assert 'name="wait"' in html and "Wait until every serving replica serves it" in html
    assert _deploy(client, 2, wait=True) == [
        "Deployed churn v2 to production: landed on 1/1 replica."
    ]
    assert pool.table.routes[("churn", "production")].primary().number == 2


@pytest.mark.django_db(transaction=True)
def test_a_waited_deploy_says_when_the_version_failed_to_load(client, alice, churn, pool):
    from tests.serving.test_load_failures import corrupt

    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    pool.ensure_started()
    corrupt(churn[1])
    client.force_login(alice)
    [message] = _deploy(client, 2, wait=True)
    assert message.startswith("Deployed churn v2 to production, but v2 failed to load on 1 ")
    assert message.endswith("The previous state keeps serving; roll back below.")


@pytest.mark.django_db
def test_a_waited_deploy_without_replicas_says_nothing_serves_it(
    client, alice, production, settings
):
    settings.MODELGATE_ROLLOUT_WAIT_SECONDS = 0.3  # the wait is bounded by the smaller limit
    client.force_login(alice)
    [message] = _deploy(client, 2, wait=True)
    assert message == (
        "Deployed churn v2 to production, but no serving replica reported within 0.3 s: "
        "nothing serves it until a serving process starts."
    )
    assert _deploy(client, 1, wait=False) == ["Deployed churn v1 to production."]
