"""TensorFlow Serving v1 REST (`tensorflow_serving/g3doc/api_rest.md`): predict, status, metadata.

Requests come in the row format (`instances`: one item per row, a bare value for a single-input
model or an object keyed by input name) or the columnar format (`inputs`: one tensor, or an object
keyed by input name). Binary strings travel as `{"b64": ...}`; NaN/Infinity are legal tokens.
Messages reuse TF Serving's wording where clients or people may search for it.
"""

from __future__ import annotations

from typing import Any

from serving.protocols import jsonio
from serving.protocols.jsonio import (  # TF Serving's tensor shapes, shared with native
    COLUMNAR,  # noqa: F401 - a layout of TF Serving's answers, named here with ROW
    ROW,
    SERVING_DEFAULT,
    PredictRequest,
    json_value,
    output_names,
    rows_of,
)

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
def answer(result, request: PredictRequest) -> tuple[bytes, list, str]:
    """(body, headers, content type) of a served prediction (`result`: inference.Prediction)."""
    body = format_predict(result.outputs, result.loaded.signature, request.layout)
    return body, [], "application/json"
