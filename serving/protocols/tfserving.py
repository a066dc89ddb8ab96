"""TensorFlow Serving v1 REST (`tensorflow_serving/g3doc/api_rest.md`): predict, status, metadata.

Requests come in the row format (`instances`: one item per row, a bare value for a single-input
model or an object keyed by input name) or the columnar format (`inputs`: one tensor, or an object
keyed by input name). Binary strings travel as `{"b64": ...}`; NaN/Infinity are legal tokens.
Messages reuse TF Serving's wording where clients or people may search for it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import InvalidInput
from serving.inputcheck import STRING
from serving.protocols import jsonio

ROW = "row"
COLUMNAR = "columnar"
SERVING_DEFAULT = "serving_default"
PREDICT_METHOD = "tensorflow/serving/predict"
STATES = ("START", "LOADING", "AVAILABLE", "UNLOADING", "END")
TF_DTYPES = {
    "bool": "DT_BOOL",
    "int8": "DT_INT8",
    "int16": "DT_INT16",
    "int32": "DT_INT32",
    "int64": "DT_INT64",
    "uint8": "DT_UINT8",
    "uint16": "DT_UINT16",
    "uint32": "DT_UINT32",
    "uint64": "DT_UINT64",
    "float16": "DT_HALF",
    "bfloat16": "DT_BFLOAT16",
    "float32": "DT_FLOAT",
    "float64": "DT_DOUBLE",
    "complex64": "DT_COMPLEX64",
    "complex128": "DT_COMPLEX128",
    "string": "DT_STRING",
}


@dataclass(frozen=True, slots=True)
class PredictRequest:
    """A parsed predict body: raw feeds (checked later by inputcheck) and the answer's layout."""

    feeds: dict[str, Any]
    layout: str
    signature_name: str | None = None


def parse_predict(body: bytes, signature: dict) -> PredictRequest:
    """Parse a `:predict` body into raw feeds keyed by input name, remembering row vs columnar."""
    document = jsonio.loads(body)
    name = document.get("signature_name")
    if name is not None and not isinstance(name, str):
        raise InvalidInput("'signature_name' must be a string")
    if name not in (None, "", SERVING_DEFAULT):
        raise InvalidInput(f'Serving signature name: "{name}" not found in signature def')
    feeds, layout = feeds_from_document(document, signature)
    return PredictRequest(feeds, layout, name or None)


def feeds_from_document(document: dict, signature: dict) -> tuple[dict[str, Any], str]:
    """Raw feeds and layout from a body holding exactly one of `instances` / `inputs`."""
    has_rows, has_columns = "instances" in document, "inputs" in document
    if has_rows and has_columns:
        raise InvalidInput(
            "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist"
        )
    if not has_rows and not has_columns:
        raise InvalidInput("Missing 'inputs' or 'instances' key")
    specs = signature["inputs"]
    if has_rows:
        feeds, layout = _rows(document["instances"], specs), ROW
    else:
        feeds, layout = _columns(document["inputs"], specs), COLUMNAR
    for spec in specs:
        if spec["dtype"] == STRING and spec["name"] in feeds:
            feeds[spec["name"]] = _decode_b64(spec["name"], feeds[spec["name"]])
    return feeds, layout


def _names(specs: list[dict]) -> list[str]:
    return [spec["name"] for spec in specs]


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and "b64" in value


def _rows(instances: Any, specs: list[dict]) -> dict[str, Any]:
    if not isinstance(instances, list):
        raise InvalidInput("'instances' must be a list with one item per row")
    names = _names(specs)
    if not instances:
        return {name: [] for name in names}
    named = isinstance(instances[0], dict) and not _is_b64(instances[0])
    if not named:
        if len(names) != 1:
            raise InvalidInput(
                f"the model has inputs {names}; each instance must be an object keyed by input name"
            )
        return {names[0]: instances}
    feeds: dict[str, list] = {name: [] for name in names}
    for index, instance in enumerate(instances):
        if not isinstance(instance, dict) or _is_b64(instance):
            raise InvalidInput(
                f"instance {index} is not an object keyed by input name like instance 0"
            )
        for key in instance:
            if key not in feeds:
                raise InvalidInput(
                    f"instance {index} has unknown input {key!r}; the model's inputs are {names}"
                )
        for name in names:
            if name not in instance:
                raise InvalidInput(f"instance {index} is missing input {name!r}")
            feeds[name].append(instance[name])
    return feeds


def _columns(inputs: Any, specs: list[dict]) -> dict[str, Any]:
    names = _names(specs)
    if isinstance(inputs, dict) and not _is_b64(inputs):
        return dict(inputs)
    if len(names) != 1:
        raise InvalidInput(
            f"the model has inputs {names}; 'inputs' must be an object keyed by input name"
        )
    return {names[0]: inputs}


def _decode_b64(name: str, value: Any) -> Any:
    """Replace `{"b64": ...}` objects in a nested list by the bytes they carry."""
    if isinstance(value, list):
        return [_decode_b64(name, item) for item in value]
    if isinstance(value, dict):
        if not _is_b64(value) or not isinstance(value["b64"], str):
            raise InvalidInput(
                f'input {name!r}: a binary value must be {{"b64": "<base64>"}}, got {value!r}'
            )
        return decode_base64(name, value["b64"])
    return value


def decode_base64(name: str, text: str) -> bytes:
    """Standard or URL-safe base64, padding optional (clients differ), strictly validated."""
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"input {name!r}: invalid base64 value {text[:40]!r}") from None


def json_value(name: str, value: Any) -> Any:
    """An output as orjson can write it: numeric arrays as they are, strings as text or b64."""
    array = np.asarray(value)
    if array.dtype.kind not in "OSU":
        return array
    # TF Serving marks binary outputs by a `_bytes` name suffix; bytes that are not UTF-8
    # cannot travel as JSON text either way.
    force_b64 = name.endswith("_bytes")
    return _strings_json(array.tolist(), force_b64)


def _strings_json(item: Any, force_b64: bool) -> Any:
    if isinstance(item, list):
        return [_strings_json(element, force_b64) for element in item]
    if isinstance(item, str):
        item = item.encode("utf-8")
    if not force_b64:
        try:
            return item.decode("utf-8")
        except UnicodeDecodeError:
            pass  # not text: TF Serving sends such bytes base64-encoded
    return {"b64": base64.b64encode(item).decode("ascii")}


def output_names(outputs: dict[str, Any], signature: dict) -> list[str]:
    """Output names in the signature's order, keeping any extra the model returned at the end."""
    names = [spec["name"] for spec in signature["outputs"] if spec["name"] in outputs]
    return names + [name for name in outputs if name not in names]


def rows_of(outputs: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
    """Split named outputs into one object per row; every output must share dimension 0."""
    values = {name: json_value(name, outputs[name]) for name in names}
    counts = {name: len(value) for name, value in values.items() if _has_rows(value)}
    if len(set(counts.values())) > 1:
        raise InvalidInput(
            f"the outputs disagree on the number of rows ({counts}); use the columnar format"
        )
    count = next(iter(counts.values()), 0)
    return [
        {name: value[i] if name in counts else value for name, value in values.items()}
        for i in range(count)
    ]


def _has_rows(value: Any) -> bool:
    return isinstance(value, list) or (isinstance(value, np.ndarray) and value.ndim > 0)


def format_predict(outputs: dict[str, Any], signature: dict, layout: str) -> bytes:
    """`{"predictions": ...}` for a row request, `{"outputs": ...}` for a columnar one."""
    names = output_names(outputs, signature)
    key = "predictions" if layout == ROW else "outputs"
    if len(names) == 1:
        return jsonio.dumps({key: json_value(names[0], outputs[names[0]])})
    if layout == ROW:
        return jsonio.dumps({key: rows_of(outputs, names)})
    return jsonio.dumps({key: {name: json_value(name, outputs[name]) for name in names}})


def status_body(version: int | str, state: str = "AVAILABLE") -> bytes:
    """GetModelStatusResponse for one version, as TF Serving writes it (version as a string)."""
    return status_body_many([(version, state)])


def status_body_many(versions: list[tuple[int | str, str]]) -> bytes:
    """GetModelStatusResponse listing several versions."""
    entries = []
    for version, state in versions:
        if state not in STATES:
            raise ValueError(f"unknown model version state {state!r}; use one of {STATES}")
        entries.append(
            {
                "version": str(version),
                "state": state,
                "status": {"error_code": "OK", "error_message": ""},
            }
        )
    return jsonio.dumps({"model_version_status": entries})


def metadata_body(model_name: str, version: int | str, signature: dict) -> bytes:
    """GetModelMetadataResponse with the doubled `signature_def` key clients read."""
    inputs = {
        spec["name"]: _tensor_info(spec, f"serving_default_{spec['name']}:0")
        for spec in signature["inputs"]
    }
    outputs = {
        spec["name"]: _tensor_info(spec, f"StatefulPartitionedCall:{index}")
        for index, spec in enumerate(signature["outputs"])
    }
    definition = {"inputs": inputs, "outputs": outputs, "method_name": PREDICT_METHOD}
    return jsonio.dumps(
        {
            "model_spec": {"name": model_name, "signature_name": "", "version": str(version)},
            "metadata": {"signature_def": {"signature_def": {SERVING_DEFAULT: definition}}},
        }
    )


def _tensor_info(spec: dict, tensor_name: str) -> dict[str, Any]:
    return {
        "dtype": TF_DTYPES.get(spec["dtype"], "DT_INVALID"),
        "tensor_shape": {
            "dim": [{"size": str(int(size)), "name": ""} for size in spec["shape"]],
            "unknown_rank": False,
        },
        "name": tensor_name,
    }


def error_body(message: str, code: str = "") -> bytes:
    """TF Serving's error object (it has no code field)."""
    return jsonio.dumps({"error": message})


# -- the protocol table's entries (serving/protocols/table.py) ---------------------------------
def parse(call, signature: dict) -> PredictRequest:
    return parse_predict(call.body, signature)


def answer(result, request: PredictRequest) -> tuple[bytes, list, str]:
    """(body, headers, content type) of a served prediction (`result`: inference.Prediction)."""
    body = format_predict(result.outputs, result.loaded.signature, request.layout)
    return body, [], "application/json"
