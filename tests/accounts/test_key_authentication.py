"""authenticate_key: hashing, the in-process cache, revocation, expiry and last-used stamps."""

from __future__ import annotations

import hmac
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from accounts import key_format, keys
from accounts.key_format import hash_secret, parse_key
from accounts.keys import authenticate_key, flush_last_used
from accounts.models import ApiKey
from accounts.services import api_key_revoke, user_set_role

pytestmark = pytest.mark.django_db


def test_it_never_stores_the_raw_key_or_secret(alice, make_key):
    key, raw = make_key(alice, ["read"])
    secret = parse_key(raw).secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apikey WHERE id = %s", [key.pk])
        row = cursor.fetchone()
        cursor.execute("SELECT before, after, target FROM accounts_auditentry")
        audit_rows = cursor.fetchall()
    stored = " ".join(str(value) for value in row)
    assert raw not in stored and secret not in stored
    assert hash_secret(secret) in stored
    audit_text = " ".join(str(value) for r in audit_rows for value in r)
    assert audit_rows and raw not in audit_text and secret not in audit_text
    assert key.hashed_secret not in audit_text


def test_it_returns_the_principal_of_a_valid_key(alice, make_key):
    key, raw = make_key(alice, ["read", "predict:fraud"])
    principal = authenticate_key(raw)
    assert principal.key_id == key.pk
    assert principal.prefix == key.prefix
    assert (principal.user_id, principal.username, principal.role) == (
        alice.pk,
        "alice",
        "deployer",
    )
    assert principal.scopes == frozenset({"read", "predict:fraud"})


def test_it_rejects_a_wrong_secret_with_a_valid_checksum(alice, make_key):
    key, raw = make_key(alice)
    other_raw, _, _ = key_format.generate_key()
    secret = parse_key(other_raw).secret
    body = f"mg_live_{key.prefix}_{secret}"
    forged = body + key_format._checksum(body)
    assert parse_key(forged) is not None
    assert authenticate_key(forged) is None


def test_it_compares_hashes_in_constant_time_for_known_and_unknown_prefixes(alice, make_key):
    _, raw = make_key(alice)
    unknown, _, _ = key_format.generate_key()
    with mock.patch("accounts.keys.hmac.compare_digest", wraps=hmac.compare_digest) as compare:
        assert authenticate_key(raw) is not None
        assert authenticate_key(unknown) is None
    # checksum + current and previous (rotation) hash compares for each: the unknown prefix
    # does the same work as a known one.
    assert compare.call_count == 6


def test_it_serves_a_cache_hit_without_any_query(alice, make_key, django_assert_num_queries):
    _, raw = make_key(alice)
    with django_assert_num_queries(1):
        first = authenticate_key(raw)
    with django_assert_num_queries(0):
        for _ in range(20):
            assert authenticate_key(raw) == first


def test_it_caches_unknown_prefixes_too(db, django_assert_num_queries):
    unknown, _, _ = key_format.generate_key()
    with django_assert_num_queries(1):
        assert authenticate_key(unknown) is None
        assert authenticate_key(unknown) is None


def test_a_revoked_key_stops_working_once_the_ttl_passes(settings, alice, make_key):
    settings.MODELGATE_API_KEY_CACHE_SECONDS = 0.2
    key, raw = make_key(alice)
    assert authenticate_key(raw) is not None
    # Another replica revoked it: this process only learns through the database.
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert authenticate_key(raw) is not None, "still cached within the TTL"
    time.sleep(0.25)
    assert authenticate_key(raw) is None


def test_revoking_in_this_process_takes_effect_at_once(
    alice, make_key, django_capture_on_commit_callbacks
):
    key, raw = make_key(alice)
    assert authenticate_key(raw) is not None
    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(key=key, actor=alice)
    assert authenticate_key(raw) is None


def test_it_rejects_an_expired_key_even_from_the_cache(alice, make_key, clock):
    key, raw = make_key(alice, expires_at=timezone.now() + timedelta(seconds=60))
    assert authenticate_key(raw) is not None
    clock.shift(59)
    assert authenticate_key(raw) is not None
    clock.move_to(key.expires_at)  # cached a second ago, expired now
    assert authenticate_key(raw) is None
    keys.clear_key_cache()
    assert authenticate_key(raw) is None


def test_it_rejects_the_key_of_a_deactivated_user(alice, make_key):
    _, raw = make_key(alice)
    alice.is_active = False
    alice.save()
    assert authenticate_key(raw) is None


def test_a_role_change_reaches_the_principal(
    alice, charlie, make_key, django_capture_on_commit_callbacks
):
    _, raw = make_key(alice, ["read", "deploy"])
    assert authenticate_key(raw).role == "deployer"
    with django_capture_on_commit_callbacks(execute=True):
        user_set_role(user=alice, role="viewer", actor=charlie)
    assert authenticate_key(raw).role == "viewer"


def test_it_writes_last_used_at_most_once_a_minute(alice, make_key, django_assert_num_queries):
    key, raw = make_key(alice)
    authenticate_key(raw)
    assert keys.pending_last_used().keys() == {key.pk}
    assert flush_last_used() == 1
    key.refresh_from_db()
    first_use = key.last_used_at
    assert first_use is not None

    for _ in range(50):
        authenticate_key(raw)
    assert keys.pending_last_used() == {}
    with django_assert_num_queries(0):
        assert flush_last_used() == 0

    later = time.monotonic() + keys.LAST_USED_INTERVAL_SECONDS + 1
    with mock.patch("accounts.keys.time.monotonic", return_value=later):
        authenticate_key(raw)
    assert flush_last_used() == 1
    key.refresh_from_db()
    assert key.last_used_at > first_use


def test_the_caller_never_writes_last_used_itself(
    settings, alice, make_key, django_assert_num_queries
):
    settings.MODELGATE_API_KEY_LAST_USED_ASYNC = True
    _, raw = make_key(alice)
    authenticate_key(raw)  # warm the cache
    keys._last_touch.clear()
    with mock.patch("accounts.keys.flush_last_used") as flush:
        with django_assert_num_queries(0):
            assert authenticate_key(raw) is not None
        # The background writer does it; give it a moment to wake.
        deadline = time.monotonic() + 2
        while not flush.called and time.monotonic() < deadline:
            time.sleep(0.01)
    assert flush.called
    assert keys._writer is not None and keys._writer.name == "api-key-last-used"


def test_the_cache_is_safe_across_threads(alice, make_key):
    from concurrent.futures import ThreadPoolExecutor

    key, raw = make_key(alice)
    authenticate_key(raw)  # warm: the threads below must be served from the cache alone

    def hammer(_):
        return all(authenticate_key(raw).key_id == key.pk for _ in range(200))

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(hammer, range(8)))
