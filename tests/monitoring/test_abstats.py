"""A/B statistics against scipy and textbook values, edge cases, and simulated experiments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from monitoring import abstats


def test_it_matches_the_chi_square_of_the_two_by_two_table():
    result = abstats.two_proportions(100, 1000, 130, 1000)
    table = [[100, 900], [130, 870]]
    expected = stats.chi2_contingency(table, correction=False).pvalue
    assert result.p_value == pytest.approx(expected, rel=1e-9)
    assert result.lift == pytest.approx(0.03)
    half = 1.959964 * math.sqrt(0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000)
    assert result.lift_ci == pytest.approx((0.03 - half, 0.03 + half), rel=1e-5)
    assert result.relative_lift == pytest.approx(0.3)
    low, high = result.relative_ci
    assert low < 0.3 < high
    # The relative interval excludes zero exactly when the p-value is (about) below alpha.
    assert (low > 0) == (result.p_value < 0.05)


def test_it_handles_zero_conversions_in_both_arms_and_in_the_control():
    none = abstats.two_proportions(0, 500, 0, 500)
    assert none.p_value == 1.0
    assert none.lift == 0.0
    assert none.relative_lift is None
    control_zero = abstats.two_proportions(0, 500, 10, 500)
    assert control_zero.p_value == pytest.approx(
        stats.chi2_contingency([[0, 500], [10, 490]], correction=False).pvalue
    )
    assert control_zero.relative_lift is None
    assert control_zero.lift_ci[0] > 0


def test_it_returns_no_p_value_without_data_and_refuses_impossible_counts():
    empty = abstats.two_proportions(0, 0, 3, 10)
    assert empty.p_value is None and empty.treatment == 0.3
    with pytest.raises(ValueError, match="between 0 and n"):
        abstats.two_proportions(11, 10, 0, 10)


def test_it_matches_scipy_welch_with_unequal_variances_and_sizes():
    gen = np.random.default_rng(3)
    control, treatment = gen.normal(10, 1, size=40), gen.normal(10.8, 4, size=15)
    result = abstats.welch_samples(control, treatment)
    expected = stats.ttest_ind(treatment, control, equal_var=False)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    ci = expected.confidence_interval(0.95)
    assert result.lift_ci == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert result.relative_lift == pytest.approx(result.lift / control.mean())


def test_it_gives_no_welch_p_value_for_tiny_samples():
    tiny = abstats.welch_samples([1.0], [2.0, 3.0])
    assert tiny.p_value is None
    assert tiny.lift == pytest.approx(1.5)
    constant = abstats.welch_samples([2.0, 2.0], [2.0, 2.0])
    assert constant.p_value == 1.0


def test_it_computes_textbook_sample_sizes():
    # 10% -> 12%, alpha 0.05 two-sided, power 0.8: 3841 per arm (Fleiss, no continuity correction).
    assert abstats.sample_size_proportions(0.10, 0.02) == 3841
    # Means: sigma 1, delta 0.5 -> 2 * (1.96 + 0.84)^2 / 0.25 = 62.8 -> 63 per arm.
    assert abstats.sample_size_means(1.0, 0.5) == 63
    with pytest.raises(ValueError, match="strictly in"):
        abstats.sample_size_proportions(0.99, 0.05)
    with pytest.raises(ValueError, match="must not be zero"):
        abstats.sample_size_means(1.0, 0.0)


def test_it_flags_a_sample_ratio_mismatch_only_below_one_in_a_thousand():
    fine = abstats.sample_ratio_mismatch([9040, 960], [90, 10])
    assert fine["p_value"] == pytest.approx(stats.chisquare([9040, 960], [9000, 1000]).pvalue)
    assert not fine["flagged"]
    broken = abstats.sample_ratio_mismatch([5000, 5400], [50, 50])
    assert broken["p_value"] < 0.001 and broken["flagged"]
    assert abstats.sample_ratio_mismatch([0, 0], [50, 50])["p_value"] is None


def test_it_puts_mismatch_and_guardrails_before_significance():
    winning = abstats.two_proportions(100, 1000, 200, 1000)
    kwargs = {"n_control": 1000, "n_treatment": 1000, "required": 500}
    assert abstats.verdict(winning, **kwargs) == abstats.TREATMENT_WINS
    assert abstats.verdict(winning, srm_flagged=True, **kwargs) == abstats.SRM
    assert abstats.verdict(winning, guardrail_breached=True, **kwargs) == abstats.GUARDRAIL
    early = {"n_control": 400, "n_treatment": 1000, "required": 500}
    assert abstats.verdict(winning, **early) == abstats.KEEP_RUNNING
    losing = abstats.two_proportions(200, 1000, 100, 1000)
    assert abstats.verdict(losing, **kwargs) == abstats.CONTROL_WINS


def _simulate(gen, p_control, p_treatment, n, runs):
    """Verdicts of `runs` simulated experiments with n users per arm."""
    required = abstats.sample_size_proportions(0.10, 0.03)
    conversions_c = gen.binomial(n, p_control, size=runs)
    conversions_t = gen.binomial(n, p_treatment, size=runs)
    return [
        abstats.verdict(
            abstats.two_proportions(int(c), n, int(t), n),
            n_control=n,
            n_treatment=n,
            required=required,
        )
        for c, t in zip(conversions_c, conversions_t, strict=True)
    ]


def test_it_declares_a_known_better_treatment_the_winner_at_the_planned_size():
    gen = np.random.default_rng(7)
    required = abstats.sample_size_proportions(0.10, 0.03)
    assert required == 1774  # (1.96*sqrt(2*.115*.885) + .8416*sqrt(.09+.1131))^2 / .03^2
    verdicts = _simulate(gen, 0.10, 0.13, required, runs=400)
    power = verdicts.count(abstats.TREATMENT_WINS) / len(verdicts)
    assert 0.74 <= power <= 0.86  # planned power 0.8
    assert abstats.CONTROL_WINS not in verdicts
    # One run, fixed seed: the treatment wins once the sample size is reached, not before.
    before = _simulate(np.random.default_rng(1), 0.10, 0.13, required - 1, runs=1)
    assert before == [abstats.KEEP_RUNNING]


def test_it_does_not_declare_a_winner_in_an_a_a_test():
    gen = np.random.default_rng(11)
    verdicts = _simulate(gen, 0.10, 0.10, abstats.sample_size_proportions(0.10, 0.03), runs=400)
    false_positive = sum(v != abstats.NO_DIFFERENCE for v in verdicts) / len(verdicts)
    assert false_positive <= 0.08  # alpha 0.05
    one = _simulate(np.random.default_rng(2), 0.10, 0.10, 5000, runs=1)
    assert one == [abstats.NO_DIFFERENCE]
