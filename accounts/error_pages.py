"""One mapping from service errors to console pages (core.api_errors does the same for the API).

A console view calls services and lets their errors pass: NotFound becomes the 404 page,
NotAuthenticated the login page, PermissionDenied the forbidden page (with the service's
reason), and any other ServiceError (InvalidInput, Conflict, ...) on a form post becomes a
message on the page the form came from. A view that wants to say more catches the error itself.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from core.errors import NotAuthenticated, NotFound, PermissionDenied, ServiceError

_JSON_PREFIXES = ("/api/", "/v1/", "/v2")


def _back(request) -> str:
    """The page the form was on, when it is ours; else the overview."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return "/"


def service_error_response(request, exc: ServiceError):
    """The console's answer to a service error (JSON under the API prefixes)."""
    if request.path.startswith(_JSON_PREFIXES):
        return JsonResponse({"error": exc.message, "code": exc.code}, status=exc.status)
    if isinstance(exc, NotFound):
        return render(request, "accounts/not_found.html", {"message": exc.message}, status=404)
    if isinstance(exc, NotAuthenticated):
        return redirect_to_login(request.get_full_path())
    if isinstance(exc, PermissionDenied):
        actor = getattr(request, "actor", None)
        context = {"message": exc.message, "role": getattr(actor, "role", "")}
        return render(request, "accounts/forbidden.html", context, status=403)
    if request.method == "POST":
        messages.error(request, exc.message)
        return redirect(_back(request))
    return render(request, "accounts/not_found.html", {"message": exc.message}, status=exc.status)


class ServiceErrorPagesMiddleware:
    """Answers a ServiceError that a console view let through (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if isinstance(exc, ServiceError):
            return service_error_response(request, exc)
        return None
