"""Writes for users and API keys; each runs in one transaction and records its audit entry."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.actors import as_actor
from accounts.constants import MODEL_SCOPE_RE, ROLE_SCOPES, Role, Scope
from accounts.key_format import generate_key
from accounts.key_rules import check_key_may_manage, check_manager, check_outlived, check_within_key
from accounts.keys import forget_all_keys, forget_keys
from accounts.limits import check_within, clean_limit
from accounts.models import ApiKey, Profile, RoleLimits
from accounts.permissions import user_role
from accounts.selectors import role_ceilings
from core.actor import Actor
from core.audit import audit_record
from core.errors import Conflict, InvalidInput, PermissionDenied

DEFAULT_ROTATION_OVERLAP_HOURS = 24.0
MAX_ROTATION_OVERLAP_HOURS = 7 * 24.0
_UNSET = object()

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
        "rate_limit": key.rate_limit,
        "burst_limit": key.burst_limit,
        "quota": key.quota,
        "rotated_at": key.rotated_at,
        "previous_valid_until": key.previous_valid_until,
    }


def _clean_limits(*, user, actor, rate_limit, burst_limit, quota) -> dict[str, str]:
    """Normalised limits; a non-admin may not go above the ceilings of the key owner's role."""
    limits = {
        "rate_limit": clean_limit("rate_limit", rate_limit, kind="rate"),
        "burst_limit": clean_limit("burst_limit", burst_limit, kind="rate"),
        "quota": clean_limit("quota", quota, kind="quota"),
    }
    if actor is None or user_role(actor) == Role.ADMIN:
        return limits  # the system and admins set any limit; ceilings bind key holders
    ceilings = role_ceilings(role=user_role(user))
    check_within("rate_limit", limits["rate_limit"], ceilings.max_rate, kind="rate")
    check_within("burst_limit", limits["burst_limit"], ceilings.max_burst, kind="rate")
    check_within("quota", limits["quota"], ceilings.max_quota, kind="quota")
    return limits


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


def user_set_role(*, user, role: str, actor: Actor | None):
    """Change a user's role; only an admin (or the system, actor None) may."""
    _check_role(role)
    actor = as_actor(actor)
    if actor.user is not None and user_role(actor.user) != Role.ADMIN:
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
        if not isinstance(scope, str) or not (scope in Scope.values or MODEL_SCOPE_RE.match(scope)):
            raise InvalidInput(
                f"scopes: '{scope}' is not a scope; use {', '.join(Scope.values)}, "
                "predict:<model> or deploy:<model>."
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
    rate_limit: str | None = None,
    burst_limit: str | None = None,
    quota: str | None = None,
    actor: Actor | None = None,
) -> tuple[ApiKey, str]:
    """Issue a key for user; returns (key, raw key). The raw key exists only in this return.
    actor None: the system (a management command)."""
    actor = as_actor(actor)
    principal = actor.key
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name: This field is required.")
    if len(name) > 100:
        raise InvalidInput("name: At most 100 characters.")
    cleaned = _clean_scopes(scopes)
    if actor.user is not None and actor.user.pk != user.pk and user_role(actor.user) != Role.ADMIN:
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
    if principal is not None:
        check_key_may_manage(principal, "create")
        check_within_key(principal, cleaned, what="create a key")
        if principal.user_id != user.pk and not principal.has_scope(Scope.ADMIN):
            raise PermissionDenied("Only a key with the 'admin' scope may create another's key.")
        # An expiring key's offspring expire with it unless told to expire sooner.
        expires_at = principal.expires_at if expires_at is None else expires_at
        check_outlived(principal, expires_at, what="create a key")
    limits = _clean_limits(
        user=user, actor=actor.user, rate_limit=rate_limit, burst_limit=burst_limit, quota=quota
    )
    raw, prefix, hashed = generate_key()
    with transaction.atomic():
        key = ApiKey.objects.create(
            owner=user,
            name=name,
            prefix=prefix,
            hashed_secret=hashed,
            scopes=cleaned,
            expires_at=expires_at,
            **limits,
        )
        audit_record(
            actor=actor,
            action="api_key.create",
            target=_key_target(key),
            after=_key_state(key),
        )
    return key, raw


def _key_change(key: ApiKey, actor, *, what: str, action: str, change) -> ApiKey:
    """The skeleton of every change to a stored key: who may, lock the row, `change(key)` (it
    refuses, or edits the row and returns extra audit fields), audit, and forget this process's
    cached copy once committed (other replicas follow within the key-cache TTL)."""
    actor = as_actor(actor)
    check_manager(key, actor.user, what, actor.key)
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().select_related("owner").get(pk=key.pk)
        before = _key_state(key)
        extra = change(key) or {}
        audit_record(
            actor=actor,
            action=action,
            target=_key_target(key),
            before=before,
            after={**_key_state(key), **extra},
        )
        prefix = key.prefix
        transaction.on_commit(lambda: forget_keys(prefixes=[prefix]))
    return key


def api_key_revoke(*, key: ApiKey, actor: Actor | None) -> ApiKey:
    """Revoke a key now; every replica refuses it within the key-cache TTL."""

    def revoke(key: ApiKey) -> None:
        if key.revoked_at is not None:
            raise Conflict(f"Key '{key.name}' ({key.prefix}) is already revoked.", code="revoked")
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])

    return _key_change(key, actor, what="revoke", action="api_key.revoke", change=revoke)


def api_key_update(
    *,
    key: ApiKey,
    actor: Actor | None,
    name=_UNSET,
    rate_limit=_UNSET,
    burst_limit=_UNSET,
    quota=_UNSET,
) -> ApiKey:
    """Rename a key or change its limits ('' or None removes a limit); owners stay in ceilings."""
    actor = as_actor(actor)

    def update(key: ApiKey) -> None:
        nonlocal name
        if key.revoked_at is not None:
            raise Conflict(f"Key '{key.name}' ({key.prefix}) is revoked.", code="revoked")
        wanted = {
            "rate_limit": key.rate_limit if rate_limit is _UNSET else rate_limit,
            "burst_limit": key.burst_limit if burst_limit is _UNSET else burst_limit,
            "quota": key.quota if quota is _UNSET else quota,
        }
        limits = _clean_limits(user=key.owner, actor=actor.user, **wanted)
        if name is not _UNSET:
            name = (name or "").strip()
            if not name or len(name) > 100:
                raise InvalidInput("name: Give 1 to 100 characters.")
            key.name = name
        for field_name, value in limits.items():
            setattr(key, field_name, value)
        key.save(update_fields=["name", *limits])

    return _key_change(key, actor, what="change", action="api_key.update", change=update)


def api_key_rotate(
    *,
    key: ApiKey,
    actor: Actor | None,
    overlap_hours: float = DEFAULT_ROTATION_OVERLAP_HOURS,
) -> tuple[ApiKey, str]:
    """Issue a new secret for a key (same prefix, limits and counters); the old secret keeps
    working for overlap_hours (0 to 168), then stops. Returns (key, new raw key)."""
    actor = as_actor(actor)
    check_manager(key, actor.user, "rotate", actor.key)
    check_outlived(actor.key, key.expires_at, what="rotate a key")
    try:
        overlap_hours = float(overlap_hours)
    except (TypeError, ValueError):
        raise InvalidInput("overlap_hours: Must be a number of hours.") from None
    if not 0 <= overlap_hours <= MAX_ROTATION_OVERLAP_HOURS:
        raise InvalidInput(
            f"overlap_hours: Must be between 0 and {MAX_ROTATION_OVERLAP_HOURS:g} (7 days)."
        )
    raw = ""

    def rotate(key: ApiKey) -> dict:
        nonlocal raw
        if key.status != "active":
            raise Conflict(f"Key '{key.name}' ({key.prefix}) is {key.status}.", code=key.status)
        raw, _, hashed = generate_key(prefix=key.prefix)
        now = timezone.now()
        # A second rotation inside an overlap ends the oldest secret at once: two at most.
        key.previous_hashed_secret = key.hashed_secret if overlap_hours else ""
        key.previous_valid_until = now + timedelta(hours=overlap_hours) if overlap_hours else None
        key.hashed_secret = hashed
        key.rotated_at = now
        key.save(
            update_fields=[
                "previous_hashed_secret",
                "previous_valid_until",
                "hashed_secret",
                "rotated_at",
            ]
        )
        return {"overlap_hours": overlap_hours}

    key = _key_change(key, actor, what="rotate", action="api_key.rotate", change=rotate)
    return key, raw


def role_limits_set(
    *,
    role: str,
    actor: Actor | None,
    max_rate: str | None = None,
    max_burst: str | None = None,
    max_quota: str | None = None,
) -> RoleLimits:
    """Set the ceilings a role's keys may choose ('' or None: no ceiling); admins only."""
    _check_role(role)
    actor = as_actor(actor)
    if actor.user is not None and user_role(actor.user) != Role.ADMIN:
        raise PermissionDenied("Only an admin may set role ceilings.")
    values = {
        "max_rate": clean_limit("max_rate", max_rate, kind="rate"),
        "max_burst": clean_limit("max_burst", max_burst, kind="rate"),
        "max_quota": clean_limit("max_quota", max_quota, kind="quota"),
    }
    with transaction.atomic():
        before = role_ceilings(role=role).__dict__
        row, _ = RoleLimits.objects.select_for_update().get_or_create(role=role)
        for field_name, value in values.items():
            setattr(row, field_name, value)
        row.updated_at = timezone.now()
        row.save()
        audit_record(
            actor=actor,
            action="role_limits.set",
            target=f"role:{role}",
            before=before,
            after=values,
        )
        # Keys without their own limits inherit the ceiling: this process sees it at once.
        transaction.on_commit(forget_all_keys)
    return row
