"""Rollout status: which live serving replicas serve a deployment's current state, and which lag.

Read from the replicas' shared reports (serving/replicas.py), compared with the variants in the
database. A replica is up to date when the traffic it routes (versions, weights, roles; shadows
aside) equals the deployment's. Load failures are grouped by version and cause, so every face
(API, deployment page, /readyz, alerts) says the same "failed to load on N replicas: <cause>".
"""

from __future__ import annotations

import time
from collections.abc import Callable

from serving.constants import VariantRole
from serving.models import Deployment
from serving.replicas import replicas_live


def _desired(deployment: Deployment) -> list[dict]:
    return sorted(
        (
            {"version": v.version.number, "weight": v.weight, "role": v.role}
            for v in deployment.variants.select_related("version")
            if v.role != VariantRole.SHADOW and v.weight > 0
        ),
        key=lambda s: (s["version"], s["role"]),
    )


def failure_summaries(replicas: list[dict], key: str) -> list[dict]:
    """`[{"version", "cause", "replicas", "message"}]` for one `model/deployment` key."""
    grouped: dict[tuple[int, str], list[str]] = {}
    for doc in replicas:
        for failure in doc.get("deployments", {}).get(key, {}).get("failures", []):
            grouped.setdefault((failure["version"], failure["cause"]), []).append(doc["replica"])
    return [
        {
            "version": version,
            "cause": cause,
            "replicas": len(names),
            "message": f"v{version} failed to load on {len(names)} "
            f"replica{'s' if len(names) != 1 else ''}: {cause}",
        }
        for (version, cause), names in sorted(grouped.items())
    ]


def load_failure_messages() -> list[str]:
    """Every deployment's load failures across live replicas: "m/d: vN failed to load on ..."."""
    documents = replicas_live()
    keys = sorted({key for doc in documents for key in doc.get("deployments", {})})
    return [
        f"{key}: {summary['message']}"
        for key in keys
        for summary in failure_summaries(documents, key)
    ]


def deployment_rollout_status(*, deployment: Deployment) -> dict:
    """Every live replica with its epoch, what it serves for `deployment`, and its failures."""
    key = f"{deployment.model.name}/{deployment.name}"
    desired = _desired(deployment)
    documents = replicas_live()
    replicas = []
    for doc in documents:
        mine = doc.get("deployments", {}).get(key, {})
        serving = sorted(mine.get("serving", []), key=lambda s: (s["version"], s["role"]))
        replicas.append(
            {
                "replica": doc["replica"],
                "host": doc.get("host", ""),
                "epoch": doc.get("epoch", ""),
                "reported_at": doc.get("reported_at"),
                "serving": serving,
                # Loaded versions of this model; XLA off says why (e.g. string tensors).
                "loaded": [
                    {k: entry.get(k) for k in ("version", "xla", "xla_error")}
                    for entry in doc.get("loaded", [])
                    if entry["model"] == deployment.model.name
                ],
                "failures": mine.get("failures", []),
                "up_to_date": serving == desired,
            }
        )
    lagging = [r["replica"] for r in replicas if not r["up_to_date"]]
    failures = failure_summaries(documents, key)
    return {
        "model": deployment.model.name,
        "deployment": deployment.name,
        "desired": desired,
        # Zero replicas is not "landed": nothing serves the new state yet.
        "converged": bool(replicas) and not lagging,
        "replicas": replicas,
        "lagging": lagging,
        "load_failures": failures,
        "message": _message(replicas, lagging, failures),
    }


def _message(replicas: list[dict], lagging: list[str], failures: list[dict]) -> str:
    if not replicas:
        return "no serving replica is reporting"
    if failures:
        return "; ".join(f["message"] for f in failures)
    if lagging:
        return f"{len(lagging)} of {len(replicas)} replicas still load the new state"
    return f"all {len(replicas)} live replicas serve the current state"


def deployment_rollout_wait(
    *,
    deployment: Deployment,
    timeout: float,
    interval: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Poll the rollout status until every live replica serves the current state.

    Returns early when every lagging replica reports a load failure (waiting cannot help);
    the caller tells converged, failed and timed out apart by `converged` and `load_failures`.
    """
    deadline = clock() + timeout
    while True:
        status = deployment_rollout_status(deployment=deployment)
        lagging = [r for r in status["replicas"] if not r["up_to_date"]]
        stuck = bool(lagging) and all(r["failures"] for r in lagging)
        if status["converged"] or stuck or clock() >= deadline:
            status["timed_out"] = not status["converged"] and not stuck
            return status
        sleep(interval)
