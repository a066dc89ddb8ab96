"""What the model-listing RPCs answer (RepositoryIndex, ModelStatistics, versions, platform):
read from this process's route table and its Prometheus counters, never from the database."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from serving import telemetry
from serving.pool import get_pool
from serving.replies import ProtocolError


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
    return "tensorflow_savedmodel" if loaded.fmt == "savedmodel" else "tensorflow_keras"


def versions_of(model: str) -> list[str]:
    """Every version of `model` loaded in this process, oldest first."""
    return [str(n) for n in sorted(n for (m, n) in get_pool().table.versions if m == model)]


def index(principal) -> list[tuple[str, str, str, str]]:
    """(name, version, state, reason) of every model the key may call: loaded versions READY,
    deployments still loading (or failing to load) UNAVAILABLE with why."""
    table = get_pool().table
    entries = [
        (model, str(number), "READY", "")
        for (model, number) in sorted(table.versions)
        if principal.allows_predict(model)
    ]
    for model, deployment in sorted(table.loading):
        if principal.allows_predict(model):
            entries.append((model, "", "UNAVAILABLE", f"deployment {deployment} is loading"))
    return entries


def _counts() -> dict[tuple[str, str], dict[str, float]]:
    totals: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for metric in (telemetry.REQUESTS, telemetry.DURATION, telemetry.CACHE_HITS):
        for family in metric.collect():
            for sample in family.samples:
                key = (sample.labels.get("model", ""), sample.labels.get("version", ""))
                if sample.name == "modelgate_requests_total":
                    outcome = "success" if sample.labels.get("status") == "200" else "failed"
                    totals[key][outcome] += sample.value
                elif sample.name == "modelgate_request_duration_seconds_sum":
                    totals[key]["seconds"] += sample.value
                elif sample.name == "modelgate_cache_hits_total":
                    totals[key]["cache_hits"] += sample.value
    return totals


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
    counts = _counts()
    result = []
    for name, number in loaded:
        if not principal.allows_predict(name):
            continue
        row = counts.get((name, number), {})
        result.append(
            VersionStats(
                model=name,
                version=number,
                success=int(row.get("success", 0)),
                failed=int(row.get("failed", 0)),
                cache_hits=int(row.get("cache_hits", 0)),
                duration_ns=int(row.get("seconds", 0.0) * 1e9),
            )
        )
    return result
