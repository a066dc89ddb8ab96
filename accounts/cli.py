"""The user a management command acts as (`--user NAME`): the same rules as the console and the
API apply to them. Every app's commands use it (registry's register_model, serving's deploy and
rollback)."""

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
