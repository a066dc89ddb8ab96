"""The rule for an admin's exceptions (serving past the promotion gate, registering a SavedModel
whose graph reaches the host): a person with the admin role asks, with a written reason."""

from __future__ import annotations

from core.actor import Actor
from core.errors import InvalidInput, PermissionDenied

MIN_REASON = 15


def require_admin_reason(
    actor: Actor,
    reason: str | None,
    *,
    act: str,
    refused_code: str,
    needs: str,
    explain: str,
    missing_code: str,
) -> str:
    """The reason with its whitespace collapsed, once `actor` may `act` ("only an admin may
    {act}"): the system never may (the exception is a person's audited call), and the reason
    must be at least MIN_REASON characters ("{needs} a written reason ... ({explain})")."""
    if actor.system or not actor.can("admin"):
        raise PermissionDenied(f"only an admin may {act}", code=refused_code)
    written = " ".join((reason or "").split())
    if len(written) < MIN_REASON:
        raise InvalidInput(
            f"{needs} a written reason of at least {MIN_REASON} characters ({explain})",
            code=missing_code,
        )
    return written
