"""The key format: a checksum rejects a mistyped key before any database work."""

from __future__ import annotations

import re

import pytest

from accounts.key_format import generate_key, hash_secret, parse_key
from accounts.keys import authenticate_key, key_from_environ, key_from_headers


def test_it_generates_keys_in_the_documented_format():
    raw, prefix, hashed = generate_key()
    assert re.fullmatch(r"mg_live_[a-z2-7]{12}_[A-Za-z0-9_-]{32}[0-9A-Za-z]{6}", raw)
    assert raw.startswith(f"mg_live_{prefix}_")
    parsed = parse_key(raw)
    assert parsed.prefix == prefix
    assert hash_secret(parsed.secret) == hashed
    assert hashed not in raw and len(hashed) == 64


def test_it_generates_distinct_keys():
    assert len({generate_key()[0] for _ in range(200)}) == 200


def _mistype(raw: str, index: int) -> str:
    char = raw[index]
    replacement = "A" if char != "A" else "B"
    return raw[:index] + replacement + raw[index + 1 :]


@pytest.mark.parametrize("position", [8, 15, 25, 40, -3])
def test_it_rejects_a_single_mistyped_character_by_checksum(position):
    raw, _, _ = generate_key()
    assert parse_key(_mistype(raw, position)) is None


@pytest.mark.parametrize(
    "raw",
    ["", "mg_live_", "not-a-key", "Bearer x", "mg_live_abc_def", "x" * 500, None],
)
def test_it_rejects_malformed_keys(raw):
    assert parse_key(raw) is None


@pytest.mark.django_db
def test_it_rejects_a_bad_checksum_without_touching_the_database(django_assert_num_queries):
    raw, _, _ = generate_key()
    with django_assert_num_queries(0):
        assert authenticate_key(_mistype(raw, -1)) is None
        assert authenticate_key("mg_live_garbage") is None


def test_it_reads_the_key_from_a_bearer_header_or_x_api_key():
    assert key_from_headers("Bearer mg_live_x", None) == "mg_live_x"
    assert key_from_headers("bearer   mg_live_x  ", None) == "mg_live_x"
    assert key_from_headers(None, " mg_live_y ") == "mg_live_y"
    assert key_from_headers("Bearer mg_live_x", "mg_live_y") == "mg_live_x"
    assert key_from_headers("Basic dXNlcjpwYXNz", "mg_live_y") == "mg_live_y"
    assert key_from_headers("Basic dXNlcjpwYXNz", None) is None
    assert key_from_headers("Bearer ", None) is None
    assert key_from_headers(None, None) is None


def test_it_reads_the_key_from_a_wsgi_environ():
    assert key_from_environ({"HTTP_AUTHORIZATION": "Bearer k1"}) == "k1"
    assert key_from_environ({"HTTP_X_API_KEY": "k2"}) == "k2"
    assert key_from_environ({}) is None
