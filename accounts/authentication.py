"""DRF authentication by API key (`Authorization: Bearer <key>` or `X-API-Key: <key>`)."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled

from accounts.actors import actor_for
from accounts.auth_throttle import AuthThrottled
from accounts.keys import authenticate_key_with_user, key_from_environ
from core.addresses import client_ip


class ApiKeyAuthentication(BaseAuthentication):
    """request.user is the key's owner, request.auth its KeyPrincipal and request.actor the
    key's Actor (no session actor then: the key decides what the request may do)."""

    def authenticate(self, request):
        raw = key_from_environ(request.META)
        if raw is None:
            return None  # no key: let session authentication try
        ip = client_ip(request.META)
        try:
            user, principal = authenticate_key_with_user(raw, ip=ip)
        except AuthThrottled as exc:
            raise Throttled(
                wait=exc.retry_after, detail="Too many failed API-key attempts from this address."
            ) from None
        if principal is None:
            raise AuthenticationFailed("Invalid or expired API key.", code="invalid_api_key")
        request._request.actor = actor_for(user, principal, ip=ip)
        return user, principal

    def authenticate_header(self, request) -> str:
        # Having a header makes DRF answer a missing credential with 401, not 403.
        return "Bearer"
