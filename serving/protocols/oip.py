"""Open Inference Protocol v2 REST (KServe / Triton / MLServer) with Triton's binary tensor data.

The binary extension is what unmodified tritonclient speaks by default: the body is a JSON header
of `Inference-Header-Content-Length` bytes followed by raw little-endian tensors, each input
announcing its `binary_data_size`; outputs come back the same way when the request asks for them
(`binary_data` on an output, or `binary_data_output` for all). BYTES elements are each prefixed by
a 4-byte little-endian length.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import InvalidInput
from serving.inference import numpy_dtype, shape_text, to_array
from serving.protocols import jsonio
from serving.protocols.jsonio import output_names

SERVER_NAME = "modelgate"
SERVER_VERSION = "1.0.0"  # what server metadata (REST and gRPC) reports
# Triton's names: binary tensors, and the model configuration, repository index and statistics
# endpoints its clients call (serving/protocols/triton.py).
EXTENSIONS = ["binary_tensor_data", "model_configuration", "model_repository", "statistics"]
HEADER_LENGTH = "Inference-Header-Content-Length"
DATATYPES = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "BF16": "bfloat16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "string",
}
SIGNATURE_DATATYPES = {dtype: datatype for datatype, dtype in DATATYPES.items()}
_BY_DTYPE = {
    numpy_dtype(dtype): datatype for datatype, dtype in DATATYPES.items() if datatype != "BYTES"
}
UNSUPPORTED_PARAMETERS = ("shared_memory_region", "classification")
_LENGTH = struct.Struct("<I")


@dataclass(frozen=True, slots=True)
class InferRequest:
    """A parsed `/infer` body: decoded feeds plus what the answer must contain and how."""

    id: str | None
    parameters: dict
    feeds: dict[str, np.ndarray]
    requested_outputs: list[str] | None
    binary_outputs: set[str] | str | None  # a set of names, "all", or None for JSON only


def datatype_of(dtype_name: str) -> str:
    """The OIP datatype for a signature dtype name (`float32` -> `FP32`)."""
    try:
        return SIGNATURE_DATATYPES[dtype_name]
    except KeyError:
        raise InvalidInput(f"dtype {dtype_name!r} has no OIP datatype") from None


def array_datatype(array: np.ndarray) -> str:
    """The OIP datatype of a numpy array; strings of any kind are BYTES."""
    datatype = _BY_DTYPE.get(array.dtype)  # dtype.name is slow enough to matter per request
    if datatype is not None:
        return datatype
    if array.dtype.kind in "OSU":
        return "BYTES"
    return datatype_of(array.dtype.name)


def parse_infer(body: bytes, header_length: int | None, signature: dict) -> InferRequest:
    """Parse an inference request, slicing binary inputs from after the JSON header."""
    if header_length is None:
        header, binary = body, memoryview(b"")
    elif 0 <= header_length <= len(body):
        header, binary = body[:header_length], memoryview(body)[header_length:]
    else:
        raise InvalidInput(
            f"{HEADER_LENGTH} {header_length} is outside the body of {len(body)} bytes"
        )
    document = jsonio.loads(header)
    request_id = document.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput("'id' must be a string")
    parameters = _object(document.get("parameters"), "'parameters'")
    inputs = document.get("inputs")
    if not isinstance(inputs, list):
        raise InvalidInput("'inputs' must be a list of input tensors")
    specs = {spec["name"]: spec for spec in signature["inputs"]}
    feeds: dict[str, np.ndarray] = {}
    offset = 0
    for index, entry in enumerate(inputs):
        name, array, used = _input(index, entry, specs, binary, offset, header_length, feeds)
        feeds[name] = array
        offset += used
    if offset != len(binary):
        raise InvalidInput(
            f"{len(binary) - offset} bytes of binary data after the JSON header belong to no input"
        )
    requested, binary_outputs = _outputs(document.get("outputs"), parameters, signature)
    return InferRequest(request_id, parameters, feeds, requested, binary_outputs)


def _object(value: Any, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be an object")
    return value


def _input(index, entry, specs, binary, offset, header_length, seen):
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise InvalidInput(f"inputs[{index}] must be an object with a string 'name'")
    name = entry["name"]
    if name in seen:
        raise InvalidInput(f"input {name!r} appears more than once")
    if name not in specs:
        raise InvalidInput(f"unknown input {name!r}; the model's inputs are {list(specs)}")
    shape = entry.get("shape")
    if not isinstance(shape, list) or not all(type(dim) is int and dim >= 0 for dim in shape):
        raise InvalidInput(f"input {name!r}: 'shape' must be a list of non-negative integers")
    datatype = entry.get("datatype")
    if datatype not in DATATYPES:
        raise InvalidInput(
            f"input {name!r}: unknown datatype {datatype!r}; use one of {list(DATATYPES)}"
        )
    dtype_name = specs[name]["dtype"]
    expected = datatype_of(dtype_name)
    if datatype != expected:
        raise InvalidInput(
            f"input {name!r}: datatype {datatype} does not match the model's {expected}"
        )
    parameters = _object(entry.get("parameters"), f"input {name!r}: 'parameters'")
    _refuse_unsupported(parameters, f"input {name!r}")
    size = parameters.get("binary_data_size")
    count = math.prod(shape)
    if size is None:
        if "data" not in entry:
            raise InvalidInput(f"input {name!r} has neither 'data' nor a binary_data_size")
        array = to_array(name, entry["data"], dtype_name)
        if array.size != count:
            raise InvalidInput(
                f"input {name!r}: shape {shape_text(shape)} needs {count} elements, "
                f"got {array.size}"
            )
        return name, array.reshape(shape), 0
    if header_length is None:
        raise InvalidInput(
            f"input {name!r} has a binary_data_size but the request has no {HEADER_LENGTH} header"
        )
    if type(size) is not int or size < 0:
        raise InvalidInput(f"input {name!r}: binary_data_size must be a non-negative integer")
    if "data" in entry:
        raise InvalidInput(f"input {name!r} has both 'data' and a binary_data_size")
    if offset + size > len(binary):
        raise InvalidInput(
            f"input {name!r}: binary_data_size {size} runs past the end of the body "
            f"({len(binary) - offset} bytes left)"
        )
    chunk = binary[offset : offset + size]
    return name, tensor_from_binary(name, chunk, datatype, shape, count), size


def _refuse_unsupported(parameters: dict, where: str) -> None:
    for key in UNSUPPORTED_PARAMETERS:
        if key in parameters:
            raise InvalidInput(f"{where}: the {key!r} parameter is not supported")


def tensor_from_binary(name: str, chunk: memoryview, datatype: str, shape: list, count: int):
    """One tensor in the binary extension's layout (also gRPC's raw contents) as an array."""
    if datatype == "BYTES":
        return _bytes_elements(name, chunk, count).reshape(shape)
    dtype = numpy_dtype(DATATYPES[datatype]).newbyteorder("<")
    if len(chunk) != count * dtype.itemsize:
        raise InvalidInput(
            f"input {name!r}: binary_data_size {len(chunk)} does not match shape "
            f"{shape_text(shape)} of {datatype} ({count * dtype.itemsize} bytes)"
        )
    if datatype == "BOOL":
        return (np.frombuffer(chunk, dtype=np.uint8) != 0).reshape(shape)
    array = np.frombuffer(chunk, dtype=dtype).reshape(shape)
    return array.astype(array.dtype.newbyteorder("="), copy=False)


def _bytes_elements(name: str, chunk: memoryview, count: int) -> np.ndarray:
    elements = np.empty(count, dtype=object)
    position, end = 0, len(chunk)
    for index in range(count):
        if position + 4 > end:
            raise InvalidInput(f"input {name!r}: BYTES data ends before element {index}")
        (length,) = _LENGTH.unpack_from(chunk, position)
        position += 4
        if position + length > end:
            raise InvalidInput(f"input {name!r}: BYTES element {index} runs past its data")
        elements[index] = bytes(chunk[position : position + length])
        position += length
    if position != end:
        raise InvalidInput(
            f"input {name!r}: {end - position} bytes of BYTES data beyond the shape's "
            f"{count} elements"
        )
    return elements


def _outputs(requested: Any, parameters: dict, signature: dict):
    everything = parameters.get("binary_data_output", False)
    if not isinstance(everything, bool):
        raise InvalidInput("parameter 'binary_data_output' must be true or false")
    if requested is None:
        return None, ("all" if everything else None)
    if not isinstance(requested, list):
        raise InvalidInput("'outputs' must be a list of requested outputs")
    known = [spec["name"] for spec in signature["outputs"]]
    names: list[str] = []
    binary: set[str] = set()
    for index, entry in enumerate(requested):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise InvalidInput(f"outputs[{index}] must be an object with a string 'name'")
        name = entry["name"]
        if name not in known:
            raise InvalidInput(f"unknown output {name!r}; the model's outputs are {known}")
        if name in names:
            raise InvalidInput(f"output {name!r} is requested more than once")
        options = _object(entry.get("parameters"), f"output {name!r}: 'parameters'")
        _refuse_unsupported(options, f"output {name!r}")
        wanted = options.get("binary_data", everything)
        if not isinstance(wanted, bool):
            raise InvalidInput(f"output {name!r}: parameter 'binary_data' must be true or false")
        names.append(name)
        if wanted:
            binary.add(name)
    return names, (binary or None)


def format_infer(
    model_name: str,
    model_version: str,
    request: InferRequest,
    outputs: dict[str, Any],
    signature: dict,
) -> tuple[bytes, dict[str, str]]:
    """The inference response and its headers; binary outputs follow the JSON header."""
    names = request.requested_outputs
    if names is None:
        names = output_names(outputs, signature)
    entries, chunks = [], []
    for name in names:
        if name not in outputs:
            raise InvalidInput(f"unknown output {name!r}; the model's outputs are {list(outputs)}")
        array = np.asarray(outputs[name])
        binary = request.binary_outputs == "all" or (
            isinstance(request.binary_outputs, set) and name in request.binary_outputs
        )
        entry: dict[str, Any] = {
            "name": name,
            "datatype": array_datatype(array),
            "shape": list(array.shape),
        }
        data = None
        if not binary:
            data = _json_data(array)
            binary = data is None  # bytes that are not UTF-8 cannot travel as JSON text
        if binary:
            raw = tensor_to_binary(array)
            entry["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        else:
            entry["data"] = data
        entries.append(entry)
    document: dict[str, Any] = {"model_name": model_name, "model_version": str(model_version)}
    if request.id is not None:
        document["id"] = request.id
    document["outputs"] = entries
    header = jsonio.dumps(document)
    if not chunks:
        return header, {"Content-Type": "application/json"}
    return header + b"".join(chunks), {
        "Content-Type": "application/octet-stream",
        HEADER_LENGTH: str(len(header)),
    }


def _json_data(array: np.ndarray) -> Any:
    if array.dtype.kind not in "OSU":
        return np.ascontiguousarray(array).reshape(-1)
    try:
        return [_as_bytes(item).decode("utf-8") for item in array.reshape(-1).tolist()]
    except UnicodeDecodeError:
        return None


def _as_bytes(item: Any) -> bytes:
    return item.encode("utf-8") if isinstance(item, str) else bytes(item)


def tensor_to_binary(array: np.ndarray) -> bytes:
    """An array in the binary extension's layout (also gRPC's raw output contents)."""
    if array.dtype.kind in "OSU":
        parts = []
        for item in array.reshape(-1).tolist():
            raw = _as_bytes(item)
            parts.append(_LENGTH.pack(len(raw)))
            parts.append(raw)
        return b"".join(parts)
    if array.dtype.kind == "b":
        return array.astype(np.uint8).tobytes()
    return array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def server_metadata_body(version: str) -> bytes:
    """`GET /v2`: the server's name, version and the extensions implemented here."""
    return jsonio.dumps({"name": SERVER_NAME, "version": str(version), "extensions": EXTENSIONS})


def model_metadata_body(name: str, versions: list[str], platform: str, signature: dict) -> bytes:
    """`GET /v2/models/<m>`: tensors with OIP datatypes and -1 for variable dimensions."""
    return jsonio.dumps(
        {
            "name": name,
            "versions": [str(version) for version in versions],
            "platform": platform,
            "inputs": [_tensor(spec) for spec in signature["inputs"]],
            "outputs": [_tensor(spec) for spec in signature["outputs"]],
        }
    )


def _tensor(spec: dict) -> dict[str, Any]:
    return {
        "name": spec["name"],
        "datatype": SIGNATURE_DATATYPES.get(spec["dtype"], "BYTES"),
        "shape": [int(dim) for dim in spec["shape"]],
    }


def ready_body(name: str | None = None) -> bytes:
    """Readiness answer (the status code is what probes read)."""
    if name is None:
        return jsonio.dumps({"ready": True})
    return jsonio.dumps({"name": name, "ready": True})


def error_body(message: str, code: str = "") -> bytes:
    """The OIP error object (it has no code field)."""
    return jsonio.dumps({"error": message})


# -- the protocol table's entries (serving/protocols/table.py) ---------------------------------
def parse(call, signature: dict) -> InferRequest:
    """An `/infer` call: the binary extension's header length comes as an HTTP header."""
    value = call.environ.get("HTTP_INFERENCE_HEADER_CONTENT_LENGTH")
    try:
        header_length = int(value) if value is not None else None
    except ValueError:
        raise InvalidInput(f"invalid {HEADER_LENGTH}") from None
    return parse_infer(call.body, header_length, signature)


def answer(result, request: InferRequest) -> tuple[bytes, list, str]:
    """(body, headers, content type) of a served inference (`result`: inference.Prediction)."""
    loaded = result.loaded
    body, headers = format_infer(
        loaded.model_name, str(loaded.number), request, result.outputs, loaded.signature
    )
    content_type = headers.pop("Content-Type")
    return body, list(headers.items()), content_type
