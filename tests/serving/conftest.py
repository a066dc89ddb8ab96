"""Fixtures for serving: registered versions, keys, and a fresh serving pool per test."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.traffic_fixtures import (  # noqa: F401 - fixtures re-exported for these tests
    log_rows,
    make_event,
    production,
    split,
)


@pytest.fixture
def churn(alice, keras_model_file, keras_model_file_v2):
    """Model `churn` with v1 and v2 (same signature, different weights), both validated."""
    from registry.services import version_register
    from tests.support.validated import mark_validated

    v1 = version_register(
        model_name="churn", upload=keras_model_file, filename="small.keras", actor=alice
    )
    v2 = version_register(
        model_name="churn", upload=keras_model_file_v2, filename="small-v2.keras", actor=alice
    )
    mark_validated(v1, actor=alice)
    mark_validated(v2, actor=alice)
    return v1, v2


@pytest.fixture
def multi(alice, multi_io_model_file):
    from registry.services import version_register

    return version_register(
        model_name="multi", upload=multi_io_model_file, filename="multi.keras", actor=alice
    )


@pytest.fixture
def make_key(db):
    from accounts.keys import clear_key_cache
    from accounts.services import api_key_create

    clear_key_cache()

    def _make(user, scopes=("predict",), name="test key"):
        _, raw = api_key_create(user=user, name=name, scopes=list(scopes))
        return raw

    yield _make
    clear_key_cache()


@pytest.fixture
def predict_key(alice, make_key):
    return make_key(alice, ["predict"])


@pytest.fixture
def deploy_key(alice, make_key):
    return make_key(alice, ["deploy", "read"])


@pytest.fixture
def pool(monkeypatch):
    """A fresh per-test serving pool, driven explicitly with pool.refresh()."""
    from serving import pool as pool_module

    fresh = pool_module.ServingPool(poll_interval=0.05)
    monkeypatch.setattr(pool_module, "current", fresh)
    yield fresh
    fresh.stop(timeout=5)


@pytest.fixture
def deployed(churn, alice, pool):
    """churn v1 serving in production, loaded in the pool."""
    from serving.deploy import deployment_deploy

    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=alice,
        reason="first",
    )
    pool.refresh()
    return churn


@pytest.fixture
def keras_outputs(keras_model_file, keras_model_file_v2):
    """Reference outputs computed by Keras itself for both versions."""
    import keras

    models = {
        1: keras.saving.load_model(keras_model_file, compile=False),
        2: keras.saving.load_model(keras_model_file_v2, compile=False),
    }

    def _ref(version: int, rows) -> np.ndarray:
        return np.asarray(models[version](np.asarray(rows, dtype="float32"), training=False))

    return _ref


def auth(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def grpc_port(pool):
    """The gRPC server (OIP, TF Serving, health) on a free loopback port over this test's pool.

    Its handler threads use their own database connections: tests that use it need
    `transactional_db` so those threads see the rows the test wrote."""
    from serving.grpc.server import build_server, close

    server, port = build_server(host="127.0.0.1", port=0, threads=8)
    server.start()
    yield port
    close(server, 0)
