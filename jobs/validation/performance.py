"""`performance`: latency percentiles and throughput through the warmed XLA runtime."""

from __future__ import annotations

import time

from jobs.validation.context import CheckResult, SuiteContext, sample_feeds
from jobs.validation.metrics import percentiles_ms

NAME = "performance"


def run(ctx: SuiteContext) -> CheckResult:
    """Time `performance_iterations` calls at each batch size against the p99 budget."""
    policy = ctx.policy
    sizes = sorted(
        {min(s, ctx.max_batch_size) for s in policy["performance_batch_sizes"]}
        | {ctx.max_batch_size}
    )
    budget, floor = policy["performance_p99_ms"], policy["performance_min_rows_per_s"]
    per_size, problems = {}, []
    for size in sizes:
        feeds = sample_feeds(ctx.signature, size, seed=size)
        ctx.runtime.predict(feeds)  # settle caches after warm-up
        timings = []
        started = time.perf_counter()
        for _ in range(policy["performance_iterations"]):
            t0 = time.perf_counter()
            ctx.runtime.predict(feeds)
            timings.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        stats = percentiles_ms(timings)
        stats["rows_per_s"] = size * len(timings) / elapsed if elapsed > 0 else 0.0
        per_size[str(size)] = stats
        if stats["p99_ms"] > budget:
            problems.append(f"p99 {stats['p99_ms']:.2f} ms at batch {size} > {budget:g} ms")
    top = per_size[str(sizes[-1])]["rows_per_s"]
    if top < floor:
        problems.append(f"throughput {top:.0f} rows/s at batch {sizes[-1]} < {floor:g}")
    metrics = {"batch_sizes": per_size, "device": ctx.runtime.device, "xla": ctx.runtime.xla}
    if problems:
        return CheckResult(NAME, False, metrics, "; ".join(problems))
    return CheckResult(
        NAME, True, metrics, f"p99 within {budget:g} ms at batch sizes {sizes}; {top:.0f} rows/s"
    )
