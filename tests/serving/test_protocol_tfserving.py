"""TensorFlow Serving v1 REST: the examples of tensorflow_serving/g3doc/api_rest.md, and jsonio."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from core.errors import InvalidInput
from serving.inference import check_feeds
from serving.protocols import jsonio, tfserving

HALF_PLUS_THREE = {
    "method": "serving_default",
    "inputs": [{"name": "x", "dtype": "float32", "shape": [-1]}],
    "outputs": [{"name": "y", "dtype": "float32", "shape": [-1]}],
}
SMALL = {
    "method": "serving_default",
    "inputs": [{"name": "features", "dtype": "float32", "shape": [-1, 4]}],
    "outputs": [{"name": "score", "dtype": "float32", "shape": [-1, 1]}],
}
# The api_rest.md multi-input example: tag, signal and sensor share dimension 0.
TAGGED = {
    "method": "serving_default",
    "inputs": [
        {"name": "tag", "dtype": "string", "shape": [-1]},
        {"name": "signal", "dtype": "int64", "shape": [-1, 5]},
        {"name": "sensor", "dtype": "int64", "shape": [-1, 2, 2]},
    ],
    "outputs": [
        {"name": "score", "dtype": "float32", "shape": [-1, 1]},
        {"name": "logits", "dtype": "float32", "shape": [-1, 3]},
    ],
}


def _parse(body: bytes, signature=SMALL):
    return jsonio.parse_tensors(body, signature, only_tensors=False)


def _refused(body: bytes, signature=SMALL) -> str:
    with pytest.raises(InvalidInput) as caught:
        _parse(body, signature)
    return caught.value.message


# -- api_rest.md examples ---------------------------------------------------------------------
def test_it_serves_the_half_plus_three_example():
    # curl -d '{"instances": [1.0,2.0,5.0]}' ... => {"predictions": [3.5, 4.0, 5.5]}
    request = _parse(b'{"instances": [1.0,2.0,5.0]}', HALF_PLUS_THREE)
    feeds, rows = check_feeds(HALF_PLUS_THREE, request.feeds, max_rows=10)
    assert request.layout == tfserving.ROW and rows == 3
    outputs = {"y": feeds["x"] * 0.5 + 3.0}
    body = tfserving.format_predict(outputs, HALF_PLUS_THREE, request.layout)
    assert orjson.loads(body) == {"predictions": [3.5, 4.0, 5.5]}


def test_it_parses_the_list_of_scalar_strings_example():
    # { "instances": [ "foo", "bar", "baz" ] }
    signature = {"inputs": [{"name": "s", "dtype": "string", "shape": [-1]}], "outputs": []}
    request = _parse(b'{"instances": [ "foo", "bar", "baz" ]}', signature)
    feeds, rows = check_feeds(signature, request.feeds, max_rows=10)
    assert rows == 3 and feeds["s"].tolist() == [b"foo", b"bar", b"baz"]


def test_it_parses_the_list_of_1x2_tensors_example():
    # { "instances": [ [[1, 2]], [[3, 4]] ] }  -- 2 tensors each of [1, 2] shape
    signature = {"inputs": [{"name": "t", "dtype": "int32", "shape": [-1, 1, 2]}], "outputs": []}
    feeds, rows = check_feeds(
        signature, _parse(b'{"instances": [ [[1, 2]], [[3, 4]] ]}', signature).feeds, max_rows=5
    )
    assert rows == 2 and feeds["t"].shape == (2, 1, 2) and feeds["t"].dtype == np.int32


ROW_EXAMPLE = b"""{
 "instances": [
   {"tag": "foo", "signal": [1, 2, 3, 4, 5], "sensor": [[1, 2], [3, 4]]},
   {"tag": "bar", "signal": [3, 4, 1, 2, 5], "sensor": [[4, 5], [6, 8]]}
 ]
}"""
COLUMNAR_EXAMPLE = b"""{
 "inputs": {
   "tag": ["foo", "bar"],
   "signal": [[1, 2, 3, 4, 5], [3, 4, 1, 2, 5]],
   "sensor": [[[1, 2], [3, 4]], [[4, 5], [6, 8]]]
 }
}"""


def test_it_parses_the_named_row_example_and_its_columnar_twin_alike():
    # (api_rest.md prints `[3, 4, 1, 2, 5]],` with a stray bracket; the example is quoted fixed.)
    rows = check_feeds(TAGGED, _parse(ROW_EXAMPLE, TAGGED).feeds, max_rows=5)
    columns = check_feeds(TAGGED, _parse(COLUMNAR_EXAMPLE, TAGGED).feeds, max_rows=5)
    assert _parse(COLUMNAR_EXAMPLE, TAGGED).layout == tfserving.COLUMNAR
    assert rows[1] == columns[1] == 2
    for name in ("tag", "signal", "sensor"):
        assert rows[0][name].tolist() == columns[0][name].tolist()
    assert rows[0]["sensor"].tolist() == [[[1, 2], [3, 4]], [[4, 5], [6, 8]]]
    assert rows[0]["tag"].tolist() == [b"foo", b"bar"]


def test_it_decodes_the_b64_values_of_the_binary_example():
    # "image": { "b64": "aW1hZ2UgYnl0ZXM=" } ... "image": { "b64": "YXdlc29tZSBpbWFnZSBieXRlcw==" }
    signature = {
        "inputs": [
            {"name": "image", "dtype": "string", "shape": [-1]},
            {"name": "caption", "dtype": "string", "shape": [-1]},
        ],
        "outputs": [],
    }
    body = b"""{"instances": [
      {"image": { "b64": "aW1hZ2UgYnl0ZXM=" }, "caption": "seaside"},
      {"image": { "b64": "YXdlc29tZSBpbWFnZSBieXRlcw==" }, "caption": "mountains"}]}"""
    feeds, _ = check_feeds(signature, _parse(body, signature).feeds, max_rows=5)
    assert feeds["image"].tolist() == [b"image bytes", b"awesome image bytes"]
    assert feeds["caption"].tolist() == [b"seaside", b"mountains"]


def test_it_decodes_b64_for_a_single_string_input_and_url_safe_unpadded_values():
    signature = {"inputs": [{"name": "s", "dtype": "string", "shape": [-1]}], "outputs": []}
    request = _parse(b'{"instances": [{"b64": "_-8"}, {"b64": "AA=="}]}', signature)
    assert request.feeds == {"s": [b"\xff\xef", b"\x00"]}


def test_it_accepts_the_json_conformance_tokens():
    # "sensor_readings": [ 1.0, -3.14, Nan, Infinity ] (api_rest.md; the token is spelled NaN)
    request = _parse(b'{"instances": [[1.0, -3.14, NaN, Infinity]]}')
    feeds, _ = check_feeds(SMALL, request.feeds, max_rows=5)
    values = feeds["features"][0]
    assert values[0] == 1.0 and math.isnan(values[2]) and values[3] == math.inf


def test_it_writes_status_exactly_as_tf_serving():
    assert tfserving.status_body(7) == (
        b'{"model_version_status":[{"version":"7","state":"AVAILABLE",'
        b'"status":{"error_code":"OK","error_message":""}}]}'
    )
    # The half_plus_three example answers version "123".
    assert orjson.loads(tfserving.status_body("123")) == {
        "model_version_status": [
            {
                "version": "123",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


def test_it_lists_several_versions_and_refuses_an_unknown_state():
    body = orjson.loads(tfserving.status_body_many([(2, "AVAILABLE"), (3, "LOADING")]))
    assert [(v["version"], v["state"]) for v in body["model_version_status"]] == [
        ("2", "AVAILABLE"),
        ("3", "LOADING"),
    ]
    with pytest.raises(ValueError, match="unknown model version state 'READY'"):
        tfserving.status_body_many([(1, "READY")])


def test_it_writes_metadata_with_the_doubled_signature_def():
    body = orjson.loads(tfserving.metadata_body("churn", 3, SMALL))
    assert body["model_spec"] == {"name": "churn", "signature_name": "", "version": "3"}
    definition = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert definition["method_name"] == "tensorflow/serving/predict"
    assert definition["inputs"]["features"] == {
        "dtype": "DT_FLOAT",
        "tensor_shape": {
            "dim": [{"size": "-1", "name": ""}, {"size": "4", "name": ""}],
            "unknown_rank": False,
        },
        "name": "serving_default_features:0",
    }
    assert definition["outputs"]["score"]["name"] == "StatefulPartitionedCall:0"


def test_it_names_tf_dtype_enums():
    signature = {
        "inputs": [
            {"name": n, "dtype": d, "shape": [-1]}
            for n, d in [
                ("a", "int64"),
                ("b", "string"),
                ("c", "bool"),
                ("d", "float16"),
                ("e", "float64"),
                ("f", "uint8"),
            ]
        ],
        "outputs": [],
    }
    inputs = orjson.loads(tfserving.metadata_body("m", 1, signature))["metadata"]["signature_def"][
        "signature_def"
    ]["serving_default"]["inputs"]
    assert {name: info["dtype"] for name, info in inputs.items()} == {
        "a": "DT_INT64",
        "b": "DT_STRING",
        "c": "DT_BOOL",
        "d": "DT_HALF",
        "e": "DT_DOUBLE",
        "f": "DT_UINT8",
    }


def test_it_writes_the_error_object():
    assert tfserving.error_body("Servable not found for request: Latest(half)") == (
        b'{"error":"Servable not found for request: Latest(half)"}'
    )


# -- answers -----------------------------------------------------------------------------------
OUTPUTS = {
    "score": np.array([[0.5], [0.25]], dtype=np.float32),
    "logits": np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32),
}


def test_it_answers_a_single_output_row_request_with_predictions():
    body = tfserving.format_predict({"score": OUTPUTS["score"]}, SMALL, tfserving.ROW)
    assert body == b'{"predictions":[[0.5],[0.25]]}'


def test_it_answers_a_single_output_columnar_request_with_outputs():
    body = tfserving.format_predict({"score": OUTPUTS["score"]}, SMALL, tfserving.COLUMNAR)
    assert body == b'{"outputs":[[0.5],[0.25]]}'


def test_it_answers_multiple_outputs_as_row_objects_or_one_columnar_object():
    rows = orjson.loads(tfserving.format_predict(OUTPUTS, TAGGED, tfserving.ROW))
    assert rows == {
        "predictions": [
            {"score": [0.5], "logits": [1, 2, 3]},
            {"score": [0.25], "logits": [4, 5, 6]},
        ]
    }
    columns = orjson.loads(tfserving.format_predict(OUTPUTS, TAGGED, tfserving.COLUMNAR))
    assert columns == {"outputs": {"score": [[0.5], [0.25]], "logits": [[1, 2, 3], [4, 5, 6]]}}


def test_it_writes_nan_and_infinity_tokens_in_outputs():
    outputs = {"score": np.array([[np.nan], [np.inf], [-np.inf], [1.5]], dtype=np.float32)}
    body = tfserving.format_predict(outputs, SMALL, tfserving.ROW)
    assert body == b'{"predictions":[[NaN],[Infinity],[-Infinity],[1.5]]}'


def test_it_writes_string_outputs_as_text_and_bytes_outputs_as_b64():
    signature = {
        "inputs": [],
        "outputs": [
            {"name": "label", "dtype": "string", "shape": [-1]},
            {"name": "image_bytes", "dtype": "string", "shape": [-1]},
        ],
    }
    outputs = {
        "label": np.array([b"cat", b"\xff\x00"], dtype=object),
        "image_bytes": np.array([b"image bytes", b"x"], dtype=object),
    }
    body = orjson.loads(tfserving.format_predict(outputs, signature, tfserving.COLUMNAR))
    # `_bytes` names are binary by TF Serving's rule; non-UTF-8 bytes cannot be JSON text.
    assert body == {
        "outputs": {
            "label": ["cat", {"b64": "/wA="}],
            "image_bytes": [{"b64": "aW1hZ2UgYnl0ZXM="}, {"b64": "eA=="}],
        }
    }


# -- refusals ----------------------------------------------------------------------------------
def test_it_refuses_both_instances_and_inputs():
    message = _refused(b'{"instances": [[1,2,3,4]], "inputs": [[1,2,3,4]]}')
    assert message == (
        "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist"
    )


def test_it_refuses_neither_instances_nor_inputs():
    assert _refused(b'{"examples": []}') == "Missing 'inputs' or 'instances' key"


def test_it_refuses_another_signature_and_accepts_the_default():
    assert _refused(b'{"signature_name": "classify", "instances": []}') == (
        'Serving signature name: "classify" not found in signature def'
    )
    request = _parse(b'{"signature_name": "serving_default", "instances": []}')
    assert request.signature_name == "serving_default"


def test_it_refuses_instances_that_are_not_a_list():
    assert _refused(b'{"instances": {"features": [1,2,3,4]}}') == (
        "'instances' must be a list with one item per row"
    )


def test_it_refuses_bare_values_for_a_multi_input_model():
    message = _refused(b'{"instances": [["foo", [1,2,3,4,5], [[1,2],[3,4]]]]}', TAGGED)
    assert message == (
        "the model has inputs ['tag', 'signal', 'sensor']; each instance must be "
        "an object keyed by input name"
    )


def test_it_refuses_an_instance_missing_an_input_or_naming_an_unknown_one():
    body = (
        b'{"instances": [{"tag": "a", "signal": [1,2,3,4,5], "sensor": [[1,2],[3,4]]},'
        b' {"tag": "b", "signal": [1,2,3,4,5]}]}'
    )
    assert _refused(body, TAGGED) == "instance 1 is missing input 'sensor'"
    body = b'{"instances": [{"tag": "a", "oops": 1}]}'
    assert _refused(body, TAGGED) == (
        "instance 0 has unknown input 'oops'; the model's inputs are ['tag', 'signal', 'sensor']"
    )


def test_it_refuses_columnar_bare_tensor_for_a_multi_input_model():
    assert _refused(b'{"inputs": [1, 2]}', TAGGED) == (
        "the model has inputs ['tag', 'signal', 'sensor']; 'inputs' must be an object keyed by "
        "input name"
    )


def test_it_refuses_invalid_base64():
    signature = {"inputs": [{"name": "s", "dtype": "string", "shape": [-1]}], "outputs": []}
    assert _refused(b'{"instances": [{"b64": "***"}]}', signature) == (
        "input 's': invalid base64 value '***'"
    )
    assert "a binary value must be" in _refused(b'{"instances": [["a", {"x": 1}]]}', signature)


# -- jsonio ------------------------------------------------------------------------------------
def _bad_json(body: bytes) -> str:
    with pytest.raises(InvalidInput) as caught:
        jsonio.loads(body)
    return caught.value.message


def test_it_reports_malformed_json_with_its_position():
    assert _bad_json(b'{"instances": [1,]}') == (
        "malformed JSON: trailing comma is not allowed at line 1 column 17 (char 16)"
    )
    assert _bad_json(b'{"a": NaN,, }').startswith("malformed JSON: Expecting property name")
    assert _bad_json(b"") == "malformed JSON: the request body is empty"
    assert _bad_json(b"\xff\xfe").startswith("malformed JSON: str is not valid UTF-8")


def test_it_refuses_a_body_that_is_not_an_object():
    assert _bad_json(b"[1, 2]") == "the request body must be a JSON object, not an array"
    assert _bad_json(b'"x"') == "the request body must be a JSON object, not a string"


def test_it_refuses_nesting_deeper_than_64_levels_with_or_without_tokens():
    deep = b'{"instances": ' + b"[" * 70 + b"1" + b"]" * 70 + b"}"
    assert _bad_json(deep) == "malformed JSON: nesting deeper than 64 levels"
    deep_nan = b'{"instances": ' + b"[" * 70 + b"NaN" + b"]" * 70 + b"}"
    assert _bad_json(deep_nan) == "malformed JSON: nesting deeper than 64 levels"
    shallow = b'{"instances": ' + b"[" * 60 + b"1" + b"]" * 60 + b"}"
    assert jsonio.loads(shallow)["instances"]


def test_it_does_not_count_brackets_inside_strings_as_nesting():
    body = b'{"s": "' + b"[" * 100 + b'\\"' + b"{" * 100 + b'"}'
    assert jsonio.loads(body)["s"].startswith("[[[")


def test_it_writes_numpy_arrays_and_scalars():
    body = jsonio.dumps(
        {
            "a": np.arange(3, dtype=np.int64),
            "b": np.float32(0.5),
            "c": np.arange(4).reshape(2, 2)[:, 0],
            "d": [float("-inf")],
        }
    )
    assert body == b'{"a":[0,1,2],"b":0.5,"c":[0,2],"d":[-Infinity]}'


# -- the real model ----------------------------------------------------------------------------
def test_it_round_trips_through_a_real_keras_model(keras_model_file):
    from registry.modelio import KERAS, load

    model = load(keras_model_file, KERAS)
    signature = model.signature
    request = jsonio.parse_tensors(
        b'{"instances": [[0.1, 0.2, 0.3, 0.4], [1, 2, 3, 4]]}', signature, only_tensors=False
    )
    feeds, rows = check_feeds(signature, request.feeds, max_rows=8)
    outputs = {name: np.asarray(value) for name, value in model.call(feeds).items()}
    body = orjson.loads(tfserving.format_predict(outputs, signature, request.layout))
    assert rows == 2 and len(body["predictions"]) == 2
    assert all(len(row) == 1 and 0.0 <= row[0] <= 1.0 for row in body["predictions"])
