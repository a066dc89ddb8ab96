"""Scale-out benchmark: serving throughput with 1 vs N serving processes on this machine.

Each serving process is a granian server (console.wsgi) on its own port, all on one database
and (when reachable) one Redis; clients spread their connections over the processes, as a
Kubernetes Service spreads connections over pods. Reuses bench/serving.py's set-up and clients.

    .venv/bin/python bench/scale.py [--processes 1,2] [--concurrency 32] [--duration 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

# bench/serving.py, loaded under another name: "serving" is the app package.
_spec = importlib.util.spec_from_file_location(
    "bench_serving", Path(__file__).resolve().parent / "serving.py"
)
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_serving"] = bench
_spec.loader.exec_module(bench)


def drive_many(ports, key: str, concurrency: int, duration: float) -> dict:
    """Single-row OIP requests at `concurrency`, connections spread evenly over `ports`."""
    body = bench.request_body("small")
    path = "/v2/models/small/infer"
    queue: mp.Queue = mp.Queue()
    now = time.perf_counter()
    warmup_until, deadline = now + 1.0, now + 1.0 + duration
    n = len(ports)
    procs = [
        mp.Process(
            target=bench._client_proc,
            args=(
                port,
                path,
                body,
                key,
                concurrency // n + (i < concurrency % n),
                warmup_until,
                deadline,
                queue,
            ),
        )
        for i, port in enumerate(ports)
    ]
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    count = sum(len(lat) for lat, _ in results)
    latencies = sorted(x for lat, _ in results for x in lat)
    return {
        "rps": count / duration,
        "errors": sum(e for _, e in results),
        "p50": latencies[len(latencies) // 2] if latencies else float("nan"),
        "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        if latencies
        else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=32, help="blocking threads a process")
    args = parser.parse_args()
    levels = [int(p) for p in args.processes.split(",")]
    use_redis = bench.redis_available(os.environ.get("REDIS_URL", ""))
    work = Path(tempfile.mkdtemp(prefix="modelgate-scale-"))
    env = bench.configure_env(work / "var", use_redis)
    key, _ = bench.prepare(["small"], work)
    servers = []
    rows = {}
    try:
        for n in levels:
            while len(servers) < n:
                servers.append(bench.start_server(env, args.threads))
            ports = [port for _, port in servers[:n]]
            rows[n] = drive_many(ports, key, args.concurrency, args.duration)
            r = rows[n]
            print(
                f"  {n} process(es) c={args.concurrency}: {r['rps']:8.0f} req/s  "
                f"p50 {r['p50']:.2f} ms  p99 {r['p99']:.2f} ms  errors {r['errors']}",
                flush=True,
            )
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(10)
    base = rows[levels[0]]["rps"]
    print(f"\n{os.cpu_count()} CPUs, Redis {'on' if use_redis else 'off'}, small model, OIP JSON")
    print("| serving processes | req/s | ratio | p50 ms | p99 ms | errors |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n, r in rows.items():
        print(
            f"| {n} | {r['rps']:.0f} | {r['rps'] / base:.2f} | {r['p50']:.2f} | "
            f"{r['p99']:.2f} | {r['errors']} |"
        )


if __name__ == "__main__":
    main()
