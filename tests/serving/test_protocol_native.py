"""Modelgate's native predict body: TF Serving's request shapes, an answer naming what served it."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from core.errors import InvalidInput
from serving.inference import check_feeds
from serving.protocols import jsonio, native

SMALL = {
    "method": "serving_default",
    "inputs": [{"name": "features", "dtype": "float32", "shape": [-1, 4]}],
    "outputs": [{"name": "score", "dtype": "float32", "shape": [-1, 1]}],
}
MULTI = {
    "method": "serving_default",
    "inputs": [
        {"name": "features", "dtype": "float32", "shape": [-1, 4]},
        {"name": "extra", "dtype": "float32", "shape": [-1, 2]},
    ],
    "outputs": [
        {"name": "score", "dtype": "float32", "shape": [-1, 1]},
        {"name": "logits", "dtype": "float32", "shape": [-1, 3]},
    ],
}


def _parse(body: bytes, signature):
    return jsonio.parse_tensors(body, signature, only_tensors=True)


def _format(outputs, signature=SMALL, ids=("r-0", "r-1")):
    return orjson.loads(
        native.format_predict(
            outputs,
            signature,
            model="churn",
            version=3,
            deployment="production",
            prediction_ids=list(ids),
        )
    )


def test_it_parses_instances_as_rows():
    request = _parse(b'{"instances": [[1, 2, 3, 4], [5, 6, 7, 8]]}', SMALL)
    feeds, rows = check_feeds(SMALL, request.feeds, max_rows=10)
    assert rows == 2 and feeds["features"].tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]


def test_it_parses_named_instances_and_named_inputs_alike():
    rows = _parse(b'{"instances": [{"features": [1, 2, 3, 4], "extra": [5, 6]}]}', MULTI)
    columns = _parse(b'{"inputs": {"features": [[1, 2, 3, 4]], "extra": [[5, 6]]}}', MULTI)
    a, _ = check_feeds(MULTI, rows.feeds, max_rows=4)
    b, _ = check_feeds(MULTI, columns.feeds, max_rows=4)
    assert {k: v.tolist() for k, v in a.items()} == {k: v.tolist() for k, v in b.items()}


def test_it_answers_a_single_output_model_with_one_value_per_row():
    body = _format({"score": np.array([[0.5], [0.25]], np.float32)})
    assert body == {
        "model": "churn",
        "deployment": "production",
        "version": 3,
        "predictions": [[0.5], [0.25]],
        "prediction_ids": ["r-0", "r-1"],
    }


def test_it_answers_a_multi_output_model_with_one_object_per_row():
    outputs = {
        "logits": np.array([[1, 2, 3], [4, 5, 6]], np.float32),
        "score": np.array([[0.5], [0.25]], np.float32),
    }
    body = _format(outputs, MULTI)
    assert body["predictions"] == [
        {"score": [0.5], "logits": [1, 2, 3]},
        {"score": [0.25], "logits": [4, 5, 6]},
    ]


def test_it_writes_non_finite_outputs_as_tokens():
    raw = native.format_predict(
        {"score": np.array([[np.nan]], np.float32)},
        SMALL,
        model="m",
        version=1,
        deployment="d",
        prediction_ids=["x"],
    )
    assert b'"predictions":[[NaN]]' in raw


def test_it_refuses_unknown_fields_and_missing_rows():
    with pytest.raises(InvalidInput) as caught:
        _parse(b'{"instances": [], "signature_name": "x"}', SMALL)
    assert caught.value.message == (
        "unknown field 'signature_name'; the body takes 'instances' or 'inputs'"
    )
    with pytest.raises(InvalidInput, match="Missing 'inputs' or 'instances' key"):
        _parse(b"{}", SMALL)
    with pytest.raises(InvalidInput, match="malformed JSON"):
        _parse(b'{"instances": [', SMALL)
