"""One predict call, for every protocol, REST and gRPC: who may make it, which version answers it,
and the call itself, independent of Django's request machinery.

A REST predict (`predict`, the same for native, TF Serving v1 and Open Inference Protocol v2; the
WSGI front hands it over): authenticate the key (in-process cache) and count it against its limits
(leased on the shared cache), read the body, resolve the target from the pool's route table (in
memory), parse the body in the caller's protocol, then `PredictCall` (gRPC's predicts too): check
the feeds against the signature, answer from the prediction cache or the version's batcher,
publish the event without waiting, mirror to the shadow; last, format the answer in the caller's
protocol. No database query happens here in the steady state. docs/architecture.md, "Request
path", walks it. The protocols' other paths (status, metadata, listings) are serving/listings.py.
"""

from __future__ import annotations

import bisect
import os
import time
import zlib

from django.conf import settings

from accounts.auth_throttle import AuthThrottled
from accounts.keys import authenticate_key, key_from_headers, presented_prefix
from accounts.ratelimits import RateDecision, quota_hit, rate_limit_hit, usage_count
from core.addresses import client_ip
from core.errors import ServiceError
from serving import inference, shadow
from serving import pool as pool_module
from serving.constants import PRODUCTION
from serving.protocols import compression
from serving.protocols.table import NATIVE, NATIVE_RE, OIP, OIP_MODEL_RE, TFS_MODEL_RE, HttpCall
from serving.refusals import publish_refusal
from serving.replies import ProtocolError, Reply
from serving.routes import LoadedVersion, Route, Target


def named_predict(protocol, path: str) -> tuple[str, str | None, str | None] | None:
    """(model, version, label) when `path` is a predict of `protocol`, else None (a native path
    names its deployment as the label)."""
    if protocol is NATIVE:
        match = NATIVE_RE.match(path)
        return (match["model"], None, match["deployment"]) if match else None
    if protocol is OIP:
        match = OIP_MODEL_RE.match(path)
        if match is None or match["tail"] != "/infer":
            return None
        return match["model"], match["version"], None
    match = TFS_MODEL_RE.match(path)
    if match is None or match["tail"] != ":predict":
        return None
    return match["model"], match["version"], match["label"]


def require(method: str, allowed: str) -> None:
    if method != allowed:
        raise ProtocolError(
            405,
            f"method {method} not allowed; use {allowed}",
            "method_not_allowed",
            [("Allow", allowed)],
        )


def predict(protocol, method, model, version, label, environ, body_reader, request_id) -> Reply:
    """A REST predict on `model` (a version, a label or its production deployment)."""
    started = time.perf_counter()
    if protocol is NATIVE:
        require(method, "POST")  # before the key check, unlike the other two (as it always was)
    principal, rate_headers = authenticate_call(environ, model, protocol.name, label, request_id)
    require(method, "POST")
    body = read_body(environ, body_reader)
    target = target_of(model, version, label, environ, principal.prefix)
    with PredictCall(protocol.name, target, principal.prefix, request_id, started) as call:
        request = protocol.parse(HttpCall(body, environ), target.loaded.signature)
        result = call.run(request.feeds)
    payload, headers, content_type = protocol.format(result, request)
    return Reply(
        200, payload, [*headers, ("X-Prediction-Id", request_id), *rate_headers], content_type
    )


def read_body(environ: dict, body_reader) -> bytes:
    """The request body within the predict limit, inflated when it came compressed."""
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


# -- which version answers ----------------------------------------------------------------------
def target_of(model: str, version, label, environ: dict, key_prefix: str) -> Target:
    """The target of a version (`/versions/<n>`), a label (a deployment) or a bare model (its
    production deployment). X-Modelgate-Variant (`v<N>`) pins one serving variant past the
    weights; X-Modelgate-Subject (else the key: sticky per key) keeps a caller on one variant."""
    # The pool exists after the first request; reading it skips a call on every later one.
    pool = pool_module.current or pool_module.get_pool()
    if version is not None:
        return Target(_version(pool.table.versions, model, version), None, "pinned")
    route = _route(pool, model, label or PRODUCTION)
    variant = environ.get("HTTP_X_MODELGATE_VARIANT")
    if variant is not None:
        number = variant.strip().lower().removeprefix("v")
        for loaded, _, role in route.variants:
            if number.isdigit() and loaded.number == int(number):
                return Target(loaded, route, role)
        serving = ", ".join(f"v{lv.number}" for lv, _, _ in route.variants)
        raise ProtocolError(
            400,
            f"X-Modelgate-Variant {variant!r} is not a serving variant of {route.model_name}/"
            f"{route.name} (serving: {serving}; use v<N>)",
            "invalid",
        )
    loaded, role = _pick(route, environ.get("HTTP_X_MODELGATE_SUBJECT") or key_prefix)
    return Target(loaded, route, role)


def _pick(route: Route, subject: str | None) -> tuple[LoadedVersion, str]:
    """A variant by weight, sticky for a subject (same subject, same variant)."""
    if len(route.variants) == 1:
        loaded, _, role = route.variants[0]
        return loaded, role
    total = route.cumulative[-1]
    if subject:
        point = zlib.crc32(f"{route.deployment_id}:{subject}".encode()) % total
    else:
        point = int.from_bytes(os.urandom(4)) % total
    loaded, _, role = route.variants[bisect.bisect_right(route.cumulative, point)]
    return loaded, role


def _route(pool, model: str, deployment: str) -> Route:
    route = pool.table.routes.get((model, deployment))
    if route is not None:
        return route
    if (model, deployment) in pool.table.loading or not pool.ready:
        failed = pool.table.failed.get((model, deployment))
        message = f"{model}/{deployment} is loading"
        if failed:  # say why, instead of "loading" forever
            causes = "; ".join(f"v{f['version']}: {f['cause']}" for f in failed)
            message = f"{model}/{deployment} failed to load here ({causes}); retrying"
        raise ProtocolError(503, message, "unavailable", [("Retry-After", "1")])
    raise ProtocolError(404, f"Servable not found for request: {model}/{deployment}", "not_found")


def _version(versions: dict, model: str, number: str) -> LoadedVersion:
    try:
        loaded = versions.get((model, int(number)))
    except ValueError:
        loaded = None
    if loaded is None:
        raise ProtocolError(
            404, f"Servable not found for request: Specific({model}, {number})", "not_found"
        )
    return loaded


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
        r = self.result
        failed = inference.Prediction(
            r.protocol, r.request_id, r.loaded, r.route, r.role, r.key_prefix, r.started
        )
        failed.status, failed.error = status, message[:500]
        inference.publish(failed)


# -- who may call: the key, its scopes and its limits -------------------------------------------
# A refusal is published as an event (counted per key and deployment, no database write) and
# raised as a ProtocolError. Every limit comes from the KeyPrincipal (loaded with the key into the
# in-process cache), so a request costs no query; the shared cache is touched only when a lease
# runs out.
def authenticate_call(
    environ: dict,
    model: str,
    protocol: str = "grpc",
    deployment: str | None = None,
    request_id: str = "",
):
    """(principal, RateLimit headers) of an allowed call; a refusal is counted (its event under
    `request_id`, the id the caller's answer carries), then raised."""
    try:
        return _check_key(environ, model)
    except _Refused as refused:
        publish_refusal(
            protocol=protocol,
            model=model,
            deployment=deployment,
            key_prefix=refused.key_prefix,
            status=refused.error.status,
            reason=refused.reason,
            message=refused.error.message,
            request_id=request_id,
        )
        raise refused.error from None


class _Refused(Exception):  # noqa: N818 - internal: carries the ProtocolError and who was refused
    def __init__(self, error: ProtocolError, reason: str, key_prefix: str = ""):
        self.error, self.reason, self.key_prefix = error, reason, key_prefix


_BEARER = [("WWW-Authenticate", "Bearer")]


def _check_key(environ: dict, model: str):
    raw = key_from_headers(environ.get("HTTP_AUTHORIZATION"), environ.get("HTTP_X_API_KEY"))
    if raw is None:
        message = "an API key is required (Authorization: Bearer <key> or X-API-Key)"
        raise _Refused(ProtocolError(401, message, "not_authenticated", _BEARER), "missing_key")
    principal = _authenticate_from(raw, environ)
    if principal is None:
        error = ProtocolError(401, "invalid or expired API key", "not_authenticated", _BEARER)
        raise _Refused(error, "invalid_key", presented_prefix(raw))
    if not principal.allows_predict(model):
        message = f"this key may not call model {model!r}"
        error = ProtocolError(403, message, "permission_denied")
        raise _Refused(error, "scope", principal.prefix)
    decision = check_rate(principal)
    headers = decision.headers() if decision is not None else []
    if decision is not None and not decision.allowed:
        # A spent quota is told apart (its own code), so a client knows waiting a second won't do.
        message = (
            "quota exhausted for this API key"
            if decision.code == "quota_exceeded"
            else "rate limit exceeded for this API key"
        )
        retry = [("Retry-After", decision.retry_after()), *headers]
        raise _Refused(
            ProtocolError(429, message, decision.code, retry), decision.code, principal.prefix
        )
    return principal, headers


def check_rate(principal) -> RateDecision | None:
    """Count this request against the key's burst, rate (its own, else the predict default) and
    quota; the refusal if one refuses, else the decision with the least budget left (for the
    RateLimit headers); None if unlimited. A request refused by its burst or rate does not spend
    quota."""
    decisions = []
    rate = principal.rate_limit or settings.MODELGATE_DEFAULT_RATE_LIMIT or None
    for limit in (principal.burst_limit, rate):
        if limit:
            decision = rate_limit_hit(principal.prefix, limit)
            if not decision.allowed:
                return decision
            decisions.append(decision)
    if principal.quota:
        decision = quota_hit(principal.prefix, principal.quota)
        if not decision.allowed:
            return decision
        decisions.append(decision)
    usage_count(principal.prefix)
    return min(decisions, key=lambda d: d.remaining) if decisions else None


def _authenticate_from(raw: str, environ: dict):
    """The key's principal; an address whose lookups keep failing gets a 429 before a query.
    The address is read only on a key-cache miss: a cached key never needs it."""
    try:
        return authenticate_key(raw, ip=lambda: client_ip(environ))
    except AuthThrottled as exc:
        message = "too many failed API-key attempts from this address"
        retry = [("Retry-After", str(exc.retry_after))]
        raise _Refused(
            ProtocolError(429, message, "auth_throttled", retry), "auth_throttled"
        ) from None


def listing_principal(environ: dict):
    """The caller of a listing (no model to scope to yet): a valid key, else 401."""
    raw = key_from_headers(environ.get("HTTP_AUTHORIZATION"), environ.get("HTTP_X_API_KEY"))
    try:
        principal = _authenticate_from(raw, environ) if raw is not None else None
    except _Refused as refused:  # an address whose lookups keep failing: 429, as on predict
        raise refused.error from None
    if principal is None:
        message = "a valid API key is required (Authorization: Bearer <key> or X-API-Key)"
        raise ProtocolError(401, message, "not_authenticated", _BEARER)
    return principal
