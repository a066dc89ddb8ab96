"""Journeys through the console in Chromium, at 1400 px and 390 px: live charts keep their axes
over refreshes, a validation finishing updates the header and the deploy gate, no page is wider
than a phone, no console error, no request leaves loopback, and axe-core finds no serious or
critical accessibility violation on any console page."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest

from tests.support.console_world import PASSWORD, build_console_world

WIDTHS = {"desktop": 1400, "phone": 390}
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def _in_thread(fn, *args) -> None:
    """ORM writes as a worker would make them: their own thread and connection."""

    def run():
        from django.db import connection

        try:
            fn(*args)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


@pytest.fixture
def console_world(transactional_db, keras_model_file, keras_model_file_v2):
    return build_console_world(keras_model_file, keras_model_file_v2)


class Session:
    """A logged-in page that records console errors and refuses any request off loopback."""

    def __init__(self, browser, base_url: str, width: int, username: str = "alice"):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.offsite: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.route("**/*", self._only_loopback)
        self.goto("/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{base_url}/")

    def _only_loopback(self, route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
            route.continue_()
        else:
            self.offsite.append(route.request.url)
            route.abort()

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("load")
        return response

    def page_width(self) -> int:
        return self.page.evaluate("document.documentElement.scrollWidth")

    def close(self) -> None:
        self.context.close()


def _console_pages(world) -> list[str]:
    key = world["key"]
    return [
        "/",
        "/models/",
        "/models/churn/",
        "/models/churn/v1/",
        "/models/whole/v1/",
        "/models/environments/",
        "/models/datasets/",
        "/deployments/",
        "/deployments/churn/production/",
        "/deployments/batch-jobs/",
        "/deployments/workers/",
        "/deployments/policy/churn",
        "/monitoring/churn/production/",
        "/monitoring/churn/production/drift/",
        "/monitoring/churn/production/quality/",
        "/monitoring/churn/production/shadow/",
        "/monitoring/churn/production/experiments/",
        "/monitoring/predictions/",
        f"/monitoring/keys/{key.pk}/",
        "/accounts/keys/",
        f"/accounts/keys/{key.pk}/",
        "/accounts/audit/",
        "/accounts/roles/limits/",
        "/models/register/",
    ]


def _chart_state(page, chart: str) -> dict:
    selector = f"#chart-{chart}"
    return {
        "x": page.locator(f"{selector} .g-xtitle").text_content(),
        "y": page.locator(f"{selector} .g-ytitle").text_content(),
        "modebars": page.locator(f"{selector} .modebar-container").count(),
        "legend": page.locator(f"{selector} .legend").count(),
    }


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_charts_keep_axes_legends_and_toolbars_over_refreshes(
    live_server, console_world, browser, width
):
    from playwright.sync_api import expect

    session = Session(browser, live_server.url, width)
    page = session.page
    session.goto("/monitoring/churn/production/?window=15m")
    expect(page.locator("#chart-rate .g-ytitle")).to_have_text("req/s")
    box = page.locator("#monitoring-charts")
    first = {name: _chart_state(page, name) for name in ("rate", "latency", "batch")}
    assert first["rate"] == {"x": "time (UTC)", "y": "req/s", "modebars": 1, "legend": 1}
    assert "Rate now" in page.locator("[data-live-summary]").inner_text()
    for n in (1, 2, 3):
        page.click("[data-live-now]")
        expect(box).to_have_attribute("data-refreshes", str(n), timeout=10_000)
    after = {name: _chart_state(page, name) for name in ("rate", "latency", "batch")}
    assert after == first
    expect(page.locator("[data-live-status]")).to_contain_text("UTC")
    # The interval is a choice, remembered across a reload.
    page.select_option("#refresh-interval", "30")
    session.goto("/monitoring/churn/production/?window=15m")
    assert page.locator("#refresh-interval").input_value() == "30"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert session.errors == [] and session.offsite == []
    session.close()


def _finish_validation(run_id: int, version_id: int) -> None:
    from jobs.models import ValidationRun, ValidationStatus
    from registry.constants import VersionState
    from registry.models import ModelVersion
    from registry.services import version_set_state

    ValidationRun.objects.filter(pk=run_id).update(status=ValidationStatus.PASSED, progress=1.0)
    version = ModelVersion.objects.get(pk=version_id)
    version_set_state(version=version, state=VersionState.VALIDATED, actor=None)


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_a_validation_finishing_updates_the_header_and_the_deploy_gate(
    live_server, console_world, browser, width
):
    from playwright.sync_api import expect

    session = Session(browser, live_server.url, width)
    page = session.page
    session.goto("/models/whole/v1/")
    expect(page.locator("#version-state")).to_have_text("Validating")
    gate = page.locator("#version-deploy")
    expect(gate).to_contain_text("Deploying needs a passed validation run.")

    _in_thread(_finish_validation, console_world["run"].pk, console_world["whole"].pk)
    expect(page.locator(f"#validation-run-{console_world['run'].pk}")).to_contain_text(
        "Passed", timeout=10_000
    )
    # The same swap brought the header and the gate along: no reload, no contradiction.
    expect(page.locator("#version-state")).to_have_text("Validated")
    expect(gate).not_to_contain_text("Deploying needs a passed validation run.")
    expect(gate.locator("button[type=submit]", has_text="Deploy v1")).to_be_visible()
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert session.errors == [] and session.offsite == []
    session.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_every_console_page_fits_the_screen_without_errors(
    live_server, console_world, browser, width
):
    session = Session(browser, live_server.url, width, username="charlie")
    too_wide, failed = {}, {}
    for path in _console_pages(console_world):
        response = session.goto(path)
        if response is None or response.status != 200:
            failed[path] = response.status if response else None
        scroll = session.page_width()
        if scroll > width:
            too_wide[path] = scroll
    assert failed == {}
    assert too_wide == {}, f"pages wider than {width} px"
    assert session.errors == [] and session.offsite == []
    session.close()


@pytest.mark.browser
def test_a_phone_gets_a_skip_link_and_a_wrapped_nav(live_server, console_world, browser):
    session = Session(browser, live_server.url, WIDTHS["phone"])
    page = session.page
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0  # visible once focused
    nav = page.locator("nav[aria-label=Main]").bounding_box()
    assert nav is not None and nav["x"] + nav["width"] <= WIDTHS["phone"]
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    session.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_axe_finds_no_serious_or_critical_violation(live_server, console_world, browser, width):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()  # axe-core bundled in the package: nothing is fetched
    session = Session(browser, live_server.url, width, username="charlie")
    found = {}
    for path in _console_pages(console_world):
        session.goto(path)
        results = axe.run(session.page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            found[path] = bad
    assert found == {}, "\n".join(f"{path}: {bad}" for path, bad in found.items())
    assert session.offsite == []
    session.close()


def _finish_job(job_id: int) -> None:
    from jobs.models import BatchJob, BatchJobStatus

    BatchJob.objects.filter(pk=job_id).update(
        status=BatchJobStatus.SUCCEEDED, rows_done=4, rows_total=4
    )


@pytest.mark.browser
def test_a_finished_batch_job_loses_its_cancel_button(
    live_server, console_world, browser, tmp_path
):
    import numpy as np
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from jobs.models import BatchJob
    from registry.services import dataset_create

    alice = get_user_model().objects.get(username="alice")
    path = tmp_path / "rows.npz"
    np.savez(path, features=np.zeros((4, 4), dtype="float32"))
    dataset = dataset_create(name="rows", upload=path, filename="rows.npz", actor=alice)
    job = BatchJob.objects.create(
        version=console_world["churn"], dataset=dataset, rows_total=4, created_by=alice
    )
    session = Session(browser, live_server.url, WIDTHS["phone"])
    page = session.page
    session.goto(f"/deployments/batch-jobs/{job.pk}")
    cancel = page.get_by_role("button", name="Cancel")
    expect(cancel).to_be_visible()
    _in_thread(_finish_job, job.pk)
    expect(page.locator(f"#batch-job-{job.pk}")).to_contain_text("Succeeded", timeout=10_000)
    expect(cancel).to_have_count(0)
    assert session.errors == [] and session.offsite == []
    session.close()
