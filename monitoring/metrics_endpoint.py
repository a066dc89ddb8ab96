"""The Prometheus scrape endpoint: this process's serving counters plus database-derived gauges."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core.addresses import client_ip
from jobs.models import WorkerHeartbeat
from serving import telemetry


class HeartbeatCollector(Collector):
    """Seconds since each worker last reported (jobs.WorkerHeartbeat)."""

    def collect(self):
        family = GaugeMetricFamily(
            "modelgate_worker_heartbeat_age_seconds",
            "Seconds since a worker's last heartbeat.",
            labels=["worker"],
        )
        now = timezone.now()
        for worker, moment in WorkerHeartbeat.objects.values_list("hostname", "last_seen"):
            family.add_metric([str(worker)], (now - moment).total_seconds())
        yield family

    def describe(self):
        return []


database_registry = CollectorRegistry(auto_describe=False)
database_registry.register(HeartbeatCollector())


def _allowed_networks() -> list:
    raw = settings.MODELGATE_METRICS_ALLOW_IPS
    if isinstance(raw, str):
        raw = [part for part in raw.replace(",", " ").split() if part]
    return [ipaddress.ip_network(item, strict=False) for item in raw]


def scrape_allowed(request) -> tuple[bool, int, str]:
    """(allowed, status if not, why): the bearer token when one is set, else the IP allow-list."""
    token = settings.MODELGATE_METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, presented = header.partition(" ")
        if token and scheme.lower() == "bearer" and hmac.compare_digest(presented.strip(), token):
            return True, 200, ""
        return False, 401, "invalid metrics token"
    ip = client_ip(request.META)
    if ip and any(ipaddress.ip_address(ip) in net for net in _allowed_networks()):
        return True, 200, ""
    return False, 403, "metrics are not served to this address; send the metrics token"


def metrics(request):
    """GET /metrics in the Prometheus text format."""
    allowed, status, why = scrape_allowed(request)
    if not allowed:
        response = HttpResponse(why + "\n", status=status, content_type="text/plain")
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = generate_latest(telemetry.registry) + generate_latest(database_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
