"""core.actor.Actor: what an actor may do, how it refuses, how it is named; and how accounts
builds one from a session or a key."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.actors import actor_for, as_actor
from accounts.keys import KeyPrincipal
from core.actor import Actor
from core.errors import NotAuthenticated, PermissionDenied


def _principal(user, scopes, role="deployer"):
    return KeyPrincipal(
        key_id=1,
        prefix="abcdefabcdef",
        user_id=user.pk,
        username=user.get_username(),
        role=role,
        scopes=frozenset(scopes),
        expires_at=timezone.now() + timedelta(days=1),
    )


def test_system_may_do_anything_and_is_labelled_system():
    system = Actor.for_system(ip="10.0.0.1")
    assert system.can("admin") and system.can("deploy", model="fraud")
    assert system.label == "system" and system.user_id is None and system.ip == "10.0.0.1"


def test_anonymous_may_do_nothing_and_is_told_to_authenticate():
    anonymous = Actor.anonymous()
    assert not anonymous.can("read")
    with pytest.raises(NotAuthenticated):
        anonymous.require("read")


def test_actor_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Actor.for_system().system = False


@pytest.mark.django_db
def test_plain_scope_covers_every_model_per_model_scope_only_its_own(alice):
    plain = Actor(user=alice, role="deployer", scopes=frozenset({"deploy"}))
    assert plain.can("deploy") and plain.can("deploy", model="fraud")
    one = Actor(user=alice, role="deployer", scopes=frozenset({"deploy:fraud"}))
    assert one.can("deploy", model="fraud") and one.can("deploy:fraud")
    assert not one.can("deploy", model="churn")
    # An action that names no model needs the plain scope.
    assert not one.can("deploy")


@pytest.mark.django_db
def test_require_names_scope_model_and_actor(alice):
    one = Actor(user=alice, role="deployer", scopes=frozenset({"deploy:fraud"}))
    assert one.require("deploy", model="fraud") is one
    with pytest.raises(PermissionDenied) as refused:
        one.require("deploy", model="churn", what="roll back")
    message = refused.value.message
    assert "'deploy'" in message and "'churn'" in message and "alice" in message
    assert "roll back" in message and "deploy:churn" in message


@pytest.mark.django_db
def test_session_actor_holds_its_roles_scopes(alice, bob, charlie):
    assert actor_for(alice).can("deploy", model="any") and not actor_for(alice).can("admin")
    assert actor_for(bob).can("read") and not actor_for(bob).can("deploy", model="fraud")
    assert actor_for(charlie).can("admin")
    assert actor_for(alice, ip="192.0.2.1").label == "alice"


@pytest.mark.django_db
def test_key_actor_holds_the_keys_scopes_within_its_owners_role(alice, bob):
    key = _principal(alice, {"read", "deploy:fraud"})
    actor = actor_for(alice, key)
    assert actor.label == "key:abcdefabcdef" and actor.key is key and actor.user_id == alice.pk
    assert actor.can("deploy", model="fraud") and not actor.can("deploy", model="churn")
    # A viewer's key never deploys, whatever it says it holds (the role shrank after the key).
    demoted = actor_for(bob, _principal(bob, {"deploy", "read"}, role="viewer"))
    assert demoted.can("read") and not demoted.can("deploy", model="fraud")
    # `admin` on a key means everything its owner's role allows, no more.
    admin_key = actor_for(alice, _principal(alice, {"admin"}))
    assert admin_key.can("deploy", model="x") and not admin_key.can("admin")


@pytest.mark.django_db
def test_key_of_another_user_or_inactive_user_holds_nothing(alice, bob):
    assert not actor_for(bob, _principal(alice, {"read"})).can("read")
    alice.is_active = False
    assert not actor_for(alice).can("read")


@pytest.mark.django_db
def test_as_actor_keeps_actors_wraps_users_and_reads_none_as_system(alice):
    actor = actor_for(alice)
    assert as_actor(actor) is actor
    assert as_actor(alice).label == "alice" and as_actor(alice).can("deploy")
    assert as_actor(None).system


@pytest.mark.django_db
def test_audit_record_takes_the_actors_label_user_and_address(alice):
    from core.audit import audit_record

    key_actor = actor_for(alice, _principal(alice, {"read"}), ip="198.51.100.7")
    entry = audit_record(actor=key_actor, action="a.b", target="t")
    assert (entry.actor_id, entry.actor_label, entry.ip) == (
        alice.pk,
        "key:abcdefabcdef",
        "198.51.100.7",
    )
    system = audit_record(actor=Actor.for_system(), action="a.b", target="t")
    assert (system.actor_id, system.actor_label) == (None, "system")
