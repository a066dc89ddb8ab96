"""What the model-listing RPCs answer (RepositoryIndex, ModelStatistics, versions, platform):
read from this process's route table and its Prometheus counters (serving/statistics.py, as the
REST statistics extension), never from the database."""

from __future__ import annotations

from dataclasses import dataclass

from serving.pool import get_pool
from serving.replies import ProtocolError
from serving.statistics import version_statistics


@dataclass(frozen=True, slots=True)
class VersionStats:
    """Requests one loaded version answered in this process (Triton's per-server statistics)."""

    model: str
    version: str
    success: int
    failed: int
    cache_hits: int
    duration_ns: int  # time from request parsed to answer ready, summed over every request


def platform_of(loaded) -> str:
    """The OIP platform name of a loaded version, as `GET /v2/models/<m>` reports it."""
    return loaded.platform


def versions_of(model: str) -> list[str]:
    """Every version of `model` loaded in this process, oldest first."""
    return [str(n) for n in sorted(n for (m, n) in get_pool().table.versions if m == model)]


def index(principal) -> list[tuple[str, str, str, str]]:
    """(name, version, state, reason) of every model version the key may call, as REST's
    repository index: loaded ones READY, ones that failed to load UNAVAILABLE with the cause."""
    table = get_pool().table
    entries = [
        (model, str(number), "READY", "")
        for (model, number) in sorted(table.versions)
        if principal.allows_predict(model)
    ]
    for (model, number), cause in sorted(table.errors.items()):
        if (model, number) not in table.versions and principal.allows_predict(model):
            entries.append((model, str(number), "UNAVAILABLE", str(cause)))
    return entries


def statistics(principal, model: str, version: str) -> list[VersionStats]:
    """Statistics of the loaded versions the key may call, narrowed to `model` / `version`."""
    table = get_pool().table
    loaded = [
        (m, str(n))
        for (m, n) in sorted(table.versions)
        if (not model or m == model) and (not version or str(n) == version)
    ]
    if model and not loaded:
        what = f"{model} version {version}" if version else model
        raise ProtocolError(404, f"Servable not found for request: {what}", "not_found")
    counts: dict[str, dict] = {}
    result = []
    for name, number in loaded:
        if not principal.allows_predict(name):
            continue
        if name not in counts:
            counts[name] = version_statistics(name)  # the REST statistics extension's figures
        row = counts[name].get(number, {})
        result.append(
            VersionStats(
                model=name,
                version=number,
                success=int(row.get("success", 0)),
                failed=int(row.get("fail", 0)),
                cache_hits=int(row.get("cache_hits", 0)),
                duration_ns=int(row.get("seconds", 0.0) * 1e9),
            )
        )
    return result
