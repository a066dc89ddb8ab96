"""`edge_cases`: NaN, infinities, zeros, extreme magnitudes, empty/single/maximum batches."""

from __future__ import annotations

import numpy as np

from jobs.validation.context import (
    CheckResult,
    SuiteContext,
    float_inputs,
    refused,
    sample_feeds,
)

NAME = "edge_cases"
NONFINITE_CASES = ("nan", "pos_inf", "neg_inf")


def cases(ctx: SuiteContext) -> dict[str, dict[str, np.ndarray]]:
    """Named inputs; the non-finite and magnitude cases exist only for float inputs."""
    sig, extreme = ctx.signature, ctx.policy["edge_extreme_value"]
    named = {
        "empty_batch": sample_feeds(sig, 0),
        "single_row": sample_feeds(sig, 1),
        "max_batch": sample_feeds(sig, ctx.max_batch_size, seed=3),
    }
    floats = float_inputs(sig)
    if floats:
        for case, value in (
            ("zeros", 0.0),
            ("extreme_positive", extreme),
            ("extreme_negative", -extreme),
            ("nan", np.nan),
            ("pos_inf", np.inf),
            ("neg_inf", -np.inf),
        ):
            feeds = sample_feeds(sig, 4)
            for name in floats:
                feeds[name] = np.full_like(feeds[name], value)
            named[case] = feeds
    return named


def run(ctx: SuiteContext) -> CheckResult:
    """Each case must be answered (or refused with a 400); outputs finite as the policy says."""
    finite_for_nonfinite = ctx.policy["edge_nonfinite_outputs"] == "finite"
    results, problems = {}, []
    for case, feeds in cases(ctx).items():
        rows = len(next(iter(feeds.values())))
        try:
            arrays = ctx.check_request(feeds)
            outputs = ctx.batcher.submit(arrays)
        except Exception as exc:  # noqa: BLE001 - a refusal is fine, a crash is the finding
            if refused(exc):
                results[case] = {"outcome": "refused", "message": str(exc)[:200]}
                continue
            results[case] = {"outcome": "crashed", "message": f"{type(exc).__name__}: {exc}"}
            problems.append(f"{case}: {type(exc).__name__}: {exc}")
            continue
        wrong_rows = [n for n, v in outputs.items() if len(v) != rows]
        finite = all(
            np.isfinite(v).all() for v in outputs.values() if np.issubdtype(v.dtype, np.number)
        )
        results[case] = {"outcome": "answered", "rows": rows, "finite": bool(finite)}
        if wrong_rows:
            problems.append(f"{case}: output(s) {wrong_rows} do not have {rows} rows")
        must_be_finite = case not in NONFINITE_CASES or finite_for_nonfinite
        if must_be_finite and not finite:
            problems.append(f"{case}: non-finite outputs")
    metrics = {"cases": results}
    if problems:
        return CheckResult(NAME, False, metrics, "; ".join(problems))
    return CheckResult(NAME, True, metrics, f"{len(results)} edge cases handled")
