"""The OpenAPI schema describes the accounts API accurately."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator


def test_the_schema_documents_every_accounts_endpoint():
    generator = SchemaGenerator(patterns=[path("api/v1/", include("accounts.api_urls"))])
    schema = generator.get_schema(request=None, public=True)
    paths = schema["paths"]
    assert set(paths) == {
        "/api/v1/keys",
        "/api/v1/keys/{key_id}",
        "/api/v1/keys/{key_id}/revoke",
        "/api/v1/keys/{key_id}/rotate",
        "/api/v1/me",
        "/api/v1/audit",
    }
    create = paths["/api/v1/keys"]["post"]
    assert "201" in create["responses"]
    created = create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert created.endswith("/KeyCreated")
    assert "key" in schema["components"]["schemas"]["KeyCreated"]["properties"]
    audit_params = {p["name"] for p in paths["/api/v1/audit"]["get"]["parameters"]}
    assert {"actor", "action", "target", "since", "until", "page"} <= audit_params
    assert paths["/api/v1/me"]["get"]["operationId"] == "me"
    assert {"bearerAuth": []} in create["security"] and {"apiKeyHeader": []} in create["security"]
    assert schema["components"]["securitySchemes"]["apiKeyHeader"]["name"] == "X-API-Key"
    revoke = paths["/api/v1/keys/{key_id}/revoke"]["post"]["responses"]
    assert revoke["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert {"get", "patch"} <= set(paths["/api/v1/keys/{key_id}"])
    rotated = paths["/api/v1/keys/{key_id}/rotate"]["post"]["responses"]["200"]
    assert rotated["content"]["application/json"]["schema"]["$ref"].endswith("/KeyCreated")
