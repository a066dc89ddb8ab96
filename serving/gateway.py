"""The prediction request path, independent of Django's request machinery.

`dispatch(method, path, environ, body)` serves the three wire formats (native, TF Serving v1, Open
Inference Protocol v2). It is called by the lean WSGI front (serving/wsgi_front.py) and by the
Django views, so both give the same answers. The path: authenticate the key (in-process cache),
rate-limit it (shared cache), resolve the deployment from the pool's route table (in memory),
check the body against the signature, optionally answer from the prediction cache, submit rows to
the version's batcher, answer in the caller's protocol, publish an event without waiting. No
database query happens here in the steady state.
"""

from __future__ import annotations

import logging
import re
import time

from django.conf import settings

from core.errors import ServiceError
from serving import inference
from serving.caller_auth import authenticate_call, listing_principal
from serving.constants import PRODUCTION
from serving.pool import get_pool
from serving.protocols import compression, jsonio, native, oip, tfserving, triton
from serving.replies import JSON, ProtocolError, Reply

logger = logging.getLogger(__name__)

SERVER_VERSION = "1.0.0"

NATIVE_RE = re.compile(
    r"^/api/v1/models/(?P<model>[\w.-]+)/deployments/(?P<deployment>[\w-]+)/predict/?$"
)
TFS_RE = re.compile(
    r"^/v1/models/(?P<model>[\w.-]+)"
    r"(?:/versions/(?P<version>\d+)|/labels/(?P<label>[\w-]+))?"
    r"(?P<tail>/metadata|:predict|:classify|:regress)?/?$"
)
OIP_MODEL_RE = re.compile(
    r"^/v2/models/(?P<model>[\w.-]+)(?:/versions/(?P<version>[\w.-]+))?"
    r"(?P<tail>/ready|/infer|/config|/stats)?/?$"
)


def _error(protocol: str, status: int, message: str, code: str, headers=()) -> Reply:
    if protocol == "native":
        body = jsonio.dumps({"error": message, "code": code})
    else:
        body = jsonio.dumps({"error": message})
    return Reply(status, body, list(headers))


def dispatch(method: str, path: str, environ: dict, body_reader) -> Reply | None:
    """Serve a prediction-protocol request; None when `path` is not one of ours."""
    if path.startswith("/v2"):
        protocol = "oip"
    elif path.startswith("/v1/"):
        protocol = "tfserving"
    elif path.startswith("/api/v1/models/") and "/predict" in path:
        protocol = "native"
    else:
        return None
    try:
        reply = _dispatch(protocol, method, path, environ, body_reader)
    except ProtocolError as exc:
        reply = _error(protocol, exc.status, exc.message, exc.code, exc.headers)
    except ServiceError as exc:
        reply = _error(protocol, exc.status, exc.message, exc.code)
    accept = environ.get("HTTP_ACCEPT_ENCODING")
    if accept and reply is not None:
        coding = compression.choose_encoding(accept)
        if coding is not None:  # only when asked: identity stays the zero-cost default
            reply.body = compression.encode_body(reply.body, coding)
            reply.headers = [*reply.headers, ("Content-Encoding", coding)]
        reply.headers = [*reply.headers, ("Vary", "Accept-Encoding")]
    return reply


def _dispatch(protocol, method, path, environ, body_reader) -> Reply | None:
    if protocol == "oip":
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
        return _oip(method, match, environ, body_reader)
    if protocol == "tfserving":
        if path in ("/v1/models", "/v1/models/"):
            _require(method, "GET")
            principal = listing_principal(environ)
            names = [m for m in _served_models() if principal.allows_predict(m)]
            return Reply(200, jsonio.dumps({"models": names}))  # KServe V1's model list
        match = TFS_RE.match(path)
        if match is None:
            raise ProtocolError(404, f"unknown path {path}", "not_found")
        return _tfserving(method, match, environ, body_reader)
    match = NATIVE_RE.match(path)
    if match is None:
        return None
    _require(method, "POST")
    return _native(match, environ, body_reader)


def _require(method: str, allowed: str) -> None:
    if method != allowed:
        raise ProtocolError(
            405,
            f"method {method} not allowed; use {allowed}",
            "method_not_allowed",
            [("Allow", allowed)],
        )


# -- authentication and limits ------------------------------------------------------------------
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


# -- resolution ---------------------------------------------------------------------------------
def _route(model: str, deployment: str):
    pool = get_pool()
    route = pool.table.routes.get((model, deployment))
    if route is None:
        if (model, deployment) in pool.table.loading or not pool.ready:
            failed = pool.table.failed.get((model, deployment))
            message = f"{model}/{deployment} is loading"
            if failed:  # say why, instead of "loading" forever
                causes = "; ".join(f"v{f['version']}: {f['cause']}" for f in failed)
                message = f"{model}/{deployment} failed to load here ({causes}); retrying"
            raise ProtocolError(503, message, "unavailable", [("Retry-After", "1")])
        raise ProtocolError(
            404, f"Servable not found for request: {model}/{deployment}", "not_found"
        )
    return route


def _version(model: str, number: str):
    table = get_pool().table
    try:
        loaded = table.versions.get((model, int(number)))
    except ValueError:
        loaded = None
    if loaded is None:
        raise ProtocolError(
            404, f"Servable not found for request: Specific({model}, {number})", "not_found"
        )
    return loaded


def _target(model, version, label, environ):
    """(loaded version, route or None, variant role) for a version/label/bare model path."""
    if version is not None:
        return _version(model, version), None, "pinned"
    route = _route(model, label or PRODUCTION)
    forced = environ.get("HTTP_X_MODELGATE_VARIANT")
    if forced is not None:
        # A tester pins one serving variant (`v<N>`) of the split, bypassing the weights.
        number = forced.strip().lower().removeprefix("v")
        for loaded, _, role in route.variants:
            if number.isdigit() and loaded.number == int(number):
                return loaded, route, role
        serving = ", ".join(f"v{lv.number}" for lv, _, _ in route.variants)
        raise ProtocolError(
            400,
            f"X-Modelgate-Variant {forced!r} is not a serving variant of {route.model_name}/"
            f"{route.name} (serving: {serving}; use v<N>)",
            "invalid",
        )
    subject = environ.get("HTTP_X_MODELGATE_SUBJECT")
    loaded, role = route.pick(subject or environ.get("_mg_key_prefix"))
    return loaded, route, role


# -- the three protocols ----------------------------------------------------------------------
def _native(match, environ, body_reader) -> Reply:
    started = time.perf_counter()
    model, deployment = match["model"], match["deployment"]
    principal, rate_headers = authenticate_call(environ, model, "native", deployment)
    environ["_mg_key_prefix"] = principal.prefix
    body = _read_body(environ, body_reader)
    target = _target(model, None, deployment, environ)
    _, outputs, request_id, ids = inference.predict(
        "native", target, principal, started, lambda sig: native.parse_predict(body, sig)
    )
    loaded = target[0]
    payload = native.format_predict(
        outputs,
        loaded.signature,
        model=model,
        version=loaded.number,
        deployment=deployment,
        prediction_ids=ids,
    )
    return Reply(200, payload, [("X-Prediction-Id", request_id), *rate_headers])


def _tfserving(method, match, environ, body_reader) -> Reply:
    model, version, label, tail = match["model"], match["version"], match["label"], match["tail"]
    principal, rate_headers = authenticate_call(environ, model, "tfserving", label)
    environ["_mg_key_prefix"] = principal.prefix
    if tail in (":classify", ":regress"):
        raise ProtocolError(501, f"{tail[1:]} is not supported; use :predict", "not_implemented")
    if tail == ":predict":
        _require(method, "POST")
        started = time.perf_counter()
        body = _read_body(environ, body_reader)
        target = _target(model, version, label, environ)
        request, outputs, request_id, _ = inference.predict(
            "tfserving", target, principal, started, lambda sig: tfserving.parse_predict(body, sig)
        )
        payload = tfserving.format_predict(outputs, target[0].signature, request.layout)
        return Reply(200, payload, [("X-Prediction-Id", request_id), *rate_headers])
    _require(method, "GET")
    loaded, _, _ = _target(model, version, label, environ)
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


def _header_length(environ) -> int | None:
    value = environ.get("HTTP_INFERENCE_HEADER_CONTENT_LENGTH")
    try:
        return int(value) if value is not None else None
    except ValueError:
        raise ProtocolError(400, "invalid Inference-Header-Content-Length", "invalid") from None


def _oip(method, match, environ, body_reader) -> Reply:
    model, version, tail = match["model"], match["version"], match["tail"]
    principal, rate_headers = authenticate_call(environ, model, "oip")
    environ["_mg_key_prefix"] = principal.prefix
    if tail == "/infer":
        _require(method, "POST")
        started = time.perf_counter()
        body = _read_body(environ, body_reader)
        header_length = _header_length(environ)
        target = _target(model, version, None, environ)
        request, outputs, request_id, _ = inference.predict(
            "oip",
            target,
            principal,
            started,
            lambda sig: oip.parse_infer(body, header_length, sig),
        )
        loaded = target[0]
        payload, headers = oip.format_infer(
            model, str(loaded.number), request, outputs, loaded.signature
        )
        headers = dict(headers)
        content_type = headers.pop("Content-Type", JSON)
        return Reply(
            200,
            payload,
            [*headers.items(), ("X-Prediction-Id", request_id), *rate_headers],
            content_type,
        )
    _require(method, "GET")
    loaded, route, _ = _target(model, version, None, environ)
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
                platform=_platform(loaded),
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
    return Reply(200, oip.model_metadata_body(model, versions, _platform(loaded), loaded.signature))


def _platform(loaded) -> str:
    return "tensorflow_savedmodel" if loaded.fmt == "savedmodel" else "tensorflow_keras"
