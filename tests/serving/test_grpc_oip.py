"""OIP's `inference.GRPCInferenceService` with the real client, tritonclient.grpc: every RPC it
calls, raw and typed tensor contents, and the REST path's events, routing and versions."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import tritonclient.grpc as triton
from tritonclient.grpc import service_pb2, service_pb2_grpc

from serving import events

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = np.array([[0.1, 0.2, 0.3, 0.4], [1.0, -1.0, 0.5, 2.0]], dtype=np.float32)


@pytest.fixture
def client(grpc_port):
    with triton.InferenceServerClient(url=f"127.0.0.1:{grpc_port}") as c:
        yield c


def headers(key: str) -> dict:
    return {"authorization": f"Bearer {key}"}


def infer(client, key, model="churn", rows=ROWS, version="", **kwargs):
    tensor = triton.InferInput("features", list(rows.shape), "FP32")
    tensor.set_data_from_numpy(rows)
    return client.infer(model, [tensor], model_version=version, headers=headers(key), **kwargs)


def test_it_answers_health_and_server_metadata(client, deployed):
    assert client.is_server_live()
    assert client.is_server_ready()
    metadata = client.get_server_metadata(as_json=True)
    assert metadata["name"] == "modelgate" and "binary_tensor_data" in metadata["extensions"]


def test_it_infers_raw_contents_like_the_keras_model(client, deployed, predict_key, keras_outputs):
    result = infer(client, predict_key, request_id="req-7")
    np.testing.assert_allclose(result.as_numpy("score"), keras_outputs(1, ROWS), rtol=1e-5)
    response = result.get_response()
    assert (response.model_name, response.model_version, response.id) == ("churn", "1", "req-7")
    assert len(response.raw_output_contents) == 1  # answered raw, as tritonclient reads it


def test_it_infers_typed_contents(grpc_port, deployed, predict_key, keras_outputs):
    request = service_pb2.ModelInferRequest(model_name="churn")
    tensor = request.inputs.add(name="features", datatype="FP32", shape=list(ROWS.shape))
    tensor.contents.fp32_contents.extend(ROWS.reshape(-1).tolist())
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        response, call = stub.ModelInfer.with_call(request, metadata=(("x-api-key", predict_key),))
    scores = np.frombuffer(response.raw_output_contents[0], dtype="<f4").reshape(2, 1)
    np.testing.assert_allclose(scores, keras_outputs(1, ROWS), rtol=1e-5)
    assert dict(call.trailing_metadata())["x-prediction-id"]


def test_a_pinned_version_answers_with_that_versions_weights(
    client, deployed, predict_key, alice, pool, keras_outputs
):
    from serving.deploy import deployment_deploy

    deployment_deploy(
        model_name="churn", deployment_name="staging", version_number=2, actor=alice, reason="t"
    )
    pool.refresh()
    result = infer(client, predict_key, version="2")
    assert result.get_response().model_version == "2"
    np.testing.assert_allclose(result.as_numpy("score"), keras_outputs(2, ROWS), rtol=1e-5)


def test_it_publishes_a_prediction_event(client, deployed, predict_key, monkeypatch):
    sink = events.MemorySink()
    monkeypatch.setattr(events, "_buffer", events.EventBuffer(sink))
    infer(client, predict_key)
    events.get_buffer().flush()
    (event,) = sink.events
    assert (event.model, event.deployment, event.version, event.rows) == (
        "churn",
        "production",
        1,
        2,
    )
    assert event.protocol == "grpc-oip" and event.status == 200


def test_it_describes_the_model(client, deployed, predict_key):
    assert client.is_model_ready("churn", headers=headers(predict_key))
    metadata = client.get_model_metadata("churn", headers=headers(predict_key), as_json=True)
    assert metadata["versions"] == ["1"] and metadata["platform"] == "tensorflow_keras"
    assert metadata["inputs"] == [{"name": "features", "datatype": "FP32", "shape": ["-1", "4"]}]
    config = client.get_model_config("churn", headers=headers(predict_key), as_json=True)
    model = config["config"]
    assert model["name"] == "churn" and int(model["max_batch_size"]) > 0
    assert model["input"][0]["data_type"] == "TYPE_FP32" and model["input"][0]["dims"] == ["4"]
    assert model["backend"] == "tensorflow" and "xla" in model["parameters"]


def test_it_counts_statistics_and_lists_the_repository(client, deployed, predict_key):
    infer(client, predict_key)
    infer(client, predict_key)
    stats = client.get_inference_statistics("churn", headers=headers(predict_key), as_json=True)
    (entry,) = stats["model_stats"]
    assert entry["name"] == "churn" and entry["version"] == "1"
    assert int(entry["inference_stats"]["success"]["count"]) >= 2
    assert int(entry["inference_stats"]["success"]["ns"]) > 0
    index = client.get_model_repository_index(headers=headers(predict_key), as_json=True)
    assert {"name": "churn", "version": "1", "state": "READY"} in index["models"]


def test_the_repository_index_holds_only_the_keys_models(client, deployed, alice, make_key):
    other = make_key(alice, ["predict:fraud"])
    index = client.get_model_repository_index(headers=headers(other), as_json=True)
    assert index.get("models", []) == []
