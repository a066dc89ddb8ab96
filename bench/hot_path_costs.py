"""Hot-path micro-costs, each printed as a ratio against a baseline measured in the same run.

    .venv/bin/python bench/hot_path_costs.py [--calls 20000]

- telemetry.observe (Prometheus counters per request) against one bare Counter.inc();
- the leader batcher at concurrency 1 (submit) against calling the model function directly,
  and against a hand-off to a batching thread (what the leader design avoids);
- max_delay: how long a lone request waits against the delay, and a request that fills the batch;
- payload sampling: the per-deployment rate (serving/sampling.py, cached) against reading the one
  global setting it replaced, and submit_measured (the batch size for monitoring) against submit.

These were assertions in the test suite once; a timing assertion fails whenever the machine is
busy, so the suite checks behaviour and this script measures speed (see bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import queue
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import CollectorRegistry, Counter  # noqa: E402

from bench.timing import per_call_us  # noqa: E402
from serving import telemetry  # noqa: E402
from serving.batching import Batcher  # noqa: E402
from serving.events import PredictionEvent  # noqa: E402


def observe_cost(calls: int) -> None:
    event = PredictionEvent(
        prediction_ids=["bench-0"],
        model="bench",
        deployment="production",
        deployment_id=1,
        version=1,
        version_id=1,
        variant="primary",
        key_prefix="mg_bench",
        protocol="native",
        status=200,
        latency_ms=2.0,
        rows=1,
        batch_size=1,
        cache_hit=False,
        ts=time.time(),
    )
    telemetry.observe(event)  # the first call creates the labelled children
    baseline = Counter("bench_inc", "one increment", registry=CollectorRegistry())
    observe = per_call_us(lambda: telemetry.observe(event), calls)
    inc = per_call_us(baseline.inc, calls)
    print(f"telemetry.observe        {observe:8.2f} us/call")
    print(f"Counter.inc (baseline)   {inc:8.2f} us/call")
    print(f"  ratio observe/inc      {observe / inc:8.1f}x  (4 metric updates and 2 dict lookups)")


def _feeds() -> dict[str, np.ndarray]:
    return {"ids": np.zeros((1, 2))}


def batcher_overhead(calls: int) -> None:
    feeds = _feeds()
    batcher = Batcher(lambda f: f, max_batch_size=64)
    direct, batched, handed = [], [], []
    jobs: queue.SimpleQueue = queue.SimpleQueue()

    def batching_thread() -> None:
        while (job := jobs.get()) is not None:
            box, done = job
            box.append(batcher.run_batch(feeds))
            done.set()

    worker = threading.Thread(target=batching_thread, daemon=True)
    worker.start()
    for _ in range(calls):
        started = time.perf_counter()
        batcher.run_batch(feeds)
        direct.append(time.perf_counter() - started)
        started = time.perf_counter()
        batcher.submit(feeds)
        batched.append(time.perf_counter() - started)
        started = time.perf_counter()
        box: list = []
        done = threading.Event()
        jobs.put((box, done))
        done.wait()
        handed.append(time.perf_counter() - started)
    jobs.put(None)
    worker.join()
    d, b, h = (statistics.median(x) * 1e6 for x in (direct, batched, handed))
    print(f"model call, direct       {d:8.2f} us (median)")
    print(f"batcher.submit, c=1      {b:8.2f} us (median)")
    print(f"thread hand-off          {h:8.2f} us (median)")
    print(f"  leader overhead        {b - d:8.2f} us")
    print(f"  ratio hand-off/leader  {(h - d) / max(b - d, 1e-3):8.1f}x  (the leader saves this)")


def max_delay_waits() -> None:
    delay_ms = 30
    alone = []
    for _ in range(10):
        batcher = Batcher(lambda f: f, max_batch_size=4, max_delay_ms=delay_ms)
        started = time.perf_counter()
        batcher.submit(_feeds())
        alone.append(time.perf_counter() - started)
    filled = []
    for _ in range(10):
        batcher = Batcher(lambda f: f, max_batch_size=2, max_delay_ms=delay_ms)
        first = threading.Thread(target=batcher.submit, args=(_feeds(),))
        first.start()
        time.sleep(0.002)  # let the first request lead and wait for the batch to fill
        started = time.perf_counter()
        batcher.submit(_feeds())
        first.join()
        filled.append(time.perf_counter() - started)
    a, f = statistics.median(alone) * 1e3, statistics.median(filled) * 1e3
    print(f"max_delay                {delay_ms:8.2f} ms")
    print(f"  lone request waited    {a:8.2f} ms  ratio {a / delay_ms:.2f} (about 1)")
    print(f"  batch filled after     {f:8.2f} ms  ratio {f / delay_ms:.2f} (well under 1)")


def sampling_cost(calls: int) -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(MODELGATE_PAYLOAD_SAMPLE_RATE=0.05)
    from serving import sampling

    sampling.register_reader(lambda: {1: 0.25})
    sampling.rate_for(1)  # the first call reads the rates; later ones use the cache
    per_deployment = per_call_us(lambda: sampling.rate_for(1), calls)
    global_read = per_call_us(lambda: settings.MODELGATE_PAYLOAD_SAMPLE_RATE, calls)
    print(f"sampling.rate_for        {per_deployment:8.2f} us/call")
    print(f"settings read (baseline) {global_read:8.2f} us/call")
    print(f"  ratio                  {per_deployment / global_read:8.1f}x")
    batcher = Batcher(lambda f: f, max_batch_size=64)
    feeds = _feeds()
    plain = per_call_us(lambda: batcher.submit(feeds), calls)
    measured = per_call_us(lambda: batcher.submit_measured(feeds), calls)
    print(f"batcher.submit           {plain:8.2f} us/call")
    print(f"batcher.submit_measured  {measured:8.2f} us/call  ratio {measured / plain:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    observe_cost(args.calls)
    batcher_overhead(min(args.calls, 5000))
    max_delay_waits()
    sampling_cost(args.calls)


if __name__ == "__main__":
    main()
