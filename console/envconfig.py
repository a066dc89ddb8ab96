"""Strict readers for settings from the environment, used only by console/settings.py.

A value that does not parse stops start-up with ImproperlyConfigured naming the variable and
the value, never a silent default (a typo such as `DEBUG=ture` must not read as False). An
empty number or boolean means "not set"; an empty string is a value (MODELGATE_CSP="" sends no
policy, MODELGATE_VIEWER_MAX_RATE="" sets no ceiling). Each reader records the variable it read
and its default in DECLARED, which the test of the README's settings table compares with it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})

# Every environment variable the settings read, with the default it falls back to.
DECLARED: dict[str, Any] = {}


def _raw(name: str, default: Any) -> str | None:
    DECLARED[name] = default
    value = os.environ.get(name)
    return None if value is None or value.strip() == "" else value.strip()


def _bounded(name: str, raw: str, value: float, minimum: float | None, maximum: float | None):
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {raw!r}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {raw!r}.")
    return value


def envstr(name: str, default: str = "") -> str:
    DECLARED[name] = default
    return os.environ.get(name, default)


def envbool(name: str, default: bool = False) -> bool:
    raw = _raw(name, default)
    if raw is None:
        return default
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be a boolean (1/0, true/false, yes/no, on/off), not {raw!r}."
    )


def envint(
    name: str, default: int | None, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    raw = _raw(name, default)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    return _bounded(name, raw, value, minimum, maximum)


def envfloat(
    name: str, default: float, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    raw = _raw(name, default)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.")
    return _bounded(name, raw, value, minimum, maximum)


def envchoice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = envstr(name, default)
    if value not in choices:
        allowed = ", ".join(repr(choice) for choice in choices)
        raise ImproperlyConfigured(f"{name} must be one of {allowed}, not {value!r}.")
    return value


def envlist(name: str, default: str = "") -> list[str]:
    """A comma-separated list; blank items are dropped."""
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


def envsecret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file that NAME_FILE points to (Docker/Kubernetes secrets)."""
    path = os.environ.get(f"{name}_FILE")
    value = envstr(name, default)
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE names {path!r}, unreadable: {exc}") from None
    return value
