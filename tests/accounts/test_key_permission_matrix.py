"""Key management needs the key-management right: every key endpoint x every scope x own key,
another's key and an admin. A key never obtains a secret (or a change) beyond its own rights."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

# (name, method, path; {id} is the target key, body)
ENDPOINTS = [
    ("list", "get", "/api/v1/keys", None),
    ("create", "post", "/api/v1/keys", {"name": "minted", "scopes": ["read"]}),
    ("retrieve", "get", "/api/v1/keys/{id}", None),
    ("update", "patch", "/api/v1/keys/{id}", {"name": "renamed"}),
    ("rotate", "post", "/api/v1/keys/{id}/rotate", {"overlap_hours": 0}),
    ("revoke", "post", "/api/v1/keys/{id}/revoke", None),
]
READS = {"list", "retrieve"}
# (the calling key's owner, its scopes)
CALLER_KEYS = [
    ("alice", ["read"]),
    ("alice", ["predict"]),
    ("alice", ["deploy"]),
    ("alice", ["predict:churn"]),
    ("alice", ["keys"]),
    ("alice", ["keys", "read"]),
    ("alice", ["keys", "read", "deploy"]),
    ("charlie", ["read"]),
    ("charlie", ["keys", "read"]),
    ("charlie", ["admin"]),
]
# The target key each owner holds: own keys carry more than a bare read.
TARGET_SCOPES = {"alice": ["read", "deploy"], "bob": ["read"], "charlie": ["read", "admin"]}


def _holds(scopes, scope: str) -> bool:
    held = set(scopes)
    return "admin" in held or scope in held


def _expected(endpoint: str, caller: str, scopes, target_owner: str) -> int:
    """What the rule says: reads need read or keys; writes need keys, the target's scopes, and
    for another's key an admin owner (else 404) whose key holds admin (else 403)."""
    if endpoint in READS:
        if not (_holds(scopes, "read") or _holds(scopes, "keys")):
            return 403
        if endpoint == "retrieve" and target_owner != caller and caller != "charlie":
            return 404
        return 200
    if not _holds(scopes, "keys"):
        return 403
    if endpoint == "create":
        return 201 if _holds(scopes, "read") else 403
    if target_owner != caller:
        if caller != "charlie":
            return 404
        if not _holds(scopes, "admin"):
            return 403
    if not all(_holds(scopes, s) for s in TARGET_SCOPES[target_owner]):
        return 403
    return 200


def _call(client, method, path, body, **extra):
    return getattr(client, method)(path, body or {}, content_type="application/json", **extra)


def _snapshot(key):
    key.refresh_from_db()
    return (key.hashed_secret, key.revoked_at, key.name)


@pytest.fixture(autouse=True)
def _fresh_state(fresh_key_state):
    """Each test starts with no cached keys, no counted requests and an empty cache."""
    return fresh_key_state


@pytest.fixture
def users(alice, bob, charlie):
    return {"alice": alice, "bob": bob, "charlie": charlie}


@pytest.mark.parametrize(("endpoint", "method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize(("caller", "scopes"), CALLER_KEYS)
@pytest.mark.parametrize("target", ["own", "other"])
def test_it_gives_keys_what_the_rule_allows(
    client, users, issue_key, endpoint, method, path, body, caller, scopes, target
):
    target_owner = caller if target == "own" else "bob"
    target_key, _ = issue_key(
        users[target_owner], scopes=TARGET_SCOPES[target_owner], name="target"
    )
    _, raw = issue_key(users[caller], scopes=scopes, name="caller")
    before = _snapshot(target_key)
    response = _call(
        client, method, path.format(id=target_key.pk), body, HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    expected = _expected(endpoint, caller, scopes, target_owner)
    assert response.status_code == expected, (response.status_code, response.json())
    if expected >= 400:
        assert "key" not in response.json()  # no secret in any refusal
        assert _snapshot(target_key) == before
    if expected == 403 and endpoint not in READS:
        assert "scope" in response.json()["error"] or "keys" in response.json()["error"]


@pytest.mark.parametrize(("endpoint", "method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("caller", ["alice", "bob", "charlie"])
@pytest.mark.parametrize("target", ["own", "other"])
def test_it_lets_sessions_manage_their_own_keys_and_admins_anyones(
    client, users, issue_key, endpoint, method, path, body, caller, target
):
    target_owner = caller if target == "own" else ("bob" if caller != "bob" else "alice")
    target_key, _ = issue_key(
        users[target_owner], scopes=TARGET_SCOPES[target_owner], name="target"
    )
    client.force_login(users[caller])
    response = _call(client, method, path.format(id=target_key.pk), body)
    if endpoint in ("list", "create"):
        expected = 201 if endpoint == "create" else 200
    else:
        expected = 200 if target == "own" or caller == "charlie" else 404
    assert response.status_code == expected, (response.status_code, response.json())


def test_a_read_key_cannot_rotate_a_deploy_key_as_the_issue_showed(client, alice, issue_key):
    """The reported attack: a deployer's read key asked for its deploy key's new secret."""
    deploy_key, _ = issue_key(alice, scopes=["deploy"], name="deploy")
    _, reader = issue_key(alice, scopes=["read"], name="reader")
    before = _snapshot(deploy_key)
    response = client.post(
        f"/api/v1/keys/{deploy_key.pk}/rotate",
        {"overlap_hours": 0},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {reader}",
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": "This action needs the 'keys' permission.",
        "code": "permission_denied",
    }
    assert _snapshot(deploy_key) == before


def test_an_admins_key_manager_cannot_lift_itself_to_admin(client, charlie, issue_key):
    admin_key, _ = issue_key(charlie, scopes=["admin"], name="admin")
    _, manager = issue_key(charlie, scopes=["keys", "read"], name="manager")
    before = _snapshot(admin_key)
    rotate = client.post(
        f"/api/v1/keys/{admin_key.pk}/rotate",
        {"overlap_hours": 0},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {manager}",
    )
    assert rotate.status_code == 403
    assert "scopes it does not hold: admin" in rotate.json()["error"]
    mint = client.post(
        "/api/v1/keys",
        {"name": "escalated", "scopes": ["deploy"]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {manager}",
    )
    assert mint.status_code == 403 and "deploy" in mint.json()["error"]
    assert _snapshot(admin_key) == before


def test_a_key_minted_by_an_expiring_key_expires_with_it(client, alice, issue_key):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import ApiKey

    ends = timezone.now() + timedelta(days=2)
    _, manager = issue_key(alice, scopes=["keys", "read"], name="manager", expires_at=ends)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {manager}"}
    minted = client.post(
        "/api/v1/keys", {"name": "child", "scopes": ["read"]}, "application/json", **auth
    )
    assert minted.status_code == 201
    assert (
        ApiKey.objects.get(name="child").expires_at == ApiKey.objects.get(name="manager").expires_at
    )
    later = (ends + timedelta(days=9)).isoformat()
    longer = client.post(
        "/api/v1/keys",
        {"name": "longer", "scopes": ["read"], "expires_at": later},
        "application/json",
        **auth,
    )
    assert longer.status_code == 403 and "lives longer" in longer.json()["error"]
    forever, _ = issue_key(alice, scopes=["read"], name="forever")
    rotate = client.post(
        f"/api/v1/keys/{forever.pk}/rotate", {"overlap_hours": 0}, "application/json", **auth
    )
    assert rotate.status_code == 403 and "key" not in rotate.json()


def test_responses_that_carry_a_secret_are_not_stored(client, alice, issue_key):
    client.force_login(alice)
    created = client.post(
        "/api/v1/keys", {"name": "k", "scopes": ["read"]}, content_type="application/json"
    )
    assert created.status_code == 201 and created["Cache-Control"] == "no-store"
    rotated = client.post(
        f"/api/v1/keys/{created.json()['id']}/rotate",
        {"overlap_hours": 0},
        content_type="application/json",
    )
    assert rotated.status_code == 200 and rotated["Cache-Control"] == "no-store"
    assert "key" in rotated.json()
