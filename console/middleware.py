"""Security headers for every Django response, and request-size limits answered with a 413."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.template.response import SimpleTemplateResponse

from serving.wsgi_front import protocol_for


class SecurityHeadersMiddleware:
    """Content-Security-Policy (no inline script) on every response; Django's SecurityMiddleware
    adds HSTS (over HTTPS), nosniff and the Referrer-Policy, and XFrameOptionsMiddleware DENY."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.MODELGATE_CSP
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


def body_limit(path: str, content_type: str) -> int | None:
    """The most bytes a request to this path may send: predictions and uploads have their own."""
    if protocol_for(path) is not None:
        return settings.MODELGATE_MAX_PREDICT_BODY_BYTES
    if content_type.startswith("multipart/form-data"):
        return settings.MODELGATE_MAX_UPLOAD_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _too_large(request, limit: int | None):
    message = (
        f"Request body exceeds the limit of {limit} bytes."
        if limit
        else "Request body is too large."
    )
    if request.path.startswith(("/api/", "/v1/", "/v2")):
        return JsonResponse({"error": message, "code": "too_large"}, status=413)
    response = SimpleTemplateResponse("accounts/too_large.html", {"message": message}, status=413)
    return response.render()


def _is_authenticated(request) -> bool:
    """A logged-in session or a valid API key; looked at only for bodies over the anonymous
    limit, so small requests pay nothing."""
    from accounts.auth_throttle import AuthThrottled
    from accounts.keys import authenticate_key, key_from_environ
    from core.addresses import client_ip

    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    raw = key_from_environ(request.META)
    try:
        return raw is not None and authenticate_key(raw, ip=client_ip(request.META)) is not None
    except AuthThrottled:
        return False  # an address that keeps failing is anonymous here: its body is refused


def _length_required(request):
    message = "Send a Content-Length: bodies of unknown length are not accepted."
    if request.path.startswith(("/api/", "/v1/", "/v2")):
        return JsonResponse({"error": message, "code": "length_required"}, status=411)
    return HttpResponse(message + "\n", status=411, content_type="text/plain")


class RequestSizeLimitMiddleware:
    """413 before a byte is read when Content-Length is over the limit for the path, or over
    MODELGATE_MAX_ANONYMOUS_BODY_BYTES for a caller not yet authenticated (so the login page
    never spools an upload to FILE_UPLOAD_TEMP_DIR); 411 for a chunked body of unknown length
    (Django would read it as empty). Also turns Django's RequestDataTooBig (raised while
    parsing a body) into a 413 instead of a 400. Runs after AuthenticationMiddleware, before
    any view or CSRF check reads the body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower() and not meta.get(
            "CONTENT_LENGTH"
        ):
            return _length_required(request)
        limit = body_limit(request.path, meta.get("CONTENT_TYPE", ""))
        try:
            length = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return _too_large(request, limit)
        anonymous_limit = settings.MODELGATE_MAX_ANONYMOUS_BODY_BYTES
        if length > anonymous_limit and not _is_authenticated(request):
            return _too_large(request, anonymous_limit)
        if request.method == "POST" and not request.path.startswith(("/api/", "/v1/", "/v2")):
            # Console forms: parse here, where a too-big form field can still become a 413
            # (deeper, CSRF's read of request.POST would turn it into a bare 400).
            try:
                request.POST  # noqa: B018
            except RequestDataTooBig:
                return _too_large(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return _too_large(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return None
