"""Console pages: log in, API keys (shown once, revoke), the audit log and its filters."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.keys import authenticate_key
from accounts.models import ApiKey
from core.audit import audit_record
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_the_login_page_logs_in(client, alice):
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b'name="password"' in page.content
    response = client.post(
        reverse("login"), {"username": "alice", "password": "correct horse battery"}
    )
    assert response.status_code == 302 and response.url == reverse("dashboard")
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_the_login_page_rejects_a_wrong_password(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(client, alice):
    client.force_login(alice)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and "_auth_user_id" not in client.session


def test_pages_send_anonymous_users_to_login(client):
    for name in ("accounts:key-list", "accounts:audit"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login") + "?next=")


def test_the_key_page_offers_only_the_roles_scopes(client, bob, alice):
    client.force_login(bob)
    content = client.get(reverse("accounts:key-list")).content.decode()
    assert 'value="read"' in content and 'value="predict"' in content
    assert 'value="deploy"' not in content and 'value="admin"' not in content
    client.force_login(alice)
    assert 'value="deploy"' in client.get(reverse("accounts:key-list")).content.decode()


def test_it_creates_a_key_and_shows_it_once(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("accounts:key-list"),
        {"name": "notebook", "scopes": ["read"], "models": "fraud, churn", "expires_in_days": "30"},
        REMOTE_ADDR="203.0.113.5",
        follow=True,
    )
    assert response.status_code == 200
    content = response.content.decode()
    raw = re.search(r'id="new-key-value">([^<]+)<', content).group(1)
    assert authenticate_key(raw).scopes == {"read", "predict:fraud", "predict:churn"}
    assert "will not be shown again" in content
    assert "js/keys.js" in content and "<script>" not in content
    key = ApiKey.objects.get()
    assert key.expires_at is not None
    assert AuditEntry.objects.get(action="api_key.create").ip == "203.0.113.5"
    again = client.get(reverse("accounts:key-list")).content.decode()
    assert raw not in again and key.prefix in again


def test_the_key_form_rejects_bad_input(client, bob):
    client.force_login(bob)
    response = client.post(reverse("accounts:key-list"), {"name": "x", "scopes": ["deploy"]})
    assert response.status_code == 400
    assert b"Select a valid choice. deploy is not one of the available choices." in response.content
    empty = client.post(reverse("accounts:key-list"), {"name": "x"})
    assert empty.status_code == 400 and b"Pick at least one scope or model." in empty.content
    bad_model = client.post(reverse("accounts:key-list"), {"name": "x", "models": "Bad Model"})
    assert bad_model.status_code == 400 and b"is not a model name." in bad_model.content
    assert not ApiKey.objects.exists()


def test_it_revokes_from_the_page(client, alice, make_key):
    key, _ = make_key(alice, name="old")
    client.force_login(alice)
    response = client.post(reverse("accounts:key-revoke", args=[key.pk]), follow=True)
    assert response.status_code == 200
    assert f"Key &#x27;old&#x27; ({key.prefix}) revoked." in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert client.get(reverse("accounts:key-revoke", args=[key.pk])).status_code == 405


def test_another_users_key_is_404_on_the_page(client, alice, bob, make_key):
    key, _ = make_key(alice)
    client.force_login(bob)
    response = client.post(reverse("accounts:key-revoke", args=[key.pk]))
    assert response.status_code == 404
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None


def test_admins_see_every_key_with_its_owner(client, alice, charlie, make_key):
    make_key(alice, name="alices key")
    client.force_login(charlie)
    content = client.get(reverse("accounts:key-list")).content.decode()
    assert "<th>Owner</th>" in content and "alices key" in content
    client.force_login(alice)
    assert "<th>Owner</th>" not in client.get(reverse("accounts:key-list")).content.decode()


def test_a_viewer_reads_the_audit_log_with_filters(client, alice, bob):
    audit_record(actor=alice, action="model.create", target="model:fraud")
    audit_record(actor=alice, action="model.create", target="model:churn")
    client.force_login(bob)
    content = client.get(reverse("accounts:audit")).content.decode()
    assert "model:fraud" in content and "model:churn" in content and "user:bob" in content
    filtered = client.get(reverse("accounts:audit"), {"target": "fraud", "actor": "alice"})
    text = filtered.content.decode()
    assert "model:fraud" in text and "model:churn" not in text and "user:bob" not in text
    by_action = client.get(reverse("accounts:audit"), {"action": "user"}).content.decode()
    assert "user:bob" in by_action and "model:fraud" not in by_action


def test_the_audit_page_filters_by_inclusive_dates(client, bob):
    from datetime import UTC, datetime

    entry = audit_record(actor=None, action="thing.old", target="thing:old")
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=datetime(2024, 3, 5, 23, tzinfo=UTC))
    client.force_login(bob)
    same_day = client.get(reverse("accounts:audit"), {"since": "2024-03-05", "until": "2024-03-05"})
    assert "thing:old" in same_day.content.decode()
    before = client.get(reverse("accounts:audit"), {"until": "2024-03-04"})
    assert "thing:old" not in before.content.decode()
    inverted = client.get(reverse("accounts:audit"), {"since": "2024-03-06", "until": "2024-03-05"})
    assert inverted.status_code == 400
    assert b"The start date must not be after the end date." in inverted.content


def test_the_audit_page_paginates_and_keeps_filters(client, bob):
    for i in range(60):
        audit_record(actor=None, action="thing.touch", target=f"thing:{i}")
    client.force_login(bob)
    first = client.get(reverse("accounts:audit"), {"action": "thing"}).content.decode()
    assert "Page 1 of 2 (60 entries)" in first and "action=thing&amp;page=2" in first
    second = client.get(reverse("accounts:audit"), {"action": "thing", "page": 2})
    assert "thing:9<" in second.content.decode() and "thing:59<" not in second.content.decode()
