"""Fixtures for validation: the serving fixtures, a hold-out dataset and a fast policy."""

from __future__ import annotations

import numpy as np
import pytest

from tests.serving.conftest import (  # noqa: F401 - fixtures re-exported for these tests
    churn,
    deploy_key,
    keras_outputs,
    make_key,
    multi,
    pool,
    predict_key,
)

FAST_POLICY = {
    "performance_batch_sizes": [1, 8],
    "performance_iterations": 5,
    "load_seconds": 0.3,
    "load_concurrency": 4,
}


@pytest.fixture
def fast_policy():
    from jobs.validation.policy import policy_defaults

    return {**policy_defaults(), **FAST_POLICY}


@pytest.fixture
def holdout(alice, tmp_path, keras_model_file):
    """A labelled hold-out set whose labels are v1's own predictions (v1 is perfect on it)."""
    import keras

    from registry.services import dataset_create

    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 4)).astype("float32")
    model = keras.saving.load_model(keras_model_file, compile=False)
    y = (np.asarray(model(x)).reshape(-1) >= 0.5).astype("int64")
    path = tmp_path / "holdout.npz"
    np.savez(path, features=x, y=y)
    return dataset_create(
        name="holdout", upload=path, filename="holdout.npz", actor=alice, label_column="y"
    )
