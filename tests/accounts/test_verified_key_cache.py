"""The verified-token cache: a key already checked in full in this process is recognised by the
digest of the whole token, without parsing or hashing it again, and never outlives that check."""

from __future__ import annotations

import hashlib
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import key_format, keys
from accounts.keys import authenticate_key, authenticate_key_with_user, clear_key_cache
from accounts.models import ApiKey
from accounts.services import api_key_revoke, api_key_rotate, user_set_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def parsed(monkeypatch):
    """The raw keys authentication parsed, in order (the real parser still answers)."""
    calls = []

    def spy(raw):
        calls.append(raw)
        return key_format.parse_key(raw)

    monkeypatch.setattr(keys, "parse_key", spy)
    return calls


def _forbid_parsing(monkeypatch):
    def refuse(*args):
        raise AssertionError("the key was parsed or hashed again")

    for module in (keys, key_format):  # where keys.py reads them, and at the source
        monkeypatch.setattr(module, "parse_key", refuse)
        monkeypatch.setattr(module, "hash_secret", refuse)


def _forged(raw: str) -> str:
    """A well-formed key with the same prefix and another secret (valid checksum)."""
    other = key_format.parse_key(key_format.generate_key()[0]).secret
    body = f"mg_live_{key_format.parse_key(raw).prefix}_{other}"
    return body + key_format._checksum(body)


def test_it_authenticates_a_verified_key_without_parsing_or_hashing_it(
    alice, make_key, monkeypatch, django_assert_num_queries
):
    _, raw = make_key(alice, ["predict"])
    first = authenticate_key(raw)
    _forbid_parsing(monkeypatch)
    with django_assert_num_queries(0):
        assert authenticate_key(raw) == first
        user, principal = authenticate_key_with_user(raw)
    assert principal == first and user.pk == alice.pk


def test_a_verified_hit_never_enters_the_key_format_module(alice, make_key):
    _, raw = make_key(alice)
    authenticate_key(raw)
    entered = set()

    def profile(frame, event, arg):
        if event == "call":
            entered.add(frame.f_code.co_filename)

    sys.setprofile(profile)
    try:
        principal = authenticate_key(raw)
    finally:
        sys.setprofile(None)
    assert principal is not None
    assert keys.__file__ in entered  # the profile saw the call
    assert key_format.__file__ not in entered


def test_it_records_only_successes_and_never_the_raw_key(alice, make_key, parsed):
    _, raw = make_key(alice)
    for bad in (_forged(raw), "mg_live_garbage", key_format.generate_key()[0], None, ""):
        assert authenticate_key(bad) is None
    assert keys._verified == {}
    assert authenticate_key(raw) is not None
    assert list(keys._verified) == [hashlib.sha256(raw.encode()).digest()]


def test_a_wrong_secret_for_a_verified_key_still_takes_the_full_check(alice, make_key, parsed):
    _, raw = make_key(alice)
    forged = _forged(raw)
    assert authenticate_key(raw) is not None
    assert authenticate_key(forged) is None
    assert authenticate_key(forged) is None
    assert parsed == [raw, forged, forged]


def test_a_key_revoked_in_this_process_is_refused_after_a_verified_hit(
    alice, make_key, parsed, django_capture_on_commit_callbacks
):
    key, raw = make_key(alice)
    assert authenticate_key(raw) is not None
    assert authenticate_key(raw) is not None
    assert parsed == [raw], "the second was a verified hit"
    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(key=key, actor=alice)
    assert authenticate_key(raw) is None


def test_a_key_revoked_elsewhere_is_refused_once_its_entry_is_reloaded(settings, alice, make_key):
    key, raw = make_key(alice)
    assert authenticate_key(raw) is not None
    # Another replica revoked it: this process only learns through the database.
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert authenticate_key(raw) is not None, "within the TTL, as without the verified cache"
    settings.MODELGATE_API_KEY_CACHE_SECONDS = 0  # every entry is past its TTL: reloaded
    assert authenticate_key(raw) is None
    # With a long TTL the entry the token was verified against would still be fresh; it is not
    # the cached one any more (the reload replaced it), so the token is checked again.
    settings.MODELGATE_API_KEY_CACHE_SECONDS = 600
    assert authenticate_key(raw) is None


def test_a_role_change_reaches_a_verified_key(
    alice, charlie, make_key, django_capture_on_commit_callbacks
):
    _, raw = make_key(alice, ["read", "deploy"])
    assert authenticate_key(raw).role == "deployer"
    assert authenticate_key(raw).role == "deployer"
    with django_capture_on_commit_callbacks(execute=True):
        user_set_role(user=alice, role="viewer", actor=charlie)
    assert authenticate_key(raw).role == "viewer"


def test_a_rotated_out_secret_stops_after_its_grace_even_once_verified(
    alice, make_key, clock, parsed
):
    key, old = make_key(alice)
    key, new = api_key_rotate(key=key, actor=alice, overlap_hours=1)
    assert authenticate_key(old) is not None and authenticate_key(new) is not None
    clock.move_to(key.previous_valid_until - timedelta(seconds=1))
    assert authenticate_key(old) is not None and authenticate_key(new) is not None
    assert parsed == [old, new], "both were verified hits inside the grace"
    clock.move_to(key.previous_valid_until + timedelta(seconds=1))
    assert authenticate_key(old) is None
    assert authenticate_key(new) is not None
    assert parsed == [old, new, old], "the new secret is still a verified hit"


def test_clear_key_cache_forgets_verified_tokens(
    alice, make_key, parsed, django_assert_num_queries
):
    _, raw = make_key(alice)
    assert authenticate_key(raw) is not None
    assert len(keys._verified) == 1
    clear_key_cache()
    assert keys._verified == {}
    with django_assert_num_queries(1):
        assert authenticate_key(raw) is not None
    assert parsed == [raw, raw]


def test_the_verified_tokens_are_bounded(alice, make_key, monkeypatch):
    monkeypatch.setattr(keys, "_MAX_CACHED_PREFIXES", 2)
    raws = [make_key(alice, name=f"k{i}")[1] for i in range(3)]
    for raw in raws + raws:
        assert authenticate_key(raw) is not None
        assert len(keys._verified) <= 2
