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
