"""The key portal shows what happened to a key (refused calls with reasons, a link to its traffic),
asks before revoking or rotating, and never creates or rotates twice on a reload."""

from __future__ import annotations

import re
import time

import pytest
from django.urls import reverse

from accounts.keys import authenticate_key
from accounts.models import ApiKey
from monitoring.ingest import ingest_events
from serving.events import PredictionEvent

pytestmark = pytest.mark.django_db

SECRET_RE = re.compile(r'id="new-key-value">([^<]+)<')


def _refusal(prefix: str, status: int, error: str, n: int) -> PredictionEvent:
    return PredictionEvent(
        prediction_ids=[],
        model="churn",
        deployment="production",
        deployment_id=1,
        version=0,
        version_id=0,
        variant="",
        key_prefix=prefix,
        protocol="oip",
        status=status,
        latency_ms=0.0,
        rows=0,
        batch_size=0,
        cache_hit=False,
        ts=time.time() - n,
        error=error,
        request_id=f"refused-{prefix}-{status}-{n}",
    )


def test_it_shows_a_keys_refused_calls_with_their_reasons(client, alice, make_key):
    key, _ = make_key(alice, ["predict"])
    ingest_events(
        [_refusal(key.prefix, 429, "rate limit exceeded for this API key", n) for n in range(4)]
        + [_refusal(key.prefix, 401, "invalid or expired API key", 9)]
    )
    client.force_login(alice)
    detail = client.get(reverse("accounts:key-detail", args=[key.pk])).content.decode()
    fragment_url = reverse("monitoring:key-refusals", args=[key.pk])
    assert f'hx-get="{fragment_url}"' in detail
    assert f'href="{reverse("monitoring:key", args=[key.pk])}"' in detail
    fragment = client.get(fragment_url).content.decode()
    assert 'data-refused-total="5"' in fragment
    assert '<dd data-refused-status="429">4</dd>' in fragment
    assert '<dd data-refused-status="401">1</dd>' in fragment
    assert fragment.count("rate limit exceeded for this API key") == 4
    assert "invalid or expired API key" in fragment


def test_it_hides_another_users_key_refusals(client, alice, bob, make_key):
    key, _ = make_key(alice, ["predict"])
    client.force_login(bob)
    assert client.get(reverse("monitoring:key-refusals", args=[key.pk])).status_code == 404


def test_reloading_the_created_page_creates_no_second_key(client, alice):
    client.force_login(alice)
    posted = client.post(reverse("accounts:key-list"), {"name": "etl", "scopes": ["predict"]})
    assert posted.status_code == 302 and posted.url == reverse("accounts:key-list")
    assert "mg_" not in posted.url  # the secret never travels in a URL
    shown = client.get(posted.url)
    assert shown["Cache-Control"] == "no-store"
    raw = SECRET_RE.search(shown.content.decode()).group(1)
    assert authenticate_key(raw) is not None
    reloaded = client.get(posted.url).content.decode()
    assert raw not in reloaded and "will not be shown again" not in reloaded
    assert ApiKey.objects.filter(name="etl").count() == 1
    assert not any(raw in str(value) for value in client.session.values())


def test_reloading_the_rotated_page_rotates_nothing(client, alice, make_key):
    key, old_raw = make_key(alice, ["predict"])
    client.force_login(alice)
    url = reverse("accounts:key-rotate", args=[key.pk])
    posted = client.post(url, {"overlap_hours": "0"})
    assert posted.status_code == 302 and posted.url == reverse("accounts:key-detail", args=[key.pk])
    shown = client.get(posted.url)
    assert shown["Cache-Control"] == "no-store"
    new_raw = SECRET_RE.search(shown.content.decode()).group(1)
    rotated_at = ApiKey.objects.get(pk=key.pk).rotated_at
    again = client.get(posted.url).content.decode()
    assert new_raw not in again
    assert ApiKey.objects.get(pk=key.pk).rotated_at == rotated_at
    assert authenticate_key(new_raw) is not None and authenticate_key(old_raw) is None


def test_a_stashed_secret_shows_only_on_its_own_keys_page(client, alice, make_key):
    other, _ = make_key(alice, ["read"], name="other")
    client.force_login(alice)
    client.post(reverse("accounts:key-list"), {"name": "fresh", "scopes": ["read"]})
    other_page = client.get(reverse("accounts:key-detail", args=[other.pk])).content.decode()
    assert 'id="new-key-value"' not in other_page
    assert 'id="new-key-value"' in client.get(reverse("accounts:key-list")).content.decode()


def test_revoke_and_rotate_ask_first_without_inline_script(client, alice, make_key):
    key, _ = make_key(alice, ["predict"])
    client.force_login(alice)
    for name, args in (("accounts:key-list", []), ("accounts:key-detail", [key.pk])):
        page = client.get(reverse(name, args=args)).content.decode()
        assert '<dialog id="confirm-dialog"' in page and "js/confirm_dialog.js" in page
        assert "<script>" not in page and "onclick" not in page
        revoke_url = reverse("accounts:key-revoke", args=[key.pk])
        revoke = re.search(rf'<form[^>]*action="{revoke_url}"[^>]*>', page, re.S).group(0)
        assert 'data-confirm="' in revoke and key.prefix in revoke
    detail = client.get(reverse("accounts:key-detail", args=[key.pk])).content.decode()
    rotate_url = reverse("accounts:key-rotate", args=[key.pk])
    rotate = re.search(rf'<form[^>]*action="{rotate_url}"[^>]*>', detail, re.S).group(0)
    assert 'data-confirm-action="Rotate secret"' in rotate
