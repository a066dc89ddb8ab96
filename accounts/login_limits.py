"""Password-guessing limits on the login form, on the sliding-window limiter.

Three counters, each advanced by every attempt (a refused attempt spends nothing):
- per client address, across usernames (MODELGATE_LOGIN_RATE_PER_IP): password spraying;
- per username AND address (MODELGATE_LOGIN_RATE_PER_USER_IP): the lockout a guesser meets;
- per username across addresses (MODELGATE_LOGIN_RATE_PER_USER): softer, against a guesser
  with many addresses. A browser that has logged in as that user before carries a signed
  device cookie, and is exempt from this one counter only, so an attacker who spends a
  username's budget cannot lock its owner (an admin, say) out of a browser they have used.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from accounts.ratelimits import LeasedLimiter, RateDecision, split_rate
from core.addresses import client_ip

DEVICE_COOKIE = "mg_login_device"
DEVICE_MAX_AGE = 90 * 86400
_SALT = "modelgate.login-device"

_limiter = LeasedLimiter("modelgate.login")


def login_username(request) -> str:
    """Case-folded, so "Alice" and "alice" share one budget against password guessing."""
    return (request.POST.get("username") or "").strip().lower()[:150]


def _known_device(request, username: str) -> bool:
    token = request.COOKIES.get(DEVICE_COOKIE)
    if not token or not username:
        return False
    try:
        return signing.loads(token, salt=_SALT, max_age=DEVICE_MAX_AGE).get("u") == username
    except (signing.BadSignature, AttributeError):
        return False


class LoginAttempt:
    """One counted attempt: `refused` holds the refusal, if any; a success gives back the
    username counters (a user who logs in is not a guesser), never the address counter."""

    def __init__(self, request):
        username = login_username(request)
        address = client_ip(request.META) or "unknown"
        self.at = _limiter.now()
        self.counted: list[tuple[str, str]] = []
        self.refused: RateDecision | None = None
        limits = [
            (address, settings.MODELGATE_LOGIN_RATE_PER_IP, False),
            (f"{username}\n{address}", settings.MODELGATE_LOGIN_RATE_PER_USER_IP, True),
        ]
        if not _known_device(request, username):
            limits.append((username, settings.MODELGATE_LOGIN_RATE_PER_USER, True))
        for value, rate, refundable in limits:
            if not rate:
                continue
            decision = _limiter.hit(value, rate, now=self.at)
            if not decision.allowed:
                self.refused = decision
                return
            if refundable and split_rate(rate)[0] < 100:  # one token each: exact to give back
                self.counted.append((value, rate))

    def succeeded(self) -> None:
        for value, rate in self.counted:
            _limiter.give_back(value, rate, counted_at=self.at)
        self.counted = []


def remember_device(response, username: str) -> None:
    """After a successful login: this browser may log in as username past the username limit."""
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps({"u": username.strip().lower()}, salt=_SALT),
        max_age=DEVICE_MAX_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )
