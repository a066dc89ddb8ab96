"""Fixtures for the accounts tests: a clean key cache and last-used writes we can observe."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_key_cache(settings):
    """Each test starts with an empty key cache and writes last-used stamps synchronously."""
    from accounts.keys import clear_key_cache

    settings.MODELGATE_API_KEY_LAST_USED_ASYNC = False
    clear_key_cache()
    yield
    clear_key_cache()


@pytest.fixture
def make_key(db):
    """Issue a key through the service; returns (ApiKey, raw key)."""
    from accounts.services import api_key_create

    def _make(user, scopes=("read",), name="test key", expires_at=None):
        return api_key_create(
            user=user, name=name, scopes=list(scopes), expires_at=expires_at, actor=user
        )

    return _make
