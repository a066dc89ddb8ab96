"""Every kind of model a Keras user saves (tests/support/models.py) answers over both gRPC
services exactly as the model called in-process: strings, ints, bools, uint8 images, variable
length, several inputs and outputs."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import tensorflow as tf
import tritonclient.grpc as triton

from serving.grpc.tfs import predict_pb2, prediction_service_pb2_grpc
from serving.protocols.oip import SIGNATURE_DATATYPES
from tests.support import models

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def serve_kind(alice, pool, model_kind_path):
    """Register, validate and deploy a model of `kind`; its path, for the expected outputs."""
    from registry.services import version_register
    from serving.deploy import deployment_deploy
    from tests.support.validated import mark_validated

    def _serve(kind: str, fmt: str = models.KERAS):
        path = model_kind_path(kind, fmt)
        upload, filename = models.upload_file(path, fmt)
        version = version_register(model_name=kind, upload=upload, filename=filename, actor=alice)
        mark_validated(version, actor=alice)
        deployment_deploy(
            model_name=kind, deployment_name="production", version_number=1, actor=alice, reason="t"
        )
        pool.refresh()
        assert (kind, "production") in pool.table.routes, pool.table.errors
        return path, version.signature

    return _serve


def _compare(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for name, value in expected.items():
        if value.dtype.kind in "OSU":  # strings: exactly the model's bytes
            np.testing.assert_array_equal(got[name].astype(object), value, err_msg=name)
        else:
            np.testing.assert_allclose(got[name], value, rtol=1e-4, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("fmt", models.FORMATS)
@pytest.mark.parametrize("kind", list(models.KINDS))
def test_every_kind_answers_like_the_model_over_grpc(kind, fmt, serve_kind, grpc_port, predict_key):
    path, signature = serve_kind(kind, fmt)
    feeds = models.sample_inputs(kind, rows=3)
    expected = models.expected_outputs(path, fmt, feeds)
    dtypes = {spec["name"]: spec["dtype"] for spec in signature["inputs"]}

    # OIP, as tritonclient.grpc sends it (raw contents) and reads it (raw output contents).
    with triton.InferenceServerClient(url=f"127.0.0.1:{grpc_port}") as client:
        tensors = []
        for name, value in feeds.items():
            tensor = triton.InferInput(name, list(value.shape), SIGNATURE_DATATYPES[dtypes[name]])
            tensor.set_data_from_numpy(value)
            tensors.append(tensor)
        result = client.infer(kind, tensors, headers={"x-api-key": predict_key})
        _compare({name: result.as_numpy(name) for name in expected}, expected)

    # TF Serving, as tf.make_tensor_proto builds the request and make_ndarray reads the answer.
    request = predict_pb2.PredictRequest()
    request.model_spec.name = kind
    for name, value in feeds.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
            request, metadata=(("authorization", f"Bearer {predict_key}"),)
        )
    _compare({name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}, expected)
