"""Liveness and readiness probes: what a load balancer or Kubernetes asks before sending traffic."""

from __future__ import annotations

from django.db import connection

from console.celery import app as celery_app


def database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, "ok"
    except Exception as exc:  # any driver error means "not ready"; the message says which
        return False, f"{type(exc).__name__}: {exc}"


def broker_ok() -> tuple[bool, str]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True, "ok"
    except Exception as exc:  # kombu raises many types; all mean "broker unreachable"
        return False, f"{type(exc).__name__}: {exc}"
