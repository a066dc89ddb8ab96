"""Who may call a model on the serving path: the key check, scopes and rate limits.

Shared by REST (serving/gateway.py) and gRPC (serving/grpc/calls.py). A refusal is published as
an event (counted per key and deployment, no database write) and raised as a ProtocolError.

The limits are a key's burst, rate and quota, counted by accounts' leased limiter. Every figure
comes from the KeyPrincipal (loaded with the key into the in-process cache), so a request costs
no query; the shared cache is touched only when a lease runs out.
"""

from __future__ import annotations

from django.conf import settings

from accounts.auth_throttle import AuthThrottled
from accounts.key_format import key_from_headers
from accounts.keys import authenticate_key, presented_prefix
from accounts.ratelimits import RateDecision, quota_hit, rate_limit_hit
from accounts.usage import usage_count
from core.addresses import client_ip
from serving.refusals import publish_refusal
from serving.replies import ProtocolError


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


def _check_key(environ: dict, model: str):
    raw = key_from_headers(environ.get("HTTP_AUTHORIZATION"), environ.get("HTTP_X_API_KEY"))
    if raw is None:
        raise _Refused(
            ProtocolError(
                401,
                "an API key is required (Authorization: Bearer <key> or X-API-Key)",
                "not_authenticated",
                [("WWW-Authenticate", "Bearer")],
            ),
            "missing_key",
        )
    principal = _authenticate_from(raw, environ)
    if principal is None:
        raise _Refused(
            ProtocolError(
                401,
                "invalid or expired API key",
                "not_authenticated",
                [("WWW-Authenticate", "Bearer")],
            ),
            "invalid_key",
            presented_prefix(raw),
        )
    if not principal.allows_predict(model):
        raise _Refused(
            ProtocolError(403, f"this key may not call model {model!r}", "permission_denied"),
            "scope",
            principal.prefix,
        )
    decision = check_rate(principal)
    headers = decision.headers() if decision is not None else []
    if decision is not None and not decision.allowed:
        # A spent quota is told apart (its own code), so a client knows waiting a second won't do.
        message = (
            "quota exhausted for this API key"
            if decision.code == "quota_exceeded"
            else "rate limit exceeded for this API key"
        )
        raise _Refused(
            ProtocolError(
                429, message, decision.code, [("Retry-After", decision.retry_after()), *headers]
            ),
            decision.code,
            principal.prefix,
        )
    return principal, headers


def _rate_for(principal) -> str | None:
    """The key's own limit (or its role's ceiling) when it has one, else the predict default."""
    return getattr(principal, "rate_limit", None) or settings.MODELGATE_DEFAULT_RATE_LIMIT or None


def check_rate(principal) -> RateDecision | None:
    """Count this request against the key's burst, rate and quota; the refusal if one refuses,
    else the decision with the least budget left (for the RateLimit headers); None if unlimited.
    Order matters: a request refused by its burst or rate does not spend quota."""
    decisions = []
    for rate in (getattr(principal, "burst_limit", None), _rate_for(principal)):
        if rate:
            decision = rate_limit_hit(principal.prefix, rate)
            if not decision.allowed:
                return decision
            decisions.append(decision)
    quota = getattr(principal, "quota", None)
    if quota:
        decision = quota_hit(principal.prefix, quota)
        if not decision.allowed:
            return decision
        decisions.append(decision)
    usage_count(principal.prefix)
    if not decisions:
        return None
    return min(decisions, key=lambda d: d.remaining)


def _authenticate_from(raw: str, environ: dict):
    """The key's principal; an address whose lookups keep failing gets a 429 before a query.
    The address is read only on a key-cache miss: a cached key never needs it."""
    try:
        return authenticate_key(raw, ip=lambda: client_ip(environ))
    except AuthThrottled as exc:
        raise _Refused(
            ProtocolError(
                429,
                "too many failed API-key attempts from this address",
                "auth_throttled",
                [("Retry-After", str(exc.retry_after))],
            ),
            "auth_throttled",
        ) from None


def listing_principal(environ: dict):
    """The caller of a listing (no model to scope to yet): a valid key, else 401."""
    raw = key_from_headers(environ.get("HTTP_AUTHORIZATION"), environ.get("HTTP_X_API_KEY"))
    try:
        principal = _authenticate_from(raw, environ) if raw is not None else None
    except _Refused as refused:  # an address whose lookups keep failing: 429, as on predict
        raise refused.error from None
    if principal is None:
        raise ProtocolError(
            401,
            "a valid API key is required (Authorization: Bearer <key> or X-API-Key)",
            "not_authenticated",
            [("WWW-Authenticate", "Bearer")],
        )
    return principal
