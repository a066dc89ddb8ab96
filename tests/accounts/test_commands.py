"""Management commands: create_api_key and ensure_admin."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.keys import authenticate_key
from accounts.models import ApiKey
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _run(*args, **kwargs) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_create_api_key_prints_only_the_key(alice):
    output = _run("create_api_key", "--user", "alice", "--scopes", "predict,read", "--name", "ci")
    raw = output.strip()
    assert output == raw + "\n" and raw.startswith("mg_live_")
    principal = authenticate_key(raw)
    assert principal.username == "alice" and principal.scopes == {"predict", "read"}
    assert ApiKey.objects.get().name == "ci"
    assert AuditEntry.objects.get(action="api_key.create").actor_label == "system"


def test_create_api_key_sets_an_expiry(alice):
    _run("create_api_key", "--user", "alice", "--scopes", "read", "--expires-days", "3")
    key = ApiKey.objects.get()
    assert 2.9 < (key.expires_at - key.created_at).total_seconds() / 86400 < 3.1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody", "--scopes", "read"], "No user named 'nobody'."),
        (["--user", "bob", "--scopes", "deploy"], "A viewer may not hold the 'deploy' scope"),
        (["--user", "bob", "--scopes", "read", "--expires-days", "0"], "must be a positive"),
        (["--user", "bob", "--scopes", ","], "scopes: Give at least one scope."),
    ],
)
def test_create_api_key_refuses_bad_input(bob, args, message):
    with pytest.raises(CommandError, match=message):
        _run("create_api_key", *args)
    assert not ApiKey.objects.exists()


def test_ensure_admin_creates_the_admin_once_with_a_generated_password(db, settings):
    settings.MODELGATE_ADMIN_PASSWORD = ""
    output = _run("ensure_admin")
    assert output.startswith("Created admin user 'admin' with password: ")
    password = output.strip().rsplit(" ", 1)[1]
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password(password) and admin.profile.role == "admin" and admin.is_staff
    again = _run("ensure_admin")
    assert "password" not in again and get_user_model().objects.count() == 1


def test_ensure_admin_takes_the_password_from_the_environment(db, settings):
    settings.MODELGATE_ADMIN_PASSWORD = "a long enough admin passphrase"
    output = _run("ensure_admin")
    assert "a long enough admin passphrase" not in output
    assert (
        get_user_model()
        .objects.get(username="admin")
        .check_password("a long enough admin passphrase")
    )


def test_ensure_admin_names_the_variable_when_its_password_is_refused(db, settings):
    settings.MODELGATE_ADMIN_PASSWORD = "some-pw"
    with pytest.raises(CommandError) as refused:
        _run("ensure_admin")
    message = str(refused.value)
    assert message.startswith("MODELGATE_ADMIN_PASSWORD is not accepted: This password is too")
    assert "The rule: at least 12 characters, not a common password" in message
    assert "leave MODELGATE_ADMIN_PASSWORD unset" in message
    assert not get_user_model().objects.filter(username="admin").exists()
