"""The user a CLI command acts as: the same rules as the console and the API apply to them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def command_actor(username: str | None):
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"user {username!r} does not exist")
    return user
