"""Issue an API key from the command line; prints only the key, so scripts can capture it."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.services import api_key_create
from core.errors import ServiceError


class Command(BaseCommand):
    help = "Create an API key for a user and print it (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Username of the key's owner.")
        parser.add_argument("--scopes", required=True, help="Comma-separated, e.g. predict,read")
        parser.add_argument("--name", default="cli", help="A label for the key.")
        parser.add_argument("--expires-days", type=int, default=None, help="Days until expiry.")
        parser.add_argument("--rate-limit", default="", help="e.g. 100/m (s, m, h or d).")
        parser.add_argument("--burst", default="", help="A short-window rate, e.g. 20/s.")
        parser.add_argument("--quota", default="", help="e.g. 10000/d or 300000/mo.")

    def handle(self, *args, user, scopes, name, expires_days, rate_limit, burst, quota, **options):
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"No user named '{user}'.")
        if expires_days is not None and expires_days <= 0:
            raise CommandError("--expires-days must be a positive number of days.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
        try:
            # actor None: the operator at the shell acts as the system, recorded as such.
            _, raw = api_key_create(
                user=owner,
                name=name,
                scopes=scope_list,
                expires_at=expires_at,
                rate_limit=rate_limit,
                burst_limit=burst,
                quota=quota,
                actor=None,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(raw)
