"""One id per gRPC call: a predict, served or failed, and a refused call carry in trailing
metadata (`x-request-id`; a predict's also `x-prediction-id`) the id its event holds.

tritonclient.grpc raises InferenceServerException `from None`, dropping the trailing metadata, so
these calls go through the raw stubs of the services tritonclient and TF Serving's clients use."""

from __future__ import annotations

import re

import grpc
import numpy as np
import pytest
from tritonclient.grpc import service_pb2, service_pb2_grpc

from serving import events

from .test_grpc_errors import oip_call, refused, tfs_call

pytestmark = pytest.mark.django_db(transaction=True)

CALLS = pytest.mark.parametrize("call", [oip_call, tfs_call], ids=["oip", "tfserving"])


@pytest.fixture
def channel(grpc_port):
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        yield channel


@pytest.fixture
def sink(monkeypatch):
    sink = events.MemorySink()
    monkeypatch.setattr(events, "_buffer", events.EventBuffer(sink))
    return sink


def _event(sink, status: int) -> events.PredictionEvent:
    events.get_buffer().flush()
    (event,) = [event for event in sink.events if event.status == status]
    return event


def _ids(metadata) -> tuple[str, str | None]:
    trailing = dict(metadata)
    return trailing["x-request-id"], trailing.get("x-prediction-id")


@CALLS
def test_a_served_predict_carries_its_events_id(channel, deployed, predict_key, sink, call):
    _, answer = call(channel, key=predict_key)
    request_id, prediction_id = _ids(answer.trailing_metadata())
    assert prediction_id == request_id and re.fullmatch(r"[0-9a-f]{20}", request_id)
    assert _event(sink, 200).request_id == request_id


@CALLS
def test_a_failed_predict_carries_its_failure_events_id(channel, deployed, predict_key, sink, call):
    error = refused(call, channel, key=predict_key, rows=np.ones((1, 3), np.float32))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    request_id, prediction_id = _ids(error.trailing_metadata())
    assert prediction_id == request_id
    failed = _event(sink, 400)
    assert failed.request_id == request_id and "features" in failed.error


@CALLS
def test_a_refused_predict_carries_its_refusal_events_id(channel, deployed, sink, call):
    error = refused(call, channel, key="mg_nottherealkey_0123456789")
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    request_id, prediction_id = _ids(error.trailing_metadata())
    assert prediction_id == request_id
    assert _event(sink, 401).request_id == request_id


@CALLS
def test_a_rate_limited_predict_keeps_its_id_beside_the_retry_delay(
    channel, deployed, predict_key, sink, settings, call
):
    settings.MODELGATE_DEFAULT_RATE_LIMIT = "1/m"
    call(channel, key=predict_key)
    error = refused(call, channel, key=predict_key)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    trailing = dict(error.trailing_metadata())
    assert int(trailing["retry-after"]) >= 1
    assert _event(sink, 429).request_id == trailing["x-request-id"] == trailing["x-prediction-id"]


@CALLS
def test_a_predict_on_an_unknown_model_still_carries_an_id(channel, deployed, predict_key, call):
    first = refused(call, channel, key=predict_key, model="nope")
    second = refused(call, channel, key=predict_key, model="nope")
    assert first.code() == grpc.StatusCode.NOT_FOUND
    assert _ids(first.trailing_metadata())[0] != _ids(second.trailing_metadata())[0]


def test_a_refused_metadata_call_carries_its_refusal_events_id(channel, deployed, sink):
    stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.ModelMetadata(service_pb2.ModelMetadataRequest(name="churn"))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    request_id, prediction_id = _ids(caught.value.trailing_metadata())
    assert prediction_id is None  # not a prediction: only the request's id
    assert _event(sink, 401).request_id == request_id
