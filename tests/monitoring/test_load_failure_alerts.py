"""Versions that fail to load on serving replicas raise a monitoring alert, kept current and
resolved once no live replica reports the failure."""

from __future__ import annotations

import uuid

import pytest

from monitoring.constants import AlertKind
from monitoring.load_alerts import load_failures_check
from monitoring.models import Alert
from serving.deploy import deployment_deploy, deployment_rollback
from tests.serving.test_load_failures import corrupt

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_replica_dir(settings, tmp_path):
    settings.MODELGATE_REPLICA_DIR = tmp_path / "replicas"
    settings.MODELGATE_REPLICA_KEY_PREFIX = f"test:{uuid.uuid4().hex}:replica:"  # with Redis
    settings.MODELGATE_REPLICA_TTL_SECONDS = 20


def test_it_alerts_once_per_failure_and_resolves_it_after_the_rollback(deployed, alice, pool):
    corrupt(deployed[1])
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=2, actor=alice
    )
    pool.refresh()

    [alert] = load_failures_check()
    assert alert.kind == AlertKind.LOAD_FAILURE
    assert alert.message.startswith(
        "churn/production: v2 failed to load on 1 replica: ModelLoadError: "
    )
    assert load_failures_check() == []  # still failing: the same alert stays open

    deployment_rollback(
        model_name="churn", deployment_name="production", actor=alice, reason="v2 broken"
    )
    pool.refresh()
    assert load_failures_check() == []
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert not Alert.objects.filter(resolved_at__isnull=True).exists()


def test_a_replica_that_stops_reporting_drops_out(deployed, alice, pool, clock):
    from serving.replicas import replicas_live

    corrupt(deployed[1])
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=2, actor=alice
    )
    pool.refresh()
    assert len(replicas_live()) == 1
    [alert] = load_failures_check()

    clock.shift(21)  # past the TTL without a report: the replica is gone (killed, scaled down)
    assert replicas_live() == []
    load_failures_check()
    alert.refresh_from_db()
    assert alert.resolved_at is not None
