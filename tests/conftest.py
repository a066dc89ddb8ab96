"""Shared fixtures: the personas (alice owns, bob is a teammate, charlie is an outsider) and
small deterministic Keras models built on the spot."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.support.clock import clock  # noqa: F401 - the controlled clock, for every test

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def _isolated_storage(settings, tmp_path):
    """Each test gets its own artifact and dataset store so file assertions are exact."""
    settings.MODELGATE_ARTIFACT_ROOT = tmp_path / "artifacts"
    settings.MODELGATE_DATASET_ROOT = tmp_path / "datasets"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def make_user(db):
    from accounts.services import user_create

    def _make(username: str, role: str = "viewer", password: str = "correct horse battery"):
        return user_create(username=username, password=password, role=role)

    return _make


@pytest.fixture
def alice(make_user):
    """A deployer: registers, validates, deploys."""
    return make_user("alice", "deployer")


@pytest.fixture
def bob(make_user):
    """A viewer on the same team: reads everything, changes nothing."""
    return make_user("bob", "viewer")


@pytest.fixture
def charlie(make_user):
    """An admin."""
    return make_user("charlie", "admin")


def build_small_model(seed: int = 0, n_features: int = 4):
    """A tiny binary classifier: features(float32, n) -> score(float32, 1)."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(n_features,), name="features")
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="score")(hidden)
    return keras.Model(inputs, outputs)


def build_multi_io_model(seed: int = 0):
    """Two inputs, two outputs: for named-input and multi-output protocol paths."""
    import keras

    keras.utils.set_random_seed(seed)
    a = keras.Input(shape=(4,), name="features")
    b = keras.Input(shape=(2,), name="extra")
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.Concatenate()([a, b]))
    score = keras.layers.Dense(1, activation="sigmoid", name="score")(hidden)
    logits = keras.layers.Dense(3, name="logits")(hidden)
    return keras.Model([a, b], [score, logits])


@pytest.fixture(scope="session")
def keras_model_file(tmp_path_factory) -> Path:
    """A `.keras` file of the small classifier."""
    path = tmp_path_factory.mktemp("models") / "small.keras"
    build_small_model().save(path)
    return path


@pytest.fixture(scope="session")
def keras_model_file_v2(tmp_path_factory) -> Path:
    """A different `.keras` file (other weights) with the same signature."""
    path = tmp_path_factory.mktemp("models") / "small-v2.keras"
    build_small_model(seed=1).save(path)
    return path


@pytest.fixture(scope="session")
def multi_io_model_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "multi.keras"
    build_multi_io_model().save(path)
    return path


@pytest.fixture(scope="session")
def savedmodel_dir(tmp_path_factory) -> Path:
    """The small classifier exported as a TensorFlow SavedModel directory."""
    path = tmp_path_factory.mktemp("models") / "small-savedmodel"
    build_small_model().export(str(path), verbose=False)
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """A Chromium executable, or a skip that says how to install one (a failure under CI)."""
    from tests.support.browser import HOW_TO_GET_ONE, browser_required, find_chromium

    path = find_chromium()
    if path is None:
        if browser_required():
            pytest.fail(f"MODELGATE_REQUIRE_BROWSER=1 but {HOW_TO_GET_ONE}")
        pytest.skip(HOW_TO_GET_ONE)
    return path


@pytest.fixture
def browser(chromium_path, monkeypatch):
    """A headless Chromium driven by Playwright's sync API, closed after the test."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM_ARGS

    # Playwright's sync API runs an event loop; the ORM calls in tests are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            # With Playwright's loop running on this thread, Django keeps the test's connections
            # in a context-local slot (asgiref), apart from the thread's own: close them here,
            # or the last one stays open and PostgreSQL refuses to drop the test database.
            connections.close_all()
            chromium.close()


@pytest.fixture(scope="session")
def model_kind_path(tmp_path_factory):
    """`model_kind_path(kind, fmt)`: a model of that kind (tests/support/models.py), saved once."""
    from tests.support import models

    root = tmp_path_factory.mktemp("model-kinds")
    saved: dict[tuple[str, str], Path] = {}

    def _path(kind: str, fmt: str = models.KERAS) -> Path:
        if (kind, fmt) not in saved:
            saved[kind, fmt] = models.save(kind, root, fmt)
        return saved[kind, fmt]

    return _path


@pytest.fixture
def fresh_key_state(settings):
    """No cached keys, no counted requests, an empty cache, last-used stamps written at once."""
    from django.core.cache import cache

    from accounts.keys import clear_key_cache
    from accounts.ratelimits import reset_rate_limits

    settings.MODELGATE_API_KEY_LAST_USED_ASYNC = False
    clear_key_cache()
    reset_rate_limits()
    cache.clear()
    yield
    clear_key_cache()
    reset_rate_limits()


@pytest.fixture
def issue_key(db):
    """Issue a key through the service with any limits; returns (ApiKey, raw key)."""
    from accounts.services import api_key_create

    def _issue(user, scopes=("read",), name="test key", **limits):
        return api_key_create(user=user, name=name, scopes=list(scopes), **limits)

    return _issue
