"""Monitoring benchmark: serving throughput with monitoring on vs off, ingestion rate into
PostgreSQL, and the 7-day monitoring page on a large database vs an empty one.

    .venv/bin/python bench/monitoring.py [--duration 5] [--events 200000] [--skip-serving]

PostgreSQL: DATABASE_URL, or postgres://postgres@127.0.0.1:5432/modelgate_bench (created here).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "postgres://postgres@127.0.0.1:5432/modelgate_bench"


def discard_sink():
    """MODELGATE_EVENT_SINK for the 'monitoring off' server: events go nowhere."""
    return lambda batch: None


# -- serving with monitoring on vs off ---------------------------------------------------------
def serving_part(duration: float) -> None:
    from bench import serving as sb

    use_redis = sb.redis_available("")
    work = Path(tempfile.mkdtemp(prefix="modelgate-bench-mon-"))
    env = sb.configure_env(work / "var", use_redis)
    key, _ = sb.prepare(["small"], work)
    results = {}
    for label in ("off", "on", "off ", "on "):  # interleaved, to even out drift
        run_env = dict(env)
        drainer = None
        if label.strip() == "off":
            run_env["MODELGATE_EVENT_SINK"] = "bench.monitoring.discard_sink"
        elif not use_redis:
            run_env["MODELGATE_EVENT_SINK"] = "monitoring.ingest.database_sink"
        else:
            drainer = subprocess.Popen(
                [sys.executable, "manage.py", "drain_predictions", "--forever"],
                cwd=ROOT,
                env={**os.environ, **run_env},
                stdout=subprocess.DEVNULL,
            )
        proc, port = sb.start_server(run_env, 32)
        try:
            r = sb.drive(port, "small", "batched", key, 64, duration, proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
            if drainer is not None:
                drainer.terminate()
                drainer.wait(10)
        results.setdefault(label.strip(), []).append(r["rps"])
        print(
            f"  monitoring {label.strip():3}  c=64  {r['rps']:8.0f} req/s  p50 {r['p50']:.2f} ms"
            f"  errors {r['errors']}",
            flush=True,
        )
    on, off = statistics.fmean(results["on"]), statistics.fmean(results["off"])
    sink = "Redis stream + drain_predictions" if use_redis else "database sink (SQLite)"
    print(
        f"serving c=64, monitoring on ({sink}) / off: {on:.0f} / {off:.0f} req/s "
        f"= {on / off:.3f} (target >= 0.95)"
    )


# -- PostgreSQL parts (run in a child process with DATABASE_URL set) ---------------------------
def _setup_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(
        {
            "DATABASE_URL": url,
            "REDIS_URL": "",
            "DEBUG": "1",
            "SECRET_KEY": "bench-secret",
            "DJANGO_SETTINGS_MODULE": "console.settings",
            "MODELGATE_VAR_DIR": tempfile.mkdtemp(prefix="modelgate-bench-pg-"),
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE monitoring_predictionlog, monitoring_metricrollup, monitoring_keyrollup "
            "CASCADE"
        )


def ingest_part(n_events: int) -> None:
    from monitoring.ingest import ingest_events
    from serving.events import PredictionEvent

    now = time.time()
    events = [
        PredictionEvent(
            prediction_ids=[f"{i:020x}-0"],
            model="bench",
            deployment="production",
            deployment_id=1,
            version=1 + i % 2,
            version_id=1,
            variant="primary",
            key_prefix=f"k{i % 20}",
            protocol="oip",
            status=200 if i % 100 else 500,
            latency_ms=0.5 + (i % 97) / 10,
            rows=1,
            batch_size=1 + i % 8,
            cache_hit=i % 5 == 0,
            ts=now - (i % 600),
            inputs={"x": [[0.1, 0.2]]} if i % 100 == 0 else None,
        )
        for i in range(n_events)
    ]
    batch = 5000
    started = time.perf_counter()
    for start in range(0, n_events, batch):
        ingest_events(events[start : start + batch])
    elapsed = time.perf_counter() - started
    print(
        f"ingestion into PostgreSQL: {n_events} events in {elapsed:.2f} s = "
        f"{n_events / elapsed:,.0f} events/s (target >= 20,000), batches of {batch}"
    )


def _render(client, url: str, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, {"window": "7d"})
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return statistics.median(times[1:]) * 1000


def page_part() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from accounts.services import user_create
    from monitoring.histograms import N_BUCKETS
    from registry.models import RegisteredModel
    from serving.models import Deployment, DeploymentEvent

    get_user_model().objects.filter(username="pagebench").delete()
    user = user_create(
        username="pagebench",
        password="bench-password-123",  # noqa: S106
        role="admin",
    )
    model, _ = RegisteredModel.objects.get_or_create(name="pagebench", defaults={"owner": user})
    dep, _ = Deployment.objects.get_or_create(model=model, name="production")
    if not DeploymentEvent.objects.filter(deployment=dep).exists():
        for n in (1, 2):
            DeploymentEvent.objects.create(
                deployment=dep,
                kind="deployed",
                actor_label="bench",
                after=[{"version": n, "weight": 100, "role": "primary"}],
            )
    from django.test.utils import override_settings, setup_test_environment

    setup_test_environment()  # lets the test client's host through ALLOWED_HOSTS
    # Until console/urls.py includes monitoring's pages, use the test URLconf that adds them.
    override_settings(ROOT_URLCONF="tests.monitoring.urls").enable()
    client = Client()
    client.force_login(user)
    url = "/monitoring/pagebench/production/"
    empty_ms = _render(client, url)
    buckets = ", ".join(f"b{i}" for i in range(N_BUCKETS))
    # 7 days x 1440 minutes x 2 versions, 496 events each (~10,000,000 events), spread over
    # buckets 4..8 (1-2 ms); hour and day rollups are their sums, as ingestion writes them.
    values = ", ".join("c / 5" if 4 <= i <= 8 else "0" for i in range(N_BUCKETS))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for unit, resolution, n_steps, c in (
            ("minute", 60, 7 * 1440, 496),
            ("hour", 3600, 7 * 24, 496 * 60),
            ("day", 86400, 8, 496 * 1440),
        ):
            # Identifiers and the bucket list are built here; values are bound parameters.
            sql = f"""
                INSERT INTO monitoring_metricrollup (deployment_id, resolution, bucket_start,
                    version, variant, count, errors, latency_sum_ms, batch_size_sum, rows,
                    cache_hits, {buckets})
                SELECT %s, %s, date_trunc(%s, now()) - (s * %s) * interval '1 second', v,
                       'primary', c, c / 100, c * 1.5, c * 4, c, c / 5, {values}
                FROM generate_series(0, %s - 1) s, (VALUES (1), (2)) vv(v), (SELECT %s AS c) cc
                ON CONFLICT DO NOTHING"""  # noqa: S608
            cursor.execute(sql, [dep.pk, resolution, unit, resolution, n_steps, c])
        cursor.execute(
            """
            INSERT INTO monitoring_predictionlog (request_id, ts, model, deployment,
                deployment_id, version, version_id, variant, key_prefix, protocol, status,
                latency_ms, rows, batch_size, cache_hit, shadow, error)
            SELECT 'pb' || s, now() - (s %% 604800) * interval '1 second', 'pagebench',
                   'production', %s, 1 + s %% 2, 1, 'primary', 'kbench', 'oip', 200, 1.5, 1, 1,
                   false, false, ''
            FROM generate_series(1, 1000000) s ON CONFLICT DO NOTHING""",
            [dep.pk],
        )
        cursor.execute("ANALYZE monitoring_metricrollup; ANALYZE monitoring_predictionlog")
        cursor.execute(
            "SELECT sum(count) FROM monitoring_metricrollup WHERE resolution = 60 "
            "AND deployment_id = %s",
            [dep.pk],
        )
        total_events = cursor.fetchone()[0]
    print(
        f"generated rollups for {total_events:,} events + 1,000,000 logs in "
        f"{time.perf_counter() - started:.1f} s"
    )
    full_ms = _render(client, url)
    print(
        f"7-day monitoring page: {full_ms:.1f} ms with data (target < 300 ms), "
        f"{empty_ms:.1f} ms empty; ratio {full_ms / empty_ms:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--skip-serving", action="store_true")
    parser.add_argument("--part", choices=["ingest", "page"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        _setup_postgres(os.environ.get("DATABASE_URL") or BENCH_DB)
        if args.part == "ingest":
            ingest_part(args.events)
        else:
            page_part()
        return
    print(f"Machine: {os.uname().nodename}, {os.cpu_count()} CPUs")
    if not args.skip_serving:
        serving_part(args.duration)
    for part in ("ingest", "page"):
        subprocess.run(
            [sys.executable, __file__, "--part", part, "--events", str(args.events)],
            check=True,
            cwd=ROOT,
        )


if __name__ == "__main__":
    main()
