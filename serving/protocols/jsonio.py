"""Fast JSON for the prediction path: orjson, plus the NaN/Infinity tokens TF Serving clients use.

orjson is several times faster than the stdlib on tensors but follows RFC 8259 strictly: it rejects
`NaN`/`Infinity` on input and writes `null` for non-finite floats on output. TF Serving accepts and
writes those tokens, so `loads` falls back to the stdlib only for bodies that contain them and
`dumps` patches the tokens into orjson's output only for arrays that hold non-finite values.

Tensors in JSON documents take TF Serving's shapes (`instances`, one item per row, or `inputs`
keyed by input name; binary strings as `{"b64": ...}`), which TF Serving's REST API and
Modelgate's native endpoint share: both read and write them with the functions below.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from core.errors import InvalidInput
from serving.inference import STRING

MAX_DEPTH = 64
ROW = "row"
TENSOR_FIELDS = ("instances", "inputs")
SERVING_DEFAULT = "serving_default"  # TF Serving's one signature name
COLUMNAR = "columnar"
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_TOKENS = {"nan": b"NaN", "inf": b"Infinity", "-inf": b"-Infinity"}
_PLAIN = frozenset({str, int, bool, type(None), bytes})


def loads(body: bytes) -> dict[str, Any]:
    """Parse a request body that must be a JSON object; InvalidInput (never a traceback) if not."""
    if not body or not body.strip():
        raise InvalidInput("malformed JSON: the request body is empty")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if b"NaN" not in body and b"Infinity" not in body:
            raise InvalidInput(_describe(exc)) from None
        document = _loads_with_tokens(body)
    else:
        # Only a body with many brackets can nest too deep; counting them is cheap, walking isn't.
        if _brackets(body) > MAX_DEPTH:
            _check_depth(body)
    if not isinstance(document, dict):
        raise InvalidInput(f"the request body must be a JSON object, not {_json_type(document)}")
    return document


def _brackets(body: bytes) -> int:
    if len(body) < 2048:
        return body.count(b"[") + body.count(b"{")
    # One vectorised pass: `[` (0x5B) and `{` (0x7B) are the only bytes that OR 0x20 to 0x7B.
    return int(np.count_nonzero((np.frombuffer(body, dtype=np.uint8) | 0x20) == 0x7B))


def _loads_with_tokens(body: bytes) -> Any:
    _check_depth(body)  # before the stdlib's recursive parser sees it
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"malformed JSON: the body is not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(_describe(exc)) from None


def _describe(exc: json.JSONDecodeError) -> str:
    return f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno} (char {exc.pos})"


def _check_depth(body: bytes) -> None:
    """Refuse nesting deeper than MAX_DEPTH, counting brackets outside strings in one numpy pass."""
    if b"\\" in body:
        body = _STRING.sub(b'""', body)  # escaped quotes would fool the parity count below
    raw = np.frombuffer(body, dtype=np.uint8)
    outside = (np.cumsum(raw == ord('"')) & 1) == 0
    step = ((raw == ord("[")) | (raw == ord("{"))).astype(np.int32)
    step -= (raw == ord("]")) | (raw == ord("}"))
    if raw.size and int(np.cumsum(step * outside).max()) > MAX_DEPTH:
        raise InvalidInput(f"malformed JSON: nesting deeper than {MAX_DEPTH} levels")


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def dumps(obj: Any) -> bytes:
    """Serialize with orjson (numpy arrays natively), writing NaN/Infinity like TF Serving."""
    return orjson.dumps(_with_tokens(obj), default=_default, option=_OPTIONS)


def _default(value: Any) -> Any:
    # orjson hands over what it cannot serialize natively: non-contiguous or exotic numpy values.
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _with_tokens(obj: Any) -> Any:
    """Replace values holding non-finite floats by orjson Fragments carrying the tokens.

    Containers are copied only where something changed: this runs on every answer.
    """
    kind = type(obj)
    if kind in _PLAIN:
        return obj
    if kind is np.ndarray:
        if obj.dtype.kind != "f" or all_finite(obj):
            return obj
        return orjson.Fragment(_array_with_tokens(obj))
    if kind is dict:
        changed = None
        for key, value in obj.items():
            if type(value) not in _PLAIN:
                fixed = _with_tokens(value)
                if fixed is not value:
                    changed = changed if changed is not None else dict(obj)
                    changed[key] = fixed
        return obj if changed is None else changed
    if kind is list or kind is tuple:
        items = None
        for index, value in enumerate(obj):
            if type(value) not in _PLAIN:
                fixed = _with_tokens(value)
                if fixed is not value:
                    items = items if items is not None else list(obj)
                    items[index] = fixed
        return obj if items is None else items
    if isinstance(obj, float | np.floating) and not math.isfinite(obj):
        return orjson.Fragment(_TOKENS[repr(float(obj))])
    return obj


def all_finite(array: np.ndarray) -> bool:
    """Whether a float array holds no NaN or infinity (one cheap reduction)."""
    if array.size <= 8:  # numpy's per-call overhead dominates tiny arrays (a single row)
        return all(map(math.isfinite, array.ravel().tolist()))
    if array.dtype.itemsize < 8:
        # Summed in float64 a narrower float cannot overflow: only a NaN or inf shows.
        return math.isfinite(np.add.reduce(array, axis=None, dtype=np.float64))
    return bool(np.isfinite(array).all())


def _array_with_tokens(array: np.ndarray) -> bytes:
    # In a numeric array every `null` orjson writes is a non-finite element, in row-major order.
    array = np.ascontiguousarray(array)
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    pieces = orjson.dumps(array, default=_default, option=_OPTIONS).split(b"null")
    bad = array.reshape(-1)[~np.isfinite(array.reshape(-1))]
    out = [pieces[0]]
    for value, piece in zip(bad.tolist(), pieces[1:], strict=True):
        out.append(_TOKENS[repr(value)])
        out.append(piece)
    return b"".join(out)


# -- tensors in JSON documents (TF Serving's shapes) -------------------------------------------
@dataclass(frozen=True, slots=True)
class PredictRequest:
    """A parsed predict body: raw feeds (checked later by check_feeds) and the answer's layout."""

    feeds: dict[str, Any]
    layout: str
    signature_name: str | None = None


def parse_tensors(body: bytes, signature: dict, *, only_tensors: bool) -> PredictRequest:
    """A predict body in TF Serving's shapes, as TF Serving's REST API and Modelgate's native
    endpoint take it. TF Serving's may name its signature (only the default one exists);
    native's (`only_tensors`) takes no field but `instances` or `inputs`."""
    document = loads(body)
    name = None
    if only_tensors:
        unknown = sorted(key for key in document if key not in TENSOR_FIELDS)
        if unknown:
            raise InvalidInput(
                f"unknown field {unknown[0]!r}; the body takes 'instances' or 'inputs'"
            )
    else:
        name = document.get("signature_name")
        if name is not None and not isinstance(name, str):
            raise InvalidInput("'signature_name' must be a string")
        if name not in (None, "", SERVING_DEFAULT):
            raise InvalidInput(f'Serving signature name: "{name}" not found in signature def')
    feeds, layout = feeds_from_document(document, signature)
    return PredictRequest(feeds, layout, name or None)


# The protocol table's parsers (serving/protocols/table.py): (call, signature) -> PredictRequest.
def parse_native(call, signature: dict) -> PredictRequest:
    return parse_tensors(call.body, signature, only_tensors=True)


def parse_tfserving(call, signature: dict) -> PredictRequest:
    return parse_tensors(call.body, signature, only_tensors=False)


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
        with contextlib.suppress(UnicodeDecodeError):  # not text: TF Serving sends it base64
            return item.decode("utf-8")
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
