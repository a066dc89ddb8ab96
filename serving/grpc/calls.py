"""What every gRPC method shares: the caller's metadata as the gateway reads headers, and one
mapping from the REST path's errors to gRPC status codes (PROTOCOLS.md, as Triton and TF Serving
map them), with the retry delay of a refused request in trailing metadata. A predict, and any
refused call, carries its request id (the one its event holds) in trailing metadata as
`x-request-id`, served or failed."""

from __future__ import annotations

import functools
import logging

import grpc

from core.errors import ServiceError
from serving import gateway, inference
from serving.replies import ProtocolError
from serving.thread_db import release_thread_database

logger = logging.getLogger(__name__)

STATUS_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    405: grpc.StatusCode.UNIMPLEMENTED,
    409: grpc.StatusCode.FAILED_PRECONDITION,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
}
# Metadata a gRPC caller may send, under the WSGI names the gateway reads.
_HEADERS = {
    "authorization": "HTTP_AUTHORIZATION",
    "x-api-key": "HTTP_X_API_KEY",
    "x-modelgate-subject": "HTTP_X_MODELGATE_SUBJECT",
    "x-modelgate-variant": "HTTP_X_MODELGATE_VARIANT",
}


def peer_address(context) -> str:
    """The caller's IP from gRPC's peer string ("ipv4:10.0.0.1:5123", "ipv6:[::1]:5123"), so
    the per-address throttle on failed keys applies to gRPC as to HTTP."""
    kind, _, rest = (context.peer() or "").partition(":")
    if kind not in ("ipv4", "ipv6"):
        return ""
    host = rest.rsplit(":", 1)[0]
    return host.strip("[]")


def environ_of(context) -> dict:
    """The invocation metadata as the environ-like dict gateway functions read."""
    environ = {"REMOTE_ADDR": peer_address(context)}
    for key, value in context.invocation_metadata():
        name = _HEADERS.get(key)
        if name is not None and isinstance(value, str):
            environ[name] = value
    return environ


REQUEST_ID = "x-request-id"
PREDICTION_ID = "x-prediction-id"


def begin_predict(context) -> str:
    """A predict's request id, put in trailing metadata now so that a failure carries it too
    (abort keeps it); its event and log row hold the same id."""
    request_id = inference.new_request_id()
    context.set_trailing_metadata(((REQUEST_ID, request_id), (PREDICTION_ID, request_id)))
    return request_id


def authenticate(context, model: str, request_id: str = ""):
    """(principal, environ) for a call on `model`: the REST path's key check, scopes and limits.
    A refusal's event takes `request_id` (a predict's), else an id made here, which the refused
    call then carries in trailing metadata."""
    environ = environ_of(context)
    own_id = request_id or inference.new_request_id()
    try:
        principal, _ = gateway.authenticate_call(environ, model, request_id=own_id)
    except ProtocolError:
        if not request_id:  # a predict's id is in the trailing metadata already
            context.set_trailing_metadata(((REQUEST_ID, own_id),))
        raise
    return principal, environ


def authenticate_listing(context, model: str):
    """The principal of a call that lists models: scoped to `model` when it names one, else any
    valid key (the listing then holds only the models the key may call), as REST's listings."""
    if model:
        return authenticate(context, model)[0]
    return gateway.listing_principal(environ_of(context))


def target(model: str, version: str | None, label: str | None, environ: dict, principal):
    """(loaded version, route, role) exactly as the REST path resolves it."""
    return gateway.target_of(model, version or None, label or None, environ, principal.prefix)


_TRAILING = ("retry-after", "www-authenticate")


def abort(context, status: int, message: str, headers=()) -> None:
    """End the call with the gRPC status of a REST status; the retry and auth headers ride in
    trailing metadata, after what the call set there already (its request id)."""
    trailing = [
        (name.lower(), str(value))
        for name, value in headers
        if name.lower() in _TRAILING or name.lower().startswith("ratelimit")
    ]
    if trailing:
        trailing = [*(context.trailing_metadata() or ()), *trailing]
        context.set_trailing_metadata(trailing)
    code = STATUS_CODES.get(status, grpc.StatusCode.INTERNAL)
    context.abort(code, message)


def rpc(method):
    """Turn the REST path's typed errors into gRPC status codes; never leak a traceback."""

    @functools.wraps(method)
    def wrapper(self, request, context):
        try:
            return method(self, request, context)
        except ProtocolError as exc:
            abort(context, exc.status, exc.message, exc.headers)
        except ServiceError as exc:
            abort(context, exc.status, exc.message)
        except Exception:
            # Methods raise typed errors and never call context.abort themselves: grpc's abort
            # raises a bare Exception, which this handler would otherwise turn into INTERNAL.
            logger.exception("unhandled error in gRPC %s", method.__name__)
            context.abort(grpc.StatusCode.INTERNAL, "internal server error")
        finally:
            release_thread_database()  # as the WSGI front does: no pooled connection kept

    return wrapper
