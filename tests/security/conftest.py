"""Fixtures for the security tests: a clean key cache, limits and cache for each test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_state(settings):
    from django.core.cache import cache

    from accounts.keys import clear_key_cache
    from accounts.ratelimits import reset_rate_limits

    settings.MODELGATE_API_KEY_LAST_USED_ASYNC = False
    clear_key_cache()
    reset_rate_limits()
    cache.clear()
    yield
    clear_key_cache()
    reset_rate_limits()


@pytest.fixture
def make_key(db):
    """Issue a key through the service; returns (ApiKey, raw key)."""
    from accounts.services import api_key_create

    def _make(user, scopes=("read",), name="test key", **limits):
        return api_key_create(user=user, name=name, scopes=list(scopes), **limits)

    return _make
