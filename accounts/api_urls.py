"""accounts REST API routes (under /api/v1/)."""

from django.urls import path

from accounts import api

urlpatterns = [
    path("keys", api.KeyListCreateApi.as_view(), name="api-keys"),
    path("keys/<int:key_id>", api.KeyDetailApi.as_view(), name="api-key-detail"),
    path("keys/<int:key_id>/rotate", api.KeyRotateApi.as_view(), name="api-key-rotate"),
    path("keys/<int:key_id>/revoke", api.KeyRevokeApi.as_view(), name="api-key-revoke"),
    path("me", api.MeApi.as_view(), name="api-me"),
    path("audit", api.AuditListApi.as_view(), name="api-audit"),
]
