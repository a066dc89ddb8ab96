"""Batch-job throughput against raw in-process batched throughput of the same model.

Run: `.venv/bin/python bench/batch_jobs.py [--rows 1000000] [--batch-size 4096]`.
It registers the "wide" benchmark model (784->1024->1024->10), stores an N-row dataset, scores it
straight through a warmed ModelRuntime (raw) before and after running it as a batch job through
`jobs.batch_jobs.batch_job_execute` (exactly what the gpu worker's task calls: runtime load and
warm-up, dataset read, chunked scoring, progress rows, .npz + .csv written, all timed), and prints
rows/s of both, the ratio against the mean raw speed (target: job >= 0.8 x raw) and whether the
job's predictions equal raw's bit for bit. Everything lives in a temporary directory with its own
SQLite file.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def setup_django(work: Path) -> None:
    os.environ["MODELGATE_VAR_DIR"] = str(work)
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("SECRET_KEY", "bench-batch-jobs")
    # 1,000,000 x 784 float32 is 3.1 GB, over the default 2 GiB upload limit.
    os.environ.setdefault("MODELGATE_MAX_UPLOAD_BYTES", str(8 * 1024**3))
    os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings"
    os.environ.pop("DATABASE_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def show_job_phases() -> None:
    """Print the job's own log line that splits its time (runtime, scoring, results)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("job log: %(message)s"))
    job_log = logging.getLogger("jobs.batch_jobs")
    job_log.addHandler(handler)
    job_log.setLevel(logging.INFO)
    job_log.propagate = False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=4096)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        work = Path(tmp)
        setup_django(work)
        run(work, args.rows, args.batch_size)


def run(work: Path, rows: int, batch_size: int) -> None:
    from django.contrib.auth import get_user_model

    from bench.runtime_raw import build_model
    from jobs.batch_jobs import batch_job_create, batch_job_execute, result_root
    from jobs.validation.suite import load_runtime
    from registry.services import dataset_create, version_register

    user = get_user_model().objects.create_user("bench")
    model_path = work / "wide.keras"
    build_model("wide").save(model_path)
    version = version_register(
        model_name="wide", upload=model_path, filename="wide.keras", actor=user
    )
    x = np.random.default_rng(0).normal(size=(rows, 784)).astype("float32")
    data_path = work / "rows.npz"
    np.savez(data_path, features=x)
    started = time.perf_counter()
    dataset = dataset_create(name="bench", upload=data_path, filename="rows.npz", actor=user)
    print(f"dataset: {rows:,} rows x 784 stored in {time.perf_counter() - started:.1f} s")
    data_path.unlink()

    runtime = load_runtime(version, batch_size)
    runtime.predict({"features": x[:batch_size]})
    raw_before, expected = raw_seconds(runtime, x, batch_size)

    show_job_phases()
    job = batch_job_create(
        version=version, dataset=dataset, actor=user, batch_size=batch_size, enqueue=False
    )
    started = time.perf_counter()
    job = batch_job_execute(job_id=job.pk, worker_host="bench")
    job_seconds = time.perf_counter() - started
    assert job.status == "succeeded", job.error

    # Raw again after the job: on a shared machine the speed drifts; the mean brackets the job.
    raw_after, _ = raw_seconds(runtime, x, batch_size)
    with np.load(result_root() / str(job.pk) / "predictions.npz") as npz:
        identical = np.array_equal(npz["score"], expected)
    raw = rows / ((raw_before + raw_after) / 2)
    end_to_end = rows / job_seconds
    print(f"device: {runtime.device}; batch size {batch_size}")
    print(
        f"raw in-process batched:        {raw:12,.0f} rows/s (mean of {raw_before:.1f} s "
        f"before and {raw_after:.1f} s after the job)"
    )
    print(f"batch job, scoring loop:       {job.rows_per_second:12,.0f} rows/s")
    print(
        f"batch job, end to end:         {end_to_end:12,.0f} rows/s ({job_seconds:.1f} s: "
        "load + warm-up + scoring + .npz/.csv)"
    )
    print(f"job predictions identical to raw: {'yes' if identical else 'NO'}")
    ratio, loop_ratio = end_to_end / raw, job.rows_per_second / raw
    verdict = "meets" if ratio >= 0.8 else "misses"
    print(f"ratio job/raw: {ratio:.2f} end to end, {loop_ratio:.2f} scoring loop ({verdict} 0.8)")


def raw_seconds(runtime, x: np.ndarray, batch_size: int) -> tuple[float, np.ndarray]:
    """Seconds to score `x` batch by batch in process, and the predictions."""
    scores = np.empty((len(x), 10), dtype="float32")
    started = time.perf_counter()
    for start in range(0, len(x), batch_size):
        batch = runtime.predict({"features": x[start : start + batch_size]})["score"]
        scores[start : start + len(batch)] = batch
    return time.perf_counter() - started, scores


if __name__ == "__main__":
    main()
