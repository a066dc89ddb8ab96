"""In Chromium at 1400 px and 390 px: an alert resolved and a deploy that lands elsewhere (another
operator, the API) reach every page that shows them without a reload, and nothing on the page
keeps the old state: the overview's alerts, deployments row and models table; the deployment
page's Serving now, rollback button, traffic editor, history and rollout card (until "landed");
the monitoring page's alerts beside its charts. Swapped-in controls still work. No console
error, no request off loopback, and axe-core finds nothing serious or critical after the swaps."""

from __future__ import annotations

import uuid

import pytest

from tests.console.test_browser_journeys import WIDTHS, Session, _in_thread
from tests.serving.conftest import pool  # noqa: F401 - fixture
from tests.support.console_world import build_console_world, deploy_v2

pytestmark = pytest.mark.browser
SWAP_MS = 20_000  # the overview refreshes every 10 s, the rollout card every 2-5 s


@pytest.fixture
def world(transactional_db, keras_model_file, keras_model_file_v2, settings, tmp_path):
    settings.MODELGATE_REPLICA_DIR = tmp_path / "replicas"
    settings.MODELGATE_REPLICA_KEY_PREFIX = f"test:{uuid.uuid4().hex}:replica:"  # with Redis
    return build_console_world(keras_model_file, keras_model_file_v2)


def _resolve_the_alert() -> None:
    from monitoring.models import Alert
    from monitoring.services import alert_resolve

    for alert in Alert.objects.filter(resolved_at__isnull=True):
        alert_resolve(alert_id=alert.pk, actor=None)


def _no_serious_violation(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)  # axe-core bundled in the package: nothing is fetched
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _finish(session) -> None:
    page = session.page
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload
    assert _no_serious_violation(page) == []
    assert session.errors == [] and session.offsite == []
    assert session.page_width() <= page.viewport_size["width"]
    session.close()


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_overview_drops_a_resolved_alert_and_shows_a_landed_deploy(
    live_server, world, browser, width
):
    from playwright.sync_api import expect

    session = Session(browser, live_server.url, width)
    page = session.page
    row = page.locator('tr[data-deployment="churn/production"]')
    expect(page.locator("#alerts")).to_contain_text("p95 above 5 ms")
    expect(row).to_contain_text("1 open")
    expect(page.locator("#overview-models")).to_contain_text("v1 in production")

    _in_thread(_resolve_the_alert)
    _in_thread(deploy_v2, "retrained on March data")
    # One refresh brings every part along: no alert above a row that says "none", no model
    # table that still has v1 in production.
    expect(page.locator("#alerts")).not_to_contain_text("p95 above 5 ms", timeout=SWAP_MS)
    expect(page.locator("#alerts .card")).to_have_count(0)
    expect(row).to_contain_text("none")
    expect(row.locator("td").nth(1)).to_have_text("v2 100%")
    expect(row).to_contain_text("Deployed by charlie")
    expect(page.locator("#overview-models")).to_contain_text("v2 in production")
    _finish(session)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_deployment_page_follows_a_deploy_until_it_lands(
    live_server,
    world,
    browser,
    width,
    pool,  # noqa: F811 - the imported fixture
):
    from playwright.sync_api import expect

    session = Session(browser, live_server.url, width)
    page = session.page
    session.goto("/deployments/churn/production/")
    rollout = page.locator("#rollout-status")
    expect(rollout).to_contain_text("No serving replica is reporting")
    expect(rollout).to_contain_text("a web process that serves no models")
    expect(page.locator("#serving-now tbody")).to_have_text("v1100%primary")
    expect(page.locator("#serving-now [data-rollback-open]")).to_have_count(0)

    _in_thread(deploy_v2, "retrained on March data")
    _in_thread(pool.refresh)  # this process becomes a serving replica and loads v2
    expect(rollout).to_contain_text("Landed on 1/1 replica", timeout=SWAP_MS)
    expect(rollout).to_contain_text("(this process)")
    serving = page.locator("#serving-now")
    expect(serving.locator("tbody")).to_have_text("v2100%primary")
    expect(serving).to_contain_text("deployed by charlie")
    step_back = serving.locator("button[data-rollback-open]")
    expect(step_back).to_contain_text("Roll back to v1")
    expect(page.locator("#history tbody tr").first).to_contain_text("retrained on March data")
    editor = page.locator("#traffic-editor")
    expect(editor.locator("select[name=version]").first).to_have_value("2")

    # The swapped-in controls work: the editor checks as it is typed, the dialog opens.
    editor.locator("input[name=weight]").first.fill("50")
    expect(editor.locator("[data-traffic-check]")).to_contain_text("add up to 50, not 100")
    editor.locator("input[name=weight]").first.fill("100")
    expect(editor.locator("[data-traffic-check]")).to_have_text("The split is valid.")
    step_back.click()
    dialog = page.locator("#rollback-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#rollback-from")).to_have_text("v2")
    expect(dialog.locator("#rollback-to")).to_contain_text("v1 (state of #")
    dialog.locator("[data-rollback-cancel]").click()
    expect(dialog).to_be_hidden()
    _finish(session)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_monitoring_page_drops_a_resolved_alert_beside_live_charts(
    live_server, world, browser, width
):
    from playwright.sync_api import expect

    session = Session(browser, live_server.url, width)
    page = session.page
    session.goto("/monitoring/churn/production/?window=15m")
    expect(page.locator("#alerts")).to_contain_text("p95 above 5 ms")
    expect(page.locator("#chart-cache .g-ytitle")).to_have_text("%")
    page.select_option("#refresh-interval", "5")

    _in_thread(_resolve_the_alert)
    expect(page.locator("#alerts")).not_to_contain_text("p95 above 5 ms", timeout=SWAP_MS)
    expect(page.locator("#alerts .card")).to_have_count(0)
    expect(page.locator("#chart-cache .g-ytitle")).to_have_text("%")  # charts kept their axes
    _finish(session)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_deploy_form_can_wait_until_every_replica_serves(
    live_server,
    world,
    browser,
    width,
    pool,  # noqa: F811 - the imported fixture
):
    from playwright.sync_api import expect

    pool.ensure_started()  # a serving replica in this process, following deploys by itself
    session = Session(browser, live_server.url, width)
    page = session.page
    session.goto("/models/churn/v2/")
    form = page.locator("#version-deploy form").first
    form.locator("select[name=deployment]").select_option("production")
    form.locator("textarea[name=reason]").fill("retrained on March data")
    form.locator("input[name=wait]").check()
    form.locator("button[type=submit]", has_text="Deploy v2").click()
    page.wait_for_url("**/deployments/churn/production/", timeout=SWAP_MS)
    expect(page.locator(".messages")).to_have_text(
        "Deployed churn v2 to production: landed on 1/1 replica."
    )
    # The page agrees with the message from its first paint.
    expect(page.locator("#rollout-status")).to_contain_text("Landed on 1/1 replica")
    expect(page.locator("#serving-now tbody")).to_have_text("v2100%primary")
    assert _no_serious_violation(page) == []
    assert session.errors == [] and session.offsite == []
    session.close()
