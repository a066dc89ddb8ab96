"""Bodies are refused before they are read or spooled: anonymous callers send small bodies only,
uploads come after authentication, and a body of unknown length is not taken at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def _fresh_state(fresh_key_state):
    """Each test starts with no cached keys, no counted requests and an empty cache."""
    return fresh_key_state


@pytest.fixture
def spooled(monkeypatch):
    """Every file an upload handler starts: nothing may be started for a refused body."""
    started: list[str] = []
    original = FileUploadHandler.new_file

    def watch(self, field_name, file_name, *args, **kwargs):
        started.append(file_name)
        return original(self, field_name, file_name, *args, **kwargs)

    monkeypatch.setattr(FileUploadHandler, "new_file", watch)
    return started


def _multipart(client, path, size, **extra):
    upload = ("model.keras", b"\0" * size)
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        path, {"file": SimpleUploadedFile(*upload), "username": "x", "password": "y"}, **extra
    )


def test_a_48_mib_anonymous_upload_to_the_login_page_is_refused_unread(settings, spooled):
    """The reported attack: 48 MiB multipart to /accounts/login/ landed in var/uploads."""
    client = Client(enforce_csrf_checks=True)
    response = _multipart(client, reverse("login"), 48 * MIB)
    assert response.status_code == 413
    assert b"65536 bytes" in response.content
    assert spooled == []
    assert list(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir()) == []


def test_an_anonymous_api_body_over_the_small_limit_is_a_json_413(client, spooled):
    response = client.post(
        "/api/v1/models/churn/versions",
        json.dumps({"x": "y" * (128 * 1024)}),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json() == {
        "error": "Request body exceeds the limit of 65536 bytes.",
        "code": "too_large",
    }


def test_a_wrong_key_counts_as_anonymous(client, spooled):
    response = _multipart(
        client,
        "/api/v1/models/churn/versions",
        1 * MIB,
        HTTP_AUTHORIZATION="Bearer mg_live_aaaaaaaaaaaa_" + "b" * 38,
    )
    assert response.status_code == 413 and spooled == []


def test_a_logged_in_upload_is_read(client, alice, settings, spooled):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # so the upload spools to disk, as real ones do
    client.force_login(alice)
    response = _multipart(client, "/api/v1/models/churn/versions", 1 * MIB)
    assert response.status_code not in (411, 413)
    assert "model.keras" in spooled


def test_a_key_holders_upload_is_read(client, alice, issue_key, spooled):
    _, raw = issue_key(alice, scopes=["deploy", "read"])
    response = _multipart(
        client, "/api/v1/models/churn/versions", 1 * MIB, HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code not in (411, 413)
    assert "model.keras" in spooled


def test_the_anonymous_limit_is_a_setting(client, settings):
    settings.MODELGATE_MAX_ANONYMOUS_BODY_BYTES = 10 * MIB
    response = _multipart(client, reverse("login"), 1 * MIB)
    assert response.status_code != 413


def test_a_chunked_body_without_a_length_is_refused(client):
    response = client.generic(
        "POST",
        "/api/v1/keys",
        b"",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert response.json()["code"] == "length_required"
