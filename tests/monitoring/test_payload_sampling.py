"""One sampling knob: serving applies the deployment's payload sample rate (the global setting
is only the default of a deployment that sets none); ingestion keeps what serving sampled."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.ingest import ingest_events
from monitoring.models import PredictionLog
from serving import sampling
from tests.serving.conftest import auth

pytestmark = pytest.mark.django_db
URL = "/api/v1/models/churn/deployments/production/predict"


@pytest.fixture
def published(monkeypatch):
    """The events serving publishes, captured instead of queued."""
    from serving import events

    seen = []
    monkeypatch.setattr(events, "publish", seen.append)
    sampling.invalidate()
    yield seen
    sampling.invalidate()


def _predict(client, key, n: int) -> None:
    for _ in range(n):
        body = {"instances": np.zeros((1, 4)).tolist()}
        response = client.post(URL, body, content_type="application/json", **auth(key))
        assert response.status_code == 200, response.content


def test_the_deployments_rate_is_what_serving_applies(
    client, deployed, predict_key, published, settings, alice
):
    from monitoring.services import slo_policy_update
    from serving.models import Deployment

    settings.MODELGATE_PAYLOAD_SAMPLE_RATE = 0.0  # the global default would keep nothing
    deployment = Deployment.objects.get(name="production")
    slo_policy_update(deployment=deployment, actor=alice, changes={"payload_sample_rate": 1.0})
    sampling.invalidate()
    _predict(client, predict_key, 5)
    assert [e.inputs is not None for e in published] == [True] * 5
    ingest_events(published)
    assert PredictionLog.objects.filter(inputs__isnull=False).count() == 5  # no second cut


def test_the_global_setting_is_only_the_default(client, deployed, predict_key, published, settings):
    settings.MODELGATE_PAYLOAD_SAMPLE_RATE = 0.0
    _predict(client, predict_key, 3)
    assert [e.inputs for e in published] == [None] * 3
    settings.MODELGATE_PAYLOAD_SAMPLE_RATE = 1.0
    _predict(client, predict_key, 2)
    assert all(e.inputs is not None for e in published[3:])


def test_a_new_policy_starts_from_the_global_default(deployed, alice, settings):
    from monitoring.services import slo_policy_get, slo_policy_update
    from serving.models import Deployment

    settings.MODELGATE_PAYLOAD_SAMPLE_RATE = 0.05
    deployment = Deployment.objects.get(name="production")
    assert slo_policy_get(deployment).payload_sample_rate == 0.05
    policy = slo_policy_update(deployment=deployment, actor=alice, changes={"p95_ms": 30})
    assert policy.payload_sample_rate == 0.05  # setting an SLO does not turn sampling up


def test_the_page_says_the_rate_and_where_it_comes_from(client, bob, deployed, settings):
    settings.MODELGATE_PAYLOAD_SAMPLE_RATE = 0.05
    client.force_login(bob)
    html = client.get("/monitoring/churn/production/").content.decode()
    assert "5% of successful requests" in html
    assert "MODELGATE_PAYLOAD_SAMPLE_RATE = 5%" in html


def test_a_partial_rate_keeps_about_that_share(deployed, alice, settings):
    from monitoring.services import slo_policy_update
    from serving.models import Deployment

    deployment = Deployment.objects.get(name="production")
    slo_policy_update(deployment=deployment, actor=alice, changes={"payload_sample_rate": 0.25})
    sampling.invalidate()
    assert sampling.rate_for(deployment.pk) == 0.25
    settings.MODELGATE_PAYLOAD_SAMPLE_RATE = 0.5
    assert sampling.rate_for(deployment.pk + 1000) == 0.5  # a deployment without a policy
