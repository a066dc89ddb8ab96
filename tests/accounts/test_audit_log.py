"""audit_record never keeps a secret; audit_list filters by actor, action, target and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.key_format import generate_key
from accounts.keys import KeyPrincipal
from core.audit import audit_list, audit_record
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_it_strips_secret_fields_and_key_shaped_values(alice):
    raw, _, _ = generate_key()
    entry = audit_record(
        actor=alice,
        action="thing.change",
        target="thing:1",
        before={"password": "hunter2", "name": "a", "nested": {"api_key": raw, "ok": 1}},
        after={
            "hashed_secret": "abc",
            "token": "t",
            "key": raw,
            "note": raw,
            "list": [raw, "fine"],
            "when": datetime(2024, 1, 2, tzinfo=UTC),
            "amount": Decimal("1.5"),
        },
    )
    entry.refresh_from_db()
    assert entry.before == {"name": "a", "nested": {"ok": 1}}
    assert entry.after == {
        "note": "[redacted]",
        "list": ["[redacted]", "fine"],
        "when": "2024-01-02T00:00:00Z",
        "amount": "1.5",
    }


def test_it_labels_users_keys_and_the_system(alice):
    principal = KeyPrincipal(
        key_id=1,
        prefix="abcdefghijkl",
        user_id=alice.pk,
        username="alice",
        role="deployer",
        scopes=frozenset({"deploy"}),
        expires_at=None,
    )
    by_user = audit_record(actor=alice, action="a.b", target="t")
    by_key = audit_record(actor=None, action="a.b", target="t", principal=principal)
    by_system = audit_record(actor=None, action="a.b", target="t")
    assert by_user.actor_label == "alice"
    assert (by_key.actor_label, by_key.actor_id) == ("key:abcdefghijkl", alice.pk)
    assert (by_system.actor_label, by_system.actor_id) == ("system", None)


def test_it_filters_by_actor_action_target_and_time(alice, bob):
    AuditEntry.objects.all().delete()
    now = datetime.now(UTC)
    old = audit_record(actor=alice, action="api_key.create", target="api_key:aaa (ci)")
    AuditEntry.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=3))
    audit_record(actor=alice, action="api_key.revoke", target="api_key:aaa (ci)")
    audit_record(actor=bob, action="model.create", target="model:fraud")

    def actions(**kwargs):
        return sorted(e.action for e in audit_list(**kwargs))

    assert actions(actor=bob) == ["model.create"]
    assert actions(actor="alice") == ["api_key.create", "api_key.revoke"]
    assert actions(action="api_key") == ["api_key.create", "api_key.revoke"]
    assert actions(action="api_key.revoke") == ["api_key.revoke"]
    assert actions(action="api") == []
    assert actions(target_contains="FRAUD") == ["model.create"]
    assert actions(since=now - timedelta(days=1)) == ["api_key.revoke", "model.create"]
    assert actions(until=now - timedelta(days=1)) == ["api_key.create"]
    assert [e.action for e in audit_list()][-1] == "api_key.create", "newest first"
