"""The route table a request reads: the loaded versions each deployment serves, and their weights.

Immutable: the pool builds a new table and swaps it in with one assignment, so a request never
sees a half-applied deploy.
"""

from __future__ import annotations

import bisect
import os
import zlib
from dataclasses import dataclass, field
from typing import NamedTuple

from serving.batching import Batcher
from serving.constants import PRODUCTION
from serving.replies import ProtocolError


@dataclass(frozen=True)
class LoadedVersion:
    """A version as one deployment serves it: its runtime behind that deployment's batcher."""

    model_name: str
    number: int
    version_id: int
    fmt: str
    signature: dict
    runtime: object
    batcher: Batcher

    @property
    def platform(self) -> str:
        """The OIP / Triton platform name (`GET /v2/models/<m>`, ModelMetadata, config)."""
        return "tensorflow_savedmodel" if self.fmt == "savedmodel" else "tensorflow_keras"


@dataclass(frozen=True)
class Route:
    """What a deployment serves right now: variants by weight, plus an optional shadow."""

    model_name: str
    name: str
    deployment_id: int
    config: dict
    variants: tuple[tuple[LoadedVersion, int, str], ...]
    cumulative: tuple[int, ...]
    shadow: LoadedVersion | None = None

    def pick(self, subject: str | None) -> tuple[LoadedVersion, str]:
        """Choose a variant by weight, sticky for a subject (same subject, same variant)."""
        if len(self.variants) == 1:
            loaded, _, role = self.variants[0]
            return loaded, role
        total = self.cumulative[-1]
        if subject:
            point = zlib.crc32(f"{self.deployment_id}:{subject}".encode()) % total
        else:
            point = int.from_bytes(os.urandom(4)) % total
        index = bisect.bisect_right(self.cumulative, point)
        loaded, _, role = self.variants[index]
        return loaded, role

    def primary(self) -> LoadedVersion:
        return self.variants[0][0]


@dataclass(frozen=True)
class RouteTable:
    epoch: str = ""
    routes: dict = field(default_factory=dict)  # (model, deployment) -> Route
    versions: dict = field(default_factory=dict)  # (model, number) -> LoadedVersion
    loading: frozenset = frozenset()  # (model, deployment) whose versions failed or are loading
    errors: dict = field(default_factory=dict)  # (model, number) -> load error message
    # (model, deployment) -> [{"version", "cause"}]: wanted versions that failed to load here;
    # such a deployment keeps its previous route when it had one.
    failed: dict = field(default_factory=dict)


class Target(NamedTuple):
    """What one call runs: the loaded version, its route (None for a pinned version) and the
    variant's role (production, canary, challenger, pinned...)."""

    loaded: LoadedVersion
    route: Route | None
    role: str


def resolve(pool, model: str, version, label, *, variant=None, subject=None) -> Target:
    """The target of a version (`/versions/<n>`), a label (a deployment) or a bare model (its
    production deployment). `variant` (`v<N>`, X-Modelgate-Variant) pins one serving variant
    past the weights; `subject` keeps a caller on one variant."""
    if version is not None:
        return Target(_version(pool.table, model, version), None, "pinned")
    route = _route(pool, model, label or PRODUCTION)
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
    loaded, role = route.pick(subject)
    return Target(loaded, route, role)


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


def _version(table: RouteTable, model: str, number: str) -> LoadedVersion:
    try:
        loaded = table.versions.get((model, int(number)))
    except ValueError:
        loaded = None
    if loaded is None:
        raise ProtocolError(
            404, f"Servable not found for request: Specific({model}, {number})", "not_found"
        )
    return loaded
