"""A version that cannot load is an explicit state: the old one serves, retries back off, and
the rollout status, /readyz and the deployment page say "failed to load on N replicas"."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from serving.deploy import deployment_deploy

from .conftest import auth

pytestmark = pytest.mark.django_db
ROWS = [[0.1, 0.2, 0.3, 0.4]]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _own_replica_dir(settings, tmp_path):
    settings.MODELGATE_REPLICA_DIR = tmp_path / "replicas"
    settings.MODELGATE_REPLICA_KEY_PREFIX = f"test:{uuid.uuid4().hex}:replica:"  # with Redis


def corrupt(version) -> None:
    """Break the stored artifact the way a bad disk or a half-copied file would."""
    from registry.artifacts import artifact_file_path

    artifact_file_path(version.artifact).write_bytes(b"not a keras file")


@pytest.fixture
def broken_v2(deployed, alice, pool):
    """churn v1 serving; v2 deployed but its artifact is corrupt."""
    clock = Clock()
    pool.backoff.clock = clock
    corrupt(deployed[1])
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=2, actor=alice
    )
    return clock


def test_it_keeps_serving_the_old_version_when_the_new_one_cannot_load(
    client, broken_v2, pool, predict_key
):
    table = pool.refresh()
    route = table.routes[("churn", "production")]
    assert route.primary().number == 1
    [failure] = table.failed[("churn", "production")]
    assert failure["version"] == 2 and failure["cause"].startswith("ModelLoadError: ")
    assert pool.ready is True  # it still serves every deployment

    response = client.post(
        "/v1/models/churn:predict",
        json.dumps({"instances": ROWS}),
        content_type="application/json",
        **auth(predict_key),
    )
    assert response.status_code == 200, response.content


def test_it_retries_with_backoff_and_one_log_line_per_attempt(broken_v2, pool, caplog):
    clock = broken_v2
    with caplog.at_level(logging.WARNING, logger="serving.loadstate"):
        pool.refresh()
        pool.refresh()  # not due yet: no second attempt
        clock.now += 1.0
        pool.refresh()
        pool.refresh()
    lines = [r.getMessage() for r in caplog.records if r.name == "serving.loadstate"]
    assert len(lines) == 2
    assert lines[0].startswith("could not load churn v2 (attempt 1, next in 1s): ModelLoadError")
    assert lines[1].startswith("could not load churn v2 (attempt 2, next in 2s): ModelLoadError")
    assert all(r.exc_info is None for r in caplog.records)
    assert pool.backoff.next_retry_at() == pytest.approx(clock.now + 2.0)


def test_the_status_api_names_the_failure_and_one_rollback_clears_it(
    client, broken_v2, pool, deploy_key
):
    pool.refresh()
    url = "/api/v1/models/churn/deployments/production/status"
    status = client.get(url, **auth(deploy_key)).json()
    assert status["converged"] is False
    assert status["desired"] == [{"version": 2, "weight": 100, "role": "primary"}]
    [replica] = status["replicas"]
    assert replica["serving"] == [{"version": 1, "weight": 100, "role": "primary"}]
    assert replica["up_to_date"] is False
    assert [f["version"] for f in replica["failures"]] == [2]
    [summary] = status["load_failures"]
    assert summary["replicas"] == 1
    assert summary["message"].startswith("v2 failed to load on 1 replica: ModelLoadError: ")
    assert status["message"] == summary["message"]

    rolled = client.post(
        "/api/v1/models/churn/deployments/production/rollback",
        json.dumps({"reason": "v2 does not load"}),
        content_type="application/json",
        **auth(deploy_key),
    )
    assert rolled.status_code == 201, rolled.content
    pool.refresh()
    status = client.get(url, **auth(deploy_key)).json()
    assert status["converged"] is True and status["load_failures"] == []
    assert status["replicas"][0]["serving"][0]["version"] == 1
    assert status["replicas"][0]["failures"] == []


def test_readyz_says_what_failed_to_load(client, broken_v2, pool, settings):
    settings.MODELGATE_POOL_AUTOSTART = True
    pool.refresh()
    response = client.get("/readyz")
    assert "v2 failed to load on 1 replica: ModelLoadError" in response.content.decode()


def test_the_deployment_page_shows_the_failure_and_offers_the_rollback(
    client, broken_v2, pool, alice, bob
):
    pool.refresh()
    client.force_login(alice)
    page = client.get("/deployments/churn/production/").content.decode()
    assert 'id="rollout-status"' in page
    assert "v2 failed to load on 1 replica: ModelLoadError" in page
    assert 'data-to-label="the previous state">Roll back now</button>' in page
    client.force_login(bob)  # a viewer sees the state, not the button
    fragment = client.get("/deployments/churn/production/rollout").content.decode()
    assert "v2 failed to load on 1 replica" in fragment and "data-rollback-open" not in fragment


def test_a_first_version_that_cannot_load_says_why_instead_of_loading(
    client, churn, alice, pool, predict_key
):
    corrupt(churn[0])
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    pool.refresh()
    assert pool.ready is False  # nothing to serve for this deployment
    response = client.get("/v2/models/churn/ready", **auth(predict_key))
    assert response.status_code == 503
    assert response.json()["error"].startswith(
        "churn/production failed to load here (v1: ModelLoadError: "
    )
