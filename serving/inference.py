"""The batched call behind every wire format: the signature check, the prediction cache, the
version's batcher, and the `Prediction` each call ends in, from which its event is built and
published without waiting (failures too). serving/gateway.py's `PredictCall` strings these
together for the REST and gRPC protocols; serving/shadow.py uses the same public functions.

The signature check (`check_feeds`, last in this module): every protocol parser hands its raw
values (nested lists, or arrays the binary extension already decoded) to it, so a bad request is
refused with the same precise message whatever the protocol, and the model only ever sees arrays
of its own dtypes and shapes. Conversion is one `np.asarray` per input plus vectorised checks: no
per-element Python loop except for strings. The validation suite (jobs/) checks its feeds here too.
"""

from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.errors import InvalidInput
from serving import cache as prediction_cache
from serving import events, sampling, telemetry
from serving.batching import BatcherClosed, QueueFull
from serving.replies import ProtocolError
from serving.routes import LoadedVersion, Route

try:  # TensorFlow's bfloat16 numpy type; tensorflow and tritonclient both depend on ml_dtypes
    from ml_dtypes import bfloat16 as _bfloat16
except ImportError:  # pragma: no cover - ml_dtypes ships with TensorFlow
    _bfloat16 = None

PINNED_MAX_ROWS = 1024  # a /versions/<n> call has no deployment config; this is the default


def new_request_id() -> str:
    """A request's id: its response's X-Request-Id, its event's and log row's `request_id`."""
    return os.urandom(10).hex()


def prediction_ids(request_id: str, rows: int) -> list[str]:
    """One id per row (`<request id>-<row>`); a 0-row call keeps the request id."""
    return [f"{request_id}-{i}" for i in range(rows)] if rows else [request_id]


@dataclass(slots=True)
class Prediction:
    """One predict call as it ended: what the protocol answers from, and what its event says
    (serving/events.py builds the event from it)."""

    protocol: str
    request_id: str
    loaded: LoadedVersion
    route: Route | None
    role: str
    key_prefix: str
    started: float  # time.perf_counter() when the call arrived
    feeds: dict | None = None
    rows: int = 0
    outputs: dict | None = None
    prediction_ids: list[str] = field(default_factory=list)
    cache_hit: bool = False
    batch_rows: int = 0  # rows of the batch that ran it: 0 for a cache hit
    status: int = 200
    error: str = ""


def check(loaded: LoadedVersion, route: Route | None, feeds: dict) -> tuple[dict, int]:
    """Feeds converted to the signature's dtypes and shapes, and their rows, within the
    deployment's per-request row limit."""
    limit = route.config["max_request_rows"] if route is not None else PINNED_MAX_ROWS
    return check_feeds(loaded.signature, feeds, max_rows=limit)


def infer(loaded: LoadedVersion, route: Route | None, feeds: dict, rows: int):
    """(outputs, cache hit, rows of the batch that ran them: 0 for a cache hit)."""
    ttl = route.config["cache_ttl_seconds"] if route is not None else 0
    cache_key = None
    if ttl:
        cache_key = prediction_cache.key_for(loaded.version_id, feeds)
        hit = prediction_cache.get(cache_key)
        if hit is not None:
            return hit, True, 0
    try:
        outputs, batch_rows = loaded.batcher.submit_measured(feeds)
    except QueueFull as exc:
        raise ProtocolError(
            503,
            "the model's queue is full; retry shortly",
            "overloaded",
            [("Retry-After", str(max(1, round(exc.retry_after_seconds))))],
        ) from None
    except BatcherClosed:
        # The version was swapped out between routing and submit: the new table serves it.
        raise ProtocolError(
            503,
            "the deployment is switching versions; retry",
            "unavailable",
            [("Retry-After", "1")],
        ) from None
    if cache_key is not None:
        prediction_cache.set(cache_key, outputs, ttl)
    return outputs, False, batch_rows


def publish(result: Prediction) -> None:
    """Count the call and queue its event; the payload is kept at the deployment's sample rate
    (successes only)."""
    deployment_id = result.route.deployment_id if result.route is not None else 0
    rate = sampling.rate_for(deployment_id)
    sampled = result.status == 200 and rate > 0 and (rate >= 1 or random.random() < rate)  # noqa: S311
    event = events.event_of(result, sampled=sampled, ts=time.time())
    telemetry.observe(event)
    events.publish(event)


# -- the signature check: request tensors against the model's inputs ----------------------------
STRING = "string"
NUMPY_DTYPES: dict[str, Any] = {
    "bool": np.dtype(np.bool_),
    "int8": np.dtype(np.int8),
    "int16": np.dtype(np.int16),
    "int32": np.dtype(np.int32),
    "int64": np.dtype(np.int64),
    "uint8": np.dtype(np.uint8),
    "uint16": np.dtype(np.uint16),
    "uint32": np.dtype(np.uint32),
    "uint64": np.dtype(np.uint64),
    "float16": np.dtype(np.float16),
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
    STRING: np.dtype(object),  # elements are `bytes`, as TensorFlow's string tensors hold
}
if _bfloat16 is not None:
    NUMPY_DTYPES["bfloat16"] = np.dtype(_bfloat16)


def numpy_dtype(name: str) -> np.dtype:
    """The numpy dtype for a signature dtype name; InvalidInput for one Modelgate cannot carry."""
    try:
        return NUMPY_DTYPES[name]
    except KeyError:
        raise InvalidInput(f"dtype {name!r} is not supported on the wire") from None


def shape_text(shape) -> str:
    """A shape as the messages print it: `[-1, 4]`."""
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def check_feeds(
    signature: dict, feeds: dict[str, object], *, max_rows: int
) -> tuple[dict[str, np.ndarray], int]:
    """Convert `feeds` to arrays of the signature's dtypes and shapes; return them and the rows."""
    specs = signature["inputs"]
    expected = [spec["name"] for spec in specs]
    unknown = [name for name in feeds if name not in expected]
    if unknown:
        raise InvalidInput(f"unknown input {unknown[0]!r}; the model's inputs are {expected}")
    checked: dict[str, np.ndarray] = {}
    rows: int | None = None
    first = ""
    for spec in specs:
        name = spec["name"]
        if name not in feeds:
            raise InvalidInput(f"missing input {name!r}; the model's inputs are {expected}")
        array = to_array(name, feeds[name], spec["dtype"])
        array = _check_shape(name, array, spec["shape"])
        checked[name] = array
        if array.ndim == 0:
            continue  # a scalar input has no batch dimension to agree on
        if rows is None:
            rows, first = array.shape[0], name
        elif array.shape[0] != rows:
            raise InvalidInput(
                f"inputs disagree on the number of rows: {first!r} has {rows}, "
                f"{name!r} has {array.shape[0]}"
            )
    rows = rows or 0
    if rows > max_rows:
        raise InvalidInput(
            f"the request has {rows} rows; this deployment accepts at most {max_rows} per request"
        )
    return checked, rows


def to_array(name: str, value: object, dtype_name: str) -> np.ndarray:
    """One input as an array of `dtype_name`, refusing values that would convert silently wrong."""
    target = numpy_dtype(dtype_name)
    if isinstance(value, np.ndarray) and value.dtype == target and target.kind != "O":
        return value  # already decoded by a binary protocol
    if target.kind == "O":
        return _strings(name, value)
    try:
        source = np.asarray(value)
    except ValueError as exc:
        if "inhomogeneous" in str(exc):
            raise InvalidInput(
                f"input {name!r}: ragged nested lists (rows of different lengths)"
            ) from None
        raise InvalidInput(f"input {name!r}: {exc}") from None
    except OverflowError:
        raise InvalidInput(f"input {name!r}: a value is out of range for {dtype_name}") from None
    kind = source.dtype.kind
    if kind == "O" and target.kind == "f" and _plain_numbers(source):
        # Integers beyond 64 bits make numpy fall back to objects; a float input takes them.
        source, kind = source.astype(np.float64), "f"
    if kind == "O":
        raise InvalidInput(f"input {name!r}: {_object_problem(source, dtype_name)}")
    if kind in "USV":
        raise InvalidInput(f"input {name!r}: expected {dtype_name} values, got strings")
    if target.kind == "b":
        if kind != "b":
            raise InvalidInput(f"input {name!r}: expected booleans (true/false) for bool")
        return source
    if kind == "b":
        raise InvalidInput(f"input {name!r}: expected {dtype_name} values, got booleans")
    if kind == "c":
        raise InvalidInput(f"input {name!r}: expected {dtype_name} values, got complex numbers")
    if target.kind in "iu":
        return _integers(name, source, target, dtype_name)
    return _floats(name, source, target, dtype_name)


def _integers(name: str, source: np.ndarray, target: np.dtype, dtype_name: str) -> np.ndarray:
    if source.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            integral = np.isfinite(source) & (np.floor(source) == source)
        if not integral.all():
            bad = source.reshape(-1)[~integral.reshape(-1)][0].item()
            raise InvalidInput(f"input {name!r}: {bad!r} is not an integer, expected {dtype_name}")
    if source.size:
        info = np.iinfo(target)
        low, high = source.min(), source.max()
        if low < info.min or high > info.max:
            bad = low if low < info.min else high
            raise InvalidInput(
                f"input {name!r}: {bad.item()!r} is out of range for {dtype_name} "
                f"[{info.min}, {info.max}]"
            )
    return source.astype(target, copy=False)


def _floats(name: str, source: np.ndarray, target: np.dtype, dtype_name: str) -> np.ndarray:
    widening = source.dtype.kind == "f" and source.dtype.itemsize <= target.itemsize
    if widening or target.itemsize >= 8:
        return source.astype(target, copy=False)  # nothing can overflow
    with np.errstate(over="ignore"):
        array = source.astype(target)
    # Summed in float64 a float16/32 array cannot overflow: a finite sum means no NaN/inf at all,
    # so only then do we look for finite values that overflowed to +-inf on the way.
    if math.isfinite(np.add.reduce(array, axis=None, dtype=np.float64)):
        return array
    if (np.isfinite(source) & ~np.isfinite(array)).any():
        raise InvalidInput(f"input {name!r}: a value is out of range for {dtype_name}")
    return array


def _strings(name: str, value: object) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=object)
    except ValueError as exc:
        raise InvalidInput(f"input {name!r}: ragged nested lists ({exc})") from None
    flat = array.reshape(-1)
    for index, item in enumerate(flat.tolist()):
        if isinstance(item, str):
            flat[index] = item.encode("utf-8")
        elif isinstance(item, bytes):
            continue
        elif isinstance(item, list):
            raise InvalidInput(f"input {name!r}: ragged nested lists (rows of different lengths)")
        else:
            raise InvalidInput(
                f"input {name!r}: expected strings, got {type(item).__name__} {item!r}"
            )
    return array


def _plain_numbers(source: np.ndarray) -> bool:
    return all(
        isinstance(item, int | float) and not isinstance(item, bool)
        for item in source.reshape(-1).tolist()
    )


def _object_problem(source: np.ndarray, dtype_name: str) -> str:
    for item in source.reshape(-1).tolist():
        if isinstance(item, list):
            return "ragged nested lists (rows of different lengths)"
        if isinstance(item, int) and not -(2**63) <= item < 2**64:
            return f"{item!r} is out of range for {dtype_name}"
        if not isinstance(item, int | float):
            return f"expected {dtype_name} values, got {type(item).__name__} {item!r}"
    return f"expected {dtype_name} values"


def _check_shape(name: str, array: np.ndarray, shape: list[int]) -> np.ndarray:
    if array.size == 0 and array.ndim == 1 and len(shape) > 1 and all(d >= 0 for d in shape[1:]):
        # `[]` is zero rows; JSON cannot spell the inner dimensions of an empty batch.
        array = array.reshape((0, *shape[1:]))
    if array.ndim != len(shape) or any(
        want >= 0 and got != want for got, want in zip(array.shape, shape, strict=True)
    ):
        raise InvalidInput(
            f"input {name!r}: expected shape {shape_text(shape)}, got {shape_text(array.shape)}"
        )
    return array
