"""The development settings of `make run`, kept in one ignored file (`var/dev.env`), so that
manage.py, celery and granian, started from any terminal, read the same values with no exports.

Only the entry points (manage.py, console/wsgi.py, console/celery.py) load it, and the real
environment always wins over it. Production never has the file (the image leaves var/ out), so
its settings stay strict. MODELGATE_DEV_ENV names another file; set empty, it reads none (the
test suite sets it so, so a developer's file never leaks into tests).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "var" / "dev.env"
HEADER = (
    "# Written by `make run`: development settings that manage.py, celery and granian read when\n"
    "# the environment does not set them. Never used in production; safe to delete.\n"
)


def dev_env_path() -> Path | None:
    """The file to read, or None when MODELGATE_DEV_ENV is set empty."""
    named = os.environ.get("MODELGATE_DEV_ENV")
    if named is None:
        return DEFAULT_PATH
    return Path(named) if named else None


def read(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments are skipped."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def load() -> dict[str, str]:
    """Put the file's values into os.environ where the environment has none; returns them."""
    if os.environ.get("DJANGO_SETTINGS_MODULE", "console.settings") != "console.settings":
        return {}  # another settings module (the tests') sets its own values
    path = dev_env_path()
    if path is None or not path.is_file():
        return {}
    values = read(path)
    for name, value in values.items():
        os.environ.setdefault(name, value)
    return values


def write(*, path: Path | None = None) -> dict[str, str]:
    """Create or refresh the file, keeping its SECRET_KEY so sessions survive a restart."""
    path = path or dev_env_path() or DEFAULT_PATH
    old = read(path) if path.is_file() else {}
    values = {
        "DEBUG": "1",
        "SECRET_KEY": old.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]"),
        "SECURE_COOKIES": "0",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = HEADER + "".join(f"{name}={value}\n" for name, value in values.items())
    partial = path.with_suffix(".tmp")
    partial.write_text(text)
    partial.chmod(0o600)  # it holds a secret
    partial.replace(path)
    return values
