"""Each check, pass and fail, on a real warmed runtime of the small classifier."""

from __future__ import annotations

import numpy as np
import pytest

from jobs.validation import (
    accuracy,
    edge_cases,
    input_validation,
    load,
    parity,
    performance,
    signature,
)
from jobs.validation.suite import build_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(churn, fast_policy):
    v1, _ = churn
    context = build_context(v1, fast_policy, log=lambda line: None)
    batcher = context.batcher
    yield context
    batcher.close(timeout=5)


def test_performance_passes_within_budget_and_fails_below_a_throughput_floor(ctx):
    ok = performance.run(ctx)
    assert ok.passed and set(ok.metrics["batch_sizes"]) == {"1", "8", "64"}
    assert ok.metrics["batch_sizes"]["64"]["rows_per_s"] > 0
    ctx.policy["performance_min_rows_per_s"] = 1e9
    bad = performance.run(ctx)
    assert not bad.passed and "throughput" in bad.message and "< 1e+09" in bad.message


def test_accuracy_compares_with_production_and_fails_when_worse(ctx, churn):
    v1, v2 = churn
    feeds = {"features": np.random.default_rng(0).normal(size=(200, 4)).astype("float32")}
    own = accuracy.score(ctx.runtime, feeds, 64)
    labels = (own.reshape(-1) >= 0.5).astype("int64")
    ctx.holdout = (feeds, labels)
    alone = accuracy.run(ctx)
    assert alone.passed and alone.metrics["candidate"]["accuracy"] == 1.0
    assert {"precision", "recall", "f1", "auc"} <= set(alone.metrics["candidate"])
    # Production (v2) is perfect on labels made from its own outputs; v1 is worse than that.
    from jobs.validation.suite import load_runtime

    prod = load_runtime(v2, 64)
    ctx.holdout = (feeds, (accuracy.score(prod, feeds, 64).reshape(-1) >= 0.5).astype("int64"))
    ctx.production, ctx.production_runtime = v2, lambda: prod
    worse = accuracy.run(ctx)
    assert worse.metrics["production"]["accuracy"] == 1.0
    assert worse.metrics["candidate"]["accuracy"] < 0.99
    assert not worse.passed and "accuracy" in worse.message and "production" in worse.message


def test_accuracy_without_holdout_is_skipped_or_failed_as_the_policy_says(ctx):
    assert accuracy.run(ctx).metrics == {"skipped": True}
    ctx.policy["accuracy_require_holdout"] = True
    result = accuracy.run(ctx)
    assert not result.passed and "requires one" in result.message


def test_input_validation_expects_400s_and_fails_on_a_path_that_accepts_or_crashes(ctx):
    ok = input_validation.run(ctx)
    assert ok.passed, ok.message
    assert {c["status"] for k, c in ok.metrics["cases"].items() if k != "valid_request"} == {400}
    assert "too_many_rows" in ok.metrics["cases"]

    def lax(sig, body, rows):
        return (500, "KeyError") if b"__not_an_input__" in body else (200, "")

    ctx.request_status = lax
    bad = input_validation.run(ctx)
    assert not bad.passed
    assert "extra_input: answered 500" in bad.message and "wrong_dtype: answered 200" in bad.message


def test_edge_cases_pass_and_fail_on_nonfinite_outputs_when_the_policy_wants_finite(ctx):
    ok = edge_cases.run(ctx)
    assert ok.passed, ok.message
    assert ok.metrics["cases"]["empty_batch"]["rows"] == 0
    assert ok.metrics["cases"]["max_batch"]["rows"] == ctx.max_batch_size
    assert ok.metrics["cases"]["nan"]["finite"] is False  # tolerated by default
    ctx.policy["edge_nonfinite_outputs"] = "finite"
    bad = edge_cases.run(ctx)
    assert not bad.passed and "nan: non-finite outputs" in bad.message


def test_load_passes_with_zero_errors_and_fails_over_budget_or_on_errors(ctx):
    ok = load.run(ctx)
    assert ok.passed and ok.metrics["errors"] == 0 and ok.metrics["requests"] > 10
    ctx.policy["load_p99_ms"] = 0.1
    ctx.policy["load_seconds"] = 0.2
    slow = load.run(ctx)
    assert not slow.passed and "p99" in slow.message

    class Broken:
        def submit(self, feeds):
            raise RuntimeError("device lost")

        def stats(self):
            return {}

    ctx.batcher = Broken()
    broken = load.run(ctx)
    assert not broken.passed and broken.metrics["error_rate"] == 1.0


def test_environment_parity_lists_mismatches_and_fails_on_policy_fields(ctx, alice):
    import platform

    import tensorflow as tf

    from registry.services import environment_create

    digest = "sha256:" + "a" * 64
    ctx.environment = environment_create(
        name="cpu-311",
        python=".".join(platform.python_version_tuple()[:2]),
        tensorflow=tf.__version__,
        base_image=f"modelgate/worker@{digest}",
        actor=alice,
    )
    ok = parity.run(ctx)
    assert ok.passed and "image_digest" in ok.message  # not containerised: listed, tolerated
    fields = {f["field"]: f for f in ok.metrics["fields"]}
    assert fields["python"]["match"] and fields["tensorflow"]["match"]
    ctx.worker_env = {**ctx.worker_env, "image_digest": digest}
    assert parity.run(ctx).message.startswith("matches")
    ctx.worker_env = {**ctx.worker_env, "python": "3.9.1"}
    bad = parity.run(ctx)
    assert not bad.passed and "python: want" in bad.message and "have 3.9.1" in bad.message


def test_signature_compatibility_fails_on_breaking_changes_unless_allowed(ctx, churn, multi):
    v1, v2 = churn
    ctx.production = v2
    assert signature.run(ctx).passed
    ctx.production = multi  # serving takes `extra` too: dropping it breaks its clients
    bad = signature.run(ctx)
    assert not bad.passed and "input 'extra' removed" in bad.message
    assert "output 'logits' removed" in bad.message
    ctx.policy["signature_allow_breaking"] = True
    assert signature.run(ctx).passed
