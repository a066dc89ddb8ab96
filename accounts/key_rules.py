"""Who may manage a key: the owner or an admin, and through a key never more than that key holds.

A key manages keys only with the `keys` scope, only keys whose scopes it holds itself, and never
obtains a secret that outlives it: so a `read` key cannot rotate its way to a `deploy` secret.
"""

from __future__ import annotations

from accounts.constants import Role, Scope
from accounts.keys import KeyPrincipal
from accounts.models import ApiKey
from accounts.permissions import user_role
from core.errors import PermissionDenied


def check_manager(key: ApiKey, actor, what: str, principal: KeyPrincipal | None = None) -> None:
    """Owner or admin; through a key, also the `keys` scope and no more rights than that key."""
    if actor is not None and actor.pk != key.owner_id and user_role(actor) != Role.ADMIN:
        raise PermissionDenied(f"Only the owner or an admin may {what} this key.")
    if principal is None:
        return
    check_key_may_manage(principal, what)
    if key.owner_id != principal.user_id and not principal.has_scope(Scope.ADMIN):
        raise PermissionDenied(f"Only a key with the 'admin' scope may {what} another's key.")
    check_within_key(principal, key.scopes, what=f"{what} a key")


def check_key_may_manage(principal: KeyPrincipal, what: str) -> None:
    if not principal.has_scope(Scope.KEYS):
        raise PermissionDenied(f"The calling key needs the 'keys' scope to {what} a key.")


def check_within_key(principal: KeyPrincipal, scopes, *, what: str) -> None:
    """A key acts only on keys whose scopes it holds itself: it can never obtain more rights."""
    beyond = [scope for scope in scopes if not principal.has_scope(scope)]
    if beyond:
        raise PermissionDenied(
            f"The calling key may not {what} with scopes it does not hold: {', '.join(beyond)}."
        )


def check_outlived(principal: KeyPrincipal | None, expires_at, *, what: str) -> None:
    """A secret obtained through an expiring key must not outlive that key."""
    if principal is None or principal.expires_at is None:
        return
    if expires_at is None or expires_at > principal.expires_at:
        raise PermissionDenied(
            f"The calling key expires at {principal.expires_at.isoformat()}; it may not {what} "
            "that lives longer."
        )
