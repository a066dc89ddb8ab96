"""The drift statistics agree with scipy's reference implementations and with Evidently's rules."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from monitoring import drift


@pytest.fixture
def gen():
    return np.random.default_rng(42)


def test_it_matches_scipy_wasserstein_with_ties_and_unequal_sizes(gen):
    ref = np.round(gen.normal(size=5000), 1)
    cur = np.round(gen.normal(0.3, 1.2, size=777), 1)
    got = drift.wasserstein(np.sort(ref), np.sort(cur))
    assert got == pytest.approx(stats.wasserstein_distance(ref, cur), rel=1e-9)


def test_it_matches_scipy_ks_statistic_and_asymptotic_pvalue(gen):
    ref = np.round(gen.normal(size=20_000), 2)
    cur = np.round(gen.normal(0.02, 1.0, size=3000), 2)
    expected = stats.ks_2samp(ref, cur, method="asymp")
    d = drift.ks_statistic(np.sort(ref), np.sort(cur))
    assert d == pytest.approx(expected.statistic, rel=1e-12)
    assert drift.ks_pvalue(d, ref.size, cur.size) == pytest.approx(expected.pvalue, rel=1e-9)


def test_it_uses_evidently_ks_for_a_small_numeric_reference(gen):
    ref, cur = gen.normal(size=500), gen.normal(0.5, 1, size=300)
    result = drift.feature_drift("x", ref, cur)
    assert result.test == "ks"
    assert result.score == pytest.approx(stats.ks_2samp(ref, cur).pvalue)
    assert result.drifted


def test_it_uses_chi_square_for_three_to_five_categories(gen):
    ref = gen.choice([0.0, 1.0, 2.0], size=600, p=[0.5, 0.3, 0.2])
    cur = gen.choice([0.0, 1.0, 2.0], size=400, p=[0.5, 0.3, 0.2])
    result = drift.feature_drift("c", ref, cur)
    ref_counts = np.bincount(ref.astype(int))
    expected = stats.chisquare(np.bincount(cur.astype(int)), ref_counts * 400 / 600).pvalue
    assert (result.test, result.kind) == ("chisquare", "cat")
    assert result.score == pytest.approx(expected)
    assert not result.drifted


def test_it_uses_a_two_proportion_z_test_for_binary_features():
    ref = np.array([1.0] * 300 + [0.0] * 700)
    cur = np.array([1.0] * 200 + [0.0] * 300)
    # Textbook pooled z: p1=.7 (zeros), p2=.6, pooled=(700+300)/1500.
    pooled = 1000 / 1500
    z = (0.7 - 0.6) / np.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 500))
    result = drift.feature_drift("b", ref, cur)
    assert result.test == "z"
    assert result.score == pytest.approx(2 * stats.norm.sf(z))
    assert result.drifted


def test_it_normalises_wasserstein_by_the_reference_std_for_a_large_reference(gen):
    ref, cur = gen.normal(0, 2, size=5000), gen.normal(0.5, 2, size=1000)
    result = drift.feature_drift("x", ref, cur)
    assert result.test == "wasserstein"
    assert result.score == pytest.approx(stats.wasserstein_distance(ref, cur) / np.std(ref))
    assert result.drifted  # 0.5 / 2 = 0.25 standard deviations >= 0.1


def test_it_uses_jensen_shannon_for_categories_of_a_large_reference(gen):
    ref = gen.choice([1.0, 2.0, 3.0], size=3000, p=[0.6, 0.3, 0.1])
    cur = gen.choice([1.0, 2.0, 3.0, 4.0], size=1000, p=[0.2, 0.3, 0.3, 0.2])
    ref_shares = np.array([np.mean(ref == k) for k in (1, 2, 3)] + [1e-4])
    cur_shares = np.array([np.mean(cur == k) for k in (1, 2, 3, 4)])
    result = drift.feature_drift("c", ref, cur)
    assert result.test == "jensenshannon"
    assert result.score == pytest.approx(distance.jensenshannon(ref_shares, cur_shares))
    assert result.drifted


def test_it_computes_psi_over_reference_deciles():
    ref = np.arange(1000, dtype=float)
    same = drift.psi(ref, np.sort(ref.copy()))
    shifted_cur = np.sort(np.concatenate([np.arange(0, 500.0), np.full(500, 950.0)]))
    # Deciles of 0..999: bins of 100. The shifted sample puts 10% in each of bins 0-4, 0% in
    # 5-8 (floored at 1e-4), and 50% in bin 9.
    expected_shares = np.array([0.1] * 5 + [1e-4] * 4 + [0.5])
    expected = np.sum((expected_shares - 0.1) * np.log(expected_shares / 0.1))
    assert same == pytest.approx(0.0, abs=1e-12)
    assert drift.psi(ref, shifted_cur) == pytest.approx(expected)
    assert drift.psi_band(0.05) == "none"
    assert drift.psi_band(0.15) == "moderate"
    assert drift.psi_band(0.25) == "major"


def test_it_flags_the_one_shifted_feature_and_no_other(gen):
    ref = gen.normal(size=(20_000, 6))
    cur = gen.normal(size=(4_000, 6))
    cur[:, 3] += 0.5
    names = [f"f{i}" for i in range(6)]
    for method in ("evidently", "psi", "ks"):
        result = drift.dataset_drift(names, ref, cur, method=method)
        assert [f.name for f in result.features if f.drifted] == ["f3"], method
        assert result.share_drifted == pytest.approx(1 / 6)
        assert not result.dataset_drift


def test_it_declares_dataset_drift_at_the_share_threshold(gen):
    ref, cur = gen.normal(size=(800, 4)), gen.normal(size=(500, 4))
    cur[:, :2] += 1.0
    result = drift.dataset_drift(["a", "b", "c", "d"], ref, cur)
    assert result.share_drifted == 0.5
    assert result.dataset_drift
    assert not drift.dataset_drift(
        ["a", "b", "c", "d"], ref, cur, share_threshold=0.75
    ).dataset_drift


def test_it_reports_histograms_that_sum_to_one(gen):
    result = drift.feature_drift("x", gen.normal(size=2000), gen.normal(size=500))
    assert len(result.hist["edges"]) == drift.HIST_BINS + 1
    assert sum(result.hist["reference"]) == pytest.approx(1.0, abs=1e-5)
    assert sum(result.hist["current"]) == pytest.approx(1.0, abs=1e-5)


def test_it_refuses_mismatched_shapes_and_unknown_methods(gen):
    with pytest.raises(ValueError, match="feature count mismatch: 2 names, reference has 3"):
        drift.dataset_drift(["a", "b"], gen.normal(size=(10, 3)), gen.normal(size=(10, 3)))
    with pytest.raises(ValueError, match="unknown drift method 'nope'"):
        drift.dataset_drift(
            ["a"], gen.normal(size=(10, 1)), gen.normal(size=(10, 1)), method="nope"
        )
    with pytest.raises(ValueError, match="has no values"):
        drift.feature_drift("x", np.array([np.nan]), np.array([1.0]))
