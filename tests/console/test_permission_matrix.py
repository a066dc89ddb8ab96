"""The permission matrix across every management API endpoint, predict route and console action:
anonymous, each role's session, and keys with each scope."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

# (method, path, the scope it needs). Objects need not exist: a permission check comes first,
# so an allowed caller gets anything but 401/403 (200, 400, 404, 409...).
API = [
    ("get", "/api/v1/keys", "read"),
    ("post", "/api/v1/keys", "keys"),
    ("get", "/api/v1/me", None),
    ("get", "/api/v1/audit", "read"),
    ("get", "/api/v1/models", "read"),
    ("get", "/api/v1/models/churn", "read"),
    ("get", "/api/v1/models/churn/versions", "read"),
    ("post", "/api/v1/models/churn/versions", "deploy"),
    ("get", "/api/v1/models/churn/versions/1", "read"),
    ("get", "/api/v1/environments", "read"),
    ("post", "/api/v1/environments", "deploy"),
    ("get", "/api/v1/environments/cpu", "read"),
    ("get", "/api/v1/datasets", "read"),
    ("post", "/api/v1/datasets", "deploy"),
    ("get", "/api/v1/datasets/1", "read"),
    ("get", "/api/v1/deployments", "read"),
    ("get", "/api/v1/models/churn/deployments", "read"),
    ("get", "/api/v1/models/churn/deployments/production", "read"),
    # Reading the deployment back needs read as well: both scopes.
    ("patch", "/api/v1/models/churn/deployments/production", "read+deploy"),
    ("post", "/api/v1/models/churn/deployments/production/deploy", "deploy"),
    ("post", "/api/v1/models/churn/deployments/production/rollback", "deploy"),
    ("get", "/api/v1/models/churn/deployments/production/state", "read"),
]
SESSION_SCOPES = {
    "bob": {"read", "keys"},
    "alice": {"read", "deploy", "keys"},
    "charlie": {"read", "deploy", "keys"},
}
KEY_SCOPES = [["read"], ["predict"], ["deploy"], ["read", "deploy"], ["predict:churn"]]


def _call(client, method, path, **extra):
    return getattr(client, method)(path, {}, content_type="application/json", **extra)


@pytest.fixture(autouse=True)
def _fresh_state(fresh_key_state):
    """Each test starts with no cached keys, no counted requests and an empty cache."""
    return fresh_key_state


@pytest.mark.parametrize(("method", "path", "scope"), API)
def test_anonymous_callers_get_a_401(client, method, path, scope):
    response = _call(client, method, path)
    assert response.status_code == 401, (method, path)
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "path", "scope"), API)
def test_sessions_get_what_their_role_allows(client, alice, bob, charlie, method, path, scope):
    for user in (alice, bob, charlie):
        client.force_login(user)
        status = _call(client, method, path).status_code
        allowed = scope is None or set(scope.split("+")) <= SESSION_SCOPES[user.username]
        assert (status not in (401, 403)) == allowed, (user.username, method, path, status)


@pytest.mark.parametrize(("method", "path", "scope"), API)
def test_keys_get_what_their_scopes_allow(client, alice, issue_key, method, path, scope):
    for scopes in KEY_SCOPES:
        _, raw = issue_key(alice, scopes=scopes, name="-".join(scopes))
        response = _call(client, method, path, HTTP_AUTHORIZATION=f"Bearer {raw}")
        allowed = scope is None or set(scope.split("+")) <= set(scopes)
        assert (response.status_code not in (401, 403)) == allowed, (scopes, method, path)
        if not allowed:
            assert response.json()["code"] == "permission_denied"


def test_an_invalid_key_is_a_401_even_with_a_session(client, alice):
    client.force_login(alice)
    response = client.get("/api/v1/keys", HTTP_AUTHORIZATION="Bearer mg_live_nope")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/models/{m}/deployments/production/predict",
        "/v1/models/{m}:predict",
        "/v2/models/{m}/infer",
    ],
)
def test_a_model_scoped_key_cannot_call_another_model(client, alice, issue_key, path):
    _, raw = issue_key(alice, scopes=["predict:churn"])
    _, reader = issue_key(alice, scopes=["read"])
    body = {"instances": [[0.1, 0.2, 0.3, 0.4]]}
    other = client.post(
        path.format(m="fraud"),
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert other.status_code == 403 and "fraud" in other.json()["error"]
    own = client.post(
        path.format(m="churn"),
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert own.status_code not in (401, 403)
    no_predict = client.post(
        path.format(m="churn"),
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {reader}",
    )
    assert no_predict.status_code == 403


CONSOLE_ACTIONS = [
    ("get", "registry:version-upload", (), "deploy"),
    ("post", "registry:version-upload", (), "deploy"),
    ("post", "serving:version-deploy", ("churn", 1), "deploy"),
    ("post", "serving:deployment-rollback", ("churn", "production"), "deploy"),
    ("post", "serving:deployment-configure", ("churn", "production"), "deploy"),
    ("get", "accounts:role-limits", (), "admin"),
    ("post", "accounts:role-limits", (), "admin"),
    ("get", "accounts:key-list", (), "read"),
    ("get", "accounts:audit", (), "read"),
    ("get", "registry:model-list", (), "read"),
    ("get", "serving:deployment-list", (), "read"),
]
CONSOLE_ROLES = {
    "bob": {"read"},
    "alice": {"read", "deploy"},
    "charlie": {"read", "deploy", "admin"},
}


@pytest.mark.parametrize(("method", "name", "args", "scope"), CONSOLE_ACTIONS)
def test_console_actions_follow_the_roles(alice, bob, charlie, method, name, args, scope):
    from django.test import Client

    # Objects need not exist: what counts here is that the role check came first (not a 403).
    client = Client(raise_request_exception=False)
    url = reverse(name, args=args)
    anonymous = getattr(client, method)(url)
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))
    for user in (alice, bob, charlie):
        client.force_login(user)
        status = getattr(client, method)(url).status_code
        allowed = scope in CONSOLE_ROLES[user.username]
        assert (status != 403) == allowed, (user.username, name, status)
