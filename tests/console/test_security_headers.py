"""Security headers, the CSP's promise (no inline script in any template), cookies, sessions,
CSRF on console forms and password validators."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(django_settings.BASE_DIR) / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"(href|src|action)\s*=\s*[\"']\s*javascript:", re.I)


@pytest.fixture(autouse=True)
def _fresh_state(fresh_key_state):
    """Each test starts with no cached keys, no counted requests and an empty cache."""
    return fresh_key_state


def test_every_response_carries_the_security_headers(client, alice):
    client.force_login(alice)
    for url in (reverse("accounts:key-list"), "/api/v1/me", reverse("login")):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]+)", csp).group(1)
        assert "'self'" in script_src and "unsafe-inline" not in script_src, url
        assert "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"


def test_hsts_is_sent_over_https_only(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    assert "Strict-Transport-Security" not in client.get(reverse("login"))
    secure = client.get(reverse("login"), secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(TEMPLATES) for p in TEMPLATES.rglob("*.html"))
)
def test_no_template_has_inline_script_or_event_handlers(path):
    text = (TEMPLATES / path).read_text()
    assert not INLINE_SCRIPT.search(text), f"{path}: inline <script> (CSP forbids it)"
    assert not INLINE_HANDLER.search(text), f"{path}: inline on*= handler (CSP forbids it)"
    assert not JS_URL.search(text), f"{path}: javascript: URL"


def test_production_settings_make_cookies_secure_and_hsts_on(monkeypatch):
    import importlib

    import console.settings as prod

    for name, value in {
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "example.com",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SECURE_COOKIES", raising=False)
    monkeypatch.delenv("SECURE_HSTS_SECONDS", raising=False)
    try:
        module = importlib.reload(prod)
        assert module.SESSION_COOKIE_SECURE and module.CSRF_COOKIE_SECURE
        assert module.SESSION_COOKIE_HTTPONLY and module.CSRF_COOKIE_HTTPONLY
        assert module.SECURE_HSTS_SECONDS >= 31536000 and module.SECURE_HSTS_INCLUDE_SUBDOMAINS
        assert module.X_FRAME_OPTIONS == "DENY" and module.SECURE_CONTENT_TYPE_NOSNIFF
    finally:
        monkeypatch.undo()
        importlib.reload(prod)


def test_the_session_cookie_is_httponly_and_expires(client, alice, settings):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "correct horse battery"}
    )
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600


def test_an_expired_session_must_log_in_again(client, alice):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.force_login(alice)
    assert client.get(reverse("accounts:key-list")).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("accounts:key-list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


CONSOLE_FORMS = [
    ("accounts:key-list", (), {"name": "k", "scopes": ["read"]}),
    ("accounts:key-revoke", ("KEY",), {}),
    ("accounts:key-rotate", ("KEY",), {"overlap_hours": "1"}),
    ("accounts:key-detail", ("KEY",), {"name": "k"}),
    ("accounts:role-limits", (), {"role": "viewer", "max_rate": "1/m"}),
    ("accounts:logout", (), {}),
    ("registry:version-upload", (), {}),
    ("serving:deployment-rollback", ("churn", "production"), {}),
    ("serving:deployment-configure", ("churn", "production"), {}),
    ("serving:version-deploy", ("churn", 1), {}),
]


@pytest.mark.parametrize(("name", "args", "data"), CONSOLE_FORMS)
def test_console_forms_refuse_a_post_without_the_csrf_token(charlie, name, args, data):
    from accounts.services import api_key_create

    key, _ = api_key_create(user=charlie, name="k", scopes=["read"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(charlie)
    url = reverse(name, args=[key.pk if a == "KEY" else a for a in args])
    response = client.post(url, data)
    assert response.status_code == 403 and b"CSRF" in response.content
    key.refresh_from_db()
    assert key.revoked_at is None and key.rotated_at is None


def test_every_console_form_template_carries_the_csrf_token():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for form in re.finditer(r"<form\b[^>]*>", text, re.I):
            if re.search(r'method="post"', form.group(0), re.I):
                rest = text[form.end() : form.end() + 400]
                has_token = "{% csrf_token %}" in rest or 'name="csrfmiddlewaretoken"' in rest
                assert has_token, f"{path.name}: POST form without the CSRF token"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "too short"),
        ("password1234", "too common"),
        ("83749283749283", "entirely numeric"),
        ("dianadianadiana", "too similar"),
    ],
)
def test_password_validators_refuse_weak_passwords(password, message):
    from django.contrib.auth.models import User

    with pytest.raises(ValidationError) as exc:
        validate_password(password, user=User(username="dianadianadiana"))
    assert message in " ".join(exc.value.messages)


def test_user_create_refuses_a_short_password():
    from accounts.services import user_create
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="at least 12 characters"):
        user_create(username="dora", password="tr0ub4dor&3")
