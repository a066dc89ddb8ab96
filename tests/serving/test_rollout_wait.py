"""Deploy and rollback with `"wait": true` answer once every live replica serves the new state.

The pool runs its real background thread here (so the test's writes must be committed)."""

from __future__ import annotations

import json
import uuid

import pytest

from .conftest import auth
from .test_load_failures import corrupt

pytestmark = pytest.mark.django_db(transaction=True)
BASE = "/api/v1/models/churn/deployments/production"


@pytest.fixture
def replica_dir(settings, tmp_path):
    settings.MODELGATE_REPLICA_DIR = tmp_path / "replicas"
    settings.MODELGATE_REPLICA_KEY_PREFIX = f"test:{uuid.uuid4().hex}:replica:"  # with Redis
    return settings.MODELGATE_REPLICA_DIR


def _post(client, path, body, key):
    return client.post(path, json.dumps(body), content_type="application/json", **auth(key))


def test_it_answers_a_waited_deploy_once_the_replica_serves_it(
    client, churn, pool, deploy_key, replica_dir
):
    pool.ensure_started()
    response = _post(client, f"{BASE}/deploy", {"version": 1, "wait": True}, deploy_key)
    assert response.status_code == 201, response.content
    rollout = response.json()["rollout"]
    assert rollout["converged"] is True and rollout["lagging"] == []
    [replica] = rollout["replicas"]
    assert replica["serving"] == [{"version": 1, "weight": 100, "role": "primary"}]
    assert [entry["version"] for entry in replica["loaded"]] == [1]
    # Landed means landed: this process's route table serves v1 already.
    assert pool.table.routes[("churn", "production")].primary().number == 1


def test_it_answers_502_when_the_new_version_fails_everywhere_and_rolls_back_in_one_call(
    client, churn, pool, deploy_key, replica_dir
):
    pool.ensure_started()
    assert _post(client, f"{BASE}/deploy", {"version": 1, "wait": True}, deploy_key).status_code
    corrupt(churn[1])
    failed = _post(client, f"{BASE}/deploy", {"version": 2, "wait": True}, deploy_key)
    assert failed.status_code == 502, failed.content
    body = failed.json()
    assert body["code"] == "rollout_failed"
    assert "v2 failed to load on 1 replica: ModelLoadError" in body["error"]
    assert body["event"]["kind"] == "deployed"
    assert pool.table.routes[("churn", "production")].primary().number == 1  # old state serves

    back = _post(client, f"{BASE}/rollback", {"reason": "v2 broken", "wait": True}, deploy_key)
    assert back.status_code == 201, back.content
    assert back.json()["rollout"]["converged"] is True


def test_it_times_out_naming_the_replicas_that_lag(
    client, churn, pool, deploy_key, replica_dir, monkeypatch
):
    from serving import replicas

    pool.ensure_started()
    # Another replica that reports but never picks the change up (stuck loading, say).
    with monkeypatch.context() as patch:
        patch.setattr(replicas, "_replica_id", "ghost-1")
        replicas.replica_report({"epoch": "d0", "deployments": {}, "loaded": []})
    response = _post(
        client, f"{BASE}/deploy", {"version": 1, "wait": True, "wait_timeout": 0.5}, deploy_key
    )
    assert response.status_code == 504, response.content
    body = response.json()
    assert body["code"] == "rollout_timeout"
    assert "ghost-1" in body["rollout"]["lagging"]  # this process may still be warming v1, too
    assert "ghost-1" in body["error"]


def test_no_reporting_replica_is_not_landed(client, churn, deploy_key, replica_dir):
    # No pool runs in this process: nothing serves the change, whatever the database says.
    response = _post(
        client, f"{BASE}/deploy", {"version": 1, "wait": True, "wait_timeout": 0.3}, deploy_key
    )
    assert response.status_code == 504, response.content
    assert response.json()["error"] == (
        "the change is recorded, but no serving replica reported within 0.3s"
    )
