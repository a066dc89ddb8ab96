"""Show a new key's secret once, after a redirect (POST-redirect-GET), so reloading the page that
shows it never creates or rotates a key again.

The secret never goes into a URL or the session: the session holds only a random token, and the
secret waits under that token in the cache (Redis in production) for at most REVEAL_SECONDS. The
first GET takes it and deletes it; a reload finds nothing. Pages that show it send
`Cache-Control: no-store`, so the back button cannot bring it back either.
"""

from __future__ import annotations

import secrets

from django.core.cache import cache

REVEAL_SECONDS = 300  # an unclaimed secret (the redirect never followed) is gone after this
_SESSION_KEY = "modelgate_reveal"


def _cache_key(token: str) -> str:
    return f"modelgate:reveal:{token}"


def secret_stash(request, *, key_id: int, raw: str) -> None:
    """Keep `raw` for this browser session's next page about key `key_id`."""
    token = secrets.token_urlsafe(24)
    cache.set(_cache_key(token), {"key_id": key_id, "raw": raw}, REVEAL_SECONDS)
    request.session[_SESSION_KEY] = token


def secret_take(request, *, key_id: int | None = None) -> dict | None:
    """The stashed {"key_id", "raw"} once (None afterwards); only for `key_id` when given."""
    token = request.session.get(_SESSION_KEY)
    if not token:
        return None
    stashed = cache.get(_cache_key(token))
    if stashed is not None and key_id is not None and stashed["key_id"] != key_id:
        return None  # meant for another key's page: leave it for that one
    request.session.pop(_SESSION_KEY, None)
    cache.delete(_cache_key(token))
    return stashed
