"""A/B test statistics, pure numpy/scipy (no Django): two-proportion z-test for rates, Welch's
t-test for means, confidence intervals of absolute and relative lift, required sample sizes,
the sample-ratio-mismatch check and the verdict."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

SRM_ALPHA = 0.001


@dataclass(frozen=True)
class Comparison:
    """Treatment minus control: the lift with its confidence interval and the p-value."""

    control: float | None
    treatment: float | None
    lift: float | None
    lift_ci: tuple[float, float] | None
    relative_lift: float | None
    relative_ci: tuple[float, float] | None
    p_value: float | None
    test: str

    def as_dict(self) -> dict:
        return asdict(self)


def _interval(center: float, half: float) -> tuple[float, float]:
    return (center - half, center + half)


def two_proportions(
    successes_c: int, n_c: int, successes_t: int, n_t: int, *, alpha: float = 0.05
) -> Comparison:
    """Pooled two-proportion z-test; Wald interval of the difference; log-ratio (delta method)
    interval of the relative lift. Undefined pieces are None (no data, zero baseline)."""
    for successes, n in ((successes_c, n_c), (successes_t, n_t)):
        if n < 0 or successes < 0 or successes > n:
            raise ValueError(f"successes must lie between 0 and n (got {successes} of {n})")
    if n_c == 0 or n_t == 0:
        return Comparison(
            successes_c / n_c if n_c else None,
            successes_t / n_t if n_t else None,
            None,
            None,
            None,
            None,
            None,
            "two-proportion z",
        )
    p_c, p_t = successes_c / n_c, successes_t / n_t
    z_crit = stats.norm.ppf(1 - alpha / 2)
    pooled = (successes_c + successes_t) / (n_c + n_t)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    # Both arms all-zero or all-one: no evidence of any difference.
    p_value = 1.0 if se_pooled == 0 else float(2 * stats.norm.sf(abs(p_t - p_c) / se_pooled))
    lift = p_t - p_c
    se = math.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    relative = relative_ci = None
    if p_c > 0:
        relative = lift / p_c
        if p_t > 0:
            se_log = math.sqrt((1 - p_t) / successes_t + (1 - p_c) / successes_c)
            log_ratio = math.log(p_t / p_c)
            relative_ci = (
                math.exp(log_ratio - z_crit * se_log) - 1,
                math.exp(log_ratio + z_crit * se_log) - 1,
            )
    return Comparison(
        p_c,
        p_t,
        lift,
        _interval(lift, z_crit * se),
        relative,
        relative_ci,
        p_value,
        "two-proportion z",
    )


def welch(
    mean_c: float,
    var_c: float,
    n_c: int,
    mean_t: float,
    var_t: float,
    n_t: int,
    *,
    alpha: float = 0.05,
) -> Comparison:
    """Welch's unequal-variance t-test from summary statistics (sample variances, ddof=1); the
    relative lift's interval by the delta method."""
    if n_c < 2 or n_t < 2:
        return Comparison(
            mean_c if n_c else None,
            mean_t if n_t else None,
            (mean_t - mean_c) if n_c and n_t else None,
            None,
            None,
            None,
            None,
            "welch t",
        )
    se_c, se_t = var_c / n_c, var_t / n_t
    se = math.sqrt(se_c + se_t)
    lift = mean_t - mean_c
    if se == 0:
        p_value = 1.0 if lift == 0 else 0.0
        ci = (lift, lift)
    else:
        df = (se_c + se_t) ** 2 / (se_c**2 / (n_c - 1) + se_t**2 / (n_t - 1))
        p_value = float(2 * stats.t.sf(abs(lift) / se, df))
        ci = _interval(lift, stats.t.ppf(1 - alpha / 2, df) * se)
    relative = relative_ci = None
    if mean_c != 0:
        relative = lift / mean_c
        ratio = mean_t / mean_c
        se_ratio = math.sqrt(se_t / mean_c**2 + ratio**2 * se_c / mean_c**2)
        z_crit = stats.norm.ppf(1 - alpha / 2)
        relative_ci = _interval(relative, z_crit * se_ratio)
    return Comparison(mean_c, mean_t, lift, ci, relative, relative_ci, p_value, "welch t")


def welch_samples(control, treatment, *, alpha: float = 0.05) -> Comparison:
    """Welch's t-test of two samples of outcomes."""
    c, t = np.asarray(control, dtype=float), np.asarray(treatment, dtype=float)
    return welch(
        float(c.mean()) if c.size else 0.0,
        float(c.var(ddof=1)) if c.size > 1 else 0.0,
        int(c.size),
        float(t.mean()) if t.size else 0.0,
        float(t.var(ddof=1)) if t.size > 1 else 0.0,
        int(t.size),
        alpha=alpha,
    )


def sample_size_proportions(
    baseline: float, mde: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Per-arm n to detect an absolute lift `mde` over `baseline` (two-sided, no continuity
    correction): (z_a*sqrt(2*pbar*(1-pbar)) + z_b*sqrt(p1(1-p1)+p2(1-p2)))^2 / mde^2."""
    if mde == 0:
        raise ValueError("the minimum detectable effect must not be zero")
    p1, p2 = baseline, baseline + mde
    if not (0 < p1 < 1 and 0 < p2 < 1):
        raise ValueError(
            f"baseline {p1:g} and baseline + effect {p2:g} must lie strictly in (0, 1)"
        )
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    pbar = (p1 + p2) / 2
    root = z_a * math.sqrt(2 * pbar * (1 - pbar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(root**2 / mde**2)


def sample_size_means(std: float, mde: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """Per-arm n to detect a difference `mde` of means with common standard deviation `std`."""
    if mde == 0:
        raise ValueError("the minimum detectable effect must not be zero")
    if std <= 0:
        raise ValueError("the standard deviation must be positive")
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    return math.ceil(2 * (z_a + z_b) ** 2 * std**2 / mde**2)


def sample_ratio_mismatch(counts: list[int], weights: list[float]) -> dict:
    """Chi-square of assignment counts against the configured weights; flagged at p < 0.001."""
    if len(counts) != len(weights) or not counts:
        raise ValueError("one count per weight is needed")
    total_weight = float(sum(weights))
    total = int(sum(counts))
    if total == 0 or total_weight <= 0:
        return {"p_value": None, "flagged": False, "expected": [0.0] * len(counts)}
    expected = [total * w / total_weight for w in weights]
    if any(e == 0 for e in expected):
        flagged = any(c > 0 for c, e in zip(counts, expected, strict=True) if e == 0)
        return {"p_value": 0.0 if flagged else 1.0, "flagged": flagged, "expected": expected}
    p_value = float(stats.chisquare(counts, expected).pvalue)
    return {"p_value": p_value, "flagged": p_value < SRM_ALPHA, "expected": expected}


# Verdicts in the order the page explains them.
SRM = "sample_ratio_mismatch"
GUARDRAIL = "guardrail_breached"
TREATMENT_WINS = "treatment_wins"
CONTROL_WINS = "control_wins"
NO_DIFFERENCE = "no_difference"
KEEP_RUNNING = "keep_running"
VERDICT_TEXT = {
    SRM: "Sample ratio mismatch: assignment is broken, the result cannot be trusted",
    GUARDRAIL: "A guardrail is breached: do not promote the treatment",
    TREATMENT_WINS: "Treatment wins",
    CONTROL_WINS: "Control wins",
    NO_DIFFERENCE: "No significant difference at the planned sample size",
    KEEP_RUNNING: "Keep running: not enough data yet",
}


def verdict(
    comparison: Comparison,
    *,
    n_control: int,
    n_treatment: int,
    required: int | None,
    alpha: float = 0.05,
    srm_flagged: bool = False,
    guardrail_breached: bool = False,
) -> str:
    """The decision: a mismatch or breach first; a significant lift only once both arms reached
    the planned sample size (peeking earlier inflates false positives)."""
    if srm_flagged:
        return SRM
    if guardrail_breached:
        return GUARDRAIL
    if required is None or min(n_control, n_treatment) < required or comparison.p_value is None:
        return KEEP_RUNNING
    if comparison.p_value < alpha and comparison.lift:
        return TREATMENT_WINS if comparison.lift > 0 else CONTROL_WINS
    return NO_DIFFERENCE
