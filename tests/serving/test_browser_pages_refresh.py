"""In Chromium: a deploy made elsewhere (another operator, the API) reaches the Deployments list
and the version page's "Serving in" without a reload, and no console error comes with it."""

from __future__ import annotations

import pytest

from tests.console.test_browser_journeys import Session, _in_thread
from tests.support.console_world import build_console_world, deploy_v2

pytestmark = pytest.mark.browser
SWAP_MS = 20_000  # both parts refresh every 10 s


@pytest.fixture
def world(transactional_db, keras_model_file, keras_model_file_v2):
    return build_console_world(keras_model_file, keras_model_file_v2)


def _no_reload_no_error(session) -> None:
    assert session.page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert session.errors == [] and session.offsite == []
    session.close()


def test_a_deploy_elsewhere_reaches_the_list_and_the_version_page(live_server, world, browser):
    from playwright.sync_api import expect

    listing = Session(browser, live_server.url, 1400)
    listing.goto("/deployments/")
    row = listing.page.locator("#deployment-list-table tr", has_text="production")
    expect(row.locator("td").nth(2)).to_have_text("v1 (100% primary)")
    version = Session(browser, live_server.url, 1400)
    version.goto("/models/churn/v2/")
    serving = version.page.locator("#version-deploy #version-serving")
    expect(serving).to_have_text("Serving in: staging")

    _in_thread(deploy_v2)
    expect(row.locator("td").nth(2)).to_have_text("v2 (100% primary)", timeout=SWAP_MS)
    expect(serving.locator("a")).to_have_count(2, timeout=SWAP_MS)
    expect(serving.locator("a", has_text="production")).to_have_attribute(
        "href", "/deployments/churn/production/"
    )
    _no_reload_no_error(listing)
    _no_reload_no_error(version)
