"""In Chromium: htmx loads (no CSP or path error) and a running validation's panel refreshes
itself until the verdict shows, with no page reload."""

from __future__ import annotations

import threading

import pytest


def _finish_run(run_id: int) -> None:
    """As a worker would, in its own thread and connection (not inside Playwright's greenlet,
    where the ORM would open a connection nobody closes)."""
    from django.db import connection

    from jobs.models import ValidationRun

    try:
        ValidationRun.objects.filter(pk=run_id).update(
            status="failed", progress=1.0, error="injected verdict"
        )
    finally:
        connection.close()


@pytest.mark.browser
def test_the_validation_panel_refreshes_live(
    live_server, transactional_db, keras_model_file, browser
):
    from playwright.sync_api import expect

    from accounts.services import user_create
    from jobs.validation.runs import validation_start
    from registry.services import version_register

    alice = user_create(username="alice", password="correct horse battery", role="deployer")
    version = version_register(
        model_name="live-churn", upload=keras_model_file, filename="small.keras", actor=alice
    )
    run = validation_start(version=version, actor=alice, enqueue=False)

    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/?next=/models/live-churn/v1/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/models/live-churn/v1/")
    assert page.evaluate("typeof htmx") == "object"
    panel = page.locator(f"#validation-run-{run.pk}")
    assert "Queued" in panel.inner_text()

    # The worker's side, done here: the panel must pick it up on its own.
    worker = threading.Thread(target=_finish_run, args=(run.pk,))
    worker.start()
    worker.join()
    with page.expect_request(f"**/validations/{run.pk}/panel", timeout=10_000):
        pass
    # A locator assertion (wait_for_function would need eval, which the CSP forbids).
    expect(panel).to_contain_text("Failed", timeout=10_000)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert errors == []
