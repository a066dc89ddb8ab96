"""Modelgate's own predict endpoint: `POST /api/v1/models/<m>/deployments/<d>/predict`.

The request takes TF Serving's shapes (`instances`, one item per row, or `inputs` keyed by input
name) so a client can move between the two without reshaping data; the answer names what served
it and carries one prediction id per row, for feedback and audit. The body is parsed by
jsonio.parse_native, which TF Serving's parse shares.
"""

from __future__ import annotations

from typing import Any

from serving.protocols import jsonio
from serving.protocols.jsonio import PredictRequest, json_value, output_names, rows_of

JSON = "application/json"


def format_predict(
    outputs: dict[str, Any],
    signature: dict,
    *,
    model: str,
    version: int,
    deployment: str,
    prediction_ids: list[str],
) -> bytes:
    """The answer: one prediction per row (a value, or an object for a multi-output model)."""
    names = output_names(outputs, signature)
    if len(names) == 1:
        predictions: Any = json_value(names[0], outputs[names[0]])
    else:
        predictions = rows_of(outputs, names)
    return jsonio.dumps(
        {
            "model": model,
            "deployment": deployment,
            "version": version,
            "predictions": predictions,
            "prediction_ids": list(prediction_ids),
        }
    )


# -- the protocol table's entries (serving/protocols/table.py) ---------------------------------
def answer(result, request: PredictRequest) -> tuple[bytes, list, str]:
    """(body, headers, content type) of a served prediction (`result`: inference.Prediction)."""
    body = format_predict(
        result.outputs,
        result.loaded.signature,
        model=result.loaded.model_name,
        version=result.loaded.number,
        deployment=result.route.name if result.route is not None else "",
        prediction_ids=result.prediction_ids,
    )
    return body, [], JSON


def error_body(message: str, code: str = "invalid") -> bytes:
    """Modelgate's error object: the message and a stable code."""
    return jsonio.dumps({"error": message, "code": code})
