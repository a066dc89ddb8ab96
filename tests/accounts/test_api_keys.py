"""/api/v1/keys: list, create, revoke, for every persona and every way in."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.key_format import parse_key
from accounts.keys import authenticate_key, clear_key_cache
from accounts.models import ApiKey
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def _bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_it_refuses_a_missing_key_with_401(api):
    response = api.get("/api/v1/keys")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["HTTP_AUTHORIZATION", "HTTP_X_API_KEY"])
def test_it_refuses_a_bad_key_with_401_json(api, alice, make_key, header):
    _, raw = make_key(alice)
    bad = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    value = f"Bearer {bad}" if header == "HTTP_AUTHORIZATION" else bad
    response = api.get("/api/v1/keys", **{header: value})
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid or expired API key.", "code": "invalid_api_key"}


@pytest.mark.parametrize("header", ["HTTP_AUTHORIZATION", "HTTP_X_API_KEY"])
def test_it_lists_own_keys_with_either_header(api, alice, bob, make_key, header):
    mine, raw = make_key(alice, name="mine")
    make_key(bob, name="bobs")
    value = f"Bearer {raw}" if header == "HTTP_AUTHORIZATION" else raw
    response = api.get("/api/v1/keys", **{header: value})
    assert response.status_code == 200
    body = response.json()
    assert [k["name"] for k in body] == ["mine"]
    assert body[0]["prefix"] == mine.prefix and body[0]["status"] == "active"
    assert "key" not in body[0] and "hashed_secret" not in body[0]


def test_an_admin_lists_everyones_keys_with_all(api, alice, charlie, make_key):
    make_key(alice, name="alices")
    api.force_login(charlie)
    assert api.get("/api/v1/keys").json() == []
    names = {k["name"]: k["owner"] for k in api.get("/api/v1/keys?all=1").json()}
    assert names == {"alices": "alice"}


def test_all_is_ignored_for_non_admins(api, alice, bob, make_key):
    make_key(alice, name="alices")
    api.force_login(bob)
    assert api.get("/api/v1/keys?all=1").json() == []


def test_it_creates_a_key_shown_once(api, alice):
    api.force_login(alice)
    response = api.post(
        "/api/v1/keys",
        {"name": "ci", "scopes": ["read", "predict:fraud"], "expires_at": "2999-01-01T00:00:00Z"},
        format="json",
        REMOTE_ADDR="198.51.100.4",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    principal = authenticate_key(body["key"])
    assert principal.username == "alice" and principal.prefix == body["prefix"]
    assert body["scopes"] == ["read", "predict:fraud"]
    assert body["expires_at"].startswith("2999-01-01")
    entry = AuditEntry.objects.get(action="api_key.create")
    assert entry.ip == "198.51.100.4" and entry.actor == alice
    listed = api.get("/api/v1/keys").json()
    assert "key" not in listed[0]
    secret = parse_key(body["key"]).secret
    assert secret not in str(listed)


def test_a_viewer_cannot_create_a_deploy_key(api, bob):
    api.force_login(bob)
    response = api.post("/api/v1/keys", {"name": "x", "scopes": ["deploy"]}, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "error": "A viewer may not hold the 'deploy' scope; allowed: keys, predict, read.",
        "code": "permission_denied",
    }
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"scopes": ["read"]}, "name: This field is required."),
        ({"name": "x", "scopes": []}, "scopes: Ensure this field has at least 1 elements."),
        ({"name": "x", "scopes": ["write"]}, "'write' is not a scope"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2000-01-01T00:00:00Z"}, "future"),
        ({"name": "x", "scopes": ["read"], "expires_at": "soon"}, "expires_at: Datetime"),
    ],
)
def test_it_rejects_bad_input_with_a_precise_400(api, alice, payload, message):
    api.force_login(alice)
    response = api.post("/api/v1/keys", payload, format="json")
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not ApiKey.objects.exists()


def test_a_key_cannot_mint_a_broader_key(api, alice, make_key):
    _, raw = make_key(alice, ["read", "keys"])
    response = api.post(
        "/api/v1/keys", {"name": "x", "scopes": ["deploy"]}, format="json", **_bearer(raw)
    )
    assert response.status_code == 403
    assert "with scopes it does not hold: deploy" in response.json()["error"]
    ok = api.post("/api/v1/keys", {"name": "y", "scopes": ["read"]}, format="json", **_bearer(raw))
    assert ok.status_code == 201
    entry = AuditEntry.objects.filter(action="api_key.create").first()
    assert entry.actor_label.startswith("key:")


def test_a_predict_only_key_cannot_manage_keys(api, alice, make_key):
    _, raw = make_key(alice, ["predict"])
    response = api.get("/api/v1/keys", **_bearer(raw))
    assert response.status_code == 403
    assert response.json()["error"] == "This action needs the 'read' permission."


def test_it_revokes_a_key(api, alice, make_key, django_capture_on_commit_callbacks):
    key, raw = make_key(alice)
    api.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/keys/{key.pk}/revoke", REMOTE_ADDR="192.0.2.8")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert AuditEntry.objects.get(action="api_key.revoke").ip == "192.0.2.8"
    assert api.get("/api/v1/keys", **_bearer(raw)).status_code == 401
    again = api.post(f"/api/v1/keys/{key.pk}/revoke")
    assert again.status_code == 409 and "already revoked" in again.json()["error"]


def test_another_users_key_is_404(api, alice, bob, make_key):
    key, _ = make_key(alice)
    api.force_login(bob)
    response = api.post(f"/api/v1/keys/{key.pk}/revoke")
    assert response.status_code == 404
    assert response.json() == {"error": f"API key {key.pk} not found.", "code": "not_found"}
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None


def test_an_admin_revokes_anyones_key(api, alice, charlie, make_key):
    key, _ = make_key(alice)
    api.force_login(charlie)
    assert api.post(f"/api/v1/keys/{key.pk}/revoke").status_code == 200


def test_session_posts_need_csrf(alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/api/v1/keys", {"name": "x", "scopes": ["read"]}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]


def test_an_expired_key_is_refused(api, alice, make_key):
    from datetime import timedelta

    from django.utils import timezone

    key, raw = make_key(alice)
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    clear_key_cache()
    assert api.get("/api/v1/keys", **_bearer(raw)).status_code == 401
