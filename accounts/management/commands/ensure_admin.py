"""Make sure an `admin` user exists (used by `make run`); idempotent."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.constants import Role
from accounts.services import user_create
from core.errors import ServiceError

ADMIN_USERNAME = "admin"


def _min_length() -> int:
    for validator in settings.AUTH_PASSWORD_VALIDATORS:
        if validator["NAME"].endswith("MinimumLengthValidator"):
            return validator.get("OPTIONS", {}).get("min_length", 8)
    return 0


class Command(BaseCommand):
    help = "Create the admin user if missing; password from MODELGATE_ADMIN_PASSWORD or generated."

    def handle(self, *args, **options):
        if get_user_model().objects.filter(username=ADMIN_USERNAME).exists():
            self.stdout.write(f"Admin user '{ADMIN_USERNAME}' already exists.")
            return
        chosen = settings.MODELGATE_ADMIN_PASSWORD
        password = chosen or secrets.token_urlsafe(15)
        try:
            user_create(username=ADMIN_USERNAME, password=password, role=Role.ADMIN)
        except ServiceError as exc:
            if not chosen:
                raise CommandError(exc.message) from exc
            # Name the variable: the newcomer typed it on the `make run` line, not a "password".
            reason = exc.message.removeprefix("password: ")
            raise CommandError(
                f"MODELGATE_ADMIN_PASSWORD is not accepted: {reason} The rule: at least "
                f"{_min_length()} characters, not a common password, not all digits, not like "
                "the user name. Or leave MODELGATE_ADMIN_PASSWORD unset for a generated one."
            ) from exc
        if chosen:
            self.stdout.write(
                f"Created admin user '{ADMIN_USERNAME}' with the password from "
                "MODELGATE_ADMIN_PASSWORD."
            )
        else:
            # Printed once: the only place this generated password ever appears.
            self.stdout.write(f"Created admin user '{ADMIN_USERNAME}' with password: {password}")
