"""The predict path's own cost, in process: one thread calls the WSGI front, no HTTP, no client.

    .venv/bin/python bench/predict_path.py [--against <another checkout>] [--pairs 3]

Each measurement deploys the bench's `small` model (SQLite, limits and events in process), warms
the key cache, then times single-row predicts through `ServingFront`, native and OIP JSON: best
and median of 7 rounds of 400 calls, in microseconds a request. With `--against`, the same
measurement runs in that checkout too (e.g. a `git worktree` at the commit before a change),
alternating the two trees `--pairs` times, and the ratio this tree / that tree is printed: below
1.00 is faster. This is the figure issue 14 asks of a change to the request path ("no regression
beyond noise"); bench/serving.py measures the same path over HTTP with clients beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUNDS, CALLS = 7, 400
PATHS = {
    "native": "/api/v1/models/small/deployments/production/predict",
    "oip": "/v2/models/small/infer",
}


def _measure() -> dict:
    """Run inside the tree under test (cwd and sys.path are that tree)."""
    import io

    sys.path.insert(0, str(Path.cwd()))
    sys.path.insert(0, str(Path.cwd() / "bench"))
    from serving_setup import MODELS, configure_env, prepare, request_body

    work = Path(tempfile.mkdtemp(prefix="mg-predict-path-"))
    configure_env(work, use_redis=False)
    os.environ["MODELGATE_ACCESS_LOG"] = "0"
    key, _ = prepare(["small"], work)
    from serving.pool import get_pool
    from serving.wsgi_front import ServingFront

    front = ServingFront(lambda environ, start_response: [b""])
    pool = get_pool()
    pool.ensure_started()
    deadline = time.monotonic() + 120
    while not (pool.ready and ("small", "production") in pool.table.routes):
        if time.monotonic() > deadline:
            raise SystemExit("the pool never served small/production")
        time.sleep(0.05)
    row = [round(0.01 * i, 2) for i in range(MODELS["small"][0])]
    bodies = {"native": json.dumps({"instances": [row]}).encode(), "oip": request_body("small")}

    def call(protocol: str) -> None:
        body = bodies[protocol]
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": PATHS[protocol],
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/json",
            "wsgi.input": io.BytesIO(body),
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Bearer {key}",
        }
        statuses = []
        front(environ, lambda status, headers, exc_info=None: statuses.append(status))
        if not statuses[0].startswith("200"):
            raise SystemExit(f"{protocol} predict answered {statuses[0]}")

    result = {}
    for protocol in PATHS:
        for _ in range(200):  # warm: key cache, XLA, leases
            call(protocol)
        rounds = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for _ in range(CALLS):
                call(protocol)
            rounds.append((time.perf_counter() - started) / CALLS * 1e6)
        result[protocol] = {"best": min(rounds), "median": statistics.median(rounds)}
    return result


def _run_in(tree: Path) -> dict:
    script = ROOT / "bench" / "predict_path.py"
    out = subprocess.run(
        [sys.executable, str(script), "--child"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )
    if out.returncode != 0:
        raise SystemExit(f"measuring in {tree} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, default=None, help="another checkout to compare")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure()))
        return
    trees = [("this", ROOT)] + ([("against", args.against.resolve())] if args.against else [])
    runs: dict[str, list[dict]] = {name: [] for name, _ in trees}
    for pair in range(args.pairs if args.against else 1):
        for name, tree in trees if pair % 2 == 0 else list(reversed(trees)):
            runs[name].append(_run_in(tree))
            print(f"{name:8s} {json.dumps(runs[name][-1])}", flush=True)
    print(f"\nµs a single-row predict through the WSGI front (best of {ROUNDS} x {CALLS}):")
    print("| tree | protocol | best (runs) | median of bests |\n|---|---|---|---:|")
    bests = {}
    for name, _ in trees:
        for protocol in PATHS:
            values = [run[protocol]["best"] for run in runs[name]]
            bests[name, protocol] = statistics.median(values)
            shown = ", ".join(f"{v:.0f}" for v in values)
            print(f"| {name} | {protocol} | {shown} | {bests[name, protocol]:.0f} |")
    if args.against:
        for protocol in PATHS:
            ratio = bests["this", protocol] / bests["against", protocol]
            print(f"{protocol}: this / against = {ratio:.3f}")


if __name__ == "__main__":
    main()
