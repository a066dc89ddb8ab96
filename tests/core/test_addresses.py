"""X-Forwarded-For is read from the right, as many hops as our own proxies add: a client cannot
choose its own address for /metrics, login limits or the audit log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.addresses import client_ip

pytestmark = pytest.mark.django_db

FORGED = "127.0.0.1, 203.0.113.9"  # the client wrote 127.0.0.1; our proxy appended its address


@pytest.fixture(autouse=True)
def _fresh_state(fresh_key_state):
    """Each test starts with no cached keys, no counted requests and an empty cache."""
    return fresh_key_state


@pytest.mark.parametrize(
    ("hops", "proxies", "remote", "forwarded", "expected"),
    [
        (0, "", "10.0.0.5", FORGED, "10.0.0.5"),  # no proxy configured: the header is ignored
        (1, "", "10.0.0.5", FORGED, "203.0.113.9"),
        (2, "", "10.0.0.5", "1.1.1.1, 203.0.113.9, 10.0.0.9", "203.0.113.9"),
        (2, "", "10.0.0.5", "203.0.113.9", "203.0.113.9"),  # the outer proxy was skipped
        (1, "", "10.0.0.5", "", "10.0.0.5"),
        (1, "", "10.0.0.5", "garbage", None),
        (0, "10.0.0.0/8", "10.0.0.5", "127.0.0.1, 203.0.113.9, 10.0.0.9", "203.0.113.9"),
        (0, "10.0.0.0/8", "198.51.100.7", FORGED, "198.51.100.7"),  # not our proxy: ignored
        (1, "10.0.0.0/8", "10.0.0.5", "127.0.0.1, 203.0.113.9, 10.0.0.9", "10.0.0.9"),
        (0, "", "[2001:db8::1]", "", "2001:db8::1"),
        (0, "", "not-an-ip", "", None),
    ],
)
def test_it_takes_the_address_from_the_right(settings, hops, proxies, remote, forwarded, expected):
    settings.MODELGATE_TRUSTED_PROXY_HOPS = hops
    settings.MODELGATE_TRUSTED_PROXIES = proxies
    environ = {"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_ip(environ) == expected


def test_a_forged_loopback_does_not_open_metrics(client, settings):
    """The reported attack: `X-Forwarded-For: 127.0.0.1, <real>` from a remote client."""
    settings.MODELGATE_TRUSTED_PROXY_HOPS = 1
    settings.MODELGATE_METRICS_ALLOW_IPS = "127.0.0.1/32"
    forged = client.get("/metrics", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=FORGED)
    assert forged.status_code == 403
    local = client.get("/metrics", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert local.status_code == 200  # what our proxy says it saw is believed


def test_a_rotating_forged_address_does_not_escape_the_login_limit(client, settings, monkeypatch):
    from accounts import ratelimits

    monkeypatch.setattr(ratelimits, "clock", lambda: 1_800_000_000.0)  # windows stand still
    settings.MODELGATE_TRUSTED_PROXY_HOPS = 1
    settings.MODELGATE_LOGIN_RATE_PER_IP = "4/m"
    statuses = [
        client.post(
            reverse("login"),
            {"username": f"user{i}", "password": "wrong password here"},
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}, 203.0.113.9",
        ).status_code
        for i in range(6)
    ]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_the_audit_log_records_the_real_address(client, alice, settings):
    from core.models import AuditEntry

    settings.MODELGATE_TRUSTED_PROXY_HOPS = 1
    client.force_login(alice)
    response = client.post(
        "/api/v1/keys",
        {"name": "k", "scopes": ["read"]},
        content_type="application/json",
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.9",
    )
    assert response.status_code == 201
    assert AuditEntry.objects.get(action="api_key.create").ip == "203.0.113.9"


def test_the_serving_access_log_records_the_real_address(settings, caplog):
    import logging

    from serving.wsgi_front import ServingFront

    settings.MODELGATE_TRUSTED_PROXY_HOPS = 1
    settings.MODELGATE_POOL_AUTOSTART = False

    def django_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    front = ServingFront(django_app)
    front.access_log = True
    caplog.set_level(logging.INFO, logger="modelgate.access")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/healthz",
        "REMOTE_ADDR": "10.0.0.5",
        "HTTP_X_FORWARDED_FOR": FORGED,
    }
    front(environ, lambda status, headers, exc_info=None: None)
    assert [r.remote_addr for r in caplog.records] == ["203.0.113.9"]
