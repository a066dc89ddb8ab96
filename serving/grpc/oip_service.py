"""OIP's `inference.GRPCInferenceService`: every RPC tritonclient.grpc calls, over the REST
path's authentication, routing, batcher, cache and events. Inputs come as typed `contents` or as
`raw_input_contents`; outputs go back raw (`raw_output_contents`), which tritonclient reads."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from tritonclient.grpc import model_config_pb2 as mc
from tritonclient.grpc import service_pb2 as pb
from tritonclient.grpc import service_pb2_grpc

from core.errors import InvalidInput
from serving import gateway
from serving.grpc import calls, catalog, tensors
from serving.grpc.calls import rpc
from serving.pool import get_pool
from serving.protocols import oip
from serving.protocols.jsonio import output_names
from serving.protocols.table import Protocol
from serving.replies import ProtocolError

_CONFIG_TYPES = {datatype: f"TYPE_{datatype}" for datatype in oip.DATATYPES}
_CONFIG_TYPES["BYTES"] = "TYPE_STRING"


@dataclass(frozen=True, slots=True)
class GrpcInferRequest:
    """A decoded ModelInferRequest: feeds and the outputs the answer must hold (None = all)."""

    feeds: dict[str, np.ndarray]
    requested_outputs: list[str] | None
    id: str = ""


def parse_infer(request, signature: dict) -> GrpcInferRequest:
    """Decode the request's tensors against the signature (typed contents or raw contents)."""
    specs = {spec["name"]: spec for spec in signature["inputs"]}
    raw = request.raw_input_contents
    if raw and len(raw) != len(request.inputs):
        raise InvalidInput(
            f"raw_input_contents has {len(raw)} entries for {len(request.inputs)} inputs"
        )
    feeds: dict[str, np.ndarray] = {}
    for index, tensor in enumerate(request.inputs):
        if tensor.name in feeds:
            raise InvalidInput(f"input {tensor.name!r} appears more than once")
        if tensor.name not in specs:
            raise InvalidInput(
                f"unknown input {tensor.name!r}; the model's inputs are {list(specs)}"
            )
        _refuse_unsupported(tensor.parameters, f"input {tensor.name!r}")
        feeds[tensor.name] = tensors.oip_input(
            tensor, raw[index] if raw else None, specs[tensor.name]
        )
    requested = None
    if request.outputs:
        known = [spec["name"] for spec in signature["outputs"]]
        requested = []
        for output in request.outputs:
            if output.name not in known:
                raise InvalidInput(
                    f"unknown output {output.name!r}; the model's outputs are {known}"
                )
            if output.name in requested:
                raise InvalidInput(f"output {output.name!r} is requested more than once")
            _refuse_unsupported(output.parameters, f"output {output.name!r}")
            requested.append(output.name)
    return GrpcInferRequest(feeds, requested, request.id)


def _refuse_unsupported(parameters, where: str) -> None:
    for key in oip.UNSUPPORTED_PARAMETERS:
        if key in parameters:
            raise InvalidInput(f"{where}: the {key!r} parameter is not supported")


def _tensor_metadata(spec: dict) -> pb.ModelMetadataResponse.TensorMetadata:
    return pb.ModelMetadataResponse.TensorMetadata(
        name=spec["name"],
        datatype=oip.SIGNATURE_DATATYPES.get(spec["dtype"], "BYTES"),
        shape=[int(dim) for dim in spec["shape"]],
    )


def _config_tensor(cls, spec: dict):
    # With max_batch_size > 0 Triton's dims leave out the batch dimension.
    datatype = oip.SIGNATURE_DATATYPES.get(spec["dtype"], "BYTES")
    return cls(
        name=spec["name"],
        data_type=mc.DataType.Value(_CONFIG_TYPES[datatype]),
        dims=[int(dim) for dim in spec["shape"][1:]],
    )


class InferenceService(service_pb2_grpc.GRPCInferenceServiceServicer):
    """`inference.GRPCInferenceService`; unimplemented RPCs (shared memory, trace, load/unload)
    keep the generated UNIMPLEMENTED answer."""

    def ServerLive(self, request, context):
        return pb.ServerLiveResponse(live=True)

    def ServerReady(self, request, context):
        return pb.ServerReadyResponse(ready=get_pool().ready)

    def ServerMetadata(self, request, context):
        return pb.ServerMetadataResponse(
            name=oip.SERVER_NAME, version=oip.SERVER_VERSION, extensions=oip.EXTENSIONS
        )

    @rpc
    def ModelReady(self, request, context):
        principal, environ = calls.authenticate(context, request.name)
        try:
            calls.target(request.name, request.version, None, environ, principal)
        except ProtocolError as exc:
            if exc.status != 503:
                raise
            return pb.ModelReadyResponse(ready=False)  # loading: known, not ready yet
        return pb.ModelReadyResponse(ready=True)

    @rpc
    def ModelMetadata(self, request, context):
        principal, environ = calls.authenticate(context, request.name)
        loaded, _, _ = calls.target(request.name, request.version, None, environ, principal)
        return pb.ModelMetadataResponse(
            name=request.name,
            versions=catalog.versions_of(request.name),
            platform=catalog.platform_of(loaded),
            inputs=[_tensor_metadata(spec) for spec in loaded.signature["inputs"]],
            outputs=[_tensor_metadata(spec) for spec in loaded.signature["outputs"]],
        )

    @rpc
    def ModelConfig(self, request, context):
        """Triton's configuration, the same as REST's `/config` (serving/protocols/triton.py)."""
        principal, environ = calls.authenticate(context, request.name)
        loaded, route, _ = calls.target(request.name, request.version, None, environ, principal)
        runtime = loaded.runtime
        max_batch = route.config["max_batch_size"] if route is not None else 0
        xla, reason = getattr(runtime, "xla", None), getattr(runtime, "xla_error", None) or ""
        config = mc.ModelConfig(
            name=request.name,
            platform=catalog.platform_of(loaded),
            backend="tensorflow",
            max_batch_size=max_batch or getattr(runtime, "max_batch_size", 0),
            input=[_config_tensor(mc.ModelInput, s) for s in loaded.signature["inputs"]],
            output=[_config_tensor(mc.ModelOutput, s) for s in loaded.signature["outputs"]],
        )
        config.dynamic_batching.max_queue_delay_microseconds = 0
        config.parameters["xla"].string_value = (
            "on" if xla else f"off: {reason}" if reason else "off"
        )
        config.parameters["device"].string_value = str(getattr(runtime, "device", ""))
        return pb.ModelConfigResponse(config=config)

    @rpc
    def ModelStatistics(self, request, context):
        principal = calls.authenticate_listing(context, request.name)
        response = pb.ModelStatisticsResponse()
        for stats in catalog.statistics(principal, request.name, request.version):
            entry = response.model_stats.add(
                name=stats.model,
                version=stats.version,
                inference_count=stats.success,
            )
            entry.inference_stats.success.count = stats.success
            entry.inference_stats.success.ns = stats.duration_ns
            entry.inference_stats.fail.count = stats.failed
            entry.inference_stats.cache_hit.count = stats.cache_hits
        return response

    @rpc
    def RepositoryIndex(self, request, context):
        principal = calls.authenticate_listing(context, "")
        response = pb.RepositoryIndexResponse()
        for name, version, state, reason in catalog.index(principal):
            if request.ready and state != "READY":
                continue
            response.models.add(name=name, version=version, state=state, reason=reason)
        return response

    @rpc
    def ModelInfer(self, request, context):
        started = time.perf_counter()
        request_id = calls.begin_predict(context)
        model = request.model_name
        principal, environ = calls.authenticate(context, model, request_id)
        target = calls.target(model, request.model_version, None, environ, principal)
        with gateway.PredictCall(
            PROTOCOL.name, target, principal.prefix, request_id, started
        ) as call:
            parsed = PROTOCOL.parse(request, target.loaded.signature)
            result = call.run(parsed.feeds)
        return PROTOCOL.format(result, parsed)


def format_infer(result, parsed: GrpcInferRequest) -> pb.ModelInferResponse:
    """The answer: every output (or the requested ones) in `raw_output_contents`."""
    loaded, outputs = result.loaded, result.outputs
    response = pb.ModelInferResponse(
        model_name=loaded.model_name, model_version=str(loaded.number), id=parsed.id
    )
    for name in parsed.requested_outputs or output_names(outputs, loaded.signature):
        datatype, shape, raw = tensors.oip_output(outputs[name])
        response.outputs.add(name=name, datatype=datatype, shape=shape)
        response.raw_output_contents.append(raw)
    return response


# This service's entry in the protocol table (serving/protocols/table.py has the REST ones).
PROTOCOL = Protocol(
    name="grpc-oip",
    paths="",
    predict="inference.GRPCInferenceService/ModelInfer",
    parse=parse_infer,
    format=format_infer,
    error=calls.abort,
)
