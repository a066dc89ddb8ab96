"""The audit log: one entry per mutating action, never a secret in it."""

from __future__ import annotations

import json
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet

from core.actor import SYSTEM_LABEL, Actor
from core.models import AuditEntry

REDACTED = "[redacted]"
_SECRET_WORDS = ("secret", "password", "passwd", "token", "credential", "api_key", "apikey")

# Tests for "this string is a secret" that apps above register (accounts registers the API-key
# format in its AppConfig.ready): core cannot import them, yet must redact what they recognise.
_secret_detectors: list = []


def register_secret_detector(detector) -> None:
    """detector(str) -> bool: True for a value the audit log must never store."""
    if detector not in _secret_detectors:
        _secret_detectors.append(detector)


def _looks_secret(value: str) -> bool:
    return any(detector(value) for detector in _secret_detectors)


def _is_secret_field(name: str) -> bool:
    lowered = str(name).lower()
    return any(word in lowered for word in _SECRET_WORDS) or lowered.endswith("key")


def scrub(value):
    """A JSON-safe copy of value without secret-looking fields or anything shaped like a key."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if not _is_secret_field(k)}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [scrub(v) for v in items]
    if isinstance(value, str) and _looks_secret(value):
        return REDACTED
    return value


def _json_safe(value):
    if value is None:
        return None
    # Round-trip through Django's encoder so datetimes, decimals and UUIDs are stored as text.
    return scrub(json.loads(json.dumps(scrub(value), cls=DjangoJSONEncoder)))


def audit_record(
    *,
    actor,
    action: str,
    target: str,
    before=None,
    after=None,
    ip: str | None = None,
    principal=None,
) -> AuditEntry:
    """Append one audit entry. actor: a core.actor.Actor (its label, user and address), or a
    User (with principal when a key acted); None (and no principal) means the system did it."""
    if isinstance(actor, Actor):
        return _create(actor.user_id, actor.label, action, target, before, after, ip or actor.ip)
    actor_id = getattr(actor, "pk", None)
    if principal is not None:
        label = principal.label
        actor_id = actor_id or principal.user_id
    elif actor is not None:
        label = actor.get_username()
    else:
        label = SYSTEM_LABEL
    return _create(actor_id, label, action, target, before, after, ip)


def _create(actor_id, label, action, target, before, after, ip) -> AuditEntry:
    return AuditEntry.objects.create(
        actor_id=actor_id,
        actor_label=label,
        action=action,
        target=target[:255],
        before=_json_safe(before),
        after=_json_safe(after),
        ip=ip or None,
    )


def audit_list(
    *,
    actor=None,
    action: str | None = None,
    target_contains: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """Audit entries, newest first. actor: a User, or text matched against username/label;
    action: exact, or a prefix such as "api_key" for every "api_key.*"; until is exclusive."""
    entries = AuditEntry.objects.select_related("actor")
    if actor is not None and actor != "":
        if hasattr(actor, "pk"):
            entries = entries.filter(actor=actor)
        else:
            text = str(actor).strip()
            entries = entries.filter(
                Q(actor_label__icontains=text) | Q(actor__username__iexact=text)
            )
    if action:
        action = action.strip()
        entries = entries.filter(Q(action=action) | Q(action__startswith=f"{action}."))
    if target_contains:
        entries = entries.filter(target__icontains=target_contains.strip())
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    return entries
