"""Deploy and rollback: one service behind the console and the API, an append-only history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.actors import actor_for
from core.errors import Conflict, InvalidInput, NotFound
from core.models import AuditEntry
from serving.constants import EventKind
from serving.deploy import deployment_deploy, deployment_rollback, deployment_state_at
from serving.models import AppendOnlyError, Deployment, DeploymentEvent

pytestmark = pytest.mark.django_db


def _serving(name="production") -> list[int]:
    dep = Deployment.objects.get(model__name="churn", name=name)
    return [v.version.number for v in dep.variants.all()]


def test_it_deploys_a_version_and_records_the_event(churn, alice):
    event = deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=actor_for(alice, ip="10.0.0.1"),
        reason="launch",
    )
    assert _serving() == [1]
    assert event.kind == EventKind.DEPLOYED
    assert event.before == []
    assert event.after == [{"version": 1, "weight": 100, "role": "primary"}]
    assert event.actor == alice and event.reason == "launch"
    audit = AuditEntry.objects.get(action="deployment.deployed")
    assert audit.ip == "10.0.0.1" and "churn/production" in audit.target


def test_it_replaces_the_serving_version_and_keeps_the_before_state(churn, alice):
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    event = deployment_deploy(
        model_name="churn", deployment_name="production", version_number=2, actor=alice
    )
    assert _serving() == [2]
    assert [s["version"] for s in event.before] == [1]


def test_it_refuses_unknown_versions_and_models(churn, alice):
    with pytest.raises(NotFound, match="no version 9"):
        deployment_deploy(
            model_name="churn", deployment_name="production", version_number=9, actor=alice
        )
    with pytest.raises(NotFound, match="'nope' does not exist"):
        deployment_deploy(
            model_name="nope", deployment_name="production", version_number=1, actor=alice
        )
    assert not DeploymentEvent.objects.exists()


def test_it_refuses_a_rejected_version_and_leaves_the_old_one_serving(churn, alice):
    v1, v2 = churn
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    type(v2).objects.filter(pk=v2.pk).update(state="rejected")
    with pytest.raises(Conflict, match="rejected"):
        deployment_deploy(
            model_name="churn", deployment_name="production", version_number=2, actor=alice
        )
    assert _serving() == [1]


def test_it_rolls_back_to_the_previous_state(churn, alice):
    first = deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=2, actor=alice
    )
    event = deployment_rollback(
        model_name="churn", deployment_name="production", actor=alice, reason="v2 misbehaves"
    )
    assert _serving() == [1]
    assert event.kind == EventKind.ROLLED_BACK
    assert event.restored_event == first  # "restores #N": the state event #N put in place
    assert AuditEntry.objects.filter(action="deployment.rolled_back").count() == 1


def test_it_restores_any_earlier_event(churn, alice):
    first = deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=2, actor=alice
    )
    deployment_deploy(model_name="churn", deployment_name="staging", version_number=2, actor=alice)
    deployment_rollback(
        model_name="churn",
        deployment_name="production",
        actor=alice,
        reason="back to launch",
        to_event_id=first.pk,
    )
    assert _serving() == [1]
    assert _serving("staging") == [2]


def test_a_rollback_needs_a_reason_and_an_earlier_state(churn, alice):
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    with pytest.raises(InvalidInput, match="reason"):
        deployment_rollback(
            model_name="churn", deployment_name="production", actor=alice, reason="  "
        )
    with pytest.raises(Conflict, match="no earlier state"):
        deployment_rollback(
            model_name="churn",
            deployment_name="production",
            actor=alice,
            reason="nothing to go back to",
        )
    assert _serving() == [1]


def test_events_are_append_only(churn, alice):
    event = deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert DeploymentEvent.objects.get(pk=event.pk).reason == ""


def test_it_answers_what_was_serving_at_a_time(churn, alice):
    e1 = deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    e2 = deployment_deploy(
        model_name="churn", deployment_name="production", version_number=2, actor=alice
    )
    DeploymentEvent.objects.filter(pk=e1.pk).update(created_at=timezone.now() - timedelta(hours=2))
    DeploymentEvent.objects.filter(pk=e2.pk).update(created_at=timezone.now() - timedelta(hours=1))
    dep = Deployment.objects.get(name="production")
    assert deployment_state_at(dep, timezone.now() - timedelta(hours=3)) is None
    assert deployment_state_at(dep, timezone.now() - timedelta(minutes=90)).pk == e1.pk
    assert deployment_state_at(dep, timezone.now()).pk == e2.pk
