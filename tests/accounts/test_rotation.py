"""Rotating a key: a new secret, the old one valid for the chosen overlap, then refused."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from accounts.keys import authenticate_key, clear_key_cache
from accounts.services import api_key_revoke, api_key_rotate
from core.errors import Conflict, InvalidInput, PermissionDenied
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_both_secrets_work_during_the_overlap_then_only_the_new(alice, make_key):
    key, old = make_key(alice, scopes=["predict"])
    key, new = api_key_rotate(key=key, actor=alice, overlap_hours=24)
    assert new != old and new.startswith(f"mg_live_{key.prefix}_")
    assert authenticate_key(old).key_id == key.pk
    assert authenticate_key(new).key_id == key.pk
    assert key.previous_valid_until - key.rotated_at == timedelta(hours=24)
    later = key.previous_valid_until.timestamp() + 1
    with mock.patch("accounts.keys.time.time", return_value=later):
        assert authenticate_key(old) is None
        assert authenticate_key(new) is not None


def test_a_zero_overlap_stops_the_old_secret_at_once(alice, make_key):
    key, old = make_key(alice)
    key, new = api_key_rotate(key=key, actor=alice, overlap_hours=0)
    clear_key_cache()
    assert authenticate_key(old) is None and authenticate_key(new) is not None
    assert key.previous_valid_until is None and key.previous_hashed_secret == ""


def test_a_second_rotation_ends_the_oldest_secret(alice, make_key):
    key, first = make_key(alice)
    key, second = api_key_rotate(key=key, actor=alice)
    key, third = api_key_rotate(key=key, actor=alice)
    assert authenticate_key(first) is None
    assert authenticate_key(second) is not None and authenticate_key(third) is not None


@pytest.mark.parametrize("hours", [-1, 168.5, "soon"])
def test_the_overlap_is_between_zero_and_seven_days(alice, make_key, hours):
    key, _ = make_key(alice)
    with pytest.raises(InvalidInput, match="overlap_hours"):
        api_key_rotate(key=key, actor=alice, overlap_hours=hours)


def test_a_revoked_or_expired_key_cannot_be_rotated(alice, make_key, clock):
    key, _ = make_key(alice)
    api_key_revoke(key=key, actor=alice)
    with pytest.raises(Conflict, match="is revoked"):
        api_key_rotate(key=key, actor=alice)
    expired, _ = make_key(alice, expires_at=timezone.now() + timedelta(seconds=1))
    clock.shift(2)
    with pytest.raises(Conflict, match="is expired"):
        api_key_rotate(key=expired, actor=alice)


def test_only_the_owner_or_an_admin_rotates(alice, bob, charlie, make_key):
    key, _ = make_key(alice)
    with pytest.raises(PermissionDenied):
        api_key_rotate(key=key, actor=bob)
    api_key_rotate(key=key, actor=charlie, overlap_hours=1)
    entry = AuditEntry.objects.get(action="api_key.rotate")
    assert entry.actor_label == "charlie" and entry.after["overlap_hours"] == 1.0
    assert "hashed_secret" not in str(entry.after) and "previous_hashed" not in str(entry.after)
