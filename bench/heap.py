"""Where the serving process's memory goes under steady load: tracemalloc snapshots, diffed.

Runs the embedded shape in this one process (SQLite, no Redis, the database event sink, DEBUG on
as `make run` sets it), deploys the "small" bench model and calls the WSGI application from
threads with single-row OIP requests, as granian's blocking threads would. After a warm-up it
takes a snapshot every `--every` seconds and prints the allocation sites that grew most since the
first one, plus the growth per request.

    .venv/bin/python bench/heap.py [--seconds 60] [--every 20] [--threads 8] [--rate 1000/m]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _environ(path: str, body: bytes, key: str) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {key}",
        "wsgi.input": io.BytesIO(body),
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rate", default="", help="the key's rate limit (some 429s, as reported)")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="modelgate-heap-"))
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_serving", ROOT / "bench" / "serving.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.configure_env(work / "var", use_redis=False)
    if args.rate:
        os.environ["MODELGATE_DEFAULT_RATE_LIMIT"] = args.rate
    key, _models = bench.prepare(["small"], work)
    request_body = bench.request_body
    from console.wsgi import application
    from serving.pool import get_pool

    pool = get_pool()
    pool.refresh()
    body = request_body("small")
    path = "/v2/models/small/infer"
    statuses: dict[str, int] = {}
    count = [0]
    stop = threading.Event()
    lock = threading.Lock()

    def client() -> None:
        mine: dict[str, int] = {}
        n = 0
        while not stop.is_set():
            seen: list[str] = []
            application(_environ(path, body, key), lambda s, h, e=None, seen=seen: seen.append(s))
            mine[seen[0][:3]] = mine.get(seen[0][:3], 0) + 1
            n += 1
            if n % 200 == 0:
                with lock:
                    count[0] += n
                    for k, v in mine.items():
                        statuses[k] = statuses.get(k, 0) + v
                n, mine = 0, {}

    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()
    time.sleep(args.warmup)
    tracemalloc.start(12)
    first = tracemalloc.take_snapshot()
    first_count = count[0]
    started = time.monotonic()
    while time.monotonic() - started < args.seconds:
        time.sleep(args.every)
        snap = tracemalloc.take_snapshot()
        done = count[0] - first_count
        stats = snap.compare_to(first, "traceback")
        grown = sum(s.size_diff for s in stats)
        print(
            f"\n== t+{time.monotonic() - started:.0f} s: {done} requests "
            f"({done / (time.monotonic() - started):.0f}/s), statuses {statuses}, traced heap "
            f"{grown / 1e6:+.2f} MB = {grown / max(done, 1):.0f} B/request",
            flush=True,
        )
        for stat in stats[: args.top]:
            if stat.size_diff <= 0:
                continue
            frames = [f for f in stat.traceback if "site-packages" not in f.filename]
            where = frames[-1] if frames else stat.traceback[-1]
            inner = stat.traceback[-1]
            print(
                f"  {stat.size_diff / 1e3:+9.1f} kB {stat.count_diff:+7d} blocks  "
                f"{where.filename.split('/main/')[-1]}:{where.lineno}  <- "
                f"{inner.filename.split('site-packages/')[-1]}:{inner.lineno}"
            )
    stop.set()
    for t in threads:
        t.join(5)


if __name__ == "__main__":
    main()
