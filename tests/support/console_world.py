"""A small, lived-in Modelgate for browser journeys and the README screenshots: users alice
(deployer) and charlie (admin); `churn` v1 serving production with fifteen minutes of traffic
(a few failures and refusals), v2 in staging, an open alert, an API key; `whole` v1 with a
validation run still queued."""

from __future__ import annotations

import time

PASSWORD = "correct horse battery"


def _events(*, deployment_id: int, version, key_prefix: str, now: float, minutes: int):
    from serving.events import PredictionEvent

    events = []
    for i in range(minutes * 60 // 2):  # one request every 2 s, a busier last few minutes
        ts = now - 5 - i * 2
        burst = 3 if i < 60 else 1
        for j in range(burst):
            n = len(events)
            status = 500 if n % 37 == 0 else 429 if n % 53 == 0 else 200
            events.append(
                PredictionEvent(
                    prediction_ids=[f"w{n:06d}-0"],
                    model="churn",
                    deployment="production",
                    deployment_id=deployment_id,
                    version=version.number,
                    version_id=version.pk,
                    variant="primary",
                    key_prefix=key_prefix,
                    protocol="native" if n % 3 else "tfserving",
                    status=status,
                    latency_ms=1.5 + (n % 11) * 0.6 + (4.0 if n % 29 == 0 else 0.0),
                    rows=1,
                    batch_size=0 if status != 200 else 1 + (j + n) % 4,
                    cache_hit=False,
                    ts=ts - j * 0.3,
                    error="rate limit 60/m exceeded" if status == 429 else "",
                )
            )
    return events


def build_console_world(model_file, model_file_v2=None) -> dict:
    """Create the world in the current database; returns its key, queued run and versions."""
    from accounts.services import api_key_create, user_create
    from jobs.validation.runs import validation_start
    from monitoring.ingest import ingest_events
    from monitoring.models import Alert
    from registry.services import version_register
    from serving.deploy import deployment_deploy
    from tests.support.validated import mark_validated

    alice = user_create(username="alice", password=PASSWORD, role="deployer")
    user_create(username="charlie", password=PASSWORD, role="admin")
    v1 = version_register(
        model_name="churn", upload=model_file, filename="small.keras", actor=alice
    )
    v2 = version_register(
        model_name="churn", upload=model_file_v2 or model_file, filename="v2.keras", actor=alice
    )
    mark_validated(v1, actor=alice)
    mark_validated(v2, actor=alice)
    event = deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=alice,
        reason="first release",
        create=True,
    )
    deployment_deploy(
        model_name="churn",
        deployment_name="staging",
        version_number=2,
        actor=alice,
        reason="try the retrained model",
        create=True,
    )
    key, _ = api_key_create(user=alice, name="churn scorer", scopes=["predict"])
    ingest_events(
        _events(
            deployment_id=event.deployment_id,
            version=v1,
            key_prefix=key.prefix,
            now=time.time(),
            minutes=15,
        )
    )
    Alert.objects.create(
        deployment_id=event.deployment_id, kind="slo_breach", message="p95 above 5 ms"
    )
    whole = version_register(
        model_name="whole", upload=model_file, filename="small.keras", actor=alice
    )
    run = validation_start(version=whole, actor=alice, enqueue=False)
    return {"key": key, "run": run, "whole": whole, "churn": v1}


def deploy_v2(reason: str = "retrained") -> None:
    """charlie deploys churn v2 to production (a deploy "elsewhere" that live pages must show)."""
    from django.contrib.auth import get_user_model

    from serving.deploy import deployment_deploy

    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=2,
        actor=get_user_model().objects.get(username="charlie"),
        reason=reason,
    )
