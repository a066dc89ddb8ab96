"""Random well-formed keys must not each cost a database query: unknown prefixes are cached
(negatively, bounded) and an address whose lookups keep failing is throttled before the query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import keys
from accounts.auth_throttle import AuthThrottled
from accounts.key_format import generate_key

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
PREDICT = "/api/v1/models/churn/deployments/production/predict"


@pytest.fixture(autouse=True)
def _fresh_state(fresh_key_state):
    """Each test starts with no cached keys, no counted requests and an empty cache."""
    return fresh_key_state


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    from accounts import ratelimits

    monkeypatch.setattr(ratelimits, "clock", lambda: 1_800_000_000.0)


def _random_key() -> str:
    return generate_key()[0]  # well-formed, checksum right, names no stored key


def test_a_flood_of_random_keys_is_throttled_before_the_database(client, settings):
    """The reported weakness: each random well-formed key cost a query, with no throttle."""
    settings.MODELGATE_AUTH_FAILURES_PER_IP = "5/m"
    with CaptureQueriesContext(connection) as queries:
        statuses = [
            client.get(ME, HTTP_AUTHORIZATION=f"Bearer {_random_key()}", REMOTE_ADDR="10.6.6.6")
            for _ in range(40)
        ]
    codes = [r.status_code for r in statuses]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    assert statuses[-1].json()["code"] == "throttled" and int(statuses[-1]["Retry-After"]) >= 1
    key_lookups = [q for q in queries.captured_queries if "accounts_apikey" in q["sql"]]
    assert len(key_lookups) == 5
    # Another address is not affected.
    other = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {_random_key()}", REMOTE_ADDR="10.7.7.7")
    assert other.status_code == 401


def test_the_serving_path_throttles_the_same_way(client, settings):
    settings.MODELGATE_AUTH_FAILURES_PER_IP = "3/m"
    codes = [
        client.post(
            PREDICT,
            {"instances": [[0.1, 0.2, 0.3, 0.4]]},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {_random_key()}",
            REMOTE_ADDR="10.6.6.6",
        )
        for _ in range(6)
    ]
    assert [r.status_code for r in codes] == [401, 401, 401, 429, 429, 429]
    assert codes[-1].json()["code"] == "auth_throttled"


def test_a_throttled_address_still_uses_its_cached_valid_key(client, alice, issue_key, settings):
    settings.MODELGATE_AUTH_FAILURES_PER_IP = "2/m"
    settings.MODELGATE_API_KEY_CACHE_SECONDS = 3600
    _, raw = issue_key(alice, scopes=["read"])
    here = {"REMOTE_ADDR": "10.6.6.6"}
    assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}", **here).status_code == 200
    codes = [
        client.get(ME, HTTP_AUTHORIZATION=f"Bearer {_random_key()}", **here).status_code
        for _ in range(3)
    ]
    assert codes == [401, 401, 429]
    assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}", **here).status_code == 200


def test_an_unknown_prefix_costs_one_query_while_cached(client, settings):
    settings.MODELGATE_AUTH_FAILURES_PER_IP = ""
    settings.MODELGATE_API_KEY_CACHE_SECONDS = 3600
    raw = _random_key()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(10):
            assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert len([q for q in queries.captured_queries if "accounts_apikey" in q["sql"]]) == 1


def test_the_negative_cache_is_bounded_and_spares_real_keys(
    alice, issue_key, monkeypatch, settings
):
    settings.MODELGATE_API_KEY_CACHE_SECONDS = 3600  # nothing expires while the test runs
    monkeypatch.setattr(keys, "_MAX_UNKNOWN_PREFIXES", 50)
    _, raw = issue_key(alice, scopes=["read"])
    assert keys.authenticate_key(raw) is not None
    for _ in range(300):
        assert keys.authenticate_key(_random_key()) is None
    assert len(keys._unknown) == 50
    with CaptureQueriesContext(connection) as queries:
        assert keys.authenticate_key(raw) is not None  # still cached: the flood evicted nothing
    assert len(queries.captured_queries) == 0


def test_the_address_is_read_only_when_a_lookup_misses(alice, issue_key, settings):
    """The serving path passes the address as a function: a cached key never computes it, a
    miss computes it once and its failure counts against that address."""
    settings.MODELGATE_AUTH_FAILURES_PER_IP = "1/m"
    _, raw = issue_key(alice, scopes=["read"])
    asked = []

    def address():
        asked.append(1)
        return "10.8.8.8"

    assert keys.authenticate_key(raw, ip=address) is not None  # a miss: loaded, address read
    assert len(asked) == 1
    assert keys.authenticate_key(raw, ip=address) is not None  # cached: address not read
    assert len(asked) == 1
    assert keys.authenticate_key(_random_key(), ip=address) is None  # a miss that fails
    assert len(asked) == 2
    with pytest.raises(AuthThrottled):  # that failure spent 10.8.8.8's budget
        keys.authenticate_key(_random_key(), ip=address)


@pytest.mark.parametrize("method,path", [("get", "/v1/models"), ("get", "/v2/models/stats")])
def test_a_throttled_address_gets_429_on_the_listings_too(client, settings, method, path):
    """Listings have no model to scope to, but the same throttle: a 429, never a 500."""
    settings.MODELGATE_AUTH_FAILURES_PER_IP = "2/m"
    codes = [
        getattr(client, method)(
            path, HTTP_AUTHORIZATION=f"Bearer {_random_key()}", REMOTE_ADDR="10.6.6.6"
        )
        for _ in range(4)
    ]
    assert [r.status_code for r in codes] == [401, 401, 429, 429]
    assert codes[-1].json()["error"] == "too many failed API-key attempts from this address"
