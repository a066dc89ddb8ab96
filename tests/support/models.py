"""Small Keras models of every kind a user saves, for serving and protocol tests.

Each kind is built deterministically, saved as `.keras` and as a SavedModel (`model.export`), and
comes with sample inputs and the outputs of the model called in-process (eagerly, through the
registry's loader: no runtime, no XLA, no batcher, no padding), so a test can send the samples
through any protocol and compare:

    from tests.support import models
    path = models.save("text", tmp_path, "keras")            # or "savedmodel"
    feeds = models.sample_inputs("text", rows=3)             # {input name: ndarray}
    expected = models.expected_outputs(path, "keras", feeds)  # {output name: ndarray}
    upload, name = models.upload_file(path, "keras")          # for version_register

The `model_kind_path(kind, fmt)` fixture (tests/conftest.py) builds each once per session.

Input names are the same in both formats; output names are the loader's (a SavedModel exported
by Keras names its outputs `output_0`, ...). `KINDS` lists every kind; `SIGNATURES` what the
registry should read from each.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KERAS = "keras"
SAVEDMODEL = "savedmodel"
FORMATS = (KERAS, SAVEDMODEL)

VOCABULARY = ["red", "green", "blue", "cat", "dog", "bird", "fast", "slow", "big", "small"]


def _keras():
    import keras

    return keras


def build_text(seed: int = 0):
    """One string per row (`dtype="string"`, shape [-1]) -> TextVectorization -> 2 logits."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    vectorize = keras.layers.TextVectorization(
        max_tokens=16, output_mode="int", output_sequence_length=5, vocabulary=VOCABULARY
    )
    text = keras.Input(shape=(), dtype="string", name="text")
    tokens = vectorize(text)
    hidden = keras.layers.Embedding(16, 4)(tokens)
    pooled = keras.layers.GlobalAveragePooling1D()(hidden)
    logits = keras.layers.Dense(2, name="logits")(pooled)
    return keras.Model(text, logits)


def build_ints(seed: int = 0):
    """Token ids (int32, [-1, 6]) -> Embedding -> one score."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    ids = keras.Input(shape=(6,), dtype="int32", name="ids")
    hidden = keras.layers.Embedding(50, 4)(ids)
    flat = keras.layers.Flatten()(hidden)
    score = keras.layers.Dense(1, activation="sigmoid", name="score")(flat)
    return keras.Model(ids, score)


def build_bools(seed: int = 0):
    """Flags (bool, [-1, 3]) -> cast -> Dense -> one value."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    flags = keras.Input(shape=(3,), dtype="bool", name="flags")
    as_float = keras.ops.cast(flags, "float32")
    value = keras.layers.Dense(1, name="value")(as_float)
    return keras.Model(flags, value)


def build_image(seed: int = 0):
    """A uint8 8x8 RGB image -> Rescaling -> Conv2D -> 3 class probabilities."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    image = keras.Input(shape=(8, 8, 3), dtype="uint8", name="image")
    scaled = keras.layers.Rescaling(1 / 255)(image)
    conv = keras.layers.Conv2D(4, 3, activation="relu")(scaled)
    pooled = keras.layers.GlobalAveragePooling2D()(conv)
    probs = keras.layers.Dense(3, activation="softmax", name="probs")(pooled)
    return keras.Model(image, probs)


def build_varlen(seed: int = 0):
    """A sequence of any length (float32, [-1, -1, 4]) -> per-step Dense -> mean -> one value."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    steps = keras.Input(shape=(None, 4), name="steps")
    hidden = keras.layers.Dense(8, activation="relu")(steps)
    pooled = keras.layers.GlobalAveragePooling1D()(hidden)
    value = keras.layers.Dense(1, name="value")(pooled)
    return keras.Model(steps, value)


def build_multi(seed: int = 0):
    """Three inputs of three dtypes (float32, int32, float64), two outputs."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    features = keras.Input(shape=(4,), name="features")
    category = keras.Input(shape=(1,), dtype="int32", name="category")
    weight = keras.Input(shape=(2,), dtype="float64", name="weight")
    embedded = keras.layers.Flatten()(keras.layers.Embedding(5, 2)(category))
    joined = keras.layers.Concatenate()([features, embedded, keras.ops.cast(weight, "float32")])
    hidden = keras.layers.Dense(8, activation="relu")(joined)
    score = keras.layers.Dense(1, activation="sigmoid", name="score")(hidden)
    logits = keras.layers.Dense(3, name="logits")(hidden)
    return keras.Model([features, category, weight], [score, logits])


def build_labels(seed: int = 0):
    """Features (float32, [-1, 4]) -> a class name per row: a string output (StringLookup)."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    features = keras.Input(shape=(4,), name="features")
    logits = keras.layers.Dense(3)(features)
    index = keras.ops.argmax(logits, axis=-1)
    label = keras.layers.StringLookup(
        vocabulary=["cat", "dog", "bird"], invert=True, num_oov_indices=0, name="label"
    )(index)
    return keras.Model(features, label)


def _text_rows(rng: np.random.Generator, rows: int) -> np.ndarray:
    words = [*VOCABULARY, "unknown", "Hello,"]
    sentences = [" ".join(rng.choice(words, size=int(rng.integers(1, 7)))) for _ in range(rows)]
    return np.array(sentences, dtype=object)


def _sample_text(rng, rows, length):
    return {"text": _text_rows(rng, rows)}


def _sample_ints(rng, rows, length):
    return {"ids": rng.integers(0, 50, size=(rows, 6)).astype(np.int32)}


def _sample_bools(rng, rows, length):
    return {"flags": rng.random((rows, 3)) > 0.5}


def _sample_image(rng, rows, length):
    return {"image": rng.integers(0, 256, size=(rows, 8, 8, 3)).astype(np.uint8)}


def _sample_varlen(rng, rows, length):
    return {"steps": rng.normal(size=(rows, length, 4)).astype(np.float32)}


def _sample_labels(rng, rows, length):
    return {"features": rng.normal(size=(rows, 4)).astype(np.float32)}


def _sample_multi(rng, rows, length):
    return {
        "features": rng.normal(size=(rows, 4)).astype(np.float32),
        "category": rng.integers(0, 5, size=(rows, 1)).astype(np.int32),
        "weight": rng.normal(size=(rows, 2)).astype(np.float64),
    }


@dataclass(frozen=True)
class Kind:
    name: str
    build: Callable
    sample: Callable[[np.random.Generator, int, int], dict[str, np.ndarray]]
    inputs: dict[str, tuple[str, list[int]]]  # name -> (dtype, shape) as the registry reads it


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("text", build_text, _sample_text, {"text": ("string", [-1])}),
        Kind("ints", build_ints, _sample_ints, {"ids": ("int32", [-1, 6])}),
        Kind("bools", build_bools, _sample_bools, {"flags": ("bool", [-1, 3])}),
        Kind("image", build_image, _sample_image, {"image": ("uint8", [-1, 8, 8, 3])}),
        Kind("varlen", build_varlen, _sample_varlen, {"steps": ("float32", [-1, -1, 4])}),
        Kind("labels", build_labels, _sample_labels, {"features": ("float32", [-1, 4])}),
        Kind(
            "multi",
            build_multi,
            _sample_multi,
            {
                "features": ("float32", [-1, 4]),
                "category": ("int32", [-1, 1]),
                "weight": ("float64", [-1, 2]),
            },
        ),
    )
}


def save(kind: str, directory: Path | str, fmt: str = KERAS, *, seed: int = 0) -> Path:
    """Build `kind` and save it under `directory`: a `.keras` file or a SavedModel directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model = KINDS[kind].build(seed)
    if fmt == KERAS:
        path = directory / f"{kind}-{seed}.keras"
        model.save(path)
    elif fmt == SAVEDMODEL:
        path = directory / f"{kind}-{seed}-savedmodel"
        model.export(str(path), verbose=False)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return path


def upload_file(path: Path | str, fmt: str) -> tuple[Path, str]:
    """`(file, filename)` for `registry.services.version_register`: a SavedModel gets zipped."""
    import shutil

    path = Path(path)
    if fmt == KERAS:
        return path, path.name
    archive = shutil.make_archive(str(path), "zip", root_dir=path)
    return Path(archive), Path(archive).name


def sample_inputs(kind: str, rows: int = 3, *, seed: int = 0, length: int = 5) -> dict:
    """Deterministic inputs for `rows` rows (`length`: the variable dimension, where one exists)."""
    return KINDS[kind].sample(np.random.default_rng(seed), rows, length)


@functools.cache
def _loaded(path: str, fmt: str):
    from registry import modelio

    return modelio.load(path, fmt)


def expected_outputs(path: Path | str, fmt: str, feeds: dict[str, np.ndarray]) -> dict:
    """The model's own outputs for `feeds`, called eagerly in this process."""
    import tensorflow as tf

    loaded = _loaded(str(path), fmt)
    dtypes = {t.name: t.dtype for t in loaded.inputs}
    tensors = {name: tf.constant(value, dtype=dtypes[name]) for name, value in feeds.items()}
    return {name: np.asarray(value) for name, value in loaded.call(tensors).items()}
