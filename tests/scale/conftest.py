"""Fixtures for the production-shape tests: the serving fixtures (a validated model, keys)."""

from tests.serving.conftest import (  # noqa: F401 - fixtures re-exported for these tests
    churn,
    make_key,
    predict_key,
)
