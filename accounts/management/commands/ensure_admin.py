"""Make sure an `admin` user exists (used by `make run`); idempotent."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.constants import Role
from accounts.errors import ServiceError
from accounts.services import user_create

ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = "Create the admin user if missing; password from MODELGATE_ADMIN_PASSWORD or generated."

    def handle(self, *args, **options):
        if get_user_model().objects.filter(username=ADMIN_USERNAME).exists():
            self.stdout.write(f"Admin user '{ADMIN_USERNAME}' already exists.")
            return
        password = os.environ.get("MODELGATE_ADMIN_PASSWORD") or secrets.token_urlsafe(15)
        try:
            user_create(username=ADMIN_USERNAME, password=password, role=Role.ADMIN)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        if os.environ.get("MODELGATE_ADMIN_PASSWORD"):
            self.stdout.write(
                f"Created admin user '{ADMIN_USERNAME}' with the password from "
                "MODELGATE_ADMIN_PASSWORD."
            )
        else:
            # Printed once: the only place this generated password ever appears.
            self.stdout.write(f"Created admin user '{ADMIN_USERNAME}' with password: {password}")
