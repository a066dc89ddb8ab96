"""Fixtures that make and log synthetic traffic (prediction events, a deployed churn, an A/B
split), shared by the serving and monitoring tests through their conftests."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

_ids = itertools.count(1)


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


@pytest.fixture
def production(churn, alice):
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
def log_rows(make_event, clock):
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
