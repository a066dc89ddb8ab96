"""A lean WSGI front: prediction-protocol requests go straight to the gateway, everything else to
Django. Django's handler and middleware cost ~150 µs a request (see ARCHITECTURE.md), more than
the model at batch 1, and the predict path needs none of them."""

from __future__ import annotations

import logging

from django.conf import settings

from serving import gateway

logger = logging.getLogger(__name__)

_PREFIXES = ("/v1/models", "/v2", "/api/v1/models/")
_STATUS = {
    200: "200 OK",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    409: "409 Conflict",
    413: "413 Payload Too Large",
    415: "415 Unsupported Media Type",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
    501: "501 Not Implemented",
    503: "503 Service Unavailable",
}


def status_line(code: int) -> str:
    return _STATUS.get(code) or f"{code} Status"


class ServingFront:
    """Wraps the Django WSGI application."""

    def __init__(self, django_app):
        self.django_app = django_app
        if settings.MODELGATE_POOL_AUTOSTART:
            from serving.pool import get_pool

            get_pool().ensure_started()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(_PREFIXES) and (
            not path.startswith("/api/") or path.endswith("/predict")
        ):
            stream = environ["wsgi.input"]
            try:
                reply = gateway.dispatch(environ["REQUEST_METHOD"], path, environ, stream.read)
            except Exception:  # the last line of defence: a JSON 500, never a traceback
                logger.exception("unhandled error serving %s", path)
                reply = gateway.Reply(500, b'{"error": "internal server error"}')
            if reply is not None:
                headers = [
                    ("Content-Type", reply.content_type),
                    ("Content-Length", str(len(reply.body))),
                    *reply.headers,
                ]
                start_response(status_line(reply.status), headers)
                return [reply.body]
        return self.django_app(environ, start_response)
