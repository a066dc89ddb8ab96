"""The self-service portal over the console and the API: create, use, rotate, limit, revoke."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.keys import authenticate_key, clear_key_cache
from accounts.models import ApiKey, RoleLimits
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_new_user_creates_rotates_and_revokes_a_key_in_the_portal(client, bob):
    client.post(reverse("login"), {"username": "bob", "password": "correct horse battery"})
    created = client.post(
        reverse("accounts:key-list"),
        {"name": "etl", "scopes": ["predict"], "rate_limit": "60/m", "quota": "1000/d"},
        follow=True,
    )
    assert created.status_code == 200
    raw = re.search(rb'id="new-key-value">([^<]+)<', created.content).group(1).decode()
    key = ApiKey.objects.get(name="etl")
    assert (key.rate_limit, key.quota) == ("60/m", "1000/d")
    listing = client.get(reverse("accounts:key-list")).content.decode()
    assert raw not in listing and key.prefix in listing and "Requests today" in listing
    detail = client.get(reverse("accounts:key-detail", args=[key.pk]))
    assert detail.status_code == 200 and b"60/m" in detail.content
    assert b'id="figure-daily"' in detail.content and b"mg_live_&lt;prefix&gt;" in detail.content
    rotated = client.post(
        reverse("accounts:key-rotate", args=[key.pk]), {"overlap_hours": "24"}, follow=True
    )
    new_raw = re.search(rb'id="new-key-value">([^<]+)<', rotated.content).group(1).decode()
    assert new_raw != raw and authenticate_key(raw) and authenticate_key(new_raw)
    assert b"keeps working until" in rotated.content
    client.post(reverse("accounts:key-revoke", args=[key.pk]))
    clear_key_cache()
    assert authenticate_key(new_raw) is None and authenticate_key(raw) is None
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"api_key.create", "api_key.rotate", "api_key.revoke"} <= actions


def test_the_detail_page_changes_limits_within_the_ceiling(client, bob, charlie):
    RoleLimits.objects.create(role="viewer", max_rate="100/m")
    client.force_login(bob)
    client.post(reverse("accounts:key-list"), {"name": "k", "scopes": ["read"]})
    key = ApiKey.objects.get(name="k")
    url = reverse("accounts:key-detail", args=[key.pk])
    too_much = client.post(url, {"name": "k", "rate_limit": "1000/m"})
    assert too_much.status_code == 400
    assert b"exceeds your role&#x27;s ceiling of 100/m" in too_much.content
    ok = client.post(url, {"name": "renamed", "rate_limit": "50/m", "quota": "10/d"})
    assert ok.status_code == 302
    key.refresh_from_db()
    assert (key.name, key.rate_limit, key.quota) == ("renamed", "50/m", "10/d")


def test_another_users_key_page_is_a_404(client, alice, bob, make_key):
    key, _ = make_key(alice)
    client.force_login(bob)
    for name in ("accounts:key-detail", "accounts:key-rotate", "accounts:key-revoke"):
        method = client.get if name == "accounts:key-detail" else client.post
        assert method(reverse(name, args=[key.pk])).status_code == 404, name
    key.refresh_from_db()
    assert key.rotated_at is None and key.revoked_at is None


def test_admins_see_and_edit_every_key_and_set_ceilings(client, alice, bob, charlie, make_key):
    key, _ = make_key(alice)
    client.force_login(charlie)
    assert key.prefix in client.get(reverse("accounts:key-list")).content.decode()
    response = client.post(
        reverse("accounts:key-detail", args=[key.pk]), {"name": key.name, "quota": "5/d"}
    )
    assert response.status_code == 302
    page = client.get(reverse("accounts:role-limits"))
    assert page.status_code == 200 and b"ceilings-deployer" in page.content
    saved = client.post(reverse("accounts:role-limits"), {"role": "deployer", "max_rate": "500/m"})
    assert saved.status_code == 302
    assert RoleLimits.objects.get(role="deployer").max_rate == "500/m"
    bad = client.post(reverse("accounts:role-limits"), {"role": "deployer", "max_rate": "x"})
    assert bad.status_code == 400 and b"max_rate: &#x27;x&#x27; is not a rate" in bad.content
    client.force_login(alice)
    assert client.get(reverse("accounts:role-limits")).status_code == 403


def test_the_api_lifecycle(client, alice, make_key):
    _, admin_raw = make_key(alice, scopes=["read", "predict", "keys"])
    created = client.post(
        "/api/v1/keys",
        {"name": "ci", "scopes": ["predict"], "rate_limit": "100/m", "quota": "10000/d"},
        content_type="application/json",
        **_bearer(admin_raw),
    )
    assert created.status_code == 201
    body = created.json()
    assert body["rate_limit"] == "100/m" and body["quota"] == "10000/d"
    assert body["requests_today"] == 0 and body["key"].startswith("mg_live_")
    key_id = body["id"]
    detail = client.get(f"/api/v1/keys/{key_id}", **_bearer(admin_raw)).json()
    assert "key" not in detail and detail["prefix"] == body["prefix"]
    patched = client.patch(
        f"/api/v1/keys/{key_id}",
        {"burst_limit": "10/s", "quota": ""},
        content_type="application/json",
        **_bearer(admin_raw),
    )
    assert patched.status_code == 200
    assert patched.json()["burst_limit"] == "10/s" and patched.json()["quota"] == ""
    empty = client.patch(
        f"/api/v1/keys/{key_id}", {}, content_type="application/json", **_bearer(admin_raw)
    )
    assert empty.status_code == 400 and "Give at least one" in empty.json()["error"]
    rotated = client.post(
        f"/api/v1/keys/{key_id}/rotate",
        {"overlap_hours": 2},
        content_type="application/json",
        **_bearer(admin_raw),
    )
    assert rotated.status_code == 200 and rotated.json()["key"] != body["key"]
    assert rotated.json()["previous_valid_until"] is not None
    too_long = client.post(
        f"/api/v1/keys/{key_id}/rotate",
        {"overlap_hours": 200},
        content_type="application/json",
        **_bearer(admin_raw),
    )
    assert too_long.status_code == 400 and "overlap_hours" in too_long.json()["error"]
    revoked = client.post(f"/api/v1/keys/{key_id}/revoke", **_bearer(admin_raw))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = client.post(f"/api/v1/keys/{key_id}/rotate", **_bearer(admin_raw))
    assert again.status_code == 409 and again.json()["code"] == "revoked"


def test_the_api_keeps_owners_within_ceilings(client, bob, make_key):
    RoleLimits.objects.create(role="viewer", max_quota="100/d")
    key, raw = make_key(bob, scopes=["read", "keys"])
    response = client.patch(
        f"/api/v1/keys/{key.pk}",
        {"quota": "1000/d"},
        content_type="application/json",
        **_bearer(raw),
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "quota: 1000/d exceeds your role's ceiling of 100/d.",
        "code": "invalid",
    }


def test_the_api_hides_other_users_keys(client, alice, bob, make_key):
    key, _ = make_key(alice)
    _, bob_raw = make_key(bob, scopes=["read", "keys"])
    for method, url in [
        ("get", f"/api/v1/keys/{key.pk}"),
        ("patch", f"/api/v1/keys/{key.pk}"),
        ("post", f"/api/v1/keys/{key.pk}/rotate"),
        ("post", f"/api/v1/keys/{key.pk}/revoke"),
    ]:
        response = getattr(client, method)(
            url, {"name": "x"}, content_type="application/json", **_bearer(bob_raw)
        )
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
    assert key.prefix not in str(client.get("/api/v1/keys", **_bearer(bob_raw)).json())
