"""TF Serving's `tensorflow.serving.PredictionService` (Predict, GetModelMetadata) and
`ModelService.GetModelStatus` over the REST path's pieces. A `version_label` is a deployment
name, as on REST; Classify, Regress and MultiInference keep the generated UNIMPLEMENTED answer."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from google.protobuf import wrappers_pb2
from tensorflow.core.protobuf import error_codes_pb2, meta_graph_pb2

from core.errors import InvalidInput
from serving import gateway
from serving.grpc import calls, tensors
from serving.grpc.calls import rpc
from serving.grpc.tfs import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)
from serving.pool import get_pool
from serving.protocols.jsonio import output_names
from serving.protocols.table import Protocol
from serving.protocols.tfserving import PREDICT_METHOD, SERVING_DEFAULT

_AVAILABLE = get_model_status_pb2.ModelVersionStatus.State.AVAILABLE
_END = get_model_status_pb2.ModelVersionStatus.State.END
SIGNATURE_DEF = "signature_def"


@dataclass(frozen=True, slots=True)
class GrpcPredictRequest:
    feeds: dict[str, np.ndarray]
    output_filter: list[str] | None
    model_name: str = ""


def _spec_parts(spec) -> tuple[str, str | None, str | None]:
    """(model, version, label) of a ModelSpec; a version and a label together are refused."""
    version = str(spec.version.value) if spec.HasField("version") else None
    label = spec.version_label or None
    if version is not None and label is not None:
        raise InvalidInput("model_spec may set version or version_label, not both")
    if not spec.name:
        raise InvalidInput("model_spec.name is required")
    return spec.name, version, label


def _check_signature(name: str) -> None:
    if name not in ("", SERVING_DEFAULT):
        raise InvalidInput(f'Serving signature name: "{name}" not found in signature def')


def parse_predict(request, signature: dict) -> GrpcPredictRequest:
    """Decode the `inputs` map against the signature; check the output filter."""
    specs = {spec["name"]: spec for spec in signature["inputs"]}
    feeds = {}
    for name, proto in request.inputs.items():
        if name not in specs:
            raise InvalidInput(f"unknown input {name!r}; the model's inputs are {list(specs)}")
        feeds[name] = tensors.from_tensor_proto(name, proto, specs[name])
    wanted = None
    if request.output_filter:
        known = [spec["name"] for spec in signature["outputs"]]
        wanted = list(dict.fromkeys(request.output_filter))
        for name in wanted:
            if name not in known:
                raise InvalidInput(f"output tensor alias not found in signature: {name}")
    return GrpcPredictRequest(feeds, wanted, request.model_spec.name)


def _model_spec(model: str, number: int, signature_name: str = SERVING_DEFAULT):
    return model_pb2.ModelSpec(
        name=model, version=wrappers_pb2.Int64Value(value=number), signature_name=signature_name
    )


def _tensor_info(spec: dict, tensor_name: str) -> meta_graph_pb2.TensorInfo:
    info = meta_graph_pb2.TensorInfo(name=tensor_name, dtype=tensors.tf_dtype(spec["dtype"]))
    for size in spec["shape"]:
        info.tensor_shape.dim.add(size=int(size))
    return info


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """`tensorflow.serving.PredictionService`."""

    @rpc
    def Predict(self, request, context):
        started = time.perf_counter()
        request_id = calls.begin_predict(context)
        model, version, label = _spec_parts(request.model_spec)
        principal, environ = calls.authenticate(context, model, request_id)
        _check_signature(request.model_spec.signature_name)
        target = calls.target(model, version, label, environ, principal)
        with gateway.PredictCall(
            PROTOCOL.name, target, principal.prefix, request_id, started
        ) as call:
            parsed = PROTOCOL.parse(request, target.loaded.signature)
            result = call.run(parsed.feeds)
        return PROTOCOL.format(result, parsed)

    @rpc
    def GetModelMetadata(self, request, context):
        model, version, label = _spec_parts(request.model_spec)
        principal, environ = calls.authenticate(context, model)
        fields = list(request.metadata_field)
        if not fields:
            raise InvalidInput("GetModelMetadataRequest must specify at least one metadata_field")
        for field in fields:
            if field != SIGNATURE_DEF:
                raise InvalidInput(f"Metadata field {field} is not supported")
        loaded, _, _ = calls.target(model, version, label, environ, principal)
        signature = loaded.signature
        definition = meta_graph_pb2.SignatureDef(method_name=PREDICT_METHOD)
        for spec in signature["inputs"]:
            definition.inputs[spec["name"]].CopyFrom(
                _tensor_info(spec, f"serving_default_{spec['name']}:0")
            )
        for index, spec in enumerate(signature["outputs"]):
            definition.outputs[spec["name"]].CopyFrom(
                _tensor_info(spec, f"StatefulPartitionedCall:{index}")
            )
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        signature_map.signature_def[SERVING_DEFAULT].CopyFrom(definition)
        response = get_model_metadata_pb2.GetModelMetadataResponse(
            model_spec=_model_spec(model, loaded.number, "")
        )
        response.metadata[SIGNATURE_DEF].Pack(signature_map)
        return response


def format_predict(result, parsed: GrpcPredictRequest) -> predict_pb2.PredictResponse:
    """The answer: every output (or those in `output_filter`) as TensorProtos."""
    loaded, outputs = result.loaded, result.outputs
    response = predict_pb2.PredictResponse(model_spec=_model_spec(parsed.model_name, loaded.number))
    for name in parsed.output_filter or output_names(outputs, loaded.signature):
        response.outputs[name].CopyFrom(tensors.to_tensor_proto(outputs[name]))
    return response


# This service's entry in the protocol table (serving/protocols/table.py has the REST ones).
PROTOCOL = Protocol(
    name="grpc-tfserving",
    paths="",
    predict="tensorflow.serving.PredictionService/Predict",
    parse=parse_predict,
    format=format_predict,
    error=calls.abort,
)


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    """`tensorflow.serving.ModelService`: status only; the server's config is not reloadable."""

    @rpc
    def GetModelStatus(self, request, context):
        """As REST's status: a version lists itself; a model or label lists every version loaded
        here, plus those that failed to load (END, with the cause)."""
        model, version, label = _spec_parts(request.model_spec)
        principal, environ = calls.authenticate(context, model)
        loaded, _, _ = calls.target(
            model, version, label, environ, principal
        )  # unknown -> NOT_FOUND
        table = get_pool().table
        response = get_model_status_pb2.GetModelStatusResponse()
        numbers = (
            [loaded.number]
            if version is not None
            else sorted(n for (m, n) in table.versions if m == model)
        )
        for number in numbers:
            entry = response.model_version_status.add(version=number, state=_AVAILABLE)
            entry.status.error_code = error_codes_pb2.OK
        if version is None:
            for (m, number), cause in sorted(table.errors.items()):
                if m == model and number not in numbers:
                    entry = response.model_version_status.add(version=number, state=_END)
                    entry.status.error_code = error_codes_pb2.UNKNOWN
                    entry.status.error_message = str(cause)
        return response
