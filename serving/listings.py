"""The protocols' other paths: everything on a REST protocol's paths that is not a predict.

OIP v2 and Triton: server metadata, liveness and readiness, a model's readiness, metadata,
configuration and statistics, and the repository index. TF Serving v1 (and KServe V1, which reads
the same paths): the model list, a model's status and its signature metadata. Each names a model
checks the caller's key for that model, as a predict does (serving/gateway.py); a listing shows
only the models the key may call. The WSGI front (serving/wsgi_front.py) sends here every
protocol path the gateway's predict does not own.
"""

from __future__ import annotations

from serving import gateway
from serving.pool import get_pool
from serving.protocols import jsonio, oip, tfserving, triton
from serving.protocols.table import OIP, OIP_MODEL_RE, TFS_MODEL_RE, TFSERVING
from serving.replies import ProtocolError, Reply


def answer(protocol, method: str, path: str, environ: dict, body_reader, request_id: str) -> Reply:
    """Serve a path of `protocol` that is not a predict (the front routes predicts to the
    gateway)."""
    if protocol is OIP:
        return _oip_paths(method, path, environ, body_reader, request_id)
    if protocol is TFSERVING:
        return _tfserving_paths(method, path, environ, request_id)
    raise ProtocolError(404, f"unknown path {path}", "not_found")


def _oip_paths(method, path, environ, body_reader, request_id) -> Reply:
    if path in ("/v2", "/v2/"):
        gateway.require(method, "GET")
        return Reply(200, oip.server_metadata_body(oip.SERVER_VERSION))
    if path == "/v2/health/live":
        gateway.require(method, "GET")
        return Reply(200, jsonio.dumps({"live": True}))
    if path == "/v2/health/ready":
        gateway.require(method, "GET")
        if not get_pool().ready:
            raise ProtocolError(503, "server is loading models", "unavailable")
        return Reply(200, oip.ready_body())
    if path in ("/v2/repository/index", "/v2/repository/index/"):
        gateway.require(method, "POST")
        return _repository_index(environ, body_reader)
    if path in ("/v2/models/stats", "/v2/models/stats/"):
        gateway.require(method, "GET")
        principal = gateway.listing_principal(environ)
        return _statistics([m for m in _served_models() if principal.allows_predict(m)])
    match = OIP_MODEL_RE.match(path)
    if match is None or match["tail"] == "/infer":  # /infer is the gateway's
        raise ProtocolError(404, f"unknown path {path}", "not_found")
    return _oip_model(method, match, environ, request_id)


def _tfserving_paths(method, path, environ, request_id) -> Reply:
    if path in ("/v1/models", "/v1/models/"):
        gateway.require(method, "GET")
        principal = gateway.listing_principal(environ)
        names = [m for m in _served_models() if principal.allows_predict(m)]
        return Reply(200, jsonio.dumps({"models": names}))  # KServe V1's model list
    match = TFS_MODEL_RE.match(path)
    if match is None or match["tail"] == ":predict":  # :predict is the gateway's
        raise ProtocolError(404, f"unknown path {path}", "not_found")
    return _tfserving_model(method, match, environ, request_id)


def _served_models() -> list[str]:
    table = get_pool().table
    return sorted({model for model, _ in table.routes} | {model for model, _ in table.versions})


# -- TF Serving v1 (and KServe V1) ---------------------------------------------------------------
def _tfserving_model(method, match, environ, request_id) -> Reply:
    """TF Serving's status (`/v1/models/<m>[...]`) and metadata; :classify/:regress are 501."""
    model, version, label, tail = match["model"], match["version"], match["label"], match["tail"]
    principal, _ = gateway.authenticate_call(environ, model, TFSERVING.name, label, request_id)
    if tail in (":classify", ":regress"):
        raise ProtocolError(501, f"{tail[1:]} is not supported; use :predict", "not_implemented")
    gateway.require(method, "GET")
    loaded, _, _ = gateway.target_of(model, version, label, environ, principal.prefix)
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


# -- OIP v2 and Triton's extensions --------------------------------------------------------------
def _repository_index(environ: dict, body_reader) -> Reply:
    """Triton's repository index: every model version this replica holds or failed to load."""
    principal = gateway.listing_principal(environ)
    body = gateway.read_body(environ, body_reader)
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


def _oip_model(method, match, environ, request_id) -> Reply:
    """A model's readiness, metadata, configuration and statistics."""
    model, version, tail = match["model"], match["version"], match["tail"]
    principal, _ = gateway.authenticate_call(environ, model, OIP.name, request_id=request_id)
    gateway.require(method, "GET")
    loaded, route, _ = gateway.target_of(model, version, None, environ, principal.prefix)
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
