"""The model runtime: a loaded version compiled (XLA) per batch-size bucket, numpy in, numpy out.

Each batch is padded up to the smallest bucket that holds it, so every shape the model sees was
compiled at warm-up and XLA never compiles on the request path. At warm-up each bucket's
concrete function is also bound to the cheapest call path that reproduces its outputs:

- `execute`: the compiled function run by name through TF's eager executor (about 25 us at
  batch 1 for a small MLP, against 65 us through the concrete function's structured call);
- `call_flat`: the concrete function's flat call;
- `concrete`: the public structured call, always available.

The first two use TensorFlow internals, so they are only kept when warm-up proves them equal to
the public call; a TensorFlow release that moves them degrades speed, never correctness.

`predict` is thread-safe (no shared buffers; padding is allocated per call), though a version's
Batcher only ever runs one batch at a time.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from registry import modelio
from serving.xla import numpy_dtype, xla_refusal

log = logging.getLogger(__name__)

Caller = Callable[[list[np.ndarray]], list[np.ndarray]]
CALL_PATHS = ("execute", "call_flat", "concrete")


class BatchTooLarge(ValueError):
    """More rows than the runtime's largest bucket: splitting is the batcher's job."""


def default_buckets(max_batch_size: int) -> list[int]:
    """Powers of two up to `max_batch_size`, plus `max_batch_size` itself."""
    sizes = {max_batch_size}
    size = 1
    while size < max_batch_size:
        sizes.add(size)
        size *= 2
    return sorted(sizes)


def _blank(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A filler tensor every model accepts: zeros, False, or empty strings (zeros are not
    strings: a string input fed integer zeros fails to convert)."""
    if dtype.kind == "O":
        return np.full(shape, b"", dtype=object)
    return np.zeros(shape, dtype)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]


class ModelRuntime:
    """A model version ready to serve: bucketed, XLA-compiled, warmed."""

    def __init__(
        self,
        loaded: modelio.LoadedModel,
        *,
        max_batch_size: int = 64,
        buckets: Sequence[int] | None = None,
        jit: bool = True,
        device: str | None = None,
    ) -> None:
        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        chosen = sorted(set(buckets)) if buckets else default_buckets(max_batch_size)
        if chosen[0] < 1 or chosen[-1] > max_batch_size:
            raise ValueError(f"buckets must lie in 1..{max_batch_size}, got {chosen}")
        if chosen[-1] != max_batch_size:
            chosen.append(max_batch_size)
        if device is None:
            from serving.devices import configure_tensorflow

            device = configure_tensorflow().device
        for spec in loaded.inputs:
            if not spec.shape:
                raise ValueError(
                    f"input {spec.name!r} is a scalar; a served input needs a batch dimension"
                )
        self.loaded = loaded
        self.signature = loaded.signature
        self.inputs = loaded.inputs
        self.outputs = loaded.outputs
        self.device = device
        self.max_batch_size = max_batch_size
        self.buckets: list[int] = chosen
        self.jit_requested = jit
        self.xla_error: str | None = xla_refusal(loaded) if jit else None
        self.xla = jit and self.xla_error is None
        if self.xla_error:
            log.info("serving without XLA: %s", self.xla_error)
        self.ready = False
        self.warm_up_seconds: dict[int, float] = {}
        self.trace_count = 0  # Python side effect of tracing: must stay still after warm-up
        self._input_names = [t.name for t in loaded.inputs]
        self._output_names = [t.name for t in loaded.outputs]
        self._in_dtypes = [numpy_dtype(t.dtype) for t in loaded.inputs]
        # Trailing dims: a tuple to compare against when fully known, else None (checked by rank).
        self._in_trailing = [
            tuple(t.shape[1:]) if all(d >= 0 for d in t.shape[1:]) else None for t in loaded.inputs
        ]
        self._empty = {
            t.name: np.zeros((0, *(max(d, 0) for d in t.shape[1:])), numpy_dtype(t.dtype))
            for t in loaded.outputs
        }
        # n rows -> bucket, for n in 0..max_batch_size.
        self._bucket_of = [next(b for b in chosen if b >= n) for n in range(max_batch_size + 1)]
        self._callers: dict[int, Caller] = {}
        self.call_paths: dict[int, str] = {}
        self._build_lock = threading.Lock()
        self._function = self._make_function(self.xla)

    @classmethod
    def load(
        cls,
        path: Path | str,
        fmt: str,
        *,
        max_batch_size: int = 64,
        buckets: Sequence[int] | None = None,
        jit: bool = True,
        device: str | None = None,
    ) -> ModelRuntime:
        """Load an artifact through `registry.modelio` and wrap it (call `warm_up()` next)."""
        return cls(
            modelio.load(path, fmt),
            max_batch_size=max_batch_size,
            buckets=buckets,
            jit=jit,
            device=device,
        )

    # -- building ---------------------------------------------------------------------------

    def _make_function(self, jit: bool):
        import tensorflow as tf

        call = self.loaded.call
        in_names = self._input_names
        out_names = self._output_names

        def serve(*tensors):
            self.trace_count += 1
            out = call(dict(zip(in_names, tensors, strict=True)))
            return tuple(out[name] for name in out_names)

        return tf.function(serve, jit_compile=True) if jit else tf.function(serve)

    def _specs(self, bucket: int):
        import tensorflow as tf

        return [
            tf.TensorSpec(
                [bucket, *(None if d < 0 else d for d in t.shape[1:])],
                tf.as_dtype(t.dtype),
                name=t.name,
            )
            for t in self.inputs
        ]

    def _sample(self, bucket: int) -> list[np.ndarray]:
        """Warm-up input of the bucket's shape (variable dims of size 1), valid for its dtype."""
        return [
            _blank((bucket, *(1 if d < 0 else d for d in t.shape[1:])), dtype)
            for t, dtype in zip(self.inputs, self._in_dtypes, strict=True)
        ]

    def _build_bucket(self, bucket: int) -> Caller:
        """Trace the bucket's concrete function, run it once, bind the fastest proven call path."""
        import tensorflow as tf

        with tf.device(self.device):
            concrete = self._function.get_concrete_function(*self._specs(bucket))
            sample = self._sample(bucket)
            reference = [np.asarray(t) for t in concrete(*[tf.constant(a) for a in sample])]
        for path in CALL_PATHS:
            try:
                caller = _bind(path, concrete, len(self._output_names), self.device)
                got = caller(sample)
            except Exception:  # noqa: BLE001 - an internal path that moved; try the next one
                log.debug("call path %s unavailable for bucket %d", path, bucket, exc_info=True)
                continue
            if len(got) == len(reference) and all(
                g.shape == r.shape and np.array_equal(g, r, equal_nan=g.dtype.kind in "fc")
                for g, r in zip(got, reference, strict=True)
            ):
                self.call_paths[bucket] = path
                return caller
        raise RuntimeError("no call path reproduced the model's own outputs")  # pragma: no cover

    def _caller(self, bucket: int) -> Caller:
        with self._build_lock:
            caller = self._callers.get(bucket)
            if caller is None:
                caller = self._callers[bucket] = self._build_bucket(bucket)
            return caller

    def warm_up(self) -> dict[int, float]:
        """Compile and run every bucket once; fall back to plain TF if XLA cannot compile."""
        with self._build_lock:
            self.ready = False
            try:
                timings = self._warm_all()
            except Exception as exc:
                if not self.xla:
                    raise
                # XLA refuses some ops (py/numpy functions, some string ops): serve without it.
                self.xla = False
                self.xla_error = _first_line(exc)
                log.warning("XLA cannot compile this model, serving without it: %s", self.xla_error)
                self._function = self._make_function(False)
                timings = self._warm_all()
            self.warm_up_seconds = timings
            self.ready = True
            return dict(timings)

    def _warm_all(self) -> dict[int, float]:
        self._callers = {}
        self.call_paths = {}
        timings: dict[int, float] = {}
        for bucket in self.buckets:
            started = time.perf_counter()
            self._callers[bucket] = self._build_bucket(bucket)
            timings[bucket] = time.perf_counter() - started
        return timings

    # -- serving ----------------------------------------------------------------------------

    def predict(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run one batch (at most `max_batch_size` rows): numpy in, numpy out, signature dtypes.

        Call `warm_up()` first: a bucket that was not warmed compiles on first use.
        """
        names = self._input_names
        if len(feeds) != len(names):
            self._reject_names(feeds)
        arrays = []
        rows = -1
        for name, dtype, trailing in zip(names, self._in_dtypes, self._in_trailing, strict=True):
            try:
                value = feeds[name]
            except KeyError:
                self._reject_names(feeds)
            array = np.asarray(value, dtype=dtype)
            shape = array.shape
            if trailing is None or not shape or shape[1:] != trailing:
                self._check_shape(name, shape)
            if rows < 0:
                rows = shape[0]
            elif shape[0] != rows:
                raise ValueError(
                    f"inputs disagree on the number of rows ({rows} vs {shape[0]} in {name!r})"
                )
            arrays.append(array)
        if rows == 0:
            return {name: empty.copy() for name, empty in self._empty.items()}
        if rows > self.max_batch_size:
            raise BatchTooLarge(
                f"a batch of {rows} rows exceeds this runtime's maximum of {self.max_batch_size}; "
                "submit through the batcher, which splits large requests"
            )
        bucket = self._bucket_of[rows]
        if bucket != rows:
            padded = []
            for array in arrays:
                pad = _blank((bucket, *array.shape[1:]), array.dtype)
                pad[:rows] = array
                padded.append(pad)
            arrays = padded
        caller = self._callers.get(bucket) or self._caller(bucket)
        results = caller(arrays)
        if bucket != rows:
            return {
                name: value[:rows] for name, value in zip(self._output_names, results, strict=True)
            }
        return dict(zip(self._output_names, results, strict=True))

    def _reject_names(self, feeds: dict[str, Any]) -> None:
        expected, given = set(self._input_names), set(feeds)
        missing, unknown = sorted(expected - given), sorted(given - expected)
        parts = []
        if missing:
            parts.append(f"missing input(s) {', '.join(map(repr, missing))}")
        if unknown:
            parts.append(f"unknown input(s) {', '.join(map(repr, unknown))}")
        raise ValueError(
            "; ".join(parts) + f" (the model takes {', '.join(map(repr, self._input_names))})"
        )

    def _check_shape(self, name: str, shape: tuple[int, ...]) -> None:
        spec = next(t for t in self.inputs if t.name == name)
        expected = spec.shape
        ok = len(shape) == len(expected) and all(
            e < 0 or e == d for e, d in zip(expected[1:], shape[1:], strict=True)
        )
        if not ok:
            want = "[" + ", ".join("-1" if d < 0 else str(d) for d in expected) + "]"
            raise ValueError(f"input {name!r} has shape {list(shape)}; the model expects {want}")

    def info(self) -> dict[str, Any]:
        """What a heartbeat or a version page shows about this runtime."""
        return {
            "device": self.device,
            "ready": self.ready,
            "xla": self.xla,
            "xla_error": self.xla_error,
            "buckets": list(self.buckets),
            "max_batch_size": self.max_batch_size,
            "call_paths": dict(self.call_paths),
            "warm_up_seconds": dict(self.warm_up_seconds),
            "trace_count": self.trace_count,
            "framework": self.loaded.framework,
            "framework_version": self.loaded.framework_version,
            "signature": self.signature,
        }


def _bind(path: str, concrete, n_outputs: int, device: str) -> Caller:
    """A function `arrays -> arrays` running `concrete` through the given call path."""
    import tensorflow as tf

    if path == "concrete":

        def call_concrete(arrays: list[np.ndarray]) -> list[np.ndarray]:
            with tf.device(device):
                outputs = concrete(*[tf.constant(a) for a in arrays])
            return [t.numpy() for t in outputs]

        return call_concrete

    from tensorflow.python.eager import context, execute
    from tensorflow.python.framework import ops

    inference = concrete._inference_function
    captures = list(concrete.captured_inputs)
    host = "/job:localhost/replica:0/task:0/device:CPU:0"
    enums = [
        tf.as_dtype(spec.dtype).as_datatype_enum for spec in concrete.structured_input_signature[0]
    ]
    tensor = ops.EagerTensor

    if path == "call_flat":
        call_flat = inference.call_flat

        def call_flat_path(arrays: list[np.ndarray]) -> list[np.ndarray]:
            inputs = [tensor(a, host, e) for a, e in zip(arrays, enums, strict=True)]
            return [t._numpy() for t in call_flat(*inputs, *captures)]

        return call_flat_path

    ctx = context.context()
    ctx.ensure_initialized()
    name = inference.name.decode() if isinstance(inference.name, bytes) else inference.name
    attrs = tuple(itertools.chain(*ctx.function_call_options.as_attrs().items()))
    run = execute.execute

    def execute_path(arrays: list[np.ndarray]) -> list[np.ndarray]:
        inputs = [tensor(a, host, e) for a, e in zip(arrays, enums, strict=True)]
        inputs += captures
        return [t._numpy() for t in run(name, n_outputs, inputs, attrs, ctx)]

    return execute_path
