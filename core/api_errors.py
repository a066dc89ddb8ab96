"""Maps every API error, DRF's and ours, to one JSON shape: `{"error": "...", "code": "..."}`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ServiceError


def _flatten(detail) -> str:
    """DRF validation details are nested dicts/lists; users want one readable sentence."""
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return Response({"error": exc.message, "code": exc.code}, status=exc.status)
    if isinstance(exc, Http404):
        return Response({"error": str(exc) or "Not found.", "code": "not_found"}, status=404)
    if isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "invalid"
        response.data = {"error": _flatten(exc.detail), "code": code}
    return response


def ratelimited(request, exception):
    """django-ratelimit's view for a limited request: 429, never 403."""
    return JsonResponse(
        {"error": "Rate limit exceeded.", "code": "rate_limited"},
        status=429,
        headers={"Retry-After": "1"},
    )
