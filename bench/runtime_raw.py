"""In-process model throughput: the Keras model, a bare tf.function, ModelRuntime and the Batcher.

Run standalone: `.venv/bin/python bench/runtime_raw.py [--seconds 0.5] [--batches 1,8,32,64]`.
It builds the benchmark models with a fixed seed (small: 32->256->256->1 sigmoid; wide:
784->1024->1024->10 softmax), saves them as `.keras` files, loads them through the serving
runtime and prints rows/s and microseconds per call for each way of calling them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The runtime reads its TensorFlow thread settings from Django's settings (serving/devices.py).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings_test")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

MODELS = {
    "small": (32, 256, 1, "sigmoid"),
    "wide": (784, 1024, 10, "softmax"),
}


def build_model(kind: str):
    """The benchmark MLP of that kind, deterministic (seed 0)."""
    import keras

    width, hidden, classes, activation = MODELS[kind]
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(width,), name="features")
    x = keras.layers.Dense(hidden, activation="relu")(inputs)
    x = keras.layers.Dense(hidden, activation="relu")(x)
    outputs = keras.layers.Dense(classes, activation=activation, name="score")(x)
    return keras.Model(inputs, outputs)


def per_call_seconds(fn, seconds: float) -> float:
    """Median over 5 rounds of the mean time of one call, each round about seconds/5 long."""
    fn()
    started, calls = time.perf_counter(), 0
    while time.perf_counter() - started < 0.05:
        fn()
        calls += 1
    per_round = max(1, int(calls / (time.perf_counter() - started) * seconds / 5))
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(per_round):
            fn()
        rounds.append((time.perf_counter() - started) / per_round)
    return float(np.median(rounds))


def bench_model(kind: str, batches: list[int], seconds: float, workdir: Path) -> list[tuple]:
    import tensorflow as tf

    from registry import modelio
    from serving.batching import Batcher
    from serving.runtime import ModelRuntime

    model = build_model(kind)
    path = workdir / f"{kind}.keras"
    model.save(path)
    runtime = ModelRuntime.load(path, modelio.KERAS, max_batch_size=max(batches))
    started = time.perf_counter()
    runtime.warm_up()
    warm = time.perf_counter() - started
    batcher = Batcher(runtime.predict, max_batch_size=runtime.max_batch_size)
    bare = tf.function(lambda x: model(x, training=False), jit_compile=True)
    width = MODELS[kind][0]
    rows_out = []
    for rows in batches:
        x = np.random.default_rng(rows).random((rows, width), dtype=np.float32)
        feeds = {"features": x}
        expected = model(x, training=False).numpy()
        np.testing.assert_allclose(runtime.predict(feeds)["score"], expected, atol=1e-5)
        ways = {
            "keras model(x)": lambda x=x: model(x, training=False).numpy(),
            "bare tf.function(jit)": lambda x=x: bare(x).numpy(),
            "ModelRuntime.predict": lambda feeds=feeds: runtime.predict(feeds),
            "Batcher.submit": lambda feeds=feeds: batcher.submit(feeds),
        }
        for way, fn in ways.items():
            seconds_per_call = per_call_seconds(fn, seconds)
            rows_out.append((kind, rows, way, rows / seconds_per_call, seconds_per_call * 1e6))
    paths = sorted(set(runtime.call_paths.values()))
    print(f"# {kind}: warm-up {warm:.2f}s, xla={runtime.xla}, call paths {paths}")
    return rows_out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    parser.add_argument("--batches", default="1,8,32,64", help="comma-separated batch sizes")
    parser.add_argument("--models", default="small,wide", help="comma-separated: small, wide")
    args = parser.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",")]

    from serving.devices import configure_tensorflow

    info = configure_tensorflow()
    print(f"# device {info.device} ({info.fallback_reason or 'GPU'}), TensorFlow {info.tf_version}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.models.split(","):
            results += bench_model(kind, batches, args.seconds, Path(tmp))
    print(f"{'model':6} {'batch':>5}  {'way':24} {'rows/s':>10} {'us/call':>9}")
    for kind, rows, way, rate, micros in results:
        print(f"{kind:6} {rows:5d}  {way:24} {rate:10,.0f} {micros:9.1f}")


if __name__ == "__main__":
    main()
