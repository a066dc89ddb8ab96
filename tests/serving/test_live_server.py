"""Real server processes on loopback: unmodified protocol clients, and rollbacks under load."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import requests

from serving.deploy import deployment_deploy, deployment_rollback
from tests.support.servers import start_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

ROWS = np.array([[0.1, 0.2, 0.3, 0.4], [1.0, -1.0, 0.5, 2.0]], dtype="float32")


@pytest.fixture
def production_v1(churn, alice):
    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=alice,
        reason="launch",
    )
    return churn


@pytest.fixture
def server(production_v1, tmp_path):
    srv = start_server(tmp_path)
    yield srv
    srv.stop()


def _version_of(url: str, key: str) -> int:
    response = requests.post(
        f"{url}/api/v1/models/churn/deployments/production/predict",
        json={"instances": ROWS[:1].tolist()},
        headers={"Authorization": f"Bearer {key}"},
        timeout=5,
    )
    response.raise_for_status()
    return response.json()["version"]


def _wait_for_version(url: str, key: str, version: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if _version_of(url, key) == version:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"{url} did not serve v{version} within {timeout}s")


def test_tritonclient_works_unchanged(server, predict_key, keras_outputs):
    import tritonclient.http as httpclient

    headers = {"Authorization": f"Bearer {predict_key}"}
    client = httpclient.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("churn", headers=headers)
    meta = client.get_model_metadata("churn", headers=headers)
    assert meta["inputs"][0]["name"] == "features" and meta["inputs"][0]["datatype"] == "FP32"
    for binary in (True, False):
        tensor = httpclient.InferInput("features", list(ROWS.shape), "FP32")
        tensor.set_data_from_numpy(ROWS, binary_data=binary)
        wanted = httpclient.InferRequestedOutput("score", binary_data=binary)
        # tritonclient writes Inference-Header-Content-Length into the dict it is given.
        result = client.infer(
            "churn", [tensor], outputs=[wanted], headers=dict(headers), request_id="7"
        )
        np.testing.assert_allclose(
            result.as_numpy("score"), keras_outputs(1, ROWS), rtol=1e-5, atol=1e-6
        )
        assert result.get_response()["id"] == "7"


def test_tfserving_rest_clients_work(server, predict_key, keras_outputs):
    headers = {"Authorization": f"Bearer {predict_key}"}
    status = requests.get(f"{server.url}/v1/models/churn", headers=headers, timeout=5).json()
    assert status["model_version_status"][0]["state"] == "AVAILABLE"
    body = requests.post(
        f"{server.url}/v1/models/churn:predict",
        headers=headers,
        timeout=5,
        data='{"instances": [[0.1, 0.2, 0.3, NaN]]}',
    ).json()
    assert len(body["predictions"]) == 1
    body = requests.post(
        f"{server.url}/v1/models/churn:predict",
        headers=headers,
        timeout=5,
        json={"instances": ROWS.tolist()},
    ).json()
    np.testing.assert_allclose(body["predictions"], keras_outputs(1, ROWS), rtol=1e-5, atol=1e-6)


def test_a_rollback_under_load_fails_no_request_and_never_flips_back(
    server, production_v1, alice, predict_key
):
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=2, actor=alice, reason="v2"
    )
    _wait_for_version(server.url, predict_key, 2, timeout=60)  # loads and warms v2 beside v1

    stop = threading.Event()
    results: list[tuple[float, float, int, int]] = []  # (sent, answered, status, version)
    lock = threading.Lock()

    def hammer() -> None:
        session = requests.Session()
        url = f"{server.url}/api/v1/models/churn/deployments/production/predict"
        while not stop.is_set():
            sent = time.monotonic()
            response = session.post(
                url,
                json={"instances": ROWS[:1].tolist()},
                timeout=10,
                headers={"Authorization": f"Bearer {predict_key}"},
            )
            version = response.json().get("version", -1) if response.ok else -1
            with lock:
                results.append((sent, time.monotonic(), response.status_code, version))

    def first_v1_answer() -> float | None:
        with lock:
            return min((a for s, a, _, v in results if v == 1 and s > rolled_back_at), default=None)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    deployment_rollback(
        model_name="churn", deployment_name="production", actor=alice, reason="rollback under load"
    )
    rolled_back_at = time.monotonic()
    # How fast the swap lands is a speed question (bench/); here: it lands, then holds.
    deadline = rolled_back_at + 60
    while first_v1_answer() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join(15)

    assert len(results) > 50
    failures = [r for r in results if r[2] != 200]
    assert failures == [], f"{len(failures)} failed requests, e.g. {failures[:3]}"
    swapped_at = first_v1_answer()
    assert swapped_at is not None, "v1 was never served after the rollback"
    # Every request sent after the first v1 answer gets v1: the swap is atomic, never undone.
    late_v2 = [s - swapped_at for s, _, _, v in results if v == 2 and s > swapped_at]
    assert late_v2 == [], f"v2 served again {max(late_v2):.2f}s after v1 was"


def test_a_rollback_reaches_every_serving_process(
    server, production_v1, alice, predict_key, tmp_path
):
    second = start_server(tmp_path)
    try:
        deployment_deploy(
            model_name="churn",
            deployment_name="production",
            version_number=2,
            actor=alice,
            reason="v2",
        )
        for srv in (server, second):
            _wait_for_version(srv.url, predict_key, 2, timeout=60)
        deployment_rollback(
            model_name="churn", deployment_name="production", actor=alice, reason="everywhere"
        )
        for srv in (server, second):
            _wait_for_version(srv.url, predict_key, 1, timeout=60)
    finally:
        second.stop()
