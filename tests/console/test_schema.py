"""The REST API is described by OpenAPI, with a docs page that works offline."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_describes_the_management_api(client, alice):
    client.force_login(alice)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/models/{model}/deployments/{deployment}/deploy",
        "/api/v1/models/{model}/deployments/{deployment}/rollback",
    ):
        assert path in paths


def test_the_docs_page_loads_its_assets_locally(client, alice):
    client.force_login(alice)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "https://" not in html.split("<body")[0]


def test_the_schema_generates_without_a_warning(tmp_path):
    """A warning means a wrong schema for clients (a component named twice, an undescribed
    body, an enum under a made-up name): drf-spectacular's --fail-on-warn turns it into an error."""
    from django.core.management import call_command

    out = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    assert "KeyRotateInput" in schema and "KeyStatusEnum" in schema
