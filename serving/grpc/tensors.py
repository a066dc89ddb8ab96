"""Tensors on the gRPC wire <-> numpy: OIP `InferTensorContents` / raw contents, TF `TensorProto`.

Pure translation with the REST path's codecs (raw OIP bytes are the binary extension's layout:
row-major little-endian, BYTES as 4-byte length + bytes). A malformed tensor is InvalidInput, so
it maps to INVALID_ARGUMENT with a precise message, like the REST 400.
"""

from __future__ import annotations

import math

import numpy as np
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

from core.errors import InvalidInput
from serving.inference import NUMPY_DTYPES, STRING, shape_text
from serving.protocols import oip
from serving.protocols.tfserving import TF_DTYPES

# OIP datatype -> the typed `contents` field that carries it (FP16/BF16 travel raw only).
CONTENTS_FIELD = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


# -- Open Inference Protocol --------------------------------------------------------------------
def oip_input(tensor, raw: bytes | None, spec: dict) -> np.ndarray:
    """One `ModelInferRequest.InferInputTensor` (with its raw bytes, if any) as an array."""
    name = tensor.name
    shape = list(tensor.shape)
    if any(dim < 0 for dim in shape):
        raise InvalidInput(f"input {name!r}: 'shape' must be non-negative integers")
    expected = oip.datatype_of(spec["dtype"])
    if tensor.datatype != expected:
        raise InvalidInput(
            f"input {name!r}: datatype {tensor.datatype or '(none)'} does not match the "
            f"model's {expected}"
        )
    count = math.prod(shape)
    has_contents = tensor.HasField("contents")
    if raw is not None:
        if has_contents:
            raise InvalidInput(f"input {name!r} has both contents and raw_input_contents")
        # The REST binary extension's decoder: same layout, same messages.
        return oip.tensor_from_binary(name, memoryview(raw), tensor.datatype, shape, count)
    field = CONTENTS_FIELD.get(tensor.datatype)
    if field is None:
        raise InvalidInput(f"input {name!r}: {tensor.datatype} travels in raw_input_contents only")
    values = getattr(tensor.contents, field)
    if len(values) != count:
        raise InvalidInput(
            f"input {name!r}: shape {shape_text(shape)} needs {count} elements, "
            f"got {len(values)} in {field}"
        )
    if tensor.datatype == "BYTES":
        array = np.empty(count, dtype=object)
        array[:] = list(values)
        return array.reshape(shape)
    dtype = NUMPY_DTYPES[oip.DATATYPES[tensor.datatype]]
    # Narrow types travel widened (int8 in int32): refuse what does not fit, never wrap.
    return _narrow(name, np.asarray(values), dtype, spec["dtype"]).reshape(shape)


def _narrow(name: str, values: np.ndarray, dtype: np.dtype, dtype_name: str) -> np.ndarray:
    if values.dtype == dtype or values.size == 0:
        return values.astype(dtype, copy=False)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        low, high = values.min(), values.max()
        if low < info.min or high > info.max:
            bad = low if low < info.min else high
            raise InvalidInput(
                f"input {name!r}: {bad.item()!r} is out of range for {dtype_name} "
                f"[{info.min}, {info.max}]"
            )
    return values.astype(dtype)


def oip_output(array: np.ndarray) -> tuple[str, list[int], bytes]:
    """(datatype, shape, raw bytes) of one output, as `raw_output_contents` carries it."""
    array = np.asarray(array)
    return oip.array_datatype(array), list(array.shape), oip.tensor_to_binary(array)


# -- TensorFlow TensorProto ---------------------------------------------------------------------
_DT_BY_NAME = {name: types_pb2.DataType.Value(dt) for name, dt in TF_DTYPES.items()}
_NAME_BY_DT = {dt: name for name, dt in _DT_BY_NAME.items()}
# The typed repeated field TensorFlow uses for each dtype (make_tensor_proto's choice too).
_VAL_FIELD = {
    "float32": "float_val",
    "float64": "double_val",
    "int8": "int_val",
    "int16": "int_val",
    "int32": "int_val",
    "uint8": "int_val",
    "uint16": "int_val",
    "int64": "int64_val",
    "uint32": "uint32_val",
    "uint64": "uint64_val",
    "bool": "bool_val",
    "float16": "half_val",
    "bfloat16": "half_val",
    STRING: "string_val",
}


def tf_dtype(dtype_name: str) -> int:
    """The DataType enum for a signature dtype name (DT_INVALID when TF has none)."""
    return _DT_BY_NAME.get(dtype_name, types_pb2.DT_INVALID)


def from_tensor_proto(name: str, proto, spec: dict) -> np.ndarray:
    """A TensorProto (packed `tensor_content` or typed `*_val`) as an array of its dtype."""
    dtype_name = _NAME_BY_DT.get(proto.dtype)
    if dtype_name is None:
        raise InvalidInput(
            f"input {name!r}: unsupported dtype {types_pb2.DataType.Name(proto.dtype)}"
        )
    if dtype_name != spec["dtype"]:
        raise InvalidInput(
            f"input {name!r}: dtype {TF_DTYPES[dtype_name]} does not match the model's "
            f"{TF_DTYPES.get(spec['dtype'], spec['dtype'])}"
        )
    if proto.tensor_shape.unknown_rank:
        raise InvalidInput(f"input {name!r}: a tensor needs a known shape")
    shape = [dim.size for dim in proto.tensor_shape.dim]
    if any(dim < 0 for dim in shape):
        raise InvalidInput(f"input {name!r}: shape {shape_text(shape)} has a negative dimension")
    count = math.prod(shape)
    dtype = NUMPY_DTYPES[dtype_name]
    if proto.tensor_content and dtype_name != STRING:
        wire = dtype.newbyteorder("<")
        if len(proto.tensor_content) != count * dtype.itemsize:
            raise InvalidInput(
                f"input {name!r}: tensor_content of {len(proto.tensor_content)} bytes does not "
                f"match shape {shape_text(shape)} ({count * dtype.itemsize} bytes)"
            )
        array = np.frombuffer(proto.tensor_content, dtype=wire).reshape(shape)
        return array.astype(dtype, copy=False)
    values = getattr(proto, _VAL_FIELD[dtype_name])
    if len(values) == 1 and count > 1:
        values = list(values) * count  # TensorFlow's rule: one value fills the tensor
    elif len(values) != count:
        raise InvalidInput(
            f"input {name!r}: shape {shape_text(shape)} needs {count} values, got {len(values)}"
        )
    if dtype_name == STRING:
        array = np.empty(count, dtype=object)
        array[:] = list(values)
        return array.reshape(shape)
    if dtype_name in ("float16", "bfloat16"):
        bits = np.asarray(values, dtype=np.uint16)  # half_val holds the raw 16 bits
        return bits.view(dtype).reshape(shape)
    return _narrow(name, np.asarray(values), dtype, dtype_name).reshape(shape)


def to_tensor_proto(array) -> tensor_pb2.TensorProto:
    """An output as TensorProto: packed `tensor_content`, or `string_val` for strings."""
    array = np.asarray(array)
    proto = tensor_pb2.TensorProto()
    proto.tensor_shape.CopyFrom(
        tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=int(d)) for d in array.shape]
        )
    )
    if array.dtype.kind in "OSU":
        proto.dtype = types_pb2.DT_STRING
        proto.string_val.extend(
            item.encode("utf-8") if isinstance(item, str) else bytes(item)
            for item in array.reshape(-1).tolist()
        )
        return proto
    dtype_name = "bfloat16" if array.dtype == NUMPY_DTYPES.get("bfloat16") else array.dtype.name
    proto.dtype = tf_dtype(dtype_name)
    if proto.dtype == types_pb2.DT_INVALID:
        raise InvalidInput(f"output dtype {array.dtype} has no TensorFlow equivalent")
    proto.tensor_content = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    return proto
