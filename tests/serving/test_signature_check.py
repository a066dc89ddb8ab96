"""Checking feeds against a signature: conversion, shapes, dtypes, rows and every refusal."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InvalidInput
from serving.inference import check_feeds, numpy_dtype, to_array

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
    "outputs": [],
}


def _signature(dtype: str, shape=(-1,)) -> dict:
    return {"inputs": [{"name": "x", "dtype": dtype, "shape": list(shape)}], "outputs": []}


def _refused(signature, feeds, max_rows=100) -> str:
    with pytest.raises(InvalidInput) as caught:
        check_feeds(signature, feeds, max_rows=max_rows)
    return caught.value.message


def test_it_converts_a_nested_list_to_the_signature_dtype():
    feeds, rows = check_feeds(SMALL, {"features": [[1, 2, 3, 4.5], [5, 6, 7, 8]]}, max_rows=10)
    assert rows == 2
    assert feeds["features"].dtype == np.float32
    assert feeds["features"].tolist() == [[1, 2, 3, 4.5], [5, 6, 7, 8]]


def test_it_keeps_an_already_decoded_array_without_copying():
    array = np.ones((3, 4), dtype=np.float32)
    feeds, rows = check_feeds(SMALL, {"features": array}, max_rows=10)
    assert feeds["features"] is array
    assert rows == 3


def test_it_allows_zero_rows_and_gives_them_the_inner_shape():
    feeds, rows = check_feeds(SMALL, {"features": []}, max_rows=10)
    assert rows == 0
    assert feeds["features"].shape == (0, 4)


def test_it_refuses_a_missing_input():
    assert _refused(MULTI, {"features": [[1, 2, 3, 4]]}) == (
        "missing input 'extra'; the model's inputs are ['features', 'extra']"
    )


def test_it_refuses_an_unknown_input():
    message = _refused(SMALL, {"features": [[1, 2, 3, 4]], "bogus": [1]})
    assert message == "unknown input 'bogus'; the model's inputs are ['features']"


def test_it_refuses_a_wrong_shape():
    message = _refused(SMALL, {"features": [[1, 2, 3], [4, 5, 6]]})
    assert message == "input 'features': expected shape [-1, 4], got [2, 3]"


def test_it_refuses_a_wrong_rank():
    message = _refused(SMALL, {"features": [1, 2, 3, 4]})
    assert message == "input 'features': expected shape [-1, 4], got [4]"


def test_it_refuses_ragged_nested_lists():
    message = _refused(SMALL, {"features": [[1, 2, 3, 4], [1, 2]]})
    assert message == "input 'features': ragged nested lists (rows of different lengths)"


def test_it_refuses_ragged_string_lists():
    message = _refused(_signature("string", (-1, 2)), {"x": [["a", "b"], ["c"]]})
    assert "input 'x': ragged nested lists" in message


def test_it_refuses_strings_for_a_float_input():
    message = _refused(SMALL, {"features": [["1.5", "2", "3", "4"]]})
    assert message == "input 'features': expected float32 values, got strings"


def test_it_refuses_null_and_objects_for_a_float_input():
    assert _refused(SMALL, {"features": [[None, 1, 2, 3]]}) == (
        "input 'features': expected float32 values, got NoneType None"
    )
    assert "got dict" in _refused(SMALL, {"features": [[{"b64": "AA=="}, 1, 2, 3]]})


def test_it_refuses_booleans_for_a_numeric_input():
    message = _refused(SMALL, {"features": [[True, False, True, False]]})
    assert message == "input 'features': expected float32 values, got booleans"


def test_it_refuses_a_float_overflowing_float32():
    message = _refused(SMALL, {"features": [[1e39, 0, 0, 0]]})
    assert message == "input 'features': a value is out of range for float32"


def test_it_passes_non_finite_floats_through():
    feeds, _ = check_feeds(SMALL, {"features": [[float("nan"), float("inf"), 0, 1]]}, max_rows=5)
    assert np.isnan(feeds["features"][0, 0]) and np.isinf(feeds["features"][0, 1])


def test_it_accepts_integral_numbers_for_an_int_input():
    feeds, _ = check_feeds(_signature("int32"), {"x": [1, 2.0, -3]}, max_rows=5)
    assert feeds["x"].dtype == np.int32
    assert feeds["x"].tolist() == [1, 2, -3]


def test_it_refuses_a_non_integral_number_for_an_int_input():
    message = _refused(_signature("int64"), {"x": [1, 2.5]})
    assert message == "input 'x': 2.5 is not an integer, expected int64"


def test_it_refuses_nan_for_an_int_input():
    assert "nan is not an integer" in _refused(_signature("int32"), {"x": [1.0, float("nan")]})


def test_it_refuses_an_out_of_range_int():
    message = _refused(_signature("int32"), {"x": [1, 2**40]})
    assert message == "input 'x': 1099511627776 is out of range for int32 [-2147483648, 2147483647]"
    assert "-1 is out of range for uint8" in _refused(_signature("uint8"), {"x": [-1]})
    assert "256 is out of range for uint8" in _refused(_signature("uint8"), {"x": [256]})


def test_it_refuses_an_int_beyond_64_bits():
    message = _refused(_signature("int64"), {"x": [1, 2**70]})
    assert message == f"input 'x': {2**70} is out of range for int64"


def test_it_accepts_an_int_beyond_64_bits_for_a_float_input():
    feeds, _ = check_feeds(SMALL, {"features": [[2**70, 1, 2, 3]]}, max_rows=5)
    assert feeds["features"][0, 0] == np.float32(2**70)


def test_it_encodes_strings_and_keeps_bytes_for_a_string_input():
    feeds, rows = check_feeds(_signature("string"), {"x": ["héllo", b"\x00\xff"]}, max_rows=5)
    assert rows == 2
    assert feeds["x"].dtype == object
    assert feeds["x"].tolist() == ["héllo".encode(), b"\x00\xff"]


def test_it_refuses_numbers_for_a_string_input():
    message = _refused(_signature("string"), {"x": ["a", 1]})
    assert message == "input 'x': expected strings, got int 1"


def test_it_accepts_only_booleans_for_a_bool_input():
    feeds, _ = check_feeds(_signature("bool"), {"x": [True, False]}, max_rows=5)
    assert feeds["x"].dtype == np.bool_ and feeds["x"].tolist() == [True, False]
    message = _refused(_signature("bool"), {"x": [1, 0]})
    assert message == "input 'x': expected booleans (true/false) for bool"


def test_it_refuses_inputs_that_disagree_on_rows():
    message = _refused(MULTI, {"features": [[1, 2, 3, 4]], "extra": [[1, 2], [3, 4]]})
    assert message == "inputs disagree on the number of rows: 'features' has 1, 'extra' has 2"


def test_it_refuses_more_rows_than_the_deployment_allows():
    message = _refused(SMALL, {"features": [[0, 0, 0, 0]] * 3}, max_rows=2)
    assert message == "the request has 3 rows; this deployment accepts at most 2 per request"


def test_it_checks_a_fixed_batch_dimension():
    signature = _signature("float32", (1, 2))
    assert check_feeds(signature, {"x": [[1, 2]]}, max_rows=5)[1] == 1
    assert _refused(signature, {"x": [[1, 2], [3, 4]]}) == (
        "input 'x': expected shape [1, 2], got [2, 2]"
    )


@pytest.mark.parametrize(
    "dtype",
    [
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "bfloat16",
    ],
)
def test_it_converts_every_numeric_dtype(dtype):
    value = [True, False] if dtype == "bool" else [1, 2]
    array = to_array("x", value, dtype)
    assert array.dtype == numpy_dtype(dtype)
    assert array.astype(object if dtype == "bool" else float).tolist() == value


def test_it_refuses_a_dtype_it_cannot_carry():
    with pytest.raises(InvalidInput, match="dtype 'complex64' is not supported on the wire"):
        to_array("x", [1], "complex64")
