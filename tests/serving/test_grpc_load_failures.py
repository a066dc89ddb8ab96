"""A version that fails to load shows over gRPC as over REST: the old one keeps answering, TF
Serving's status lists the broken one as END with the cause, Triton's index as UNAVAILABLE."""

from __future__ import annotations

import uuid

import grpc
import numpy as np
import pytest
import tensorflow as tf
import tritonclient.grpc as triton

from serving.grpc.tfs import get_model_status_pb2, model_service_pb2_grpc, predict_pb2
from serving.grpc.tfs import prediction_service_pb2_grpc as prediction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _own_replica_dir(settings, tmp_path):
    settings.MODELGATE_REPLICA_DIR = tmp_path / "replicas"
    settings.MODELGATE_REPLICA_KEY_PREFIX = f"test:{uuid.uuid4().hex}:replica:"


def test_a_version_that_cannot_load_is_reported_and_the_old_one_serves(
    deployed, alice, pool, grpc_port, predict_key
):
    from registry.artifacts import artifact_file_path
    from serving.deploy import deployment_deploy

    artifact_file_path(deployed[1].artifact).write_bytes(b"not a keras file")
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=2, actor=alice
    )
    pool.refresh()
    key = (("authorization", f"Bearer {predict_key}"),)
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "churn"
        request.inputs["features"].CopyFrom(tf.make_tensor_proto(np.ones((1, 4), np.float32)))
        answer = prediction.PredictionServiceStub(channel).Predict(request, metadata=key)
        status = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(
            get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "churn"}), metadata=key
        )
    assert answer.model_spec.version.value == 1
    states = {s.version: s for s in status.model_version_status}
    assert states[1].state == get_model_status_pb2.ModelVersionStatus.State.AVAILABLE
    assert states[2].state == get_model_status_pb2.ModelVersionStatus.State.END
    assert "ModelLoadError" in states[2].status.error_message
    with triton.InferenceServerClient(url=f"127.0.0.1:{grpc_port}") as client:
        index = client.get_model_repository_index(headers=dict(key), as_json=True)["models"]
    broken = next(entry for entry in index if entry.get("version") == "2")
    assert broken["state"] == "UNAVAILABLE" and "ModelLoadError" in broken["reason"]
