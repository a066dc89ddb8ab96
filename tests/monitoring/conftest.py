"""Fixtures for monitoring: the serving fixtures, monitoring's URLs, and event factories."""

from __future__ import annotations

import itertools
import time

import pytest

from tests.serving.conftest import (  # noqa: F401 - fixtures re-exported for these tests
    churn,
    deploy_key,
    deployed,
    make_key,
    pool,
    predict_key,
)

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _controlled_clock(clock):
    """Windows (minute rollups, SLO spans, drift windows) never straddle a real boundary."""
    return clock


@pytest.fixture(autouse=True)
def _monitoring_urls(settings):
    settings.ROOT_URLCONF = "tests.monitoring.urls"


@pytest.fixture
def make_event():
    """Build a PredictionEvent with sensible defaults; override any field by keyword."""
    from serving.events import PredictionEvent

    def _make(**fields):
        rid = fields.pop("request_id", None) or f"req{next(_ids):08d}"
        rows = fields.pop("rows", 1)
        base = dict(
            prediction_ids=[f"{rid}-{i}" for i in range(rows)],
            model="churn",
            deployment="production",
            deployment_id=1,
            version=1,
            version_id=1,
            variant="primary",
            key_prefix="mg_abc",
            protocol="native",
            status=200,
            latency_ms=2.0,
            rows=rows,
            batch_size=rows,
            cache_hit=False,
            ts=time.time(),
            inputs={"features": [[0.0, 1.0, 2.0, 3.0]] * rows},
            outputs={"score": [[0.5]] * rows},
        )
        base.update(fields)
        return PredictionEvent(**base)

    return _make


def login(client, user):
    client.force_login(user)
    return client
