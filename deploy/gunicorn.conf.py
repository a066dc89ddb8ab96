"""gunicorn settings for the `web` process (console + management API); see docker-compose.yml.

The serving process runs on granian (measured faster on the predict path: docs/architecture.md);
this file is for the console, where gunicorn's maturity matters more than microseconds."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", 8))
timeout = 120  # artifact uploads can be large
graceful_timeout = 30
keepalive = 5
accesslog = "-"
