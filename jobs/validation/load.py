"""`load`: sustained concurrent single-row requests through the real batcher."""

from __future__ import annotations

import threading
import time

from jobs.validation.context import CheckResult, SuiteContext, sample_feeds
from jobs.validation.metrics import percentiles_ms

NAME = "load"


def run(ctx: SuiteContext) -> CheckResult:
    """`load_concurrency` clients for `load_seconds`: error rate 0 and p99 within budget."""
    seconds, clients = ctx.policy["load_seconds"], ctx.policy["load_concurrency"]
    budget = ctx.policy["load_p99_ms"]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    before = ctx.batcher.stats()
    deadline = time.perf_counter() + seconds

    def client(slot: int) -> None:
        feeds = sample_feeds(ctx.signature, 1, seed=slot)
        mine = latencies[slot]
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                ctx.batcher.submit(feeds)
            except Exception as exc:  # noqa: BLE001 - counted as the error rate
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            mine.append(time.perf_counter() - t0)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = [t for per in latencies for t in per]
    after = ctx.batcher.stats()
    total = len(flat) + len(errors)
    batches = after.get("batches", 0) - before.get("batches", 0)
    metrics = {
        "seconds": round(elapsed, 3),
        "concurrency": clients,
        "requests": total,
        "errors": len(errors),
        "error_rate": len(errors) / total if total else 0.0,
        "requests_per_s": total / elapsed if elapsed > 0 else 0.0,
        "mean_batch_rows": len(flat) / batches if batches else None,
        **percentiles_ms(flat),
    }
    problems = []
    if errors:
        problems.append(f"{len(errors)} of {total} requests failed (first: {errors[0]})")
    if not flat:
        problems.append("no request completed")
    elif metrics["p99_ms"] > budget:
        problems.append(f"p99 {metrics['p99_ms']:.2f} ms > budget {budget:g} ms")
    if problems:
        return CheckResult(NAME, False, metrics, "; ".join(problems))
    return CheckResult(
        NAME,
        True,
        metrics,
        f"{total} requests at concurrency {clients}, 0 errors, p99 {metrics['p99_ms']:.2f} ms",
    )
