"""Open Inference Protocol v2 REST and Triton's binary extension, proven with tritonclient itself.

Bodies are built by `InferenceServerClient.generate_request_body` and answers parsed by
`InferenceServerClient.parse_response_body`, the code unmodified tritonclient runs, so no server
is needed to show compatibility.
"""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest
import tritonclient.http as triton
from tritonclient.utils import serialize_byte_tensor

from core.errors import InvalidInput
from serving.inference import check_feeds
from serving.protocols import oip

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
# The model of the specification's examples: input0 UINT32 [2, 2], input1 BOOL [3] -> output0.
SPEC_MODEL = {
    "method": "serving_default",
    "inputs": [
        {"name": "input0", "dtype": "uint32", "shape": [-1, 2]},
        {"name": "input1", "dtype": "bool", "shape": [-1]},
    ],
    "outputs": [{"name": "output0", "dtype": "float32", "shape": [-1, 2]}],
}
DATATYPES = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
    "BYTES": np.object_,
}


def _one_input(datatype: str, shape=(-1, 2)) -> dict:
    dtype = oip.DATATYPES[datatype]
    return {
        "inputs": [{"name": "x", "dtype": dtype, "shape": list(shape)}],
        "outputs": [{"name": "y", "dtype": dtype, "shape": list(shape)}],
    }


def _sample(datatype: str, binary: bool = True) -> np.ndarray:
    if datatype == "BOOL":
        return np.array([[True, False], [False, True]])
    if datatype == "BYTES":
        # JSON carries text only; the binary extension carries any bytes.
        odd = b"\x00\xff" if binary else b"\x00 "
        return np.array([[b"a", odd], [b"", "héllo".encode()]], dtype=object)
    return np.array([[1, 2], [3, 4]], dtype=DATATYPES[datatype])


def _client_body(arrays: dict, datatype_of=None, binary=True, outputs=None, request_id=""):
    inputs = []
    for name, array in arrays.items():
        datatype = datatype_of or ("BYTES" if array.dtype == object else oip.array_datatype(array))
        item = triton.InferInput(name, list(array.shape), datatype)
        item.set_data_from_numpy(array, binary_data=binary)
        inputs.append(item)
    return triton.InferenceServerClient.generate_request_body(
        inputs, outputs=outputs, request_id=request_id
    )


def _client_result(body: bytes, headers: dict):
    length = headers.get("Inference-Header-Content-Length")
    return triton.InferenceServerClient.parse_response_body(
        body, header_length=int(length) if length is not None else None
    )


def _refused(body: bytes, signature=SMALL, header_length=None) -> str:
    with pytest.raises(InvalidInput) as caught:
        oip.parse_infer(body, header_length, signature)
    return caught.value.message


# -- the specification's examples ---------------------------------------------------------
SPEC_REQUEST = b"""{
  "id" : "42",
  "inputs" : [
    {"name" : "input0", "shape" : [ 2, 2 ], "datatype" : "UINT32", "data" : [ 1, 2, 3, 4 ]},
    {"name" : "input1", "shape" : [ 3 ], "datatype" : "BOOL", "data" : [ true ]}
  ],
  "outputs" : [ {"name" : "output0"} ]
}"""


def test_it_checks_the_specification_request_example():
    # inference_rest.md's example gives input1 shape [3] with one element; Modelgate refuses
    # rather than guess, and says so precisely.
    assert _refused(SPEC_REQUEST, SPEC_MODEL) == (
        "input 'input1': shape [3] needs 3 elements, got 1"
    )
    fixed = SPEC_REQUEST.replace(b'"data" : [ true ]', b'"data" : [ true, false, true ]')
    request = oip.parse_infer(fixed, None, SPEC_MODEL)
    assert request.id == "42" and request.requested_outputs == ["output0"]
    assert request.feeds["input0"].dtype == np.uint32
    assert request.feeds["input0"].tolist() == [[1, 2], [3, 4]]
    assert request.feeds["input1"].tolist() == [True, False, True]
    assert request.binary_outputs is None


def test_it_writes_the_specification_response_example():
    request = oip.parse_infer(
        SPEC_REQUEST.replace(b"[ true ]", b"[ true, false, true ]"), None, SPEC_MODEL
    )
    outputs = {"output0": np.array([[1.0, 1.1], [2.0, 2.1], [3.0, 3.1]], dtype=np.float32)}
    body, headers = oip.format_infer("mymodel", "7", request, outputs, SPEC_MODEL)
    assert headers == {"Content-Type": "application/json"}
    assert orjson.loads(body) == {
        "model_name": "mymodel",
        "model_version": "7",
        "id": "42",
        "outputs": [
            {
                "name": "output0",
                "datatype": "FP32",
                "shape": [3, 2],
                "data": [1.0, 1.1, 2.0, 2.1, 3.0, 3.1],
            }
        ],
    }


def test_it_parses_the_binary_extension_example():
    # extension_binary_data.md: 16 bytes for input0 (UINT32 [2,2]), 3 for input1 (BOOL [3]).
    header = b"""{
      "model_name" : "mymodel",
      "inputs" : [
        {"name" : "input0", "shape" : [ 2, 2 ], "datatype" : "UINT32",
         "parameters" : {"binary_data_size" : 16}},
        {"name" : "input1", "shape" : [ 3 ], "datatype" : "BOOL",
         "parameters" : {"binary_data_size" : 3}}
      ],
      "outputs" : [ {"name" : "output0", "parameters" : {"binary_data" : true}} ]
    }"""
    data = np.array([[1, 2], [3, 4]], dtype="<u4").tobytes() + b"\x01\x00\x01"
    request = oip.parse_infer(header + data, len(header), SPEC_MODEL)
    assert request.feeds["input0"].tolist() == [[1, 2], [3, 4]]
    assert request.feeds["input1"].tolist() == [True, False, True]
    assert request.binary_outputs == {"output0"}
    outputs = {"output0": np.arange(6, dtype=np.float32).reshape(3, 2)}
    body, headers = oip.format_infer("mymodel", "1", request, outputs, SPEC_MODEL)
    length = int(headers["Inference-Header-Content-Length"])
    assert headers["Content-Type"] == "application/octet-stream"
    assert orjson.loads(body[:length])["outputs"] == [
        {
            "name": "output0",
            "datatype": "FP32",
            "shape": [3, 2],
            "parameters": {"binary_data_size": 24},
        }
    ]
    assert body[length:] == outputs["output0"].astype("<f4").tobytes()


# -- tritonclient, unmodified ---------------------------------------------------------------
def test_it_serves_tritonclient_defaults_binary_in_and_out():
    features = np.random.default_rng(0).random((3, 4), dtype=np.float32)
    body, length = _client_body({"features": features})
    assert length is not None  # the client's default is the binary extension
    request = oip.parse_infer(body, length, SMALL)
    np.testing.assert_array_equal(request.feeds["features"], features)
    assert request.binary_outputs == "all"
    feeds, rows = check_feeds(SMALL, request.feeds, max_rows=8)
    score = feeds["features"].sum(axis=1, keepdims=True)
    answer, headers = oip.format_infer("churn", "2", request, {"score": score}, SMALL)
    result = _client_result(answer, headers)
    np.testing.assert_array_equal(result.as_numpy("score"), score)
    assert result.get_response()["model_version"] == "2" and rows == 3


@pytest.mark.parametrize("datatype", list(DATATYPES))
@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_it_round_trips_every_datatype(datatype, binary):
    signature = _one_input(datatype)
    array = _sample(datatype, binary)
    outputs = [triton.InferRequestedOutput("y", binary_data=binary)]
    body, length = _client_body({"x": array}, datatype, binary=binary, outputs=outputs)
    request = oip.parse_infer(body, length, signature)
    feeds, _ = check_feeds(signature, request.feeds, max_rows=8)
    assert feeds["x"].tolist() == array.tolist()
    answer, headers = oip.format_infer("m", "1", request, {"y": feeds["x"]}, signature)
    assert ("Inference-Header-Content-Length" in headers) is binary
    result = _client_result(answer, headers)
    assert result.get_output("y")["datatype"] == datatype
    answered = result.as_numpy("y").tolist()
    if datatype == "BYTES" and not binary:  # tritonclient gives JSON BYTES back as str
        answered = [[item.encode() for item in row] for row in answered]
    assert answered == array.tolist()


def test_it_returns_only_the_requested_outputs_and_echoes_the_id():
    arrays = {"features": np.ones((2, 4), np.float32), "extra": np.zeros((2, 2), np.float32)}
    body, length = _client_body(
        arrays,
        outputs=[triton.InferRequestedOutput("logits", binary_data=False)],
        request_id="req-9",
    )
    request = oip.parse_infer(body, length, MULTI)
    assert request.requested_outputs == ["logits"] and request.binary_outputs is None
    outputs = {"score": np.ones((2, 1), np.float32), "logits": np.full((2, 3), 2, np.float32)}
    answer, headers = oip.format_infer("multi", "1", request, outputs, MULTI)
    result = _client_result(answer, headers)
    assert [o["name"] for o in result.get_response()["outputs"]] == ["logits"]
    assert result.get_response()["id"] == "req-9"
    assert result.as_numpy("logits").tolist() == [[2, 2, 2], [2, 2, 2]]


def test_it_mixes_binary_and_json_outputs_per_request():
    arrays = {"features": np.ones((1, 4), np.float32), "extra": np.zeros((1, 2), np.float32)}
    body, length = _client_body(
        arrays,
        outputs=[
            triton.InferRequestedOutput("score", binary_data=False),
            triton.InferRequestedOutput("logits", binary_data=True),
        ],
    )
    request = oip.parse_infer(body, length, MULTI)
    outputs = {"score": np.array([[0.5]], np.float32), "logits": np.array([[1, 2, 3]], np.float32)}
    answer, headers = oip.format_infer("multi", "1", request, outputs, MULTI)
    document = orjson.loads(answer[: int(headers["Inference-Header-Content-Length"])])
    assert document["outputs"][0]["data"] == [0.5]
    assert document["outputs"][1]["parameters"] == {"binary_data_size": 12}
    assert _client_result(answer, headers).as_numpy("logits").tolist() == [[1, 2, 3]]


def test_it_returns_all_outputs_in_signature_order_when_none_are_named():
    request = oip.parse_infer(
        b'{"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32",'
        b' "data": [1, 2, 3, 4]}, {"name": "extra", "shape": [1, 2], "datatype": "FP32",'
        b' "data": [[5, 6]]}]}',
        None,
        MULTI,
    )
    assert request.id is None and request.requested_outputs is None
    outputs = {"logits": np.zeros((1, 3), np.float32), "score": np.ones((1, 1), np.float32)}
    document = orjson.loads(oip.format_infer("multi", "1", request, outputs, MULTI)[0])
    assert "id" not in document
    assert [o["name"] for o in document["outputs"]] == ["score", "logits"]


def test_it_reshapes_flat_and_nested_data_row_major_alike():
    flat = (
        b'{"inputs": [{"name": "features", "shape": [2, 4], "datatype": "FP32",'
        b' "data": [1, 2, 3, 4, 5, 6, 7, 8]}]}'
    )
    nested = flat.replace(b"[1, 2, 3, 4, 5, 6, 7, 8]", b"[[1, 2, 3, 4], [5, 6, 7, 8]]")
    a = oip.parse_infer(flat, None, SMALL).feeds["features"]
    b = oip.parse_infer(nested, None, SMALL).feeds["features"]
    assert a.tolist() == b.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]


def test_it_reads_and_writes_nan_and_infinity():
    body = (
        b'{"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32",'
        b' "data": [NaN, Infinity, -Infinity, 0]}]}'
    )
    request = oip.parse_infer(body, None, SMALL)
    values = request.feeds["features"][0]
    assert math.isnan(values[0]) and values[1] == math.inf and values[2] == -math.inf
    answer, headers = oip.format_infer(
        "m", "1", request, {"score": np.array([[np.nan]], np.float32)}, SMALL
    )
    assert b'"data":[NaN]' in answer
    assert math.isnan(_client_result(answer, headers).as_numpy("score")[0, 0])


def test_it_sends_non_utf8_bytes_outputs_as_binary_even_when_json_was_asked():
    signature = _one_input("BYTES", (-1,))
    request = oip.parse_infer(
        b'{"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}',
        None,
        signature,
    )
    answer, headers = oip.format_infer(
        "m", "1", request, {"y": np.array([b"\xff"], dtype=object)}, signature
    )
    assert _client_result(answer, headers).as_numpy("y").tolist() == [b"\xff"]


def test_it_writes_server_and_model_metadata_and_readiness():
    assert orjson.loads(oip.server_metadata_body("1.0.0")) == {
        "name": "modelgate",
        "version": "1.0.0",
        "extensions": [
            "binary_tensor_data",
            "model_configuration",
            "model_repository",
            "statistics",
        ],
    }
    assert orjson.loads(
        oip.model_metadata_body("multi", ["1", "2"], "tensorflow_savedmodel", MULTI)
    ) == {
        "name": "multi",
        "versions": ["1", "2"],
        "platform": "tensorflow_savedmodel",
        "inputs": [
            {"name": "features", "datatype": "FP32", "shape": [-1, 4]},
            {"name": "extra", "datatype": "FP32", "shape": [-1, 2]},
        ],
        "outputs": [
            {"name": "score", "datatype": "FP32", "shape": [-1, 1]},
            {"name": "logits", "datatype": "FP32", "shape": [-1, 3]},
        ],
    }
    assert oip.ready_body() == b'{"ready":true}'
    assert oip.ready_body("churn") == b'{"name":"churn","ready":true}'
    assert oip.error_body("nope") == b'{"error":"nope"}'


def test_it_maps_datatypes_both_ways():
    for datatype, dtype in DATATYPES.items():
        name = oip.DATATYPES[datatype]
        assert oip.datatype_of(name) == datatype
        if datatype != "BYTES":
            assert oip.array_datatype(np.zeros(1, dtype)) == datatype
    assert oip.array_datatype(np.array(["a"])) == "BYTES"


# -- refusals -----------------------------------------------------------------------------------
def _json_input(**fields) -> bytes:
    entry = {"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}
    entry.update(fields)
    return orjson.dumps({"inputs": [{k: v for k, v in entry.items() if v is not None}]})


def test_it_refuses_a_datatype_mismatch_naming_both():
    assert _refused(_json_input(datatype="FP64")) == (
        "input 'features': datatype FP64 does not match the model's FP32"
    )
    assert _refused(_json_input(datatype="FLOAT")).startswith(
        "input 'features': unknown datatype 'FLOAT'; use one of ['BOOL'"
    )


def test_it_refuses_data_that_does_not_fill_the_shape():
    assert _refused(_json_input(shape=[2, 4])) == (
        "input 'features': shape [2, 4] needs 8 elements, got 4"
    )
    assert _refused(_json_input(shape=[1, -4])) == (
        "input 'features': 'shape' must be a list of non-negative integers"
    )


def test_it_refuses_unknown_duplicate_and_dataless_inputs():
    assert _refused(_json_input(name="bogus")) == (
        "unknown input 'bogus'; the model's inputs are ['features']"
    )
    entry = orjson.loads(_json_input())["inputs"][0]
    assert _refused(orjson.dumps({"inputs": [entry, entry]})) == (
        "input 'features' appears more than once"
    )
    assert _refused(_json_input(data=None)) == (
        "input 'features' has neither 'data' nor a binary_data_size"
    )
    assert _refused(b'{"id": 42, "inputs": []}') == "'id' must be a string"
    assert _refused(b'{"inputs": {}}') == "'inputs' must be a list of input tensors"


def test_it_refuses_unknown_or_duplicate_requested_outputs():
    body = orjson.loads(_json_input())
    body["outputs"] = [{"name": "nope"}]
    assert _refused(orjson.dumps(body)) == (
        "unknown output 'nope'; the model's outputs are ['score']"
    )
    body["outputs"] = [{"name": "score"}, {"name": "score"}]
    assert _refused(orjson.dumps(body)) == "output 'score' is requested more than once"
    body["outputs"] = [{"name": "score", "parameters": {"classification": 2}}]
    assert _refused(orjson.dumps(body)) == (
        "output 'score': the 'classification' parameter is not supported"
    )


def test_it_refuses_an_output_the_model_did_not_produce():
    request = oip.InferRequest(None, {}, {}, ["logits"], None)
    with pytest.raises(InvalidInput, match="unknown output 'logits'"):
        oip.format_infer("m", "1", request, {"score": np.zeros((1, 1))}, SMALL)


def test_it_refuses_broken_binary_framing():
    features = np.ones((1, 4), np.float32)
    body, length = _client_body({"features": features})
    assert _refused(body, header_length=len(body) + 1) == (
        f"Inference-Header-Content-Length {len(body) + 1} is outside the body of {len(body)} bytes"
    )
    assert _refused(body[:-1], header_length=length) == (
        "input 'features': binary_data_size 16 runs past the end of the body (15 bytes left)"
    )
    assert _refused(body + b"xx", header_length=length) == (
        "2 bytes of binary data after the JSON header belong to no input"
    )
    assert _refused(body[:length]) == (
        "input 'features' has a binary_data_size but the request has no "
        "Inference-Header-Content-Length header"
    )


def test_it_refuses_a_binary_size_that_does_not_match_the_shape():
    header = _json_input(data=None, parameters={"binary_data_size": 8})
    assert _refused(header + b"\x00" * 8, header_length=len(header)) == (
        "input 'features': binary_data_size 8 does not match shape [1, 4] of FP32 (16 bytes)"
    )


def test_it_refuses_truncated_bytes_elements():
    signature = _one_input("BYTES", (-1,))
    raw = serialize_byte_tensor(np.array([b"abc", b"de"], dtype=object)).item()
    header = orjson.dumps(
        {
            "inputs": [
                {
                    "name": "x",
                    "shape": [2],
                    "datatype": "BYTES",
                    "parameters": {"binary_data_size": len(raw) - 1},
                }
            ]
        }
    )
    assert _refused(header + raw[:-1], signature, len(header)) == (
        "input 'x': BYTES element 1 runs past its data"
    )
    header3 = header.replace(b"[2]", b"[3]").replace(
        str(len(raw) - 1).encode(), str(len(raw)).encode()
    )
    assert _refused(header3 + raw, signature, len(header3)) == (
        "input 'x': BYTES data ends before element 2"
    )
    header1 = header.replace(b"[2]", b"[1]").replace(
        str(len(raw) - 1).encode(), str(len(raw)).encode()
    )
    assert _refused(header1 + raw, signature, len(header1)) == (
        "input 'x': 6 bytes of BYTES data beyond the shape's 1 elements"
    )


def test_it_refuses_values_of_the_wrong_kind_in_json_data():
    assert _refused(_json_input(data=["a", "b", "c", "d"])) == (
        "input 'features': expected float32 values, got strings"
    )
