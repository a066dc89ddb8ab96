"""Data-drift statistics, pure numpy/scipy (no Django): Evidently's default per-feature tests,
PSI over reference-quantile bins, and the two-sample KS test at any size.

Every feature is sorted once; KS, Wasserstein, PSI, unique counts and the histograms shown on
the drift page all read the sorted arrays (merges by `np.searchsorted`, counts by differences of
positions), so a report over a million reference rows costs about one sort per feature.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats
from scipy.spatial import distance

# Evidently's defaults: a small reference is judged by p-values, a large one by distances.
SMALL_REFERENCE_ROWS = 1000
P_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
JS_BINS = 30
PSI_BINS = 10
PSI_BANDS = (0.1, 0.2)
EPSILON = 1e-4  # Evidently's floor for empty bins, so log ratios stay finite
HIST_BINS = 20
METHODS = ("evidently", "psi", "ks")


@dataclass
class FeatureDrift:
    """One feature's verdict: the test, its statistic (p-value or distance) and the histograms."""

    name: str
    test: str
    score: float
    threshold: float
    drifted: bool
    kind: str  # "num" or "cat"
    n_unique: int
    band: str = ""  # PSI only: "none", "moderate" or "major"
    hist: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class DriftResult:
    """A dataset-level verdict over every feature."""

    method: str
    features: list[FeatureDrift]
    n_reference: int
    n_current: int
    share_drifted: float
    dataset_drift: bool

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "features": [f.as_dict() for f in self.features],
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "share_drifted": self.share_drifted,
            "dataset_drift": self.dataset_drift,
        }


# -- the sorted-array primitives ---------------------------------------------------------------
def _n_unique(sorted_values: np.ndarray) -> int:
    if sorted_values.size == 0:
        return 0
    return int(np.count_nonzero(sorted_values[1:] != sorted_values[:-1])) + 1


def _merged_cdfs(ref: np.ndarray, cur: np.ndarray):
    """Both samples merged in order (without a second sort) and each one's empirical CDF just
    after every merged point."""
    n, m = ref.size, cur.size
    merged = np.empty(n + m, dtype=np.result_type(ref, cur))
    ref_pos = np.arange(n) + np.searchsorted(cur, ref, side="left")
    cur_pos = np.arange(m) + np.searchsorted(ref, cur, side="right")
    merged[ref_pos] = ref
    merged[cur_pos] = cur
    is_ref = np.zeros(n + m, dtype=bool)
    is_ref[ref_pos] = True
    ref_count = np.cumsum(is_ref)
    cur_count = np.arange(1, n + m + 1) - ref_count
    return merged, ref_count / n, cur_count / m


def ks_statistic(ref: np.ndarray, cur: np.ndarray) -> float:
    """The two-sample KS statistic D of two sorted samples."""
    merged, f_ref, f_cur = _merged_cdfs(ref, cur)
    # Inside a run of ties only the CDF after the last tied value counts.
    last_of_run = np.append(merged[1:] != merged[:-1], True)
    return float(np.max(np.abs(f_ref[last_of_run] - f_cur[last_of_run])))


def ks_pvalue(d: float, n: int, m: int) -> float:
    """scipy's asymptotic two-sided p-value for D (what ks_2samp uses for large samples)."""
    big, small = sorted([float(n), float(m)], reverse=True)
    en = big * small / (big + small)
    return float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0))


def wasserstein(ref: np.ndarray, cur: np.ndarray) -> float:
    """The first Wasserstein distance of two sorted samples: the area between their CDFs."""
    merged, f_ref, f_cur = _merged_cdfs(ref, cur)
    widths = np.diff(merged)
    return float(np.sum(np.abs(f_ref[:-1] - f_cur[:-1]) * widths))


def _category_shares(ref: np.ndarray, cur: np.ndarray):
    keys = np.union1d(np.unique(ref), np.unique(cur))
    ref_counts = np.diff(np.searchsorted(ref, keys, side="left"), append=ref.size)
    cur_counts = np.diff(np.searchsorted(cur, keys, side="left"), append=cur.size)
    return keys, ref_counts, cur_counts


def _floored(counts: np.ndarray, total: int) -> np.ndarray:
    shares = counts / total
    return np.where(shares == 0, EPSILON, shares)


def jensen_shannon(ref: np.ndarray, cur: np.ndarray, kind: str) -> float:
    """Evidently's Jensen-Shannon distance: 30 equal-width bins over both samples (numeric) or
    the categories, empty bins floored at 1e-4, natural log."""
    if kind == "cat":
        _, ref_counts, cur_counts = _category_shares(ref, cur)
    else:
        low, high = min(ref[0], cur[0]), max(ref[-1], cur[-1])
        edges = np.histogram_bin_edges(np.array([low, high], dtype=float), bins=JS_BINS)
        ref_counts = _binned(ref, edges)
        cur_counts = _binned(cur, edges)
    return float(
        distance.jensenshannon(_floored(ref_counts, ref.size), _floored(cur_counts, cur.size))
    )


def _binned(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """np.histogram's counts (last bin closed) read off a sorted array."""
    positions = np.searchsorted(sorted_values, edges[:-1], side="left")
    positions = np.append(positions, np.searchsorted(sorted_values, edges[-1], side="right"))
    return np.diff(positions)


def psi(ref: np.ndarray, cur: np.ndarray) -> float:
    """Population stability index over 10 reference-quantile bins (empty bins floored)."""
    inner = np.unique(ref[(np.arange(1, PSI_BINS) * ref.size) // PSI_BINS])
    ref_counts = np.diff(np.searchsorted(ref, inner, side="left"), prepend=0, append=ref.size)
    cur_counts = np.diff(np.searchsorted(cur, inner, side="left"), prepend=0, append=cur.size)
    expected, actual = _floored(ref_counts, ref.size), _floored(cur_counts, cur.size)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def psi_band(value: float) -> str:
    if value >= PSI_BANDS[1]:
        return "major"
    return "moderate" if value >= PSI_BANDS[0] else "none"


def chi_square_pvalue(ref: np.ndarray, cur: np.ndarray) -> float:
    """Evidently's chi-square: current counts against reference shares scaled to the current."""
    _, ref_counts, cur_counts = _category_shares(ref, cur)
    expected = ref_counts * (cur.size / ref.size)
    if np.any(expected == 0):
        # A category the reference never saw: chi-square is infinite, the shift is certain.
        return 0.0
    return float(stats.chisquare(cur_counts, expected)[1])


def z_test_pvalue(ref: np.ndarray, cur: np.ndarray) -> float:
    """Evidently's two-proportion Z-test on the share of the first category."""
    key = min(ref[0], cur[0])
    p1, p2 = np.mean(ref == key), np.mean(cur == key)
    n1, n2 = ref.size, cur.size
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    return float(2 * stats.norm.sf(abs((p1 - p2) / se)))


# -- per-feature and per-dataset verdicts --------------------------------------------------------
def _histogram(ref: np.ndarray, cur: np.ndarray) -> dict:
    low, high = float(min(ref[0], cur[0])), float(max(ref[-1], cur[-1]))
    if high <= low:
        high = low + 1.0
    edges = np.linspace(low, high, HIST_BINS + 1)
    return {
        "edges": [round(float(e), 6) for e in edges],
        "reference": (_binned(ref, edges) / ref.size).round(6).tolist(),
        "current": (_binned(cur, edges) / cur.size).round(6).tolist(),
    }


def feature_drift(
    name: str,
    reference: np.ndarray,
    current: np.ndarray,
    *,
    method: str = "evidently",
    categorical: bool = False,
    numeric: bool = False,
) -> FeatureDrift:
    """Judge one feature: Evidently's rule for the sizes and kind, or PSI, or KS at any size.
    `categorical`/`numeric` are declarations that override the inferred kind."""
    ref = np.sort(reference[~np.isnan(reference)])
    cur = np.sort(current[~np.isnan(current)])
    if ref.size == 0 or cur.size == 0:
        raise ValueError(f"feature {name!r} has no values in the reference or the current window")
    n_unique = _n_unique(ref)
    if n_unique <= 5:
        n_unique = _n_unique(np.union1d(ref, cur))
    kind = "cat" if categorical or (n_unique <= 5 and not numeric) else "num"
    band = ""
    if method == "psi":
        score = psi(ref, cur)
        test, threshold, drifted, band = "psi", PSI_BANDS[0], score >= PSI_BANDS[0], psi_band(score)
    elif method == "ks":
        score = ks_pvalue(ks_statistic(ref, cur), ref.size, cur.size)
        test, threshold, drifted = "ks", P_THRESHOLD, score < P_THRESHOLD
    elif method != "evidently":
        raise ValueError(f"unknown drift method {method!r}; choose one of {', '.join(METHODS)}")
    elif ref.size <= SMALL_REFERENCE_ROWS:
        if kind == "num":
            test, score = "ks", float(stats.ks_2samp(ref, cur).pvalue)
        elif n_unique > 2:
            test, score = "chisquare", chi_square_pvalue(ref, cur)
        else:
            test, score = "z", z_test_pvalue(ref, cur)
        threshold, drifted = P_THRESHOLD, score < P_THRESHOLD
    elif kind == "num":
        norm = max(float(np.std(ref)), 0.001)
        test, score = "wasserstein", wasserstein(ref, cur) / norm
        threshold, drifted = DISTANCE_THRESHOLD, score >= DISTANCE_THRESHOLD
    else:
        test, score = "jensenshannon", jensen_shannon(ref, cur, kind)
        threshold, drifted = DISTANCE_THRESHOLD, score >= DISTANCE_THRESHOLD
    return FeatureDrift(
        name=name,
        test=test,
        score=float(score),
        threshold=threshold,
        drifted=bool(drifted),
        kind=kind,
        n_unique=n_unique,
        band=band,
        hist=_histogram(ref, cur),
    )


def dataset_drift(
    names: list[str],
    reference: np.ndarray,
    current: np.ndarray,
    *,
    method: str = "evidently",
    share_threshold: float = 0.5,
    categorical: frozenset[str] = frozenset(),
    numeric: frozenset[str] = frozenset(),
    workers: int | None = None,
) -> DriftResult:
    """Judge every column of two (rows x features) matrices; the dataset drifts when at least
    `share_threshold` of its features do."""
    if reference.ndim != 2 or current.ndim != 2:
        raise ValueError("reference and current must be 2-D (rows x features)")
    if reference.shape[1] != current.shape[1] or reference.shape[1] != len(names):
        raise ValueError(
            f"feature count mismatch: {len(names)} names, reference has {reference.shape[1]}, "
            f"current has {current.shape[1]}"
        )
    if method not in METHODS:
        raise ValueError(f"unknown drift method {method!r}; choose one of {', '.join(METHODS)}")
    ref_cols = np.ascontiguousarray(reference.T, dtype=np.float64)
    cur_cols = np.ascontiguousarray(current.T, dtype=np.float64)

    def judge(i: int) -> FeatureDrift:
        return feature_drift(
            names[i],
            ref_cols[i],
            cur_cols[i],
            method=method,
            categorical=names[i] in categorical,
            numeric=names[i] in numeric,
        )

    # numpy's sort and searchsorted release the GIL, so features run in parallel on threads.
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        features = list(pool.map(judge, range(len(names))))
    drifted = sum(f.drifted for f in features)
    share = drifted / len(features) if features else 0.0
    return DriftResult(
        method=method,
        features=features,
        n_reference=int(reference.shape[0]),
        n_current=int(current.shape[0]),
        share_drifted=share,
        dataset_drift=bool(features) and share >= share_threshold,
    )
