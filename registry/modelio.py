"""Loading TensorFlow/Keras artifacts into one calling convention, and reading their signatures.

Both the registry (to read a signature on upload) and the serving runtime (to build the XLA
function) load models through here, so the input/output names they agree on come from one place:

- a SavedModel is called through its `serving_default` signature: names are the signature's;
- a `.keras` model is called with a dict keyed by its input names; its outputs are named by
  `model.output_names` when Keras knows them (functional models), else `output_0`, `output_1`, ...

Every callable takes `{input_name: tensor}` and returns `{output_name: tensor}`.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAVEDMODEL = "savedmodel"
KERAS = "keras"
SERVING_SIGNATURE = "serving_default"


@dataclass(frozen=True)
class TensorInfo:
    """One input or output of a signature; -1 marks a variable dimension (dim 0 is the batch)."""

    name: str
    dtype: str
    shape: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}


@dataclass
class LoadedModel:
    """A model ready to call: `call({name: tensor}) -> {name: tensor}` plus its signature."""

    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    call: Callable[[dict[str, Any]], dict[str, Any]]
    framework: str
    framework_version: str
    handle: Any  # keeps the loaded object (and its variables) alive

    @property
    def signature(self) -> dict[str, Any]:
        return {
            "method": SERVING_SIGNATURE,
            "inputs": [t.as_dict() for t in self.inputs],
            "outputs": [t.as_dict() for t in self.outputs],
        }


class ModelLoadError(Exception):
    """The artifact is not a loadable TensorFlow/Keras model; the message says why."""


def _shape(shape) -> tuple[int, ...]:
    dims = list(shape) if shape is not None else []
    return tuple(-1 if d is None else int(d) for d in dims)


def _dtype_name(dtype) -> str:
    import tensorflow as tf

    return tf.as_dtype(dtype).name


def load(path: Path | str, fmt: str) -> LoadedModel:
    """Load an extracted SavedModel directory or a `.keras` file."""
    path = Path(path)
    try:
        if fmt == SAVEDMODEL:
            return _load_savedmodel(path)
        if fmt == KERAS:
            return _load_keras(path)
    except ModelLoadError:
        raise
    except Exception as exc:  # TF/Keras raise a zoo of types for a bad artifact
        raise ModelLoadError(
            f"could not load the {fmt} artifact: {type(exc).__name__}: {_without_paths(str(exc))}"
        ) from exc
    raise ModelLoadError(f"unknown artifact format {fmt!r}")


# Where the server keeps an upload is nobody's business but the server's.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[\w.@+-]+/)+[\w.@+-]*")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
KERAS_HOW_TO = "save the model with model.save('name.keras') (Keras 3) and upload that file"


def _without_paths(message: str) -> str:
    return _ABSOLUTE_PATH.sub("<upload>", message)


def _check_keras_archive(path: Path) -> None:
    """A `.keras` file is a zip holding config.json; say so before Keras says "File not found"."""
    if not zipfile.is_zipfile(path):
        with path.open("rb") as head:
            magic = head.read(8)
        if magic == _HDF5_MAGIC:
            raise ModelLoadError(
                "this is a legacy HDF5 (.h5) model renamed to .keras; load it in Keras and "
                + KERAS_HOW_TO
            )
        raise ModelLoadError(
            "this file is not a Keras model: a .keras file is a zip archive (config.json and "
            "weights), and this one is not a zip at all (a text or other file renamed .keras?); "
            + KERAS_HOW_TO
        )
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    if "config.json" not in names:
        raise ModelLoadError(
            "this zip is not a Keras model: it has no config.json at its root; " + KERAS_HOW_TO
        )


def _load_savedmodel(path: Path) -> LoadedModel:
    import tensorflow as tf

    if not (path / "saved_model.pb").exists() and not (path / "saved_model.pbtxt").exists():
        raise ModelLoadError("no saved_model.pb at the root of the SavedModel directory")
    loaded = tf.saved_model.load(str(path))
    signatures = getattr(loaded, "signatures", {})
    if SERVING_SIGNATURE not in signatures:
        raise ModelLoadError(f"the SavedModel has no {SERVING_SIGNATURE!r} signature")
    fn = signatures[SERVING_SIGNATURE]
    _, input_specs = fn.structured_input_signature
    inputs = [
        TensorInfo(name, _dtype_name(spec.dtype), _shape(spec.shape))
        for name, spec in sorted(input_specs.items())
    ]
    outputs = [
        TensorInfo(name, _dtype_name(spec.dtype), _shape(spec.shape))
        for name, spec in sorted(fn.structured_outputs.items())
    ]

    def call(feeds: dict[str, Any]) -> dict[str, Any]:
        return fn(**feeds)

    return LoadedModel(inputs, outputs, call, "tensorflow", tf.__version__, loaded)


def _load_keras(path: Path) -> LoadedModel:
    import keras
    import tensorflow as tf

    _check_keras_archive(path)
    model = keras.saving.load_model(str(path), compile=False)
    if not getattr(model, "inputs", None):
        raise ModelLoadError("the Keras model has no defined inputs (build it with keras.Input)")
    inputs = [TensorInfo(t.name, _dtype_name(t.dtype), _shape(t.shape)) for t in model.inputs]
    raw_outputs = list(model.outputs)
    names = list(getattr(model, "output_names", None) or [])
    if len(names) != len(raw_outputs) or len(set(names)) != len(names):
        names = [f"output_{i}" for i in range(len(raw_outputs))]
    outputs = [
        TensorInfo(name, _dtype_name(t.dtype), _shape(t.shape))
        for name, t in zip(names, raw_outputs, strict=True)
    ]
    input_names = [t.name for t in inputs]

    def call(feeds: dict[str, Any]) -> dict[str, Any]:
        args = [feeds[name] for name in input_names]
        result = model(args if len(args) > 1 else args[0], training=False)
        if isinstance(result, dict):
            result = [result[name] for name in names]
        elif not isinstance(result, list | tuple):
            result = [result]
        return dict(zip(names, result, strict=True))

    outputs = _traced_output_dtypes(call, inputs, outputs)
    return LoadedModel(
        inputs, outputs, call, "keras", f"{keras.__version__} (tf {tf.__version__})", model
    )


def _traced_output_dtypes(call, inputs: list[TensorInfo], outputs: list[TensorInfo]):
    """Output dtypes as the traced graph produces them. Keras' symbolic outputs can disagree:
    `StringLookup(invert=True)` declares int64 and returns strings, and a signature that says
    int64 would make every protocol refuse the model's own answers."""
    import tensorflow as tf

    specs = {
        t.name: tf.TensorSpec([None, *(None if d < 0 else d for d in t.shape[1:])], t.dtype)
        for t in inputs
    }
    try:
        traced = tf.function(call).get_concrete_function(specs).structured_outputs
    except Exception:  # noqa: BLE001 - untraceable here: keep what Keras declared
        return outputs
    return [
        TensorInfo(t.name, _dtype_name(traced[t.name].dtype), t.shape) if t.name in traced else t
        for t in outputs
    ]
