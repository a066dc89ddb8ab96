"""OpenAPI descriptions shared by every app's API: API-key security and the error body."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    "Error",
    {
        "error": serializers.CharField(help_text="A sentence saying what was wrong."),
        "code": serializers.CharField(help_text="A stable machine-readable code."),
    },
)


def error_responses(*statuses: int) -> dict:
    """`responses=` entries for the given error statuses, all in the one error shape."""
    return {status: ErrorSerializer for status in statuses}
