"""Fixtures for drift, feedback, quality, shadow and A/B tests: the serving and monitoring
fixtures, plus helpers that log synthetic traffic."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.monitoring.conftest import make_event  # noqa: F401 - fixture re-exported
from tests.serving.conftest import (  # noqa: F401 - fixtures re-exported for these tests
    churn,
    deploy_key,
    deployed,
    keras_outputs,
    make_key,
    pool,
    predict_key,
)


@pytest.fixture(autouse=True)
def _controlled_clock(clock):
    """Windows (minute rollups, SLO spans, drift windows) never straddle a real boundary."""
    return clock


@pytest.fixture
def production(churn, alice):  # noqa: F811
    """churn v1 deployed to production (not loaded into a pool)."""
    from serving.deploy import deployment_deploy
    from serving.models import Deployment

    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    return Deployment.objects.get(model__name="churn", name="production")


@pytest.fixture
def split(production, alice):
    """production split 50/50 between v1 (primary) and v2 (candidate)."""
    from serving.deploy import deployment_set_traffic

    deployment_set_traffic(
        model_name="churn",
        deployment_name="production",
        variants=[
            {"version": 1, "weight": 50, "role": "primary"},
            {"version": 2, "weight": 50, "role": "candidate"},
        ],
        actor=alice,
        reason="a/b",
    )
    return production


@pytest.fixture
def log_rows(make_event, clock):  # noqa: F811
    """Ingest one logged request per input row for a deployment, then let a second pass (the
    checks run after the traffic, not at its very instant); returns the request ids."""
    from monitoring.ingest import ingest_events

    def _log(deployment, rows, *, version=1, variant="primary", outputs=None, at=None, **extra):
        at = at or time.time()
        events, ids = [], []
        for i, row in enumerate(np.asarray(rows, dtype=float).tolist()):
            event = make_event(
                deployment_id=deployment.pk,
                deployment=deployment.name,
                version=version,
                variant=variant,
                ts=at - i * 0.001,
                inputs={"features": [row]},
                outputs={"score": [[outputs[i]]]} if outputs is not None else {"score": [[0.5]]},
                **extra,
            )
            events.append(event)
            ids.append(event.request_id or event.prediction_ids[0].rsplit("-", 1)[0])
        ingest_events(events)
        clock.shift(1)
        return ids

    return _log
