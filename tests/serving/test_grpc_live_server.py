"""gRPC inside real serving processes (granian, two workers sharing GRPC_PORT): tritonclient.grpc
works unchanged, a deploy reaches gRPC like REST (the deploy epoch), and SIGTERM drains it."""

from __future__ import annotations

import time

import grpc
import numpy as np
import pytest
import tritonclient.grpc as triton
from grpc_health.v1 import health_pb2, health_pb2_grpc

from serving.deploy import deployment_deploy
from tests.support.servers import free_port, start_server

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = np.array([[0.1, 0.2, 0.3, 0.4]], dtype=np.float32)


def _infer(url: str, key: str):
    with triton.InferenceServerClient(url=url) as client:
        tensor = triton.InferInput("features", list(ROWS.shape), "FP32")
        tensor.set_data_from_numpy(ROWS)
        return client.infer("churn", [tensor], headers={"x-api-key": key})


def _wait_serving(url: str, checks: int, timeout: float = 60.0) -> None:
    """Until `checks` health checks in a row, each on a fresh connection, say SERVING."""
    deadline, streak = time.monotonic() + timeout, 0
    while streak < checks:
        assert time.monotonic() < deadline, "gRPC health never became SERVING"
        with grpc.insecure_channel(url) as channel:
            status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        serving = status.status == health_pb2.HealthCheckResponse.SERVING
        streak = streak + 1 if serving else 0
        if not serving:
            time.sleep(0.2)


def test_grpc_serves_in_every_worker_follows_deploys_and_drains(
    deployed, alice, predict_key, keras_outputs, tmp_path
):
    grpc_port = free_port()
    server = start_server(
        tmp_path,
        granian_args=("--workers", "2"),
        GRPC_PORT=grpc_port,
        GRPC_HOST="127.0.0.1",
        MODELGATE_POOL_AUTOSTART="1",
        LOG_LEVEL="INFO",
    )
    url = f"127.0.0.1:{grpc_port}"
    try:
        # Each worker warms its own pool: health is SERVING once the one answering is ready.
        _wait_serving(url, checks=10)
        result = _infer(url, predict_key)
        np.testing.assert_allclose(result.as_numpy("score"), keras_outputs(1, ROWS), rtol=1e-5)

        deployment_deploy(
            model_name="churn", deployment_name="production", version_number=2, actor=alice
        )
        # Fresh connections land on either worker: both must move to v2 (each loads and warms
        # it on its own; until then a worker serves v1).
        deadline, streak = time.monotonic() + 60, 0
        while streak < 10:
            assert time.monotonic() < deadline, "gRPC never served the new deployment everywhere"
            version = _infer(url, predict_key).get_response().model_version
            streak = streak + 1 if version == "2" else 0
            if version != "2":
                time.sleep(0.1)
    finally:
        server.stop()
    assert server.output().count("gRPC server drained") == 2, server.output()
