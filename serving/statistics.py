"""Per-version request counts and time of this process, read from its Prometheus counters
(serving/telemetry.py), for Triton's statistics extension. Nothing extra on the request path."""

from __future__ import annotations

from serving import telemetry


def version_statistics(model: str) -> dict[str, dict]:
    """`{version: {"success", "fail", "seconds", "cache_hits"}}` summed over deployments."""
    stats: dict[str, dict] = {}

    def entry(version: str) -> dict:
        return stats.setdefault(version, {"success": 0, "fail": 0, "seconds": 0.0, "cache_hits": 0})

    for metric in telemetry.REQUESTS.collect():
        for sample in metric.samples:
            labels = sample.labels
            if not sample.name.endswith("_total") or labels.get("model") != model:
                continue
            key = "success" if labels.get("status", "").startswith("2") else "fail"
            entry(labels["version"])[key] += int(sample.value)
    for metric in telemetry.DURATION.collect():
        for sample in metric.samples:
            if sample.name.endswith("_sum") and sample.labels.get("model") == model:
                entry(sample.labels["version"])["seconds"] += sample.value
    for metric in telemetry.CACHE_HITS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels.get("model") == model:
                entry(sample.labels["version"])["cache_hits"] += int(sample.value)
    return stats
