"""Resolving an alert sends the browser back to `next` only when it is a path on this site."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_state(fresh_key_state):
    """Each test starts with no cached keys, no counted requests and an empty cache."""
    return fresh_key_state


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/models/", "/models/"),
        ("/monitoring/churn/production?window=1h", "/monitoring/churn/production?window=1h"),
        ("https://evil.example/phish", None),
        ("//evil.example/phish", None),
        ("/\\evil.example/phish", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_it_follows_next_only_to_a_same_site_path(client, alice, target, expected):
    client.force_login(alice)
    response = client.post(reverse("monitoring:alert-resolve", args=[999]), {"next": target})
    assert response.status_code == 302
    assert response["Location"] == (expected or reverse("dashboard"))
