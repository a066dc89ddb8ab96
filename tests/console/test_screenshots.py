"""The README's screenshots, regenerated on demand: `docs/screenshots.sh` (or this module with
MODELGATE_SCREENSHOTS_DIR set) drives the console in Chromium over the world of
tests/support/console_world.py and writes the overview, a deployment, its monitoring page and
the key portal at 1400 px and 390 px. Skipped in ordinary runs."""

from __future__ import annotations

import os
import struct
import uuid
from pathlib import Path

import pytest

from tests.serving.conftest import pool  # noqa: F401 - fixture
from tests.support.console_world import PASSWORD, build_console_world

OUT = os.environ.get("MODELGATE_SCREENSHOTS_DIR", "")
WIDTHS = {"desktop": 1400, "phone": 390}


def _png_size(path: Path) -> tuple[int, int]:
    with path.open("rb") as fh:
        header = fh.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.mark.browser
@pytest.mark.skipif(not OUT, reason="set MODELGATE_SCREENSHOTS_DIR (docs/screenshots.sh does)")
def test_it_takes_the_readme_screenshots(
    live_server,
    transactional_db,
    keras_model_file,
    keras_model_file_v2,
    browser,
    pool,  # noqa: F811 - the imported fixture
    settings,
    tmp_path,
):
    from playwright.sync_api import expect

    settings.MODELGATE_REPLICA_DIR = tmp_path / "replicas"
    settings.MODELGATE_REPLICA_KEY_PREFIX = f"test:{uuid.uuid4().hex}:replica:"  # with Redis
    world = build_console_world(keras_model_file, keras_model_file_v2)
    pool.refresh()  # this process serves, as `make run` does: the rollout card shows it landed
    pool.ensure_started()  # and keeps reporting while the pages are taken
    key = world["key"]
    pages = {
        "overview": "/",
        "deployment": "/deployments/churn/production/",
        "monitoring": "/monitoring/churn/production/?window=15m",
        "key-portal": f"/accounts/keys/{key.pk}/",
    }
    out = Path(OUT)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for label, width in WIDTHS.items():
        context = browser.new_context(
            viewport={"width": width, "height": 900}, device_scale_factor=1
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        for name, path in pages.items():
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            if name == "monitoring":
                expect(page.locator("#chart-cache .g-ytitle")).to_have_text("%")
            target = out / f"{name}-{label}.png"
            page.screenshot(path=str(target), full_page=True)
            written.append((target, width))
        context.close()
    for target, width in written:
        assert _png_size(target)[0] == width
