"""The route table a request reads: the loaded versions each deployment serves, and their weights.

Immutable: the pool builds a new table and swaps it in with one assignment, so a request never
sees a half-applied deploy.
"""

from __future__ import annotations

import bisect
import os
import zlib
from dataclasses import dataclass, field

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
