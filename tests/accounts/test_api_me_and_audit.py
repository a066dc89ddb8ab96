"""/api/v1/me and /api/v1/audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from core.audit import audit_record
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_me_describes_a_key(api, alice, make_key):
    key, raw = make_key(alice, ["read", "predict:fraud"])
    response = api.get("/api/v1/me", HTTP_X_API_KEY=raw)
    assert response.status_code == 200
    assert response.json() == {
        "username": "alice",
        "role": "deployer",
        "key_prefix": key.prefix,
        "scopes": ["predict:fraud", "read"],
    }


def test_me_describes_a_session(api, charlie):
    api.force_login(charlie)
    assert api.get("/api/v1/me").json() == {
        "username": "charlie",
        "role": "admin",
        "key_prefix": None,
        "scopes": None,
    }


def test_me_needs_credentials(api):
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"] == "Authentication credentials were not provided."


def test_audit_lists_entries_for_a_viewer_paginated(api, bob):
    for i in range(55):
        audit_record(actor=None, action="thing.touch", target=f"thing:{i}")
    api.force_login(bob)
    first = api.get("/api/v1/audit").json()
    assert first["count"] == 56  # plus bob's own user.create
    assert len(first["results"]) == 50 and first["next"]
    assert first["results"][0]["target"] == "thing:54"
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 6


def test_audit_filters_by_query_params(api, alice, bob, make_key):
    make_key(alice, name="ci")
    audit_record(actor=bob, action="model.create", target="model:fraud", ip="10.1.1.1")
    api.force_login(bob)

    def actions(query):
        response = api.get(f"/api/v1/audit?{query}")
        assert response.status_code == 200, response.content
        return sorted(entry["action"] for entry in response.json()["results"])

    assert actions("actor=alice") == ["api_key.create"]  # user.create was by "system"
    assert actions("actor=system") == ["user.create", "user.create"]
    assert actions("action=api_key") == ["api_key.create"]
    assert actions("target=fraud") == ["model.create"]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert actions(f"since={tomorrow}") == []
    assert len(actions(f"until={tomorrow}")) == AuditEntry.objects.count()
    row = api.get("/api/v1/audit?action=model.create").json()["results"][0]
    assert row["actor"] == "bob" and row["ip"] == "10.1.1.1" and row["target"] == "model:fraud"


def test_audit_rejects_bad_filters(api, bob):
    api.force_login(bob)
    response = api.get("/api/v1/audit?since=yesterday")
    assert response.status_code == 400
    assert response.json()["error"].startswith("since: Datetime has wrong format")
    inverted = api.get("/api/v1/audit?since=2024-02-01T00:00:00Z&until=2024-01-01T00:00:00Z")
    assert inverted.status_code == 400
    assert inverted.json() == {"error": "since: Must be before until.", "code": "invalid"}


def test_audit_needs_the_read_scope(api, alice, make_key):
    _, raw = make_key(alice, ["predict"])
    assert api.get("/api/v1/audit", HTTP_X_API_KEY=raw).status_code == 403
    assert api.get("/api/v1/audit").status_code == 401
