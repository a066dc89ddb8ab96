"""accounts.error_pages: the one mapping of service errors to console pages."""

from __future__ import annotations

import json

import pytest
from django.contrib.messages import get_messages

from core.errors import Conflict, PermissionDenied

pytestmark = pytest.mark.django_db


def test_a_missing_object_is_the_404_page_with_the_services_message(client, alice):
    client.force_login(alice)
    response = client.get("/deployments/nosuch/production/")
    assert response.status_code == 404
    assert b"Not found" in response.content and b"nosuch" in response.content


def test_a_refusal_is_the_forbidden_page_with_the_services_reason(rf, alice):
    from accounts.actors import actor_for
    from accounts.error_pages import service_error_response

    request = rf.get("/deployments/")
    request.actor = actor_for(alice)
    response = service_error_response(request, PermissionDenied("alice may not touch churn."))
    assert response.status_code == 403
    assert b"Not allowed" in response.content and b"alice may not touch churn." in response.content


def test_a_refused_form_post_goes_back_with_a_message(client, alice):
    from accounts.error_pages import service_error_response

    client.force_login(alice)
    request = client.get("/deployments/").wsgi_request
    request.method = "POST"
    request.META["HTTP_REFERER"] = "http://testserver/deployments/churn/production/"
    response = service_error_response(request, Conflict("already serves v2"))
    assert response.status_code == 302
    assert response["Location"] == "http://testserver/deployments/churn/production/"
    assert [m.message for m in get_messages(request)] == ["already serves v2"]


def test_a_foreign_referer_is_not_followed(client, alice):
    from accounts.error_pages import service_error_response

    client.force_login(alice)
    request = client.get("/deployments/").wsgi_request
    request.method = "POST"
    request.META["HTTP_REFERER"] = "https://evil.example/"
    response = service_error_response(request, Conflict("no"))
    assert response["Location"] == "/"


def test_api_paths_get_json(rf):
    from accounts.error_pages import service_error_response

    response = service_error_response(rf.get("/api/v1/x"), Conflict("taken", code="exists"))
    assert response.status_code == 409
    assert json.loads(response.content) == {"error": "taken", "code": "exists"}
