"""TF Serving's PredictionService and ModelService over gRPC, as TF Serving clients call them:
the stubs generated from the official protos, tensors built by tf.make_tensor_proto and read back
by tf.make_ndarray."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import tensorflow as tf

from serving.grpc.tfs import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = np.array([[0.1, 0.2, 0.3, 0.4], [1.0, -1.0, 0.5, 2.0]], dtype=np.float32)


@pytest.fixture
def channel(grpc_port):
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        yield channel


def metadata(key: str):
    return (("authorization", f"Bearer {key}"),)


def predict_request(model="churn", rows=ROWS, **spec) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    for field, value in spec.items():
        if field == "version":
            request.model_spec.version.value = value
        else:
            setattr(request.model_spec, field, value)
    request.inputs["features"].CopyFrom(tf.make_tensor_proto(rows))
    return request


def test_it_predicts_from_tensor_content(channel, deployed, predict_key, keras_outputs):
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    response = stub.Predict(predict_request(), metadata=metadata(predict_key))
    np.testing.assert_allclose(
        tf.make_ndarray(response.outputs["score"]), keras_outputs(1, ROWS), rtol=1e-5
    )
    assert response.model_spec.name == "churn" and response.model_spec.version.value == 1
    assert response.model_spec.signature_name == "serving_default"


def test_it_predicts_from_typed_values(channel, deployed, predict_key, keras_outputs):
    request = predict_request()
    proto = request.inputs["features"]
    proto.ClearField("tensor_content")
    proto.float_val.extend(ROWS.reshape(-1).tolist())  # what older clients and other languages send
    response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
        request, metadata=metadata(predict_key)
    )
    np.testing.assert_allclose(
        tf.make_ndarray(response.outputs["score"]), keras_outputs(1, ROWS), rtol=1e-5
    )


def test_a_version_label_reaches_that_deployment(
    channel, deployed, predict_key, alice, pool, keras_outputs
):
    from serving.deploy import deployment_deploy

    deployment_deploy(
        model_name="churn", deployment_name="staging", version_number=2, actor=alice, reason="t"
    )
    pool.refresh()
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    by_label = stub.Predict(
        predict_request(version_label="staging"), metadata=metadata(predict_key)
    )
    by_number = stub.Predict(predict_request(version=2), metadata=metadata(predict_key))
    for response in (by_label, by_number):
        assert response.model_spec.version.value == 2
        np.testing.assert_allclose(
            tf.make_ndarray(response.outputs["score"]), keras_outputs(2, ROWS), rtol=1e-5
        )
    status = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(
        get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "churn"}),
        metadata=metadata(predict_key),
    )
    # Like TF Serving, a bare model lists every loaded version.
    assert [(s.version, s.state) for s in status.model_version_status] == [
        (1, get_model_status_pb2.ModelVersionStatus.State.AVAILABLE),
        (2, get_model_status_pb2.ModelVersionStatus.State.AVAILABLE),
    ]


def test_the_output_filter_selects_outputs(channel, multi, alice, pool, predict_key):
    from serving.deploy import deployment_deploy
    from tests.support.validated import mark_validated

    mark_validated(multi, actor=alice)
    deployment_deploy(
        model_name="multi", deployment_name="production", version_number=1, actor=alice, reason="t"
    )
    pool.refresh()
    request = predict_pb2.PredictRequest(output_filter=["logits"])
    request.model_spec.name = "multi"
    request.inputs["features"].CopyFrom(tf.make_tensor_proto(ROWS))
    request.inputs["extra"].CopyFrom(tf.make_tensor_proto(np.ones((2, 2), np.float32)))
    response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
        request, metadata=metadata(predict_key)
    )
    assert list(response.outputs) == ["logits"]
    assert tf.make_ndarray(response.outputs["logits"]).shape == (2, 3)


def test_it_answers_model_metadata_with_the_signature_def(channel, deployed, predict_key):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = "churn"
    response = prediction_service_pb2_grpc.PredictionServiceStub(channel).GetModelMetadata(
        request, metadata=metadata(predict_key)
    )
    signatures = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signatures)
    definition = signatures.signature_def["serving_default"]
    assert definition.method_name == "tensorflow/serving/predict"
    features = definition.inputs["features"]
    assert features.dtype == tf.float32.as_datatype_enum
    assert [d.size for d in features.tensor_shape.dim] == [-1, 4]
    assert list(definition.outputs) == ["score"]


def test_unknown_metadata_fields_are_invalid(channel, deployed, predict_key):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["graph"])
    request.model_spec.name = "churn"
    with pytest.raises(grpc.RpcError) as caught:
        prediction_service_pb2_grpc.PredictionServiceStub(channel).GetModelMetadata(
            request, metadata=metadata(predict_key)
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "graph" in caught.value.details()
