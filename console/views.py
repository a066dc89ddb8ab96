"""Console pages that compose the apps: the overview (home) and the health probes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from console import health
from monitoring.overview import overview_rows
from monitoring.selectors import alerts_open
from registry import selectors as registry_selectors


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    checks = {"database": health.database_ok(), "broker": health.broker_ok()}
    pool = health.serving_pool_ok()
    if pool is not None:  # a serving process: ready once every deployed version is warm
        checks["serving"] = pool
    ready = all(ok for ok, _ in checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()},
    }
    response = JsonResponse(body, status=200 if ready else 503)
    # A probe's 503 is an answer ("not yet"), not a server error: without this, Django logs an
    # ERROR line each time the launcher, a load balancer or Kubernetes asks during a start-up.
    response._has_been_logged = True
    return response


@login_required
@vary_on_headers("HX-Request")  # the same URL answers the page or its refreshed table
def dashboard(request):
    """Every deployment (what serves, how it does, what changed last), then every model."""
    rows = overview_rows()
    serving: dict[int, list] = {}
    for row in rows:
        versions = ", ".join(f"v{v.version.number}" for v in row.variants)
        if versions:
            serving.setdefault(row.deployment.model_id, []).append((row.deployment.name, versions))
    models = registry_selectors.model_list_with_latest()
    for model in models:
        model.serving = serving.get(model.pk, [])
    context = {"rows": rows, "models": models, "alerts": alerts_open()[:20]}
    # The 10-second refresh: the deployments table, with alerts and models out of band.
    template = "console/_overview_live.html" if request.htmx else "console/dashboard.html"
    return render(request, template, context)
