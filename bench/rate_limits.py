"""What a per-key rate limit costs a request, as ratios measured in one run.

    .venv/bin/python bench/rate_limits.py [--calls 50000]

- the sliding-window leased limiter (accounts.ratelimits) on a key with a large limit (the
  common case: a token already leased in this process) against django-ratelimit's own
  per-request counting (is_ratelimited: a cache add/incr each request) on the same cache.
Uses the embedded settings (locmem cache); against Redis the per-request counting costs a round
trip, the leased limiter one per chunk (~2% of the limit).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings_test")

import django  # noqa: E402

django.setup()

from django.test import RequestFactory  # noqa: E402
from django_ratelimit.core import is_ratelimited  # noqa: E402

from accounts.ratelimits import LeasedLimiter  # noqa: E402
from bench.timing import per_call_us  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=50_000)
    calls = parser.parse_args().calls
    limiter = LeasedLimiter()
    request = RequestFactory().get("/")
    rate = "1000000000/m"
    leased = per_call_us(lambda: limiter.hit("bench-key", rate), calls)
    counted = per_call_us(
        lambda: is_ratelimited(
            request, group="bench", key=lambda _g, _r: "bench-key", rate=rate, increment=True
        ),
        calls,
    )
    print(f"sliding leased limiter: {leased:.2f} µs/request")
    print(f"django-ratelimit per-request counting: {counted:.2f} µs/request")
    print(f"ratio leased / per-request: {leased / counted:.2f}")


if __name__ == "__main__":
    main()
