"""The protocol corners and the rollout status against a real server process, with the real
tritonclient.http (compressed requests and answers, Triton's extensions)."""

from __future__ import annotations

import numpy as np
import pytest
import requests

from serving.deploy import deployment_deploy
from serving.replicas import replica_id
from tests.support.servers import start_server

pytestmark = pytest.mark.django_db(transaction=True)
ROWS = np.array([[0.1, 0.2, 0.3, 0.4], [1.0, -1.0, 0.5, 2.0]], dtype="float32")


@pytest.fixture
def server(churn, alice, tmp_path):
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    srv = start_server(tmp_path)
    yield srv
    srv.stop()


def test_tritonclient_http_uses_compression_and_triton_extensions(
    server, predict_key, keras_outputs
):
    import tritonclient.http as httpclient

    headers = {"Authorization": f"Bearer {predict_key}"}
    client = httpclient.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    assert client.is_server_live()
    assert client.is_model_ready("churn", headers=headers)
    config = client.get_model_config("churn", headers=headers)
    assert config["input"][0] == {"name": "features", "data_type": "TYPE_FP32", "dims": [4]}
    index = client.get_model_repository_index(headers=headers)
    assert {"name": "churn", "version": "1", "state": "READY", "reason": ""} in index

    expected = keras_outputs(1, ROWS)
    for request_coding, response_coding in (("gzip", None), ("deflate", "gzip"), (None, "deflate")):
        tensor = httpclient.InferInput("features", list(ROWS.shape), "FP32")
        tensor.set_data_from_numpy(ROWS, binary_data=True)
        result = client.infer(
            "churn",
            [tensor],
            headers=dict(headers),
            request_compression_algorithm=request_coding,
            response_compression_algorithm=response_coding,
        )
        np.testing.assert_allclose(result.as_numpy("score"), expected, rtol=1e-5, atol=1e-6)

    stats = client.get_inference_statistics("churn", headers=headers)
    [entry] = stats["model_stats"]
    assert entry["inference_stats"]["success"]["count"] == 3


def test_the_server_reports_its_rollout_status(server, deploy_key):
    response = requests.get(
        f"{server.url}/api/v1/models/churn/deployments/production/status",
        headers={"Authorization": f"Bearer {deploy_key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # The server's worker process (granian forks it), not this test process.
    [mine] = [r for r in body["replicas"] if r["replica"] != replica_id()]
    assert mine["up_to_date"] is True
    assert mine["serving"] == [{"version": 1, "weight": 100, "role": "primary"}]
    assert mine["epoch"]
