"""Login limited per IP and per username; oversized and malformed bodies get 413/400 JSON."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _login(client, username, password="wrong password here", ip="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_login_is_limited_per_username_across_ips(client, alice, settings):
    settings.MODELGATE_LOGIN_RATE_PER_USER = "3/m"
    settings.MODELGATE_LOGIN_RATE_PER_IP = "100/m"
    statuses = [_login(client, "Alice", ip=f"10.0.0.{i}").status_code for i in range(3)]
    assert statuses == [200, 200, 200]
    # The right password is not even checked while the limit holds.
    limited = _login(client, "alice", password="correct horse battery", ip="10.9.9.9")
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    assert b"Too many login attempts" in limited.content
    assert "_auth_user_id" not in client.session
    assert _login(client, "bob", ip="10.9.9.9").status_code == 200


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

    from accounts.errors import PayloadTooLarge
    from accounts.parsers import StrictJSONParser

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


def test_an_oversized_predict_body_is_a_413(client, alice, settings, make_key):
    settings.MODELGATE_MAX_PREDICT_BODY_BYTES = 100
    _, raw = make_key(alice, scopes=["predict"])
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
    from accounts.errors import InvalidInput
    from serving.protocols import jsonio

    with pytest.raises(InvalidInput) as exc:
        jsonio.loads(body)
    assert exc.value.status == 400 and "Traceback" not in exc.value.message
