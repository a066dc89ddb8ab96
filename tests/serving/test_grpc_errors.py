"""gRPC status codes for the REST path's refusals, on both services (PROTOCOLS.md): a bad key is
UNAUTHENTICATED, a key without the scope PERMISSION_DENIED, an unknown model NOT_FOUND, bad input
INVALID_ARGUMENT, a spent rate limit RESOURCE_EXHAUSTED with the retry delay in trailing metadata;
plus message size limits, the health service and a drain that lets in-flight calls finish."""

from __future__ import annotations

import threading

import grpc
import numpy as np
import pytest
import tensorflow as tf
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tritonclient.grpc import service_pb2, service_pb2_grpc

from serving.grpc.tfs import predict_pb2, prediction_service_pb2_grpc

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = np.array([[0.1, 0.2, 0.3, 0.4]], dtype=np.float32)


@pytest.fixture
def channel(grpc_port):
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        yield channel


def oip_call(channel, key=None, model="churn", rows=ROWS, datatype="FP32"):
    request = service_pb2.ModelInferRequest(model_name=model)
    request.inputs.add(name="features", datatype=datatype, shape=list(rows.shape))
    request.raw_input_contents.append(rows.tobytes())
    metadata = (("authorization", f"Bearer {key}"),) if key else ()
    return service_pb2_grpc.GRPCInferenceServiceStub(channel).ModelInfer.with_call(
        request, metadata=metadata
    )


def tfs_call(channel, key=None, model="churn", rows=ROWS):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.inputs["features"].CopyFrom(tf.make_tensor_proto(rows))
    metadata = (("x-api-key", key),) if key else ()
    return prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict.with_call(
        request, metadata=metadata
    )


def refused(call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize("call", [oip_call, tfs_call], ids=["oip", "tfserving"])
def test_it_refuses_a_missing_or_bad_key(channel, deployed, call):
    missing = refused(call, channel)
    assert missing.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "API key is required" in missing.details()
    bad = refused(call, channel, key="mg_nottherealkey_0123456789")
    assert bad.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("call", [oip_call, tfs_call], ids=["oip", "tfserving"])
def test_a_key_scoped_to_another_model_is_denied(channel, deployed, alice, make_key, call):
    other = make_key(alice, ["predict:fraud"])
    error = refused(call, channel, key=other)
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "churn" in error.details()


@pytest.mark.parametrize("call", [oip_call, tfs_call], ids=["oip", "tfserving"])
def test_an_unknown_model_is_not_found(channel, deployed, predict_key, call):
    error = refused(call, channel, key=predict_key, model="nope")
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "Servable not found" in error.details()


def test_bad_input_is_invalid_argument(channel, deployed, predict_key):
    wrong_shape = np.ones((1, 3), np.float32)
    for call in (oip_call, tfs_call):
        error = refused(call, channel, key=predict_key, rows=wrong_shape)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "features" in error.details() and "[-1, 4]" in error.details()
    wrong_type = refused(oip_call, channel, key=predict_key, datatype="INT32")
    assert wrong_type.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "does not match the model's FP32" in wrong_type.details()
    short = service_pb2.ModelInferRequest(model_name="churn")
    short.inputs.add(name="features", datatype="FP32", shape=[1, 4])
    short.raw_input_contents.append(b"\x00" * 8)
    error = refused(
        service_pb2_grpc.GRPCInferenceServiceStub(channel).ModelInfer,
        short,
        metadata=(("x-api-key", predict_key),),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "16 bytes" in error.details()


@pytest.mark.parametrize("call", [oip_call, tfs_call], ids=["oip", "tfserving"])
def test_a_spent_rate_limit_is_resource_exhausted_with_retry_info(
    channel, deployed, predict_key, settings, call
):
    settings.MODELGATE_DEFAULT_RATE_LIMIT = "2/m"
    call(channel, key=predict_key)
    call(channel, key=predict_key)
    error = refused(call, channel, key=predict_key)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "rate limit" in error.details()
    trailing = dict(error.trailing_metadata())
    assert int(trailing["retry-after"]) >= 1 and trailing["ratelimit-remaining"] == "0"


def test_a_message_over_the_body_limit_is_refused(deployed, predict_key, pool, settings):
    from serving.grpc.server import build_server, close

    settings.MODELGATE_MAX_PREDICT_BODY_BYTES = 1024
    server, port = build_server(host="127.0.0.1", port=0, threads=2)
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            assert oip_call(channel, key=predict_key)[0].outputs[0].name == "score"
            big = np.ones((100, 4), np.float32)  # 1,600 bytes of tensor
            error = refused(oip_call, channel, key=predict_key, rows=big)
    finally:
        close(server, 0)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_health_follows_the_pool(channel, deployed, pool):
    stub = health_pb2_grpc.HealthStub(channel)
    serving = health_pb2.HealthCheckResponse.SERVING
    for service in ("", "inference.GRPCInferenceService", "tensorflow.serving.PredictionService"):
        assert stub.Check(health_pb2.HealthCheckRequest(service=service)).status == serving
    pool.ready = False  # what a drain or a still-loading pool shows
    status = stub.Check(health_pb2.HealthCheckRequest()).status
    assert status == health_pb2.HealthCheckResponse.NOT_SERVING
    unknown = refused(stub.Check, health_pb2.HealthCheckRequest(service="nope"))
    assert unknown.code() == grpc.StatusCode.NOT_FOUND


def test_stopping_lets_in_flight_calls_finish_and_refuses_new_ones(
    deployed, predict_key, pool, monkeypatch
):
    from serving.grpc import server as grpc_server
    from tests.support.servers import free_port

    port = grpc_server.start(host="127.0.0.1", port=free_port())
    from serving import inference

    entered, release = threading.Event(), threading.Event()
    original = inference.infer

    def slow_infer(*args):
        entered.set()
        release.wait(10)
        return original(*args)

    monkeypatch.setattr(inference, "infer", slow_infer)
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        results = []
        caller = threading.Thread(target=lambda: results.append(tfs_call(channel, predict_key)))
        caller.start()
        assert entered.wait(10)
        stopper = threading.Thread(target=grpc_server.stop, kwargs={"grace": 10})
        stopper.start()
        # While the call is held, the stopping server already refuses new connections.
        assert _refused_new_calls(port)
        assert not results
        release.set()
        caller.join(10)
        stopper.join(15)
    ((response, _),) = results
    assert response.outputs["score"].tensor_shape.dim[0].size == 1


def _refused_new_calls(port: int) -> bool:
    for _ in range(100):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            try:
                health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=1
                )
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.UNAVAILABLE:
                    return True
        threading.Event().wait(0.05)
    return False
