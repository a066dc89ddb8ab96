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


def serving_pool_ok() -> tuple[bool, str] | None:
    """Every deployed version loaded and warmed; None where this process serves no predictions.

    A deploy that this replica has not picked up yet does not make it unready: the old table
    still answers, and failing every replica's probe at once during a rollout would empty the
    Service. Nor does a version that cannot load while the previous state still serves (the
    detail names it: "failed to load on N replicas"); a deployment with nothing to serve does.
    """
    from django.conf import settings

    from serving.pool import get_pool

    if not settings.MODELGATE_POOL_AUTOSTART:
        return None
    from serving.rollout import load_failure_messages

    pool = get_pool()
    table = pool.table
    if pool.ready:
        detail = f"{len(table.routes)} deployment(s) loaded and warmed"
        try:
            failures = load_failure_messages()
        except Exception as exc:  # the shared store is down: say so, keep serving
            failures = [f"replica reports unreadable: {type(exc).__name__}: {exc}"]
        # Ready: the previous state still serves; the new one is reported, not hidden.
        return True, "; ".join([detail, *failures])
    if table.loading or table.errors:
        loading = ", ".join(sorted(f"{m}/{d}" for m, d in table.loading)) or "none"
        errors = "; ".join(f"{m} v{n}: {e}" for (m, n), e in sorted(table.errors.items()))
        return False, f"not loaded: {loading}" + (f" ({errors})" if errors else "")
    return False, "loading deployed versions"
