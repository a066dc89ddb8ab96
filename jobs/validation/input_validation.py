"""`input_validation`: requests that break the signature are refused with a 400, never a 500."""

from __future__ import annotations

import numpy as np

from jobs.validation.context import CheckResult, SuiteContext, sample_feeds
from serving.protocols import jsonio

NAME = "input_validation"


def _body(feeds: dict) -> bytes:
    return jsonio.dumps(
        {"inputs": {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in feeds.items()}}
    )


def _as_lists(feeds: dict[str, np.ndarray]) -> dict:
    return {
        k: [[x.decode() if isinstance(x, bytes) else x for x in np.ravel(row)] for row in v]
        if v.dtype == object
        else v
        for k, v in feeds.items()
    }


def bad_requests(signature: dict, max_rows: int) -> dict[str, dict]:
    """Named request bodies (as feeds) that each break the signature in one way."""
    good = _as_lists(sample_feeds(signature, 2))
    first = signature["inputs"][0]
    name = first["name"]
    wrong_dtype = dict(good)
    if first["dtype"] == "string":
        wrong_dtype[name] = [[1.5] * max(1, len(np.ravel(good[name][0])))] * 2
    else:
        wrong_dtype[name] = [["not a number"] * len(np.ravel(good[name][0]))] * 2
    wrong_shape = dict(good)
    wrong_shape[name] = np.asarray(good[name]).reshape(2, -1).tolist()
    wrong_shape[name] = [row + row[:1] for row in wrong_shape[name]]
    if all(d < 0 for d in first["shape"][1:]) or len(first["shape"]) == 1:
        wrong_shape[name] = [[[[0]]]] * 2  # rank the model cannot take
    missing = {k: v for k, v in good.items() if k != name}
    extra = {**good, "__not_an_input__": [[0.0]] * 2}
    too_many = _as_lists(sample_feeds(signature, max_rows + 1))
    return {
        "wrong_dtype": wrong_dtype,
        "wrong_shape": wrong_shape,
        "missing_input": missing,
        "extra_input": extra,
        "too_many_rows": too_many,
    }


def run(ctx: SuiteContext) -> CheckResult:
    """Send each bad request through the serving path's parse and check; expect 400s."""
    cases = bad_requests(ctx.signature, ctx.max_request_rows)
    answers, problems = {}, []
    for case, feeds in cases.items():
        status, message = ctx.request_status(ctx.signature, _body(feeds), ctx.max_request_rows)
        answers[case] = {"status": status, "message": message[:300]}
        if status != 400:
            problems.append(f"{case}: answered {status}, expected 400")
    good = _body(_as_lists(sample_feeds(ctx.signature, 2)))
    status, message = ctx.request_status(ctx.signature, good, ctx.max_request_rows)
    answers["valid_request"] = {"status": status, "message": message[:300]}
    if status != 200:
        problems.append(f"a valid request was refused with {status}: {message}")
    metrics = {"cases": answers}
    if problems:
        return CheckResult(NAME, False, metrics, "; ".join(problems))
    return CheckResult(NAME, True, metrics, f"{len(cases)} malformed requests refused with 400")
