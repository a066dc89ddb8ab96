"""The route table a request reads: the loaded versions each deployment serves, and their weights.

Immutable: the pool builds a new table and swaps it in with one assignment, so a request never
sees a half-applied deploy. serving/gateway.py's `target_of` resolves a call against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from serving.batching import Batcher


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
