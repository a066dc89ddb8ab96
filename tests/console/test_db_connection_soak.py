"""Database connections stay bounded on a threaded server: bursts of concurrent API calls with
idle gaps long enough for granian to retire its threads (the attack that took one process to 76
PostgreSQL connections) leave the count at or under the process's pool size."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection

from tests.support.servers import start_server

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.services,
    pytest.mark.timeout(150),
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="connection pooling is PostgreSQL's: set DATABASE_URL=postgres://... to run this",
    ),
]

POOL_MAX = 4
BURSTS = 4
CONCURRENCY = 12
THREAD_IDLE_S = 5  # granian's minimum; the gaps below outlast it so threads are retired
GAP_S = THREAD_IDLE_S + 2.5


def _count(dsn: str, app: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (app,)
        ).fetchone()
    return row[0]


def test_it_keeps_connections_bounded_across_bursts_and_thread_retirement(tmp_path, alice):
    from accounts.services import api_key_create

    _, key = api_key_create(user=alice, name="soak", scopes=["read"])
    app = f"mg-soak-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    dsn = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} dbname={db['NAME']} "
    dsn += f"user={db['USER'] or 'postgres'} password={db['PASSWORD'] or ''}"
    server = start_server(
        tmp_path,
        threads=16,
        ready_path="/healthz",
        granian_args=("--blocking-threads-idle-timeout", str(THREAD_IDLE_S)),
        PGAPPNAME=app,  # libpq names the server's connections, so only they are counted
        MODELGATE_DB_POOL_MAX=POOL_MAX,
        MODELGATE_DB_POOL_MIN=1,
        MODELGATE_POOL_AUTOSTART=0,
    )
    samples: list[int] = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(_count(dsn, app))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    headers = {"Authorization": f"Bearer {key}"}

    def call(i: int) -> int:
        path = ("/api/v1/models", "/api/v1/environments")[i % 2]
        return requests.get(server.url + path, headers=headers, timeout=30).status_code

    try:
        sampler.start()
        after_gaps = []
        with ThreadPoolExecutor(CONCURRENCY) as clients:
            for _ in range(BURSTS):
                statuses = list(clients.map(call, range(CONCURRENCY * 3)))
                assert statuses == [200] * len(statuses), statuses
                time.sleep(GAP_S)
                after_gaps.append(_count(dsn, app))
    finally:
        stop.set()
        sampler.join(5)
        server.stop()

    assert samples and max(samples) >= 1, "the server never connected: nothing was measured"
    assert max(samples) <= POOL_MAX, (samples, server.output())
    assert max(after_gaps) <= POOL_MAX, after_gaps
    # The server is gone: it left nothing behind.
    deadline = time.monotonic() + 10
    while _count(dsn, app) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _count(dsn, app) == 0
