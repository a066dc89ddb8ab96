"""The prediction request path, independent of Django's request machinery.

`serve(protocol, method, path, environ, body_reader, request_id)` serves the three REST protocols
of the protocol table (serving/protocols/table.py: native, TF Serving v1, Open Inference Protocol
v2). The lean WSGI front (serving/wsgi_front.py) calls it with the protocol it looked up; the
Django view calls `dispatch`, which looks it up, so both give the same answers.

A predict (`_predict`, the same for the three): authenticate the key (in-process cache),
rate-limit it (shared cache), resolve the target from the pool's route table (in memory), parse
the body in the caller's protocol, then `PredictCall` (gRPC's too): check the feeds against the
signature, answer from the prediction cache or the version's batcher, publish the event without
waiting, mirror to the shadow; last, format the answer in the caller's protocol. No database
query happens here in the steady state. docs/architecture.md, "Request path", walks it.
"""

from __future__ import annotations

import logging
import re
import time

from django.conf import settings

from core.errors import ServiceError
from serving import inference, shadow
from serving.caller_auth import authenticate_call, listing_principal
from serving.pool import get_pool
from serving.protocols import compression, jsonio, oip, tfserving, triton
from serving.protocols.table import NATIVE, OIP, TFSERVING, HttpCall, Protocol, protocol_for
from serving.replies import ProtocolError, Reply
from serving.routes import Target, resolve

logger = logging.getLogger(__name__)

SERVER_VERSION = "1.0.0"

TFS_RE = re.compile(
    r"^/v1/models/(?P<model>[\w.-]+)"
    r"(?:/versions/(?P<version>\d+)|/labels/(?P<label>[\w-]+))?"
    r"(?P<tail>/metadata|:predict|:classify|:regress)?/?$"
)
OIP_MODEL_RE = re.compile(
    r"^/v2/models/(?P<model>[\w.-]+)(?:/versions/(?P<version>[\w.-]+))?"
    r"(?P<tail>/ready|/infer|/config|/stats)?/?$"
)
_NATIVE_RE = re.compile(f"^/{NATIVE.paths}$")


def dispatch(
    method: str, path: str, environ: dict, body_reader, request_id: str = ""
) -> Reply | None:
    """Serve a prediction-protocol request; None when `path` is not one of ours. `request_id`
    (the front's) becomes the event's and log row's id; one is made when none is given."""
    protocol = protocol_for(path)
    if protocol is None:
        return None
    return serve(protocol, method, path, environ, body_reader, request_id)


def serve(protocol: Protocol, method, path, environ, body_reader, request_id="") -> Reply:
    """Serve a request on a path `protocol` owns (the front has looked it up already)."""
    request_id = request_id or inference.new_request_id()
    try:
        reply = _HANDLERS[protocol.name](method, path, environ, body_reader, request_id)
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


def _native(method, path, environ, body_reader, request_id) -> Reply:
    match = _NATIVE_RE.match(path)
    _require(method, "POST")  # before the key check, unlike the other two (as it always was)
    model, deployment = match["model"], match["deployment"]
    return _predict(NATIVE, method, model, None, deployment, environ, body_reader, request_id)


def _oip_paths(method, path, environ, body_reader, request_id) -> Reply:
    if path in ("/v2", "/v2/"):
        _require(method, "GET")
        return Reply(200, oip.server_metadata_body(SERVER_VERSION))
    if path == "/v2/health/live":
        _require(method, "GET")
        return Reply(200, jsonio.dumps({"live": True}))
    if path == "/v2/health/ready":
        _require(method, "GET")
        if not get_pool().ready:
            raise ProtocolError(503, "server is loading models", "unavailable")
        return Reply(200, oip.ready_body())
    if path in ("/v2/repository/index", "/v2/repository/index/"):
        _require(method, "POST")
        return _repository_index(environ, body_reader)
    if path in ("/v2/models/stats", "/v2/models/stats/"):
        _require(method, "GET")
        principal = listing_principal(environ)
        return _statistics([m for m in _served_models() if principal.allows_predict(m)])
    match = OIP_MODEL_RE.match(path)
    if match is None:
        raise ProtocolError(404, f"unknown path {path}", "not_found")
    if match["tail"] == "/infer":
        model, version = match["model"], match["version"]
        return _predict(OIP, method, model, version, None, environ, body_reader, request_id)
    return _oip(method, match, environ, request_id)


def _tfserving_paths(method, path, environ, body_reader, request_id) -> Reply:
    if path in ("/v1/models", "/v1/models/"):
        _require(method, "GET")
        principal = listing_principal(environ)
        names = [m for m in _served_models() if principal.allows_predict(m)]
        return Reply(200, jsonio.dumps({"models": names}))  # KServe V1's model list
    match = TFS_RE.match(path)
    if match is None:
        raise ProtocolError(404, f"unknown path {path}", "not_found")
    if match["tail"] == ":predict":
        model, version, label = match["model"], match["version"], match["label"]
        return _predict(TFSERVING, method, model, version, label, environ, body_reader, request_id)
    return _tfserving(method, match, environ, request_id)


_HANDLERS = {NATIVE.name: _native, OIP.name: _oip_paths, TFSERVING.name: _tfserving_paths}


def _require(method: str, allowed: str) -> None:
    if method != allowed:
        raise ProtocolError(
            405,
            f"method {method} not allowed; use {allowed}",
            "method_not_allowed",
            [("Allow", allowed)],
        )


# -- one predict, every protocol ----------------------------------------------------------------
def _predict(
    protocol: Protocol, method, model, version, label, environ, body_reader, request_id
) -> Reply:
    started = time.perf_counter()
    principal, rate_headers = authenticate_call(environ, model, protocol.name, label, request_id)
    _require(method, "POST")
    body = _read_body(environ, body_reader)
    target = target_of(model, version, label, environ, principal.prefix)
    with PredictCall(protocol.name, target, principal.prefix, request_id, started) as call:
        request = protocol.parse(HttpCall(body, environ), target.loaded.signature)
        result = call.run(request.feeds)
    payload, headers, content_type = protocol.format(result, request)
    return Reply(
        200, payload, [*headers, ("X-Prediction-Id", request_id), *rate_headers], content_type
    )


def target_of(model: str, version, label, environ: dict, key_prefix: str) -> Target:
    """(loaded version, route or None, role) of a version/label/bare-model call, honouring the
    caller's X-Modelgate-Variant and X-Modelgate-Subject (else its key: sticky per key)."""
    return resolve(
        get_pool(),
        model,
        version,
        label,
        variant=environ.get("HTTP_X_MODELGATE_VARIANT"),
        subject=environ.get("HTTP_X_MODELGATE_SUBJECT") or key_prefix,
    )


class PredictCall:
    """One predict call from parsed feeds to its event: `with PredictCall(...) as call:
    result = call.run(feeds)`. Whatever fails inside the block (parsing too) is published as a
    failed call with the same request id, then raised for the protocol to answer."""

    def __init__(self, protocol: str, target: Target, key_prefix: str, request_id: str, started):
        self.result = inference.Prediction(
            protocol, request_id, target.loaded, target.route, target.role, key_prefix, started
        )

    def __enter__(self) -> PredictCall:
        return self

    def run(self, feeds: dict) -> inference.Prediction:
        result = self.result
        feeds, rows = inference.check(result.loaded, result.route, feeds)
        result.outputs, result.cache_hit, result.batch_rows = inference.infer(
            result.loaded, result.route, feeds, rows
        )
        result.feeds, result.rows = feeds, rows
        result.prediction_ids = inference.prediction_ids(result.request_id, rows)
        inference.publish(result)
        if result.route is not None and result.route.shadow is not None:
            shadow.mirror(result)
        return result

    def __exit__(self, kind, exc, _traceback) -> None:
        if not isinstance(exc, Exception):
            return
        if isinstance(exc, ProtocolError | ServiceError):
            status, message = exc.status, exc.message
        else:
            status, message = 500, f"{type(exc).__name__}: {exc}"
        result = self.result
        failed = inference.Prediction(
            result.protocol,
            result.request_id,
            result.loaded,
            result.route,
            result.role,
            result.key_prefix,
            result.started,
            status=status,
            error=message[:500],
        )
        inference.publish(failed)


# -- the body and the listings -------------------------------------------------------------------
def _read_body(environ: dict, body_reader) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ProtocolError(400, "invalid Content-Length", "invalid") from None
    limit = settings.MODELGATE_MAX_PREDICT_BODY_BYTES
    if length > limit:
        raise ProtocolError(
            413,
            f"request body of {length} bytes exceeds the limit of {limit}",
            "too_large",
        )
    body = body_reader(length)
    encoding = environ.get("HTTP_CONTENT_ENCODING")
    if encoding:
        body = compression.decode_body(body, encoding, limit=limit)
    return body


def _served_models() -> list[str]:
    table = get_pool().table
    return sorted({model for model, _ in table.routes} | {model for model, _ in table.versions})


# -- the protocols' other paths -----------------------------------------------------------------
def _tfserving(method, match, environ, request_id) -> Reply:
    """TF Serving's status (`/v1/models/<m>[...]`) and metadata; :classify/:regress are 501."""
    model, version, label, tail = match["model"], match["version"], match["label"], match["tail"]
    principal, _ = authenticate_call(environ, model, TFSERVING.name, label, request_id)
    if tail in (":classify", ":regress"):
        raise ProtocolError(501, f"{tail[1:]} is not supported; use :predict", "not_implemented")
    _require(method, "GET")
    loaded, _, _ = target_of(model, version, label, environ, principal.prefix)
    if tail == "/metadata":
        return Reply(200, tfserving.metadata_body(model, loaded.number, loaded.signature))
    return Reply(200, _status_body(model, loaded, pinned=version is not None))


def _status_body(model: str, loaded, *, pinned: bool) -> bytes:
    """TF Serving's status listing every version loaded for the model (a version path: that one),
    plus any that failed to load here (END, with the cause); also KServe V1's `name`/`ready`."""
    table = get_pool().table
    numbers = [loaded.number] if pinned else sorted(n for m, n in table.versions if m == model)
    entries = [_version_status(n, "AVAILABLE", "OK", "") for n in numbers]
    if not pinned:
        entries += [
            _version_status(n, "END", "UNKNOWN", cause)
            for (m, n), cause in sorted(table.errors.items())
            if m == model and n not in numbers
        ]
    return jsonio.dumps({"name": model, "ready": True, "model_version_status": entries})


def _version_status(number: int, state: str, code: str, message: str) -> dict:
    return {
        "version": str(number),
        "state": state,
        "status": {"error_code": code, "error_message": message},
    }


def _repository_index(environ: dict, body_reader) -> Reply:
    """Triton's repository index: every model version this replica holds or failed to load."""
    principal = listing_principal(environ)
    body = _read_body(environ, body_reader)
    document = jsonio.loads(body) if body.strip() else {}
    ready_only = bool(document.get("ready")) if isinstance(document, dict) else False
    table = get_pool().table
    entries = [
        {"name": m, "version": str(n), "state": "READY", "reason": ""}
        for m, n in sorted(table.versions)
        if principal.allows_predict(m)
    ]
    for (m, n), cause in sorted(table.errors.items()):
        if (m, n) not in table.versions and principal.allows_predict(m):
            entries.append({"name": m, "version": str(n), "state": "UNAVAILABLE", "reason": cause})
    return Reply(200, triton.index_body(entries, ready_only=ready_only))


def _statistics(models: list[str], only: int | None = None) -> Reply:
    from serving.statistics import version_statistics

    table = get_pool().table
    entries = []
    for model in models:
        counts = version_statistics(model)
        for m, n in sorted(table.versions):
            if m == model and only in (None, n):
                found = counts.get(str(n), {"success": 0, "fail": 0, "seconds": 0.0})
                entries.append({"name": m, "version": n, **found})
    return Reply(200, triton.stats_body(entries))


def _oip(method, match, environ, request_id) -> Reply:
    """A model's readiness, metadata, configuration and statistics."""
    model, version, tail = match["model"], match["version"], match["tail"]
    principal, _ = authenticate_call(environ, model, OIP.name, request_id=request_id)
    _require(method, "GET")
    loaded, route, _ = target_of(model, version, None, environ, principal.prefix)
    if tail == "/ready":
        return Reply(200, oip.ready_body(model))
    if tail == "/stats":
        return _statistics([model], only=loaded.number if version is not None else None)
    if tail == "/config":
        max_batch = route.config["max_batch_size"] if route is not None else 0
        runtime = loaded.runtime
        return Reply(
            200,
            triton.config_body(
                model,
                platform=loaded.platform,
                max_batch_size=max_batch or getattr(runtime, "max_batch_size", 0),
                signature=loaded.signature,
                runtime_info={
                    "xla": getattr(runtime, "xla", None),
                    "xla_error": getattr(runtime, "xla_error", None),
                    "device": getattr(runtime, "device", ""),
                },
            ),
        )
    versions = sorted({str(n) for (m, n) in get_pool().table.versions if m == model}, key=int)
    return Reply(200, oip.model_metadata_body(model, versions, loaded.platform, loaded.signature))
