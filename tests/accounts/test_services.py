"""User and key services: validation, the role ceiling, and an audit entry for each write."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.actors import actor_for
from accounts.models import ApiKey, Profile
from accounts.services import api_key_create, api_key_revoke, user_create, user_set_role
from core.errors import Conflict, InvalidInput, PermissionDenied
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_it_creates_a_user_with_a_profile_and_an_audit_entry():
    user = user_create(username="dora", password="correct horse battery", role="deployer")
    assert user.profile.role == "deployer"
    assert user.check_password("correct horse battery")
    assert not user.is_staff
    entry = AuditEntry.objects.get(action="user.create")
    assert entry.actor_label == "system" and entry.actor is None
    assert entry.target == "user:dora"
    assert entry.after == {"username": "dora", "email": "", "role": "deployer"}
    assert "password" not in str(entry.after)


def test_an_admin_is_staff(charlie):
    assert charlie.is_staff and charlie.profile.role == "admin"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"username": "", "password": "correct horse battery"}, "username: This field"),
        ({"username": "x", "password": "correct horse battery", "role": "god"}, "Unknown role"),
        ({"username": "x", "password": "123"}, "password: This password is too short"),
    ],
)
def test_it_refuses_bad_user_input_and_writes_nothing(kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        user_create(**kwargs)
    assert not get_user_model().objects.exists()
    assert not AuditEntry.objects.exists()


def test_it_refuses_a_duplicate_username(alice):
    with pytest.raises(Conflict, match="already exists"):
        user_create(username="ALICE", password="correct horse battery")


def test_an_admin_changes_a_role_with_before_and_after(alice, charlie):
    user_set_role(user=alice, role="admin", actor=actor_for(charlie, ip="10.0.0.7"))
    alice.refresh_from_db()
    assert Profile.objects.get(user=alice).role == "admin" and alice.is_staff
    entry = AuditEntry.objects.get(action="user.set_role")
    assert (entry.actor, entry.actor_label, entry.ip) == (charlie, "charlie", "10.0.0.7")
    assert (entry.before, entry.after) == ({"role": "deployer"}, {"role": "admin"})


def test_a_non_admin_cannot_change_roles(alice, bob):
    with pytest.raises(PermissionDenied, match="Only an admin"):
        user_set_role(user=bob, role="admin", actor=alice)
    assert Profile.objects.get(user=bob).role == "viewer"


def test_it_creates_a_key_and_audits_it_without_the_secret(alice):
    key, raw = api_key_create(
        user=alice,
        name="ci",
        scopes=["read", "predict:fraud", "read"],
        actor=actor_for(alice, ip="::1"),
    )
    assert key.scopes == ["read", "predict:fraud"]
    entry = AuditEntry.objects.get(action="api_key.create")
    assert entry.actor == alice and entry.ip == "::1"
    assert entry.target == f"api_key:{key.prefix} (ci)"
    assert entry.after["scopes"] == ["read", "predict:fraud"]
    assert entry.after["owner"] == "alice" and entry.before is None
    assert raw not in str(entry.after) and key.hashed_secret not in str(entry.after)


@pytest.mark.parametrize(
    ("persona", "scopes", "allowed"),
    [
        ("bob", ["read", "predict"], True),
        ("bob", ["predict:fraud"], True),
        ("bob", ["deploy"], False),
        ("bob", ["admin"], False),
        ("alice", ["read", "predict", "deploy"], True),
        ("alice", ["admin"], False),
        ("charlie", ["admin", "deploy"], True),
    ],
)
def test_key_scopes_never_exceed_the_owners_role(request, persona, scopes, allowed):
    user = request.getfixturevalue(persona)
    if allowed:
        key, _ = api_key_create(user=user, name="k", scopes=scopes, actor=user)
        assert key.scopes == scopes
    else:
        with pytest.raises(PermissionDenied, match=f"may not hold the '{scopes[0]}' scope"):
            api_key_create(user=user, name="k", scopes=scopes, actor=user)
        assert (
            not ApiKey.objects.exists()
            and not AuditEntry.objects.filter(action="api_key.create").exists()
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "", "scopes": ["read"]}, "name: This field is required"),
        ({"name": "x" * 101, "scopes": ["read"]}, "name: At most 100"),
        ({"name": "k", "scopes": []}, "scopes: Give at least one"),
        ({"name": "k", "scopes": ["write"]}, "'write' is not a scope"),
        ({"name": "k", "scopes": ["predict:Bad Name"]}, "'predict:Bad Name' is not a scope"),
        (
            {"name": "k", "scopes": ["read"], "expires_at": timezone.now() - timedelta(1)},
            "expires_at: Must be in the future",
        ),
    ],
)
def test_it_refuses_bad_key_input(alice, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        api_key_create(user=alice, actor=alice, **kwargs)
    assert not ApiKey.objects.exists()


def test_only_an_admin_creates_keys_for_someone_else(alice, bob, charlie):
    with pytest.raises(PermissionDenied):
        api_key_create(user=bob, name="k", scopes=["read"], actor=alice)
    key, _ = api_key_create(user=bob, name="k", scopes=["read"], actor=charlie)
    assert key.owner == bob
    assert AuditEntry.objects.get(action="api_key.create").actor == charlie


def test_it_revokes_once_with_before_and_after(alice, make_key):
    key, _ = make_key(alice)
    api_key_revoke(key=key, actor=actor_for(alice, ip="192.0.2.1"))
    key.refresh_from_db()
    assert key.revoked_at is not None and key.status == "revoked"
    entry = AuditEntry.objects.get(action="api_key.revoke")
    assert entry.before["revoked_at"] is None and entry.after["revoked_at"] is not None
    assert entry.ip == "192.0.2.1"
    with pytest.raises(Conflict, match="already revoked"):
        api_key_revoke(key=key, actor=alice)
    assert AuditEntry.objects.filter(action="api_key.revoke").count() == 1


def test_only_the_owner_or_an_admin_revokes(alice, bob, charlie, make_key):
    key, _ = make_key(alice)
    with pytest.raises(PermissionDenied):
        api_key_revoke(key=key, actor=bob)
    api_key_revoke(key=key, actor=charlie)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
