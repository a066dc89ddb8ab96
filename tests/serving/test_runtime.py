"""The model runtime (bucketed XLA functions, warm-up, numpy in/out) and the device setup."""

from __future__ import annotations

import numpy as np
import pytest

from registry import modelio
from serving import devices
from serving.runtime import BatchTooLarge, ModelRuntime, default_buckets


def keras_reference(path):
    import keras

    return keras.saving.load_model(str(path), compile=False)


@pytest.fixture(scope="module")
def small_runtime(keras_model_file):
    runtime = ModelRuntime.load(keras_model_file, modelio.KERAS, max_batch_size=64)
    runtime.warm_up()
    return runtime


@pytest.fixture(scope="module")
def multi_runtime(multi_io_model_file):
    runtime = ModelRuntime.load(multi_io_model_file, modelio.KERAS, max_batch_size=8)
    runtime.warm_up()
    return runtime


@pytest.fixture(scope="module")
def savedmodel_runtime(savedmodel_dir):
    runtime = ModelRuntime.load(savedmodel_dir, modelio.SAVEDMODEL, max_batch_size=8, buckets=[2])
    runtime.warm_up()
    return runtime


def features(rows: int, width: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, width)).astype(np.float32)


@pytest.mark.parametrize("rows", [1, 3, 7, 64])
def test_it_matches_the_keras_model_at_every_batch_size(small_runtime, keras_model_file, rows):
    x = features(rows, seed=rows)
    expected = keras_reference(keras_model_file)(x, training=False).numpy()
    out = small_runtime.predict({"features": x})
    assert list(out) == ["score"]
    assert out["score"].shape == (rows, 1)
    assert out["score"].dtype == np.float32
    np.testing.assert_allclose(out["score"], expected, atol=1e-5)


def test_it_refuses_more_rows_than_its_largest_bucket(small_runtime):
    with pytest.raises(
        BatchTooLarge, match="a batch of 100 rows exceeds this runtime's maximum of 64"
    ):
        small_runtime.predict({"features": features(100)})


def test_it_warms_every_bucket_and_never_retraces_afterwards(small_runtime):
    assert small_runtime.ready is True
    assert small_runtime.buckets == [1, 2, 4, 8, 16, 32, 64]
    assert sorted(small_runtime.warm_up_seconds) == small_runtime.buckets
    assert sorted(small_runtime.call_paths) == small_runtime.buckets
    assert small_runtime.trace_count == len(small_runtime.buckets)
    traced = small_runtime._function.experimental_get_tracing_count()
    for rows in (1, 2, 3, 5, 9, 17, 33, 63, 64, 0):
        small_runtime.predict({"features": features(rows)})
    assert small_runtime.trace_count == len(small_runtime.buckets)
    assert small_runtime._function.experimental_get_tracing_count() == traced


def test_it_answers_zero_rows_without_running_the_model(small_runtime, monkeypatch):
    def boom(bucket):
        raise AssertionError("the model must not run for 0 rows")

    monkeypatch.setattr(small_runtime, "_caller", boom)
    monkeypatch.setattr(small_runtime, "_callers", {})
    out = small_runtime.predict({"features": np.zeros((0, 4), np.float32)})
    assert out["score"].shape == (0, 1)
    assert out["score"].dtype == np.float32


def test_it_casts_inputs_to_the_signature_dtype(small_runtime, keras_model_file):
    x = features(3).astype(np.float64)
    out = small_runtime.predict({"features": x})
    expected = keras_reference(keras_model_file)(x.astype(np.float32), training=False).numpy()
    assert out["score"].dtype == np.float32
    np.testing.assert_allclose(out["score"], expected, atol=1e-5)


def test_it_rejects_bad_feeds_with_precise_messages(small_runtime):
    with pytest.raises(ValueError, match=r"missing input\(s\) 'features'; unknown input\(s\) 'x'"):
        small_runtime.predict({"x": features(1)})
    with pytest.raises(
        ValueError, match=r"input 'features' has shape \[2, 5\]; the model expects \[-1, 4\]"
    ):
        small_runtime.predict({"features": features(2, width=5)})
    with pytest.raises(ValueError, match=r"unknown input\(s\) 'extra'"):
        small_runtime.predict({"features": features(1), "extra": features(1)})


def test_it_serves_every_input_and_output_of_a_multi_io_model(multi_runtime, multi_io_model_file):
    model = keras_reference(multi_io_model_file)
    for rows in (1, 3, 7, 8):
        x, extra = features(rows, seed=rows), features(rows, width=2, seed=rows + 100)
        expected_score, expected_logits = (t.numpy() for t in model([x, extra], training=False))
        out = multi_runtime.predict({"features": x, "extra": extra})
        assert sorted(out) == ["logits", "score"]
        np.testing.assert_allclose(out["score"], expected_score, atol=1e-5)
        np.testing.assert_allclose(out["logits"], expected_logits, atol=1e-5)
    with pytest.raises(
        ValueError, match=r"inputs disagree on the number of rows \(2 vs 3 in 'extra'\)"
    ):
        multi_runtime.predict({"features": features(2), "extra": features(3, width=2)})


def test_it_serves_a_savedmodel_like_the_keras_model(savedmodel_runtime, keras_model_file):
    assert savedmodel_runtime.buckets == [2, 8]  # custom buckets always include the maximum
    model = keras_reference(keras_model_file)
    for rows in (1, 3, 7):
        x = features(rows, seed=rows)
        out = savedmodel_runtime.predict({"features": x})
        assert list(out) == ["output_0"]
        np.testing.assert_allclose(out["output_0"], model(x, training=False).numpy(), atol=1e-5)


def test_it_falls_back_to_plain_tensorflow_when_xla_cannot_compile():
    import tensorflow as tf

    def call(feeds):
        # numpy_function runs Python: XLA has no kernel for it.
        doubled = tf.numpy_function(lambda a: a * 2, [feeds["x"]], tf.float32, stateful=False)
        return {"y": tf.reshape(doubled, [-1, 3])}

    spec = [modelio.TensorInfo("x", "float32", (-1, 3))]
    loaded = modelio.LoadedModel(
        spec, [modelio.TensorInfo("y", "float32", (-1, 3))], call, "tf", "x", None
    )
    runtime = ModelRuntime(loaded, max_batch_size=4)
    runtime.warm_up()
    assert runtime.xla is False
    assert runtime.xla_error
    assert runtime.ready is True
    assert runtime.info()["xla"] is False
    x = np.arange(9, dtype=np.float32).reshape(3, 3)
    np.testing.assert_array_equal(runtime.predict({"x": x})["y"], x * 2)


def test_it_records_xla_as_off_when_asked(keras_model_file):
    runtime = ModelRuntime.load(keras_model_file, modelio.KERAS, max_batch_size=2, jit=False)
    runtime.warm_up()
    info = runtime.info()
    assert (info["xla"], info["xla_error"], info["buckets"]) == (False, None, [1, 2])
    assert info["signature"]["inputs"] == [
        {"name": "features", "dtype": "float32", "shape": [-1, 4]}
    ]


def test_it_validates_its_configuration(keras_model_file):
    assert default_buckets(64) == [1, 2, 4, 8, 16, 32, 64]
    assert default_buckets(48) == [1, 2, 4, 8, 16, 32, 48]
    loaded = modelio.load(keras_model_file, modelio.KERAS)
    with pytest.raises(ValueError, match=r"buckets must lie in 1..8"):
        ModelRuntime(loaded, max_batch_size=8, buckets=[4, 16])


def test_it_configures_tensorflow_for_the_cpu_when_no_gpu_is_visible(settings):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    devices._reset_for_tests()
    settings.MODELGATE_TF_INTER_OP = 2
    info = devices.configure_tensorflow()
    assert info.device == "/CPU:0"
    assert info.fallback_reason.startswith("no GPU visible")
    assert info.gpus == []
    assert info.tf_version == tf.__version__
    # TF may already be initialised in this process: then the refusal is recorded, not raised.
    assert info.inter_op_threads == 2 or any("inter-op" in note for note in info.notes)
    assert devices.configure_tensorflow() is info
    described = devices.describe()
    assert described["device"] == "/CPU:0"
    assert described["gpu_count"] == 0
    assert described["python"].count(".") == 2
