"""A raw API key never reaches logs, the audit trail, error pages or API reads."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_state(fresh_key_state):
    """Each test starts with no cached keys, no counted requests and an empty cache."""
    return fresh_key_state


def test_create_rotate_and_use_leave_no_secret_behind(client, alice, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(alice)
    created = client.post(
        "/api/v1/keys",
        {"name": "k", "scopes": ["read", "predict"]},
        content_type="application/json",
    ).json()
    raw = created["key"]
    secret = raw.split("_")[-1]
    rotated = client.post(
        f"/api/v1/keys/{created['id']}/rotate",
        {"overlap_hours": 1},
        content_type="application/json",
    ).json()
    new_raw = rotated["key"]
    # The last character changed (it is the checksum's; one key in 62 already ends in "x").
    tampered = raw[:-1] + ("y" if raw.endswith("x") else "x")
    client.logout()
    reads = [
        client.get("/api/v1/keys", HTTP_AUTHORIZATION=f"Bearer {raw}"),
        client.get(f"/api/v1/keys/{created['id']}", HTTP_X_API_KEY=new_raw),
        client.get("/api/v1/audit", HTTP_AUTHORIZATION=f"Bearer {new_raw}"),
        client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {tampered}"),  # 401, logged
        client.post(
            "/api/v1/models/churn/deployments/production/predict",
            {"instances": [[1, 2, 3, 4]]},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {new_raw}",
        ),
    ]
    assert [r.status_code for r in reads[:4]] == [200, 200, 200, 401]
    for needle in (raw, new_raw, secret, new_raw.split("_")[-1]):
        assert needle not in caplog.text
        for response in reads:
            assert needle not in response.content.decode()
        audit = json.dumps(
            list(AuditEntry.objects.values("target", "before", "after")), default=str
        )
        assert needle not in audit
    assert {e.action for e in AuditEntry.objects.all()} >= {"api_key.create", "api_key.rotate"}


def _fail(request):
    raise RuntimeError("boom")


def test_error_pages_hide_the_authorization_header(alice, issue_key, settings):
    settings.DEBUG = True
    request = RequestFactory().get("/api/v1/me")
    request.META["HTTP_AUTHORIZATION"] = "Bearer " + issue_key(alice)[1]
    request.META["HTTP_X_API_KEY"] = request.META["HTTP_AUTHORIZATION"][7:]
    try:
        _fail(request)
    except RuntimeError as exc:
        html = ExceptionReporter(request, type(exc), exc, exc.__traceback__).get_traceback_html()
    assert "boom" in html and "HTTP_AUTHORIZATION" in html
    assert request.META["HTTP_X_API_KEY"] not in html
