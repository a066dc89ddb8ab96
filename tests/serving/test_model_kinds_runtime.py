"""Every kind of model a Keras user saves warms up and serves through the runtime."""

from __future__ import annotations

import numpy as np
import pytest

from serving.runtime import ModelRuntime
from tests.support import models


@pytest.mark.parametrize("fmt", models.FORMATS)
@pytest.mark.parametrize("kind", sorted(models.KINDS))
def test_it_warms_up_and_matches_the_model_for_every_kind(model_kind_path, kind, fmt):
    path = model_kind_path(kind, fmt)
    runtime = ModelRuntime.load(path, fmt, max_batch_size=4)
    runtime.warm_up()
    assert runtime.ready is True
    assert sorted(runtime.call_paths) == [1, 2, 4]

    for rows in (1, 3, 4):  # 3 rows are padded up to the bucket of 4
        feeds = models.sample_inputs(kind, rows, seed=rows)
        expected = models.expected_outputs(path, fmt, feeds)
        got = runtime.predict(feeds)
        assert sorted(got) == sorted(expected)
        for name, value in expected.items():
            assert got[name].shape == value.shape
            if value.dtype == object:  # string outputs (labels)
                assert got[name].tolist() == value.tolist()
            else:
                np.testing.assert_allclose(got[name], value, rtol=1e-5, atol=1e-6)


def test_it_serves_a_string_model_without_xla_and_says_why(model_kind_path):
    runtime = ModelRuntime.load(model_kind_path("text"), models.KERAS, max_batch_size=2)
    runtime.warm_up()
    info = runtime.info()
    assert info["xla"] is False
    assert info["xla_error"]  # the compiler's own first line, e.g. no kernel for a string op


def test_it_skips_xla_for_a_string_lookup_inside_the_model(model_kind_path):
    runtime = ModelRuntime.load(model_kind_path("labels"), models.KERAS, max_batch_size=2)
    assert runtime.xla is False
    assert "XLA cannot compile string tensors" in runtime.xla_error


def test_it_keeps_xla_for_a_model_it_can_compile(model_kind_path):
    runtime = ModelRuntime.load(model_kind_path("image"), models.KERAS, max_batch_size=2)
    runtime.warm_up()
    assert (runtime.info()["xla"], runtime.info()["xla_error"]) == (True, None)


def test_it_serves_every_length_of_a_variable_dimension(model_kind_path):
    path = model_kind_path("varlen")
    runtime = ModelRuntime.load(path, models.KERAS, max_batch_size=2)
    runtime.warm_up()
    # Without XLA, so no request ever waits for a compile of a length warm-up never saw.
    assert runtime.xla is False and "variable dimension" in runtime.xla_error
    for length in (1, 2, 7):
        feeds = models.sample_inputs("varlen", 2, length=length)
        expected = models.expected_outputs(path, models.KERAS, feeds)
        np.testing.assert_allclose(runtime.predict(feeds)["value"], expected["value"], atol=1e-6)
