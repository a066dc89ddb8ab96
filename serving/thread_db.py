"""Give a serving thread's database connection back after a call.

The lean WSGI front and the gRPC servicers skip Django's request_started/request_finished, which
is what normally closes a connection and clears the DEBUG query log. Only a cache refill (keys,
sample rates) queries on these threads, so this is usually one attribute check; without it each
thread kept a pooled connection for good, an 11th thread waited out the pool's timeout (a 500),
and under DEBUG the query log grew to 9,000 queries a thread (issue 15).
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections, reset_queries


def release_thread_database() -> None:
    """Close (or return to the psycopg pool) this thread's connections; forget its query log."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.in_atomic_block:
            conn.close()
    if settings.DEBUG:
        reset_queries()
