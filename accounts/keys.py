"""API-key authentication: where a request carries the key, the in-process key cache, the
principal, last-used times. The key format lives in accounts/key_format.py.

This module is on the serving hot path: it must work from a plain WSGI handler (no DRF), and a
cache hit costs no database query; a token already verified against the cached entry is not
parsed or hashed again. Revocation reaches this process within the cache TTL.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.signals import request_finished
from django.db import DatabaseError, connection, reset_queries
from django.utils import timezone

from accounts.auth_throttle import check_address, record_failure
from accounts.constants import Role, Scope
from accounts.key_format import hash_secret, parse_key

logger = logging.getLogger(__name__)

LAST_USED_INTERVAL_SECONDS = 60.0
# Bounds on what this process keeps per key: stored keys (valid, revoked, wrong owner) and, apart
# from them so a flood of random keys cannot evict the real ones, prefixes that name no key.
_MAX_CACHED_PREFIXES = 10_000
_MAX_UNKNOWN_PREFIXES = 4_096
# Compared against when the prefix is unknown, so a miss costs the same as a wrong secret.
_DUMMY_HASH = hashlib.sha256(b"modelgate-no-such-key").hexdigest()
# The caller's address, or a function that returns it (computed only when a lookup misses).
Address = str | None | Callable[[], str | None]


# --- where a request carries the key ----------------------------------------------------------


def key_from_headers(authorization: str | None, x_api_key: str | None) -> str | None:
    """The raw key from `Authorization: Bearer <key>` or `X-API-Key: <key>`; None if neither."""
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    return None


def key_from_environ(environ) -> str | None:
    """The raw key from a WSGI environ (or Django's request.META)."""
    return key_from_headers(environ.get("HTTP_AUTHORIZATION"), environ.get("HTTP_X_API_KEY"))


# --- principal ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPrincipal:
    """Who a request authenticated as when it used an API key."""

    key_id: int
    prefix: str
    user_id: int
    username: str
    role: str
    scopes: frozenset[str]
    expires_at: datetime | None
    # Effective limits: the key's own, else its role's ceiling; None means none.
    rate_limit: str | None = None
    burst_limit: str | None = None
    quota: str | None = None

    def has_scope(self, scope: str) -> bool:
        """`admin` implies every scope; `predict` every `predict:<model>`, `deploy` every
        `deploy:<model>`."""
        if Scope.ADMIN in self.scopes or scope in self.scopes:
            return True
        base, _, model = scope.partition(":")
        return bool(model) and base in self.scopes

    def allows_predict(self, model_name: str) -> bool:
        return self.has_scope(f"predict:{model_name}")

    def allows(self, scope: str, *, model_name: str | None = None) -> bool:
        return self.has_scope(f"{scope}:{model_name}" if model_name else scope)

    @property
    def label(self) -> str:
        return f"key:{self.prefix}"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


# --- cache ----------------------------------------------------------------------------------


@dataclass
class _Entry:
    fetched_at: float
    hashed_secret: str
    principal: KeyPrincipal | None  # None: unknown prefix, revoked key or inactive owner
    user: object | None = field(default=None, repr=False)
    # A rotated key's old secret, valid until previous_until (a wall-clock timestamp).
    previous_hashed_secret: str = _DUMMY_HASH
    previous_until: float = 0.0


_lock = threading.Lock()
_entries: dict[str, _Entry] = {}
# The negative cache: prefix -> when it was found to name no key (oldest first).
_unknown: OrderedDict[str, float] = OrderedDict()
# sha256 of a whole raw token that passed the full check -> (the entry it passed against, whether
# it matched the rotated-out secret). Never the raw key; only successes, so random keys add none.
_verified: dict[bytes, tuple[_Entry, bool]] = {}


def _ttl() -> float:
    return float(settings.MODELGATE_API_KEY_CACHE_SECONDS)


def clear_key_cache() -> None:
    """Forget every cached key and pending last-used write (tests; role changes)."""
    with _lock:
        _entries.clear()
        _unknown.clear()
        _verified.clear()
    with _touch_lock:
        _last_touch.clear()
        _pending.clear()


def forget_keys(*, prefixes=(), user_id: int | None = None) -> None:
    """Drop cached entries so this process sees a revocation or role change at once."""
    with _lock:
        for prefix in prefixes:
            _entries.pop(prefix, None)
            _unknown.pop(prefix, None)
        if user_id is not None:
            owned = [
                p for p, e in _entries.items() if e.principal and e.principal.user_id == user_id
            ]
            for prefix in owned:
                _entries.pop(prefix, None)


def forget_all_keys() -> None:
    """Drop every cached key (a role ceiling changed); pending last-used writes stay."""
    with _lock:
        _entries.clear()
        _verified.clear()  # all stale now (their entries are gone); free them


def _load(prefix: str) -> _Entry:
    from django.db.models import Exists, OuterRef, Subquery

    from accounts.limits import Ceilings, default_ceilings, effective_rate
    from accounts.models import ApiKey, RoleLimits

    # The role's ceilings come in the same query: a cache miss costs one query, no more.
    ceiling = RoleLimits.objects.filter(role=OuterRef("owner__profile__role"))
    key = (
        ApiKey.objects.select_related("owner", "owner__profile")
        .annotate(
            ceiling_row=Exists(ceiling),
            ceiling_rate=Subquery(ceiling.values("max_rate")[:1]),
            ceiling_burst=Subquery(ceiling.values("max_burst")[:1]),
            ceiling_quota=Subquery(ceiling.values("max_quota")[:1]),
        )
        .filter(prefix=prefix)
        .first()
    )
    now = time.monotonic()
    if key is None:
        return _Entry(fetched_at=now, hashed_secret=_DUMMY_HASH, principal=None)
    owner = key.owner
    if key.revoked_at is not None or not owner.is_active:
        return _Entry(fetched_at=now, hashed_secret=key.hashed_secret, principal=None)
    profile = getattr(owner, "profile", None)
    role = profile.role if profile else (Role.ADMIN if owner.is_superuser else Role.VIEWER)
    if key.ceiling_row:
        ceilings = Ceilings(
            key.ceiling_rate or None, key.ceiling_burst or None, key.ceiling_quota or None
        )
    else:
        ceilings = default_ceilings(str(role))
    principal = KeyPrincipal(
        key_id=key.pk,
        prefix=key.prefix,
        user_id=owner.pk,
        username=owner.get_username(),
        role=str(role),
        scopes=frozenset(key.scopes or ()),
        expires_at=key.expires_at,
        rate_limit=effective_rate(key.rate_limit, ceilings.max_rate),
        burst_limit=key.burst_limit or ceilings.max_burst,
        quota=key.quota or ceilings.max_quota,
    )
    entry = _Entry(fetched_at=now, hashed_secret=key.hashed_secret, principal=principal, user=owner)
    if key.previous_hashed_secret and key.previous_valid_until is not None:
        entry.previous_hashed_secret = key.previous_hashed_secret
        entry.previous_until = key.previous_valid_until.timestamp()
    return entry


_UNKNOWN = _Entry(fetched_at=0.0, hashed_secret=_DUMMY_HASH, principal=None)


def _cached(prefix: str) -> _Entry | None:
    """The entry cached for a prefix (or the unknown marker) within the TTL; None on a miss."""
    now = time.monotonic()
    ttl = _ttl()
    with _lock:
        entry = _entries.get(prefix)
        unknown_since = _unknown.get(prefix)
    if entry is not None and now - entry.fetched_at < ttl:
        return entry
    if unknown_since is not None and now - unknown_since < ttl:
        return _UNKNOWN
    return None


def _fetch(prefix: str, ip: str | None) -> _Entry:
    """The entry loaded now (one query) and cached; AuthThrottled first when `ip` keeps missing."""
    check_address(ip)  # an address that keeps missing is refused before the query
    # The query runs outside the lock: two threads may both load, which is harmless.
    entry = _load(prefix)
    with _lock:
        if entry.principal is None and entry.hashed_secret == _DUMMY_HASH:
            _unknown[prefix] = entry.fetched_at
            _unknown.move_to_end(prefix)
            while len(_unknown) > _MAX_UNKNOWN_PREFIXES:
                _unknown.popitem(last=False)
        else:
            _unknown.pop(prefix, None)
            if len(_entries) >= _MAX_CACHED_PREFIXES:
                _entries.clear()  # bounded memory; only stored keys get here
            _entries[prefix] = entry
    return entry


def _verified_entry(digest: bytes) -> _Entry | None:
    """The entry this token passed in full, while the full check would still pass it: that entry
    still cached (revocation, rotation, role change drop it), in TTL and grace, unexpired."""
    with _lock:
        entry, previous = _verified.get(digest, (_UNKNOWN, False))
        principal = entry.principal
        if principal is None or _entries.get(principal.prefix) is not entry:
            return None
    if time.monotonic() - entry.fetched_at >= _ttl() or principal.is_expired():
        return None
    return entry if not previous or time.time() < entry.previous_until else None


def _resolve(raw: str | None, ip: Address = None) -> _Entry | None:
    # Only a token that once passed the full check can hit: the shortcut reveals no secret.
    digest = hashlib.sha256((raw or "").encode("utf-8", "surrogatepass")).digest()
    verified = _verified_entry(digest)
    if verified is not None and verified.principal is not None:
        _touch(verified.principal.key_id)
        return verified
    parsed = parse_key(raw)
    if parsed is None:
        return None
    entry = _cached(parsed.prefix)
    queried = entry is None
    if queried:  # only a miss costs a query, so only a miss needs the caller's address
        ip = ip() if callable(ip) else ip
        entry = _fetch(parsed.prefix, ip)
    # Always compare both, even for an unknown prefix, so timing reveals nothing.
    hashed = hash_secret(parsed.secret)
    current = hmac.compare_digest(hashed, entry.hashed_secret)
    previous = hmac.compare_digest(hashed, entry.previous_hashed_secret)
    matches = current or (previous and time.time() < entry.previous_until)
    principal = entry.principal
    if not matches or principal is None or principal.is_expired():
        if queried:
            record_failure(ip)  # only misses cost a query, so only they spend the budget
        return None
    with _lock:
        if len(_verified) >= _MAX_CACHED_PREFIXES:
            _verified.clear()  # bounded like the key cache; forgetting costs one full check
        _verified[digest] = (entry, not current)
    _touch(principal.key_id)
    return entry


def presented_prefix(raw: str | None) -> str:
    """The prefix of a refused key when it names a stored key (revoked, expired, wrong secret),
    else ""; read from the entry that authentication just cached, so no query."""
    parsed = parse_key(raw)
    if parsed is None:
        return ""
    with _lock:
        entry = _entries.get(parsed.prefix)
    return parsed.prefix if entry is not None and entry.hashed_secret != _DUMMY_HASH else ""


def authenticate_key(raw: str | None, *, ip: Address = None) -> KeyPrincipal | None:
    """The principal of a valid, unrevoked, unexpired key; None otherwise. With the caller's
    address, failed lookups that cost a query are throttled per address (AuthThrottled). `ip`
    may be a function returning the address: it is called only when the lookup misses the
    cache, so a cached key never computes it."""
    entry = _resolve(raw, ip)
    return entry.principal if entry else None


def authenticate_key_with_user(raw: str | None, *, ip: Address = None):
    """Like authenticate_key, plus a private copy of the owner (for request.user); no query."""
    entry = _resolve(raw, ip)
    if entry is None:
        return None, None
    return copy.copy(entry.user), entry.principal


# --- last used ------------------------------------------------------------------------------

_touch_lock = threading.Lock()
_last_touch: dict[int, float] = {}
_pending: dict[int, datetime] = {}
_wake = threading.Event()
_writer: threading.Thread | None = None


def _touch(key_id: int) -> None:
    """Note that a key was used; written at most once a minute per key, never by the caller."""
    now = time.monotonic()
    with _touch_lock:
        last = _last_touch.get(key_id)
        if last is not None and now - last < LAST_USED_INTERVAL_SECONDS:
            return
        if len(_last_touch) >= _MAX_CACHED_PREFIXES:
            # One per valid key used: bounded like the key cache; forgetting costs one write.
            _last_touch.clear()
        _last_touch[key_id] = now
        _pending[key_id] = timezone.now()
    if settings.MODELGATE_API_KEY_LAST_USED_ASYNC:
        _ensure_writer()
        _wake.set()
    # Otherwise the write happens on request_finished (after the response) or flush_last_used().


def pending_last_used() -> dict[int, datetime]:
    """The writes not yet flushed (tests and diagnostics)."""
    with _touch_lock:
        return dict(_pending)


def flush_last_used() -> int:
    """Write pending last-used times in this thread; returns how many keys were updated."""
    from accounts.models import ApiKey

    with _touch_lock:
        batch = dict(_pending)
        _pending.clear()
    for key_id, used_at in batch.items():
        try:
            ApiKey.objects.filter(pk=key_id).update(last_used_at=used_at)
        except DatabaseError:
            # A missed last-used stamp is cosmetic; it must never fail a request.
            logger.warning("could not record last use of API key %s", key_id, exc_info=True)
    return len(batch)


def _writer_loop() -> None:
    while True:
        _wake.wait()
        _wake.clear()
        try:
            flush_last_used()
        finally:
            connection.close()
            reset_queries()  # with DEBUG on, this thread's query log is never reset otherwise


def _ensure_writer() -> None:
    global _writer
    if _writer is not None and _writer.is_alive():
        return
    with _touch_lock:
        if _writer is None or not _writer.is_alive():
            _writer = threading.Thread(target=_writer_loop, name="api-key-last-used", daemon=True)
            _writer.start()


def _flush_after_request(**kwargs) -> None:
    if _pending and not settings.MODELGATE_API_KEY_LAST_USED_ASYNC:
        flush_last_used()


request_finished.connect(_flush_after_request, dispatch_uid="accounts.keys.flush_last_used")
