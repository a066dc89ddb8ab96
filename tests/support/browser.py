"""Finding a Chromium for the browser tests: the system one, or the one Playwright manages.

Where none is found the browser tests are skipped with a reason that says how to get one, unless
MODELGATE_REQUIRE_BROWSER=1 (CI sets it), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

HOW_TO_GET_ONE = (
    "no Chromium found: install one (Debian/Ubuntu: `sudo apt-get install chromium`; elsewhere: "
    "`.venv/bin/playwright install chromium`) or point MODELGATE_CHROMIUM at its executable"
)


def _playwright_managed() -> str | None:
    """The Chromium that `playwright install chromium` downloaded, if any."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as pw:
            path = pw.chromium.executable_path
    except Exception:  # noqa: BLE001 - a broken Playwright install means "none"
        return None
    return path if path and Path(path).is_file() else None


def find_chromium() -> str | None:
    """The path of a Chromium to drive, or None."""
    explicit = os.environ.get("MODELGATE_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return _playwright_managed()


def browser_required() -> bool:
    return os.environ.get("MODELGATE_REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes"}
