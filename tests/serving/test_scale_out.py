"""Two serving processes and two Celery workers behind a loopback load balancer, on one machine:
rollbacks reach both under load without a failed request, limits and the prediction cache are
shared, prediction logs from both land in one place, and a killed process sheds its load.

One set of processes serves the whole module (starting them is most of its cost); the data they
serve is committed once and flushed at the end, as a transactional test would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
import requests
from django.conf import settings

from tests.support.loadbalancer import LoadBalancer
from tests.support.servers import ROOT, server_env, start_server

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]

NATIVE = "/api/v1/models/churn/deployments/production/predict"
OIP = "/v2/models/churn/infer"
ROW = [0.1, 0.2, 0.3, 0.4]
needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="limits, the prediction cache and the event stream are shared through Redis: "
    "set REDIS_URL (CI does) to run this",
)


def _oip_body(row):
    return {"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": row}]}


class Cluster:
    def __init__(self, servers, workers, balancer, key, alice, worker_logs=()):
        self.worker_logs = list(worker_logs)
        self.servers, self.workers, self.lb, self.key, self.alice = (
            servers,
            workers,
            balancer,
            key,
            alice,
        )

    def post(self, base: str, path: str, body: dict, key: str | None = None):
        return requests.post(
            base + path,
            json=body,
            headers={"Authorization": f"Bearer {key or self.key}"},
            timeout=15,
        )


def _start_worker(tmp_path, name: str) -> subprocess.Popen:
    log = open(tmp_path / f"worker-{name}.log", "wb")  # noqa: SIM115 (closed with the process)
    cmd = [sys.executable, "-m", "celery", "-A", "console", "worker", "-Q", "default"]
    cmd += ["-c", "1", "--pool", "solo", "-n", f"{name}@%h", "--loglevel", "INFO"]
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=server_env(MODELGATE_POOL_AUTOSTART="0"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory, request):
    from django.core.management import call_command

    from accounts.services import api_key_create, user_create
    from registry.services import version_register
    from serving.deploy import deployment_deploy
    from tests.support.validated import mark_validated

    tmp_path = tmp_path_factory.mktemp("scale")
    keras_v1 = request.getfixturevalue("keras_model_file")
    keras_v2 = request.getfixturevalue("keras_model_file_v2")
    processes, servers, balancer = [], [], None
    with django_db_blocker.unblock():
        # The servers read the artifact store from settings (the per-test tmp dirs don't apply).
        settings.MODELGATE_ARTIFACT_ROOT = tmp_path / "artifacts"
        alice = user_create(username="alice", password="correct horse battery", role="deployer")
        for path in (keras_v1, keras_v2):
            version = version_register(
                model_name="churn", upload=path, filename=path.name, actor=alice
            )
            mark_validated(version, actor=alice)
        for number in (1, 2):  # v2 live, v1 warm behind it: the rollback target
            deployment_deploy(
                model_name="churn",
                deployment_name="production",
                version_number=number,
                actor=alice,
                reason=f"v{number}",
            )
        _, key = api_key_create(user=alice, name="load", scopes=["predict"])
        env = {"MODELGATE_LOG_FORMAT": "json", "MODELGATE_ACCESS_LOG": "1", "threads": 8}
        try:
            processes += [_start_worker(tmp_path, f"w{i}") for i in (1, 2)]
            with ThreadPoolExecutor(2) as pool:
                servers = list(pool.map(lambda _: start_server(tmp_path, **env), range(2)))
            balancer = LoadBalancer([s.port for s in servers])
            logs = [tmp_path / f"worker-w{i}.log" for i in (1, 2)]
            yield Cluster(servers, processes, balancer, key, alice, logs)
        finally:
            if balancer is not None:
                balancer.stop()
            for server in servers:
                server.stop()
            for proc in processes:
                proc.terminate()
            for proc in processes:
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            call_command("flush", interactive=False, verbosity=0)


def _hammer(cluster, seconds: float, threads: int = 6) -> list[tuple[float, int, int, str]]:
    """(time, status, version, upstream) of every native predict sent through the balancer."""
    results, lock, stop = [], threading.Lock(), threading.Event()

    def loop():
        session = requests.Session()
        headers = {"Authorization": f"Bearer {cluster.key}"}
        while not stop.is_set():
            try:
                r = session.post(
                    cluster.lb.url + NATIVE, json={"instances": [ROW]}, headers=headers, timeout=15
                )
                status, version = r.status_code, (r.json().get("version", -1) if r.ok else -1)
                upstream = r.headers.get("X-Upstream", "")
            except requests.RequestException:
                status, version, upstream = 0, -1, ""
            with lock:
                results.append((time.monotonic(), status, version, upstream))

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for thread in pool:
        thread.start()
    yield_at = time.monotonic() + seconds
    while time.monotonic() < yield_at:
        time.sleep(0.05)
    stop.set()
    for thread in pool:
        thread.join(20)
    return results


def _served_version(cluster, server) -> int:
    response = cluster.post(server.url, NATIVE, {"instances": [ROW]})
    response.raise_for_status()
    return response.json()["version"]


def _prediction_logs(request_ids: set[str], timeout: float = 20.0) -> dict:
    """Wait until the workers (or, without Redis, the servers) have written these predictions."""
    from monitoring.models import PredictionLog
    from monitoring.tasks import drain_prediction_stream

    deadline = time.monotonic() + timeout
    rows = {}
    while time.monotonic() < deadline:
        if settings.REDIS_URL:
            drain_prediction_stream.delay()  # beat's job; either worker takes it
        rows = {r.request_id: r for r in PredictionLog.objects.filter(request_id__in=request_ids)}
        if len(rows) == len(request_ids):
            return rows
        time.sleep(0.3)
    raise AssertionError(f"{len(request_ids) - len(rows)} prediction(s) never logged")


# The one test marked for the database: the mark is what makes pytest-django create the test
# database, which the module fixture then fills and commits to for the processes to share.
@pytest.mark.django_db
def test_it_runs_two_ready_serving_processes_and_two_workers(cluster):
    for server in cluster.servers:
        body = requests.get(server.url + "/readyz", headers={"Host": "localhost"}, timeout=5).json()
        assert body["checks"]["serving"]["detail"] == "1 deployment(s) loaded and warmed"
    deadline = time.monotonic() + 30
    logs = [p.args for p in cluster.workers]
    while time.monotonic() < deadline:
        ready = [w for w in cluster.worker_logs if b" ready." in w.read_bytes()]
        if len(ready) == 2:
            break
        time.sleep(0.2)
    assert len(ready) == 2, logs
    assert all(p.poll() is None for p in cluster.workers)


def test_it_spreads_load_and_rolls_back_both_processes(cluster, django_db_blocker):
    from serving.deploy import deployment_rollback

    for server in cluster.servers:
        assert _served_version(cluster, server) == 2
    seen: dict[int, float] = {}

    def watch(rolled_back_at: float):
        while len(seen) < 2 and time.monotonic() - rolled_back_at < 60:
            for server in cluster.servers:
                if server.port not in seen and _served_version(cluster, server) == 1:
                    seen[server.port] = time.monotonic() - rolled_back_at
            time.sleep(0.02)

    def rollback_midway():
        time.sleep(1.0)
        with django_db_blocker.unblock():
            deployment_rollback(
                model_name="churn",
                deployment_name="production",
                actor=cluster.alice,
                reason="rollback under load",
            )
        watch(time.monotonic())

    thread = threading.Thread(target=rollback_midway)
    thread.start()
    results = _hammer(cluster, seconds=4.0)
    thread.join(90)

    assert len(results) > 50
    failures = [r for r in results if r[1] != 200]
    assert failures == [], f"{len(failures)} failed requests, e.g. {failures[:3]}"
    assert {r[3] for r in results} == {str(s.port) for s in cluster.servers}
    assert sorted(seen) == sorted(s.port for s in cluster.servers), seen
    # How fast each process swaps is measured, not asserted: `seen` holds the seconds.


def test_it_logs_predictions_from_both_processes_in_one_place_with_their_request_ids(
    cluster, django_db_blocker
):
    answers = [cluster.post(cluster.lb.url, OIP, _oip_body(ROW)) for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 10
    by_id = {a.headers["X-Prediction-Id"]: a.headers["X-Upstream"] for a in answers}
    assert len(set(by_id.values())) == 2
    with django_db_blocker.unblock():
        rows = _prediction_logs(set(by_id))
    assert {row.model for row in rows.values()} == {"churn"}
    # The same id is on the serving process's own JSON access log line.
    for server in cluster.servers:
        lines = [json.loads(x) for x in server.log.read_text().splitlines() if x.startswith("{")]
        logged = {x["request_id"] for x in lines if x["logger"] == "modelgate.access"}
        mine = {rid for rid, port in by_id.items() if port == str(server.port)}
        assert mine and mine <= logged


@needs_redis
def test_it_holds_rate_limits_and_quotas_across_both_processes(cluster, django_db_blocker):
    from accounts.services import api_key_create

    with django_db_blocker.unblock():
        _, limited = api_key_create(
            user=cluster.alice, name="rate", scopes=["predict"], rate_limit="12/m"
        )
        _, quota = api_key_create(user=cluster.alice, name="quota", scopes=["predict"], quota="7/d")
    answers = [
        cluster.post(cluster.lb.url, NATIVE, {"instances": [ROW]}, limited) for _ in range(20)
    ]
    assert sum(a.status_code == 200 for a in answers) == 12
    assert {a.headers["X-Upstream"] for a in answers[:12]} == {str(s.port) for s in cluster.servers}
    assert answers[-1].status_code == 429 and answers[-1].json()["code"] == "rate_limited"
    answers = [cluster.post(cluster.lb.url, NATIVE, {"instances": [ROW]}, quota) for _ in range(10)]
    assert sum(a.status_code == 200 for a in answers) == 7
    assert answers[-1].json()["code"] == "quota_exceeded"


@needs_redis
def test_it_shares_the_prediction_cache_between_processes(cluster, django_db_blocker):
    from serving.deploy import deployment_configure
    from serving.models import Deployment

    with django_db_blocker.unblock():
        deployment_configure(
            deployment=Deployment.objects.get(model__name="churn", name="production"),
            actor=cluster.alice,
            changes={"cache_ttl_seconds": 60},
        )
    time.sleep(1.0)  # both processes pick up the new config (epoch polling at 0.1 s)
    row = [0.9, 0.8, 0.7, os.getpid() % 97 / 100]
    first = cluster.post(cluster.servers[0].url, OIP, _oip_body(row))
    second = cluster.post(cluster.servers[1].url, OIP, _oip_body(row))
    assert first.status_code == second.status_code == 200
    assert first.json()["outputs"] == second.json()["outputs"]
    ids = {first.headers["X-Prediction-Id"], second.headers["X-Prediction-Id"]}
    with django_db_blocker.unblock():
        rows = _prediction_logs(ids)
    assert rows[first.headers["X-Prediction-Id"]].cache_hit is False
    assert rows[second.headers["X-Prediction-Id"]].cache_hit is True


def test_a_killed_serving_process_sheds_its_load_to_the_other(cluster):
    # Last in the module: it kills one of the two servers.
    victim, survivor = cluster.servers
    killed = {}

    def kill_midway():
        time.sleep(1.0)
        # granian serves from a worker process: kill it and its parent, as an OOM kill would.
        family = [*psutil.Process(victim.proc.pid).children(recursive=True), victim.proc]
        killed["at"] = time.monotonic()
        for proc in family:
            os.kill(proc.pid, signal.SIGKILL)

    thread = threading.Thread(target=kill_midway)
    thread.start()
    results = _hammer(cluster, seconds=3.0)
    thread.join()
    failures = [r for r in results if r[1] != 200]
    # Only what was in flight on the victim may fail: at most one request per client thread.
    assert len(failures) <= 6, failures
    assert all(t <= killed["at"] + 0.5 for t, *_ in failures), failures
    after = [r for r in results if r[0] > killed["at"] + 0.5]
    assert len(after) > 20
    assert {r[3] for r in after} == {str(survivor.port)}
    assert all(r[1] == 200 for r in after)
