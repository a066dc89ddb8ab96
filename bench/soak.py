"""Soak: memory and resources of every serving and worker process under a steady load.

Starts one shape at a time on loopback, deploys a small model (32->256->256->1), drives a steady,
paced load of single-row Open Inference Protocol JSON requests (bodies built by tritonclient)
with two keys (one with the default limit; one limited so that part of its calls are refused
with 429), samples RSS, threads, open files and database connections of every serving and worker
process once a `--sample` period, and prints the growth after the warm-up as ratios, plus the
prediction events published (answers the clients saw), ingested (prediction log rows) and
dropped.

- embedded: what `make run` gives (SQLite, no Redis, DEBUG on; granian 1 x 32 threads; one Celery
  worker with the embedded broker and beat); events are ingested in the serving process.
- production: PostgreSQL + Redis (DATABASE_URL / REDIS_URL; a scratch database `soak_<pid>` and
  the Redis db of --redis-db are created and emptied), granian 2 x 16 threads (docker-compose's
  serving), a Celery worker on `default` (-c 2) and beat; events go through the Redis stream.

    .venv/bin/python bench/soak.py [--shape embedded|production|both] [--minutes 10]
        [--warmup 2] [--sample 60] [--rps 400] [--threads 16]

Targets (issue 15): after the warm-up, RSS grows < 5% (over 30 minutes in a long run),
connections and threads stay bounded, and no event is dropped (or the drop is counted).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import multiprocessing as mp
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from soak_shapes import (  # the bench's own module (bench/ is the script's folder)
    LIMITED_RATE,
    PG_BASE,
    drop_production_database,
    free_port,
    prepare,
    prepare_in_subprocess,
    reset_production_stores,
    shape_env,
    start_processes,
    stop_processes,
    wait_ready,
)

COUNT_LOG = "SELECT count(*) FROM monitoring_predictionlog"


# -- load ---------------------------------------------------------------------------------------
def _client(port, body, plan, start_at, stop_at, results) -> None:
    """Threads of one client process; plan = [(key, requests per second), ...] one per thread."""
    counts: dict[int | str, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(key: str, rate: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {key}", "Content-Length": str(len(body))}
        mine: dict[int | str, int] = {}
        lat: list[float] = []
        next_at = start_at
        while True:
            now = time.time()
            if now >= stop_at:
                break
            if next_at > now:
                time.sleep(next_at - now)
            next_at += 1.0 / rate
            began = time.perf_counter()
            try:
                conn.request("POST", "/v2/models/small/infer", body, headers)
                reply = conn.getresponse()
                reply.read()
                status = reply.status
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__  # counted by kind: a reset is not a timeout
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine[status] = mine.get(status, 0) + 1
            if status == 200 and len(lat) < 200_000:
                lat.append((time.perf_counter() - began) * 1000.0)
        with lock:
            for status, n in mine.items():
                counts[status] = counts.get(status, 0) + n
            latencies.extend(lat)

    pool = [threading.Thread(target=worker, args=item) for item in plan]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    results.put((counts, latencies))


def start_load(port, body, keys, rps, threads, duration) -> tuple[list, mp.Queue]:
    """Two client processes (the client must not be the bottleneck on a small machine)."""
    key, limited = keys
    # One limited thread sends at twice its key's limit: about half of its calls are refused.
    limited_rps = 2 * 600 / 60
    plan = [(key, rps / threads) for _ in range(threads)] + [(limited, limited_rps)]
    halves = [plan[0::2], plan[1::2]]
    results: mp.Queue = mp.Queue()
    start_at = time.time() + 1.0
    procs = [
        mp.Process(target=_client, args=(port, body, half, start_at, start_at + duration, results))
        for half in halves
    ]
    for p in procs:
        p.start()
    return procs, results


# -- sampling -----------------------------------------------------------------------------------
def _db_connections(proc, shape: str) -> int:
    import psutil

    try:
        if shape == "production":
            return sum(
                1
                for c in proc.net_connections(kind="tcp")
                if c.raddr and c.raddr.port == 5432 and c.status == psutil.CONN_ESTABLISHED
            )
        return sum(1 for f in proc.open_files() if f.path.endswith((".sqlite3", ".sqlite")))
    except (psutil.AccessDenied, psutil.NoSuchProcess):
        return -1


def sample(procs: dict, shape: str) -> dict[str, dict]:
    """{role/pid: {rss_mb, threads, fds, db}} for every process of every tree."""
    import psutil

    out = {}
    for role, popen in procs.items():
        try:
            root = psutil.Process(popen.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for i, proc in enumerate(tree):
            try:
                with proc.oneshot():
                    out[f"{role}{'' if i == 0 else '.' + str(i)} ({proc.pid})"] = {
                        "rss_mb": proc.memory_info().rss / 2**20,
                        "threads": proc.num_threads(),
                        "fds": proc.num_fds(),
                        "db": _db_connections(proc, shape),
                    }
            except psutil.NoSuchProcess:
                continue
    return out


def ingested_rows(env: dict, shape: str) -> int:
    if shape == "embedded":
        path = Path(env["MODELGATE_VAR_DIR"]) / "modelgate.sqlite3"
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
            return conn.execute(COUNT_LOG).fetchone()[0]
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as conn:
        return conn.execute(COUNT_LOG).fetchone()[0]


def server_connections(env: dict) -> int:
    import psycopg

    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(f"{PG_BASE}/postgres") as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name])
        return row.fetchone()[0]


def scrape_events(port: int) -> dict:
    """The event counters of whichever serving process answers (one of them with 2 workers)."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        url = f"http://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - loopback
            for family in text_string_to_metric_families(reply.read().decode()):
                if family.name.startswith("modelgate_events"):
                    for s in family.samples:
                        if not s.name.endswith("_created"):
                            out[s.name + s.labels.get("what", "")] = s.value
    return out


# -- one run ------------------------------------------------------------------------------------
def run_shape(shape: str, args) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"modelgate-soak-{shape}-"))
    env = shape_env(shape, work, args.redis_db)
    if shape == "production":
        reset_production_stores(env)
    print(f"\n## {shape}: preparing in {work}", flush=True)
    prep = prepare_in_subprocess(env, work)
    port = free_port()
    procs = start_processes(shape, env, work, port)
    try:
        wait_ready(port, procs)
        duration = args.minutes * 60.0
        load, results = start_load(
            port,
            prep["body"].encode(),
            (prep["key"], prep["limited"]),
            args.rps,
            args.threads,
            duration,
        )
        began = time.time()
        samples: list[tuple[float, dict]] = []
        while time.time() - began < duration + 1.0:
            time.sleep(min(args.sample, max(0.0, duration + 1.0 - (time.time() - began))))
            snap = sample(procs, shape)
            samples.append((time.time() - began, snap))
            serving_rss = sum(v["rss_mb"] for k, v in snap.items() if k.startswith("serving"))
            worker_rss = sum(v["rss_mb"] for k, v in snap.items() if not k.startswith("serving"))
            extra = (
                f", PostgreSQL sessions {server_connections(env)}" if shape == "production" else ""
            )
            print(
                f"  t={samples[-1][0]:5.0f} s  serving RSS {serving_rss:7.1f} MB  workers RSS "
                f"{worker_rss:7.1f} MB  threads {sum(v['threads'] for v in snap.values())}  "
                f"fds {sum(v['fds'] for v in snap.values())}  "
                f"db {sum(max(v['db'], 0) for v in snap.values())}{extra}",
                flush=True,
            )
        counts: dict[int | str, int] = {}
        latencies: list[float] = []
        for _ in load:
            c, lat = results.get()
            for status, n in c.items():
                counts[status] = counts.get(status, 0) + n
            latencies.extend(lat)
        for p in load:
            p.join()
        # Each answered predict call (served, refused or failed) publishes one event.
        published = sum(n for status, n in counts.items() if isinstance(status, int))
        events_seen = scrape_events(port)
        ingested = -1
        for _ in range(args.drain_wait):  # the stream is drained by beat's task every few seconds
            ingested = ingested_rows(env, shape)
            if ingested >= published:
                break
            time.sleep(1.0)
        return {
            "shape": shape,
            "samples": samples,
            "counts": counts,
            "latencies": sorted(latencies),
            "published": published,
            "ingested": ingested,
            "events_metrics": events_seen,
            "duration": duration,
        }
    finally:
        stop_processes(procs)
        if shape == "production":
            drop_production_database(env)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def report(result: dict, warmup: float) -> None:
    shape, samples = result["shape"], result["samples"]
    after = [(t, s) for t, s in samples if t >= warmup - 1.0]
    if len(after) < 2:
        print(f"{shape}: too short for a growth figure (need two samples after the warm-up)")
        return
    (t0, first), (t1, last) = after[0], after[-1]
    print(
        f"\n### {shape}: growth from t={t0:.0f} s to t={t1:.0f} s (after a {warmup:.0f} s warm-up)"
    )
    print(
        "| process | RSS start MB | RSS end MB | RSS ratio | threads min-max | fds min-max "
        "| db conns min-max |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    for name in first:
        if name not in last:
            continue
        series = [s[name] for _, s in after if name in s]
        ratio = last[name]["rss_mb"] / first[name]["rss_mb"]
        if first[name]["rss_mb"] > 50:  # ignore tiny helper processes
            worst = max(worst, ratio)

        def span(field, series=series):
            values = [v[field] for v in series]
            return f"{min(values)}-{max(values)}"

        print(
            f"| {name} | {first[name]['rss_mb']:.1f} | {last[name]['rss_mb']:.1f} | {ratio:.3f} | "
            f"{span('threads')} | {span('fds')} | {span('db')} |"
        )
    counts, lat = result["counts"], result["latencies"]
    n = len(lat)
    pct = (lambda p: lat[min(n - 1, int(p * n))]) if n else (lambda p: float("nan"))
    total = sum(counts.values())
    statuses = dict(sorted(counts.items(), key=lambda kv: str(kv[0])))
    print(
        f"\nRequests: {total} in {result['duration']:.0f} s ({total / result['duration']:.0f}/s); "
        f"statuses {statuses}; p50 {pct(0.5):.2f} ms, p99 {pct(0.99):.2f} ms"
    )
    dropped = result["published"] - result["ingested"]
    print(
        f"Events: published {result['published']} (one per answered predict call), ingested "
        f"{result['ingested']} (prediction log rows), dropped or not yet ingested {dropped}; "
        f"one serving process's buffer: {result['events_metrics'] or 'n/a'}"
    )
    verdict = "MET" if worst < 1.05 else "MISSED"
    print(f"RSS growth after warm-up: worst process {worst:.3f}x; target < 1.05x -> {verdict}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_prepare":
        prepare(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=["embedded", "production", "both"], default="both")
    parser.add_argument("--minutes", type=float, default=10.0, help="load time (30 for a long run)")
    parser.add_argument("--warmup", type=float, default=2.0, help="minutes before growth counts")
    parser.add_argument("--sample", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--rps", type=float, default=400.0, help="steady requests a second")
    parser.add_argument("--threads", type=int, default=16, help="client threads (the default key)")
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("SOAK_REDIS_DB", "4")))
    parser.add_argument("--drain-wait", type=int, default=60, help="seconds to wait for ingestion")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args()
    shapes = ["embedded", "production"] if args.shape == "both" else [args.shape]
    print(
        f"Machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load {args.rps:.0f} req/s (default key) + "
        f"{2 * 600 / 60:.0f} req/s (a {LIMITED_RATE} key) for {args.minutes:g} min per shape, "
        f"sampled every {args.sample:.0f} s"
    )
    results = [run_shape(shape, args) for shape in shapes]
    for result in results:
        report(result, args.warmup * 60.0)


if __name__ == "__main__":
    main()
