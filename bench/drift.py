"""Drift report throughput: 1,000,000 reference rows x 32 features against 100,000 current rows.

Run: `.venv/bin/python bench/drift.py [--reference-rows N] [--current-rows N] [--features N]`.
The target is under 3 s for the default sizes (Evidently rules: Wasserstein for a large
reference), printing the time and the rows per second; `--method psi|ks` times the others.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitoring.drift import dataset_drift  # noqa: E402

TARGET_SECONDS = 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference-rows", type=int, default=1_000_000)
    parser.add_argument("--current-rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--method", default="evidently", choices=["evidently", "psi", "ks"])
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    reference = rng.normal(size=(args.reference_rows, args.features)).astype(np.float32)
    current = rng.normal(size=(args.current_rows, args.features)).astype(np.float32)
    current[:, 0] += 0.5  # one drifted feature, so the report has something to find
    names = [f"f{i}" for i in range(args.features)]

    started = time.perf_counter()
    result = dataset_drift(names, reference, current, method=args.method)
    seconds = time.perf_counter() - started

    rows = args.reference_rows + args.current_rows
    drifted = [f.name for f in result.features if f.drifted]
    print(
        f"drift ({args.method}): {args.reference_rows:,} reference x {args.current_rows:,} "
        f"current rows x {args.features} features in {seconds:.2f} s "
        f"({rows / seconds:,.0f} rows/s, {rows * args.features / seconds:,.0f} values/s); "
        f"drifted: {', '.join(drifted) or 'none'}"
    )
    ok = seconds < TARGET_SECONDS
    print(f"target < {TARGET_SECONDS:.0f} s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
