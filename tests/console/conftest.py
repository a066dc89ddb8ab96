"""Fixtures for the console and production-shape tests: the serving fixtures (a model, keys)."""

from tests.serving.conftest import (  # noqa: F401 - fixtures re-exported for these tests
    churn,
    make_key,
    predict_key,
)
