"""The process's pool of warmed models and the route table that maps deployments onto them.

A background thread polls the deployment epoch. When it moves, the thread reads every deployment,
loads and warms any version not yet in memory (beside the old ones: requests keep flowing), builds
a new immutable RouteTable and swaps it in with one assignment. Batchers that no route uses any
more are drained and closed; the runtime of each deployment's previous version stays warm so a
rollback is only a table swap. The request path reads `pool.table` and never touches the database.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connections, reset_queries

from serving.batching import Batcher
from serving.constants import VariantRole
from serving.loadstate import LoadBackoff, LoadFailed, cause_of
from serving.routes import LoadedVersion, Route, RouteTable

logger = logging.getLogger(__name__)


class ServingPool:
    """Per-process owner of runtimes, batchers and the route table."""

    def __init__(self, *, poll_interval: float | None = None):
        self.poll_interval = poll_interval or settings.MODELGATE_EPOCH_POLL_SECONDS
        self.resync_interval = settings.MODELGATE_POOL_RESYNC_SECONDS
        self.table = RouteTable()
        self.ready = False
        self._runtimes: dict[tuple[int, int], object] = {}  # (version_id, max_batch) -> runtime
        self._batchers: dict[tuple[int, int, tuple], Batcher] = {}
        self._keep_warm: set[tuple[int, int]] = set()
        self._refresh_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.last_refresh = 0.0
        self.last_swap_seconds = 0.0
        self.last_report = 0.0
        self.backoff = LoadBackoff(
            base=settings.MODELGATE_LOAD_RETRY_BASE_SECONDS,
            cap=settings.MODELGATE_LOAD_RETRY_CAP_SECONDS,
        )

    # -- lifecycle ---------------------------------------------------------------------------
    def ensure_started(self) -> None:
        if self._thread is None:
            with self._refresh_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="pool-sync", daemon=True)
                    self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            _withdraw_report()
        for batcher in list(self._batchers.values()):
            batcher.close(timeout)

    def _run(self) -> None:
        from serving.epoch import epoch_current

        while not self._stop.is_set():
            try:
                epoch = epoch_current()
                now = time.monotonic()
                stale = now - self.last_refresh > self.resync_interval
                retry_at = self.backoff.next_retry_at()
                retry_due = retry_at is not None and now >= retry_at
                if epoch != self.table.epoch or stale or retry_due or not self.last_refresh:
                    self.refresh(epoch=epoch)
                elif now - self.last_report > settings.MODELGATE_REPLICA_REPORT_SECONDS:
                    self.report()
            except Exception:
                logger.exception("serving pool sync failed; keeping the current route table")
            finally:
                close_old_connections()
                reset_queries()  # a background thread's DEBUG query log is never reset
            self._stop.wait(self.poll_interval)
        connections.close_all()  # this thread's own; a dropped test database has no stale session

    # -- the swap ----------------------------------------------------------------------------
    def refresh(self, epoch: str | None = None) -> RouteTable:
        """Re-read deployments, load what is missing, swap the table. Safe to call any time."""
        from serving.epoch import epoch_current

        with self._refresh_lock:
            started = time.monotonic()
            epoch = epoch if epoch is not None else epoch_current()
            snapshot = _read_deployments()
            new_table = self._build(epoch, snapshot)
            old_table, self.table = self.table, new_table
            self.ready = not new_table.loading
            self.last_refresh = time.monotonic()
            self.last_swap_seconds = self.last_refresh - started
            self._retire(old_table, new_table)
        self.report()
        return new_table

    def _build(self, epoch: str, snapshot: list[dict]) -> RouteTable:
        routes, versions, loading, errors, failed = {}, {}, set(), {}, {}
        keep: set[tuple[int, int]] = set()
        wanted: set[tuple[int, int]] = set()
        for dep in snapshot:
            key = (dep["model"], dep["name"])
            config = dep["config"]
            served, shadow = [], None
            for var in dep["variants"] + dep["previous"]:
                wanted.add((var["version_id"], config["max_batch_size"]))
                try:
                    loaded = self._loaded(dep, var, config)
                except Exception as exc:  # a broken artifact must not take the others down
                    # Logged once per real attempt by the backoff, never per poll.
                    cause = exc.args[0] if isinstance(exc, LoadFailed) else cause_of(exc)
                    errors[(dep["model"], var["number"])] = cause
                    if var in dep["variants"]:
                        loading.add(key)
                        failed.setdefault(key, []).append(
                            {"version": var["number"], "cause": cause}
                        )
                    continue
                keep.add((var["version_id"], config["max_batch_size"]))
                if var in dep["previous"]:
                    continue  # warm for a fast rollback, but serves nothing
                versions.setdefault((dep["model"], var["number"]), loaded)
                if var["role"] == VariantRole.SHADOW:
                    shadow = loaded
                elif var["weight"] > 0:
                    served.append((loaded, var["weight"], var["role"]))
            previous_route = self.table.routes.get(key)
            if key in loading and previous_route is not None:
                # The new state cannot load here: the old one keeps serving, warm as it was.
                routes[key] = previous_route
                loading.discard(key)
                for lv, _, _ in previous_route.variants:
                    keep.add((lv.version_id, previous_route.config["max_batch_size"]))
                    versions.setdefault((lv.model_name, lv.number), lv)
                continue
            if served and key not in loading:
                served.sort(key=lambda item: item[2] != VariantRole.PRIMARY)
                cumulative, total = [], 0
                for _, weight, _ in served:
                    total += weight
                    cumulative.append(total)
                routes[key] = Route(
                    dep["model"],
                    dep["name"],
                    dep["id"],
                    config,
                    tuple(served),
                    tuple(cumulative),
                    shadow,
                )
        self._keep_warm = keep
        self.backoff.forget_except(wanted)
        return RouteTable(epoch, routes, versions, frozenset(loading), errors, failed)

    def _loaded(self, dep: dict, var: dict, config: dict) -> LoadedVersion:
        label = f"{dep['model']} v{var['number']}"
        runtime = self._runtime(var, config["max_batch_size"], label=label)
        batch_key = (
            var["version_id"],
            dep["id"],
            (config["max_batch_size"], config["max_delay_ms"], config["max_queue_rows"]),
        )
        batcher = self._batchers.get(batch_key)
        if batcher is None:
            batcher = Batcher(
                runtime.predict,
                max_batch_size=config["max_batch_size"],
                max_delay_ms=config["max_delay_ms"],
                max_queue_rows=config["max_queue_rows"],
                name=f"{dep['model']}/{dep['name']}/v{var['number']}",
            )
            self._batchers[batch_key] = batcher
        return LoadedVersion(
            dep["model"],
            var["number"],
            var["version_id"],
            var["format"],
            var["signature"],
            runtime,
            batcher,
        )

    def _runtime(self, var: dict, max_batch_size: int, *, label: str = ""):
        key = (var["version_id"], max_batch_size)
        runtime = self._runtimes.get(key)
        if runtime is None:
            self.backoff.check(key)  # LoadFailed while a failed version waits for its retry
            try:
                runtime = self._load_runtime(var, max_batch_size)
            except Exception as exc:
                self.backoff.failed(key, label or f"version {var['version_id']}", exc)
                raise
            self.backoff.succeeded(key)
            self._runtimes[key] = runtime
        return runtime

    def _load_runtime(self, var: dict, max_batch_size: int):
        """Load the artifact and warm every bucket (XLA compile): seconds, off the request path."""
        from registry.artifacts import artifact_local_path
        from registry.models import Artifact
        from serving.devices import configure_tensorflow
        from serving.runtime import ModelRuntime

        info = configure_tensorflow()
        path = artifact_local_path(Artifact.objects.get(pk=var["artifact_id"]))
        runtime = ModelRuntime.load(
            path,
            var["format"],
            max_batch_size=max_batch_size,
            device=info.device,
            jit=settings.MODELGATE_XLA,
        )
        runtime.warm_up()
        return runtime

    def _retire(self, old: RouteTable, new: RouteTable) -> None:
        """Drain batchers no route uses any more; unload runtimes nobody keeps warm."""
        in_use = {id(lv.batcher) for lv in new.versions.values()}
        for route in new.routes.values():
            if route.shadow is not None:
                in_use.add(id(route.shadow.batcher))
            in_use.update(id(lv.batcher) for lv, _, _ in route.variants)
        for key, batcher in list(self._batchers.items()):
            if id(batcher) not in in_use and (key[0], key[2][0]) not in self._keep_warm:
                del self._batchers[key]
                batcher.close(timeout=10.0)
        for key in list(self._runtimes):
            if key not in self._keep_warm:
                del self._runtimes[key]

    def stats(self) -> dict:
        return {
            "epoch": self.table.epoch,
            "ready": self.ready,
            "routes": sorted(f"{m}/{d}" for m, d in self.table.routes),
            "loaded_runtimes": len(self._runtimes),
            "last_swap_seconds": round(self.last_swap_seconds, 3),
            "errors": {f"{m} v{n}": e for (m, n), e in self.table.errors.items()},
        }

    def replica_state(self) -> dict:
        """What this replica serves, for the shared report (serving/replicas.py)."""
        table = self.table
        deployments: dict[str, dict] = {}
        for (model, name), route in table.routes.items():
            deployments[f"{model}/{name}"] = {
                "serving": [
                    {"version": lv.number, "weight": weight, "role": role}
                    for lv, weight, role in route.variants
                ],
                "failures": table.failed.get((model, name), []),
            }
        for (model, name), failures in table.failed.items():
            deployments.setdefault(f"{model}/{name}", {"serving": [], "failures": failures})
        loaded = []
        for (model, number), lv in sorted(table.versions.items()):
            runtime = lv.runtime
            loaded.append(
                {
                    "model": model,
                    "version": number,
                    "xla": getattr(runtime, "xla", None),
                    "xla_error": getattr(runtime, "xla_error", None),
                }
            )
        return {
            "epoch": table.epoch,
            "ready": self.ready,
            "deployments": deployments,
            "loaded": loaded,
        }

    def report(self) -> None:
        """Publish `replica_state()` to the shared store; failing to report never stops serving."""
        from serving.replicas import replica_report

        self.last_report = time.monotonic()
        try:
            replica_report(self.replica_state())
        except Exception as exc:  # Redis or disk trouble: the next heartbeat tries again
            logger.warning("could not report this replica's state: %s", exc)


def _withdraw_report() -> None:
    from serving.replicas import replica_withdraw

    try:
        replica_withdraw()
    except Exception as exc:  # shutting down anyway; the TTL removes the report
        logger.warning("could not withdraw this replica's report: %s", exc)


def _read_deployments() -> list[dict]:
    """One consistent read of every deployment, its variants and its previous state."""
    from serving.models import Deployment, DeploymentEvent

    deployments = list(
        Deployment.objects.filter(archived_at__isnull=True)  # archived: nothing to warm
        .select_related("model")
        .prefetch_related("variants__version")
    )
    result = []
    for dep in deployments:
        variants = [_variant_dict(v.version, v.weight, v.role) for v in dep.variants.all()]
        previous = []
        last_change = (
            DeploymentEvent.objects.filter(deployment=dep)
            .exclude(before=[])
            .order_by("-created_at", "-id")
            .first()
        )
        current_numbers = {v["number"] for v in variants}
        if last_change is not None:
            wanted = [
                s["version"] for s in last_change.before if s["version"] not in current_numbers
            ]
            for version in dep.model.versions.filter(number__in=wanted):
                previous.append(_variant_dict(version, 0, VariantRole.CANDIDATE))
        result.append(
            {
                "id": dep.pk,
                "model": dep.model.name,
                "name": dep.name,
                "config": dep.config(),
                "variants": variants,
                "previous": previous,
            }
        )
    return result


def _variant_dict(version, weight: int, role: str) -> dict:
    return {
        "version_id": version.pk,
        "number": version.number,
        "format": version.format,
        "signature": version.signature,
        "artifact_id": version.artifact_id,
        "weight": weight,
        "role": role,
    }


# The process-wide pool once created; the predict path reads it without a call.
current: ServingPool | None = None
_pool_lock = threading.Lock()


def get_pool() -> ServingPool:
    """The process-wide pool (created on first use; the sync thread starts on demand)."""
    global current
    if current is None:
        with _pool_lock:
            if current is None:
                current = ServingPool()
    return current
