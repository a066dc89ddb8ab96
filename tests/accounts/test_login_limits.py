"""Login limited per address, per username+address and (softer) per username, on a controlled
clock; oversized and malformed bodies get 413/400 JSON."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


class Clock:
    """A controlled clock for the limiters: still unless moved."""

    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _fresh_state(fresh_key_state):
    """Each test starts with no cached keys, no counted requests and an empty cache."""
    return fresh_key_state


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    from accounts import ratelimits

    controlled = Clock()
    monkeypatch.setattr(ratelimits, "clock", controlled)
    return controlled


def _login(client, username, password="wrong password here", ip="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_it_locks_out_a_username_from_one_address(client, alice, settings):
    settings.MODELGATE_LOGIN_RATE_PER_USER_IP = "5/m"
    statuses = [_login(client, "Alice", ip="10.0.0.1").status_code for i in range(5)]
    assert statuses == [200] * 5
    # The right password is not even checked while the lockout holds.
    limited = _login(client, "alice", password="correct horse battery", ip="10.0.0.1")
    assert limited.status_code == 429 and 1 <= int(limited["Retry-After"]) <= 66
    assert b"Too many login attempts" in limited.content
    assert "_auth_user_id" not in client.session
    # Another address is not locked out, nor is another user from this one.
    assert _login(client, "bob", ip="10.0.0.1").status_code == 200
    assert (
        _login(client, "alice", password="correct horse battery", ip="10.0.0.2").status_code == 302
    )


def test_the_lockout_lifts_when_its_window_has_slid_past(client, alice, settings, clock):
    settings.MODELGATE_LOGIN_RATE_PER_USER_IP = "3/m"
    assert [_login(client, "alice").status_code for _ in range(4)] == [200, 200, 200, 429]
    wait = int(_login(client, "alice")["Retry-After"])
    clock.now += wait - 1
    assert _login(client, "alice").status_code == 429
    clock.now += 1
    assert _login(client, "alice").status_code == 200


@pytest.mark.parametrize("offset", [0.0, 5.999, 59.999])
def test_a_burst_straddling_a_boundary_gets_no_more_than_the_limit(client, settings, clock, offset):
    """Fixed windows let a guesser make 2x the limit across a boundary."""
    settings.MODELGATE_LOGIN_RATE_PER_USER_IP = "4/m"
    clock.now += offset
    before = [_login(client, "alice").status_code for _ in range(6)]
    clock.now += 0.002
    after = [_login(client, "alice").status_code for _ in range(6)]
    assert (before + after).count(200) == 4


def test_many_addresses_meet_the_softer_per_username_limit(client, alice, settings):
    settings.MODELGATE_LOGIN_RATE_PER_USER = "3/m"
    statuses = [_login(client, "alice", ip=f"10.0.0.{i}").status_code for i in range(3)]
    assert statuses == [200, 200, 200]
    assert _login(client, "alice", ip="10.9.9.9").status_code == 429
    assert _login(client, "bob", ip="10.9.9.9").status_code == 200


def test_an_attacker_cannot_lock_the_owner_out_of_a_known_browser(alice, settings):
    """The reported weakness: five bad passwords a minute locked out any named user."""
    from django.test import Client

    settings.MODELGATE_LOGIN_RATE_PER_USER = "3/m"
    owner = Client()
    assert (
        _login(owner, "alice", password="correct horse battery", ip="192.0.2.1").status_code == 302
    )
    owner.post(reverse("accounts:logout"))
    attacker = Client()
    for i in range(10):
        _login(attacker, "alice", ip=f"198.51.100.{i}")
    assert _login(attacker, "alice", ip="198.51.100.99").status_code == 429
    # The owner's browser carries the device cookie of its earlier login: not locked out.
    back = _login(owner, "alice", password="correct horse battery", ip="192.0.2.1")
    assert back.status_code == 302 and owner.session["_auth_user_id"] == str(alice.pk)
    # A forged device cookie does not help the attacker.
    attacker.cookies["mg_login_device"] = owner.cookies["mg_login_device"].value + "x"
    assert _login(attacker, "alice", ip="198.51.100.100").status_code == 429


def test_a_successful_login_does_not_spend_the_username_budget(client, alice, settings):
    settings.MODELGATE_LOGIN_RATE_PER_USER_IP = "2/m"
    settings.MODELGATE_LOGIN_RATE_PER_USER = "2/m"
    for _ in range(5):
        response = _login(client, "alice", password="correct horse battery")
        assert response.status_code == 302
        client.post(reverse("accounts:logout"))
        client.cookies.pop("mg_login_device", None)


def test_login_is_limited_per_ip_across_usernames(client, settings):
    settings.MODELGATE_LOGIN_RATE_PER_USER = "100/m"
    settings.MODELGATE_LOGIN_RATE_PER_IP = "4/m"
    statuses = [_login(client, f"user{i}", ip="10.1.1.1").status_code for i in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert _login(client, "user9", ip="10.1.1.2").status_code == 200


def test_an_oversized_api_body_is_a_413_before_it_is_read(client, charlie, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(charlie)
    body = json.dumps({"name": "x" * 2000, "scopes": ["read"]})
    response = client.post("/api/v1/keys", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "error": "Request body exceeds the limit of 1000 bytes.",
        "code": "too_large",
    }


def test_the_json_parser_reads_no_more_than_the_limit(settings):
    """Whatever Content-Length claims, the parser reads at most the limit plus one byte."""
    import io

    from core.errors import PayloadTooLarge
    from core.parsers import StrictJSONParser

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    stream = io.BytesIO(b'{"name": "' + b"x" * 500 + b'"}')
    with pytest.raises(PayloadTooLarge, match="exceeds the limit of 100 bytes"):
        StrictJSONParser().parse(stream)
    assert stream.tell() == 101


def test_an_oversized_console_form_is_a_413(client, charlie, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 500
    client.force_login(charlie)
    response = client.post(reverse("accounts:key-list"), {"name": "x" * 1000, "scopes": "read"})
    assert response.status_code == 413 and b"Request too large" in response.content


def test_an_oversized_predict_body_is_a_413(client, alice, settings, issue_key):
    settings.MODELGATE_MAX_PREDICT_BODY_BYTES = 100
    _, raw = issue_key(alice, scopes=["predict"])
    response = client.post(
        "/api/v1/models/churn/deployments/production/predict",
        json.dumps({"instances": [[0.0] * 50]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 413 and response.json()["code"] == "too_large"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b'{"name": "k", "scopes": [', "application/json", 400, "JSON parse error"),
        (b'{"name": "k", "scopes": ["read"], "x": 1e999}', "application/json", 400, "infinity"),
        (b'{"name": "k", "scopes": ["read"], "x": NaN}', "application/json", 400, "JSON parse"),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400, "depth"),
        (b"\xff\xfe garbage", "application/json", 400, "JSON parse error"),
        (b"name=k", "text/plain", 415, "Unsupported media type"),
        (b'{"name": "k", "scopes": "read"}', "application/json", 400, "scopes"),
    ],
)
def test_malformed_bodies_get_a_clean_4xx(client, charlie, body, content_type, status, fragment):
    client.force_login(charlie)
    response = client.post("/api/v1/keys", body, content_type=content_type)
    assert response.status_code == status
    payload = response.json()
    assert fragment.lower() in payload["error"].lower() and "Traceback" not in payload["error"]


def test_a_huge_number_in_a_limit_field_is_a_400(client, charlie):
    client.force_login(charlie)
    response = client.post(
        "/api/v1/keys/1/rotate",
        b'{"overlap_hours": 1e308}',
        content_type="application/json",
    )
    assert response.status_code in (400, 404)
    huge = client.post(
        "/api/v1/keys",
        json.dumps({"name": "k", "scopes": ["read"], "rate_limit": "9" * 11 + "/s"}),
        content_type="application/json",
    )
    assert huge.status_code == 400 and "is not a rate" in huge.json()["error"]


@pytest.mark.parametrize(
    "body",
    [b'{"instances": ' + b"[" * 5000 + b"]" * 5000 + b"}", b'{"instances": [[1e999]]}', b"{"],
)
def test_the_predict_parser_refuses_nesting_and_garbage_with_a_400(body):
    from core.errors import InvalidInput
    from serving.protocols import jsonio

    with pytest.raises(InvalidInput) as exc:
        jsonio.loads(body)
    assert exc.value.status == 400 and "Traceback" not in exc.value.message
