"""A lean WSGI front: prediction-protocol requests skip Django, everything else goes to it.
Django's handler and middleware cost ~150 µs a request (see docs/architecture.md), more than the
model at batch 1, and the predict path needs none of them.

`serve` answers every path of the protocol table (serving/protocols/table.py): a predict through
the gateway (serving/gateway.py), any other path (status, metadata, listings) through
serving/listings.py, an error in the protocol's words, the answer compressed when asked. The
Django view for the same paths (serving/protocol_views.py, behind runserver) calls `dispatch`, so
both give the same answers.

The front also gives every request its one id (REQUEST_ID, read by console.logging's JSON
formatter): the X-Request-Id header, the access log line and, for a prediction, its event, its
log row and its X-Prediction-Id. It writes the access log line, and drains the serving pool when
the process shuts down."""

from __future__ import annotations

import logging
import re
import time
from contextvars import ContextVar

from django.conf import settings

from core.addresses import client_ip
from core.errors import ServiceError
from serving import gateway, listings
from serving.inference import new_request_id
from serving.protocols import compression
from serving.protocols.table import BY_NAME, PATHS, Protocol
from serving.replies import ProtocolError, Reply
from serving.thread_db import release_thread_database

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("modelgate.access")

# The request (or task) a thread is serving; a prediction's id is its prediction request id.
REQUEST_ID: ContextVar[str] = ContextVar("modelgate_request_id", default="")
# An id from a trusted proxy (X-Request-Id) is kept when it is short and plain.
_INCOMING_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

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


def protocol_for(path: str) -> Protocol | None:
    """The protocol that owns `path`, None for every other path: the one place that decides
    whether a request is a prediction-protocol request."""
    match = PATHS.match(path)
    return BY_NAME[match.lastgroup] if match is not None else None


def serve(protocol: Protocol, method, path, environ, body_reader, request_id="") -> Reply:
    """Answer a request on a path `protocol` owns."""
    request_id = request_id or new_request_id()
    try:
        named = gateway.named_predict(protocol, path)
        if named is not None:
            model, version, label = named
            reply = gateway.predict(
                protocol, method, model, version, label, environ, body_reader, request_id
            )
        else:
            reply = listings.answer(protocol, method, path, environ, body_reader, request_id)
    except (ProtocolError, ServiceError) as exc:
        headers = exc.headers if isinstance(exc, ProtocolError) else []
        reply = Reply(exc.status, protocol.error(exc.message, exc.code), list(headers))
    accept = environ.get("HTTP_ACCEPT_ENCODING")
    if accept:
        coding = compression.choose_encoding(accept)
        if coding is not None:  # only when asked: identity stays the zero-cost default
            reply.body = compression.encode_body(reply.body, coding)
            reply.headers = [*reply.headers, ("Content-Encoding", coding)]
        reply.headers = [*reply.headers, ("Vary", "Accept-Encoding")]
    return reply


def dispatch(method, path, environ, body_reader, request_id="") -> Reply | None:
    """`serve` for any path; None when no protocol owns it."""
    protocol = protocol_for(path)
    if protocol is None:
        return None
    return serve(protocol, method, path, environ, body_reader, request_id)


def _incoming_id(environ) -> str:
    incoming = environ.get("HTTP_X_REQUEST_ID")
    return incoming if incoming and _INCOMING_ID_RE.match(incoming) else ""


def drain_pool(timeout: float | None = None) -> None:
    """Stop taking predictions, let queued ones finish, then flush their prediction events
    (run when a serving process exits after SIGTERM)."""
    from serving import events, shadow
    from serving import pool as pool_module

    pool = pool_module.current
    if pool is not None:
        pool.ready = False  # readiness probes fail first, so the load balancer stops sending
        shadow.drain()  # while the batchers still run
        pool.stop(timeout if timeout is not None else settings.MODELGATE_SHUTDOWN_DRAIN_SECONDS)
        logger.info("serving pool drained", extra={"event": "shutdown"})
    events.flush_and_stop()


def on_process_exit(callback) -> None:
    """Run `callback` once when this process exits normally.

    atexit alone would miss granian: it forks its workers with multiprocessing, and a forked
    child leaves through os._exit(), which skips atexit. multiprocessing runs its exit finalizers
    there, and from atexit in any other process (gunicorn, runserver): one finalizer covers both.
    """
    from multiprocessing import util

    util.Finalize(None, callback, exitpriority=10)


class ServingFront:
    """Wraps the Django WSGI application."""

    def __init__(self, django_app):
        self.django_app = django_app
        self.access_log = settings.MODELGATE_ACCESS_LOG
        if settings.MODELGATE_POOL_AUTOSTART:
            # Imported before the pool's thread starts loading models: both import TensorFlow,
            # and two threads importing it at once deadlock on its module locks.
            from serving.grpc import server as grpc_server
            from serving.pool import get_pool

            get_pool().ensure_started()
            # On SIGTERM granian and gunicorn stop accepting, finish in-flight requests and return
            # from their serve loop; the process then exits normally and the drain runs.
            on_process_exit(drain_pool)
            if grpc_server.start():
                # Registered after the drain, so it runs first: gRPC stops taking calls and
                # finishes its in-flight ones while the batchers still run.
                on_process_exit(grpc_server.stop)

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        path = environ.get("PATH_INFO", "")
        protocol = protocol_for(path)
        predicting = protocol is not None
        incoming = _incoming_id(environ)
        # A prediction's id is the unique key of its log row, so it is always ours; a proxy's id
        # names every other request, and rides along in a prediction's access line.
        request_id = new_request_id() if predicting or not incoming else incoming
        token = REQUEST_ID.set(request_id)
        try:
            if predicting:
                reply = self._predict(protocol, environ, path, request_id)
                headers = [
                    ("Content-Type", reply.content_type),
                    ("Content-Length", str(len(reply.body))),
                    *reply.headers,
                    ("X-Request-Id", request_id),
                ]
                start_response(status_line(reply.status), headers)
                if self.access_log:
                    self._log(environ, path, reply.status, started, request_id, incoming)
                return [reply.body]
            return self._django(environ, start_response, path, started, request_id)
        finally:
            REQUEST_ID.reset(token)

    def _predict(self, protocol, environ, path, request_id):
        stream = environ["wsgi.input"]
        try:
            return serve(
                protocol, environ["REQUEST_METHOD"], path, environ, stream.read, request_id
            )
        except Exception:  # the last line of defence: a JSON 500, never a traceback
            logger.exception("unhandled error serving %s", path)
            return Reply(500, b'{"error": "internal server error"}')
        finally:
            release_thread_database()

    def _django(self, environ, start_response, path, started, request_id):
        seen = []

        def start(status, headers, exc_info=None):
            seen.append(status)
            return start_response(status, [*headers, ("X-Request-Id", request_id)], exc_info)

        result = self.django_app(environ, start)
        if self.access_log:
            status = int(seen[0].split(" ", 1)[0]) if seen else 0
            self._log(environ, path, status, started, request_id)
        return result

    @staticmethod
    def _log(environ, path, status, started, request_id, upstream_id="") -> None:
        extra = {"upstream_request_id": upstream_id} if upstream_id else {}
        access_logger.info(
            "%s %s %s",
            environ.get("REQUEST_METHOD", ""),
            path,
            status,
            extra={
                "request_id": request_id,
                "method": environ.get("REQUEST_METHOD", ""),
                "path": path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000.0, 3),
                "remote_addr": client_ip(environ) or "",
                **extra,
            },
        )
