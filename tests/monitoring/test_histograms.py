"""Percentiles from summed histogram buckets match percentiles of the raw latencies."""

import numpy as np
import pytest

from monitoring import histograms


@pytest.mark.parametrize("q", [50, 90, 95, 99])
@pytest.mark.parametrize("dist", ["lognormal_fast", "lognormal_slow", "bimodal"])
def test_it_matches_numpy_within_one_bucket(q, dist):
    rng = np.random.default_rng(42)
    if dist == "lognormal_fast":
        raw = rng.lognormal(mean=0.3, sigma=0.5, size=20_000)  # around 1.3 ms
    elif dist == "lognormal_slow":
        raw = rng.lognormal(mean=4.0, sigma=0.8, size=20_000)  # tens to hundreds of ms
    else:
        raw = np.concatenate([rng.normal(1.0, 0.1, 15_000), rng.normal(80.0, 10.0, 5_000)])
    raw = np.clip(raw, 0.01, None)
    # Rollups from four "minutes", merged: percentiles come from added buckets only.
    parts = np.array_split(raw, 4)
    merged = histograms.merge(*(histograms.histogram(p) for p in parts))
    assert sum(merged) == raw.size
    expected = float(np.percentile(raw, q))
    got = histograms.percentile(merged, q)
    assert abs(got - expected) <= histograms.bucket_width_at(expected)


def test_it_is_finer_under_five_ms():
    widths = [histograms.bucket_width_at(v) for v in (0.6, 1.1, 2.2, 3.7, 4.5)]
    assert max(widths) <= 1.0
    assert histograms.bucket_width_at(40.0) >= 10.0


def test_it_puts_edges_in_the_lower_bucket():
    index = histograms.bucket_index(1.0)
    assert histograms.bucket_bounds(index) == (0.75, 1.0)
    assert histograms.bucket_index(1e9) == histograms.N_BUCKETS - 1


def test_it_returns_none_for_an_empty_histogram():
    assert histograms.percentile([0] * histograms.N_BUCKETS, 95) is None
    assert histograms.percentiles([0] * histograms.N_BUCKETS) == {
        "p50": None,
        "p95": None,
        "p99": None,
    }


def test_it_rejects_a_percentile_out_of_range():
    with pytest.raises(ValueError, match="within 0..100"):
        histograms.percentile([1] * histograms.N_BUCKETS, 101)
