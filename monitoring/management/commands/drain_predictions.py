"""Drain the prediction stream into the log and rollups: once, or forever (instead of beat)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from monitoring.ingest import drain_stream


class Command(BaseCommand):
    help = "Ingest prediction events from the Redis stream (once, or --forever)."

    def add_arguments(self, parser):
        parser.add_argument("--forever", action="store_true", help="keep draining")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds to wait when the stream is empty"
        )
        parser.add_argument("--count", type=int, default=5000, help="events per read")

    def handle(self, *args, forever: bool, interval: float, count: int, **options):
        if not settings.REDIS_URL:
            raise CommandError(
                "REDIS_URL is not set: without Redis, serving processes ingest "
                "directly (MODELGATE_EVENT_SINK=monitoring.ingest.database_sink)"
            )
        while True:
            done = drain_stream(count=count)
            if done:
                self.stdout.write(f"ingested {done} events")
            if not forever:
                return
            if not done:
                time.sleep(interval)
