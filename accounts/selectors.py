"""Reads for users and API keys."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.constants import Role
from accounts.errors import NotFound
from accounts.models import ApiKey
from accounts.permissions import user_role


def api_key_list(*, user, include_all: bool = False) -> QuerySet[ApiKey]:
    """The user's keys, newest first; an admin asking for all gets everyone's."""
    keys = ApiKey.objects.select_related("owner")
    if include_all and user_role(user) == Role.ADMIN:
        return keys
    return keys.filter(owner=user)


def api_key_get(*, user, key_id: int) -> ApiKey:
    """One key the user may manage (their own; any for an admin). Another's key is NotFound,
    so a key's existence is not revealed to those who may not see it."""
    try:
        return api_key_list(user=user, include_all=True).get(pk=key_id)
    except ApiKey.DoesNotExist:
        raise NotFound(f"API key {key_id} not found.") from None
