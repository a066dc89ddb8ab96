"""The audit log reads as changes, field by field (before -> after), never as raw dicts."""

from __future__ import annotations

import pytest

from core.audit_display import FieldChange, audit_changes


def test_it_lists_only_the_fields_that_changed():
    before = {"p95_ms": 20, "auto_rollback": True, "min_requests": 100}
    after = {"p95_ms": 35, "auto_rollback": False, "min_requests": 100}
    assert audit_changes(before, after) == [
        FieldChange("p95_ms", "20", "35"),
        FieldChange("auto_rollback", "yes", "no"),
    ]


def test_variant_lists_read_as_versions_weights_and_roles():
    before = [{"version": 1, "weight": 100, "role": "primary"}]
    after = [
        {"version": 1, "weight": 80, "role": "primary"},
        {"version": 2, "weight": 20, "role": "candidate"},
    ]
    assert audit_changes(before, after) == [
        FieldChange("state", "v1 100% primary", "v1 80% primary, v2 20% candidate")
    ]


def test_created_and_removed_fields_say_so():
    assert audit_changes(None, {"name": "ci", "scopes": ["predict", "read"]}) == [
        FieldChange("name", None, "ci"),
        FieldChange("scopes", None, "predict, read"),
    ]
    assert audit_changes({"name": "ci", "note": ""}, {"name": "ci"}) == [
        FieldChange("note", '""', None)
    ]


@pytest.mark.django_db
def test_the_audit_page_shows_before_and_after_per_field(client, charlie):
    from core.models import AuditEntry

    AuditEntry.objects.create(
        actor=charlie,
        actor_label="charlie",
        action="slo.update",
        target="churn/production",
        before={"p95_ms": 20, "error_rate_pct": 1.0},
        after={"p95_ms": 35, "error_rate_pct": 1.0},
    )
    client.force_login(charlie)
    html = client.get("/accounts/audit/").content.decode()
    assert (
        '<span class="field">p95_ms</span>: 20 <span aria-label="changed to">&rarr;</span> 35'
        in html
    )
    assert "error_rate_pct" not in html and "{&#x27;p95_ms&#x27;" not in html
