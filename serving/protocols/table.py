"""The prediction protocols in one table: the paths each owns, how it parses a predict call,
formats the answer and words an error.

The WSGI front (which requests skip Django), the gateway (which of them are predicts) and the
listings (serving/listings.py), the URL conf (serving/protocol_urls.py), the request-size
middleware and docs/architecture.md ("Request path", checked by a test) all read it. gRPC's two
services declare theirs with the same type beside their servicers (serving/grpc/oip_service.py,
serving/grpc/tfserving_service.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from serving.protocols import jsonio, native, oip, tfserving


@dataclass(slots=True)
class HttpCall:
    """What a REST parser reads: the (inflated) body and the request's WSGI environ."""

    body: bytes
    environ: dict


@dataclass(frozen=True, slots=True)
class Protocol:
    """One wire protocol of the prediction path."""

    name: str  # as events, refusals and metrics record it
    paths: str  # regex of every path it owns, without the leading slash; "" for gRPC
    predict: str  # what a predict call looks like (the docs' table)
    parse: Callable[[Any, dict], Any]  # (call, signature) -> request with `.feeds`
    format: Callable[[Any, Any], Any]  # (inference.Prediction, parsed request) -> the answer
    error: Callable[..., Any]  # the error in the protocol's words


NATIVE = Protocol(
    name="native",
    paths=r"api/v1/models/(?P<model>[\w.-]+)/deployments/(?P<deployment>[\w-]+)/predict/?",
    predict="POST /api/v1/models/<m>/deployments/<d>/predict",
    parse=jsonio.parse_native,
    format=native.answer,
    error=native.error_body,
)
TFSERVING = Protocol(
    name="tfserving",
    paths=r"v1/models(?:/.*)?",
    predict="POST /v1/models/<m>[/versions/<n> or /labels/<d>]:predict",
    parse=jsonio.parse_tfserving,
    format=tfserving.answer,
    error=tfserving.error_body,
)
OIP = Protocol(
    name="oip",
    paths=r"v2(?:/.*)?",
    predict="POST /v2/models/<m>[/versions/<n>]/infer",
    parse=oip.parse,
    format=oip.answer,
    error=oip.error_body,
)
REST = (NATIVE, TFSERVING, OIP)

# One alternation, one match per request: the group that matched names the protocol
# (wsgi_front.protocol_for reads these two).
PATHS = re.compile("^/(?:" + "|".join(f"(?P<{p.name}>{p.paths})" for p in REST) + ")$")
BY_NAME = {p.name: p for p in REST}

# A model's paths within TF Serving's and OIP's: a predict when `tail` is :predict or /infer.
NATIVE_RE = re.compile(f"^/{NATIVE.paths}$")
TFS_MODEL_RE = re.compile(
    r"^/v1/models/(?P<model>[\w.-]+)"
    r"(?:/versions/(?P<version>\d+)|/labels/(?P<label>[\w-]+))?"
    r"(?P<tail>/metadata|:predict|:classify|:regress)?/?$"
)
OIP_MODEL_RE = re.compile(
    r"^/v2/models/(?P<model>[\w.-]+)(?:/versions/(?P<version>[\w.-]+))?"
    r"(?P<tail>/ready|/infer|/config|/stats)?/?$"
)
