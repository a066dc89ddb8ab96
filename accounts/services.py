"""Writes for users and API keys; each runs in one transaction and records its audit entry."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.constants import MODEL_PREDICT_SCOPE_RE, ROLE_SCOPES, Role, Scope
from accounts.errors import Conflict, InvalidInput, PermissionDenied
from accounts.keys import KeyPrincipal, forget_keys, generate_key
from accounts.models import ApiKey, Profile
from accounts.permissions import user_role

User = get_user_model()


def _check_role(role: str) -> str:
    if role not in Role.values:
        raise InvalidInput(f"Unknown role '{role}'; expected one of: {', '.join(Role.values)}.")
    return role


def _key_target(key: ApiKey) -> str:
    return f"api_key:{key.prefix} ({key.name})"


def _key_state(key: ApiKey) -> dict:
    return {
        "id": key.pk,
        "name": key.name,
        "prefix": key.prefix,
        "owner": key.owner.get_username(),
        "scopes": list(key.scopes),
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
    }


def user_create(
    *, username: str, password: str, role: str = Role.VIEWER, email: str = "", actor=None
):
    """Create a user with a Profile; an admin also gets Django admin access (is_staff)."""
    username = (username or "").strip()
    if not username:
        raise InvalidInput("username: This field is required.")
    _check_role(role)
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"A user named '{username}' already exists.", code="user_exists")
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise InvalidInput("password: " + " ".join(exc.messages)) from exc
    with transaction.atomic():
        user = User.objects.create_user(
            username=username, password=password, email=email, is_staff=role == Role.ADMIN
        )
        Profile.objects.create(user=user, role=role)
        audit_record(
            actor=actor,
            action="user.create",
            target=f"user:{username}",
            after={"username": username, "email": email, "role": role},
        )
    return user


def user_set_role(*, user, role: str, actor, ip: str | None = None):
    """Change a user's role; only an admin (or the system, actor None) may."""
    _check_role(role)
    if actor is not None and user_role(actor) != Role.ADMIN:
        raise PermissionDenied("Only an admin may change roles.")
    with transaction.atomic():
        profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
        before = profile.role
        profile.role = role
        profile.save(update_fields=["role"])
        if not user.is_superuser:
            user.is_staff = role == Role.ADMIN
            user.save(update_fields=["is_staff"])
        audit_record(
            actor=actor,
            action="user.set_role",
            target=f"user:{user.get_username()}",
            before={"role": before},
            after={"role": role},
            ip=ip,
        )
        # Other replicas see the new role within the key-cache TTL; this one at once.
        transaction.on_commit(lambda: forget_keys(user_id=user.pk))
    user.profile = profile
    return user


def _clean_scopes(scopes) -> list[str]:
    if not isinstance(scopes, list | tuple) or not scopes:
        raise InvalidInput("scopes: Give at least one scope.")
    cleaned: list[str] = []
    for scope in scopes:
        if not isinstance(scope, str) or not (
            scope in Scope.values or MODEL_PREDICT_SCOPE_RE.match(scope)
        ):
            raise InvalidInput(
                f"scopes: '{scope}' is not a scope; use {', '.join(Scope.values)} "
                "or predict:<model>."
            )
        if scope not in cleaned:
            cleaned.append(scope)
    return cleaned


def api_key_create(
    *,
    user,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    actor=None,
    ip: str | None = None,
    principal: KeyPrincipal | None = None,
) -> tuple[ApiKey, str]:
    """Issue a key for user; returns (key, raw key). The raw key exists only in this return."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name: This field is required.")
    if len(name) > 100:
        raise InvalidInput("name: At most 100 characters.")
    cleaned = _clean_scopes(scopes)
    if actor is not None and actor.pk != user.pk and user_role(actor) != Role.ADMIN:
        raise PermissionDenied("Only an admin may create keys for another user.")
    role = user_role(user)
    allowed = ROLE_SCOPES[role]
    for scope in cleaned:
        if scope.split(":", 1)[0] not in allowed:
            raise PermissionDenied(
                f"A {role} may not hold the '{scope}' scope; allowed: {', '.join(sorted(allowed))}."
            )
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput("expires_at: Must be in the future.")
    raw, prefix, hashed = generate_key()
    with transaction.atomic():
        key = ApiKey.objects.create(
            owner=user,
            name=name,
            prefix=prefix,
            hashed_secret=hashed,
            scopes=cleaned,
            expires_at=expires_at,
        )
        audit_record(
            actor=actor,
            action="api_key.create",
            target=_key_target(key),
            after=_key_state(key),
            ip=ip,
            principal=principal,
        )
    return key, raw


def api_key_revoke(
    *, key: ApiKey, actor, ip: str | None = None, principal: KeyPrincipal | None = None
) -> ApiKey:
    """Revoke a key now; every replica refuses it within the key-cache TTL."""
    if actor is not None and actor.pk != key.owner_id and user_role(actor) != Role.ADMIN:
        raise PermissionDenied("Only the owner or an admin may revoke this key.")
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().select_related("owner").get(pk=key.pk)
        if key.revoked_at is not None:
            raise Conflict(f"Key '{key.name}' ({key.prefix}) is already revoked.", code="revoked")
        before = _key_state(key)
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_key.revoke",
            target=_key_target(key),
            before=before,
            after=_key_state(key),
            ip=ip,
            principal=principal,
        )
        prefix = key.prefix
        transaction.on_commit(lambda: forget_keys(prefixes=[prefix]))
    return key
