"""In Chromium, at desktop and phone width: the governance and rollback journeys of the console.

An override without a reason is refused; a typo cannot create a deployment (the form is a picker,
and a forged name is refused); two rollbacks step back twice and a third has nowhere to go; the
traffic editor checks the split as it is typed. No console error, no request off loopback."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
REASON = "incident 42: the load check flakes; v2 was verified by hand"
WIDTHS = [pytest.param(1400, id="desktop"), pytest.param(390, id="phone")]


def _versions(actor, keras_model_file, count: int):
    from registry.services import version_register
    from tests.support.validated import mark_validated

    versions = []
    for _ in range(count):
        version = version_register(
            model_name="churn", upload=keras_model_file, filename="small.keras", actor=actor
        )
        mark_validated(version, actor=actor)
        versions.append(version)
    return versions


def _serving() -> list[tuple[int, int]]:
    from serving.models import Deployment

    dep = Deployment.objects.get(model__name="churn", name="production")
    return sorted((v.version.number, v.weight) for v in dep.variants.all())


class _Watch:
    """Console errors, uncaught exceptions and any request that leaves loopback."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.offsite: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", self._request)

    def _request(self, request) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith("http") and host not in {"127.0.0.1", "localhost"}:
            self.offsite.append(request.url)

    def assert_clean(self) -> None:
        assert self.errors == [] and self.offsite == []


def _login(browser, live_server, username: str, width: int, next_path: str):
    page = browser.new_page(viewport={"width": width, "height": 900})
    watch = _Watch(page)
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_path}")
    return page, watch


@pytest.mark.parametrize("width", WIDTHS)
def test_an_override_needs_a_reason_and_a_typo_creates_no_deployment(
    live_server, transactional_db, keras_model_file, browser, width
):
    from playwright.sync_api import expect

    from accounts.services import user_create
    from registry.models import ModelVersion
    from serving.deploy import deployment_deploy
    from serving.models import Deployment

    charlie = user_create(username="charlie", password=PASSWORD, role="admin")
    _versions(charlie, keras_model_file, 2)
    ModelVersion.objects.filter(model__name="churn", number=2).update(state="rejected")
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=charlie
    )
    page, watch = _login(browser, live_server, "charlie", width, "/models/churn/v2/")

    # The deployment is picked from a list: nothing to mistype.
    picker = page.locator("#version-deploy select[name=deployment]")
    assert picker.locator("option").all_inner_texts() == ["production"]
    page.check("#version-deploy input[name=override]")
    page.click("#version-deploy button:has-text('Deploy v2')")
    expect(page.locator(".messages")).to_contain_text("an override needs a written reason")
    assert _serving() == [(1, 100)]

    # A name forged into the picker is refused by the server, and nothing is created.
    page.evaluate(
        "document.querySelector('#version-deploy select[name=deployment]')"
        ".add(new Option('prodution', 'prodution', true, true))"
    )
    page.check("#version-deploy input[name=override]")
    page.fill("#version-deploy textarea[name=reason]", REASON)
    page.click("#version-deploy button:has-text('Deploy v2')")
    expect(page.locator(".messages")).to_contain_text("prodution is not a deployment")
    assert not Deployment.objects.filter(name="prodution").exists()

    # Creating a deployment is its own, explicit action; then the picker offers it.
    page.click("#version-deploy summary:has-text('New deployment')")
    page.fill("#id_new_deployment", "staging")
    page.click("#version-deploy button:has-text('Create deployment')")
    expect(page.locator(".messages")).to_contain_text("Created churn/staging")
    assert picker.locator("option").all_inner_texts() == ["production", "staging"]

    # With a written reason the admin's override goes through, and the history says so.
    page.check("#version-deploy input[name=override]")
    page.fill("#version-deploy textarea[name=reason]", REASON)
    page.click("#version-deploy button:has-text('Deploy v2')")
    page.wait_for_url("**/deployments/churn/production/")
    expect(page.locator("#history tbody tr").first).to_contain_text("override")
    expect(page.locator("#history tbody tr").first).to_contain_text(REASON)
    assert _serving() == [(2, 100)]
    watch.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_two_rollbacks_step_back_twice_and_the_split_is_checked_live(
    live_server, transactional_db, keras_model_file, browser, width
):
    from playwright.sync_api import expect

    from accounts.services import user_create
    from serving.deploy import deployment_deploy

    alice = user_create(username="alice", password=PASSWORD, role="deployer")
    _versions(alice, keras_model_file, 3)
    events = [
        deployment_deploy(
            model_name="churn", deployment_name="production", version_number=n, actor=alice
        )
        for n in (1, 2, 3)
    ]
    page, watch = _login(browser, live_server, "alice", width, "/deployments/churn/production/")
    dialog = page.locator("#rollback-dialog")

    for target, event in ((2, events[1]), (1, events[0])):
        button = page.locator("#rollback button[data-rollback-open]")
        expect(button).to_contain_text(f"Roll back to v{target} · state of #{event.pk}")
        button.click()
        expect(dialog).to_be_visible()
        expect(page.locator("#rollback-to")).to_contain_text(f"v{target}")
        page.fill("#rollback-reason", f"step back to v{target}")
        dialog.locator("button[type=submit]").click()
        expect(page.locator(".messages")).to_contain_text("Rolled back churn/production")
        assert _serving() == [(target, 100)]
    expect(page.locator("#rollback")).to_contain_text("No earlier state to step back to")

    # Cancel leaves everything as it was.
    page.locator("#history button[data-rollback-open]").first.click()
    expect(dialog).to_be_visible()
    dialog.locator("[data-rollback-cancel]").click()
    expect(dialog).to_be_hidden()
    assert _serving() == [(1, 100)]

    # The traffic editor: an invalid split is named and cannot be sent; a valid one goes out.
    editor = page.locator("[data-traffic-editor]")
    check = editor.locator("[data-traffic-check]")
    expect(check).to_contain_text("The split is valid.")
    editor.locator("[data-traffic-add]").click()
    rows = editor.locator("[data-traffic-row]")
    rows.nth(1).locator("select[name=version]").select_option("3")
    rows.nth(1).locator("input[name=weight]").fill("10")
    expect(check).to_contain_text("the serving weights add up to 110, not 100")
    expect(editor.locator("[data-traffic-submit]")).to_be_disabled()
    rows.nth(0).locator("input[name=weight]").fill("90")
    expect(check).to_contain_text("The split is valid.")
    editor.locator("input[name=reason]").fill("canary of v3")
    editor.locator("[data-traffic-submit]").click()
    expect(page.locator(".messages")).to_contain_text("Traffic of churn/production changed.")
    assert _serving() == [(1, 90), (3, 10)]
    watch.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_idle_deployment_is_archived_and_a_column_declared_categorical(
    live_server, transactional_db, keras_model_file, browser, width, tmp_path
):
    import numpy as np
    from playwright.sync_api import expect

    from accounts.services import user_create
    from registry.models import Dataset
    from registry.services import dataset_create
    from serving.deploy import deployment_deploy
    from serving.models import Deployment

    alice = user_create(username="alice", password=PASSWORD, role="deployer")
    _versions(alice, keras_model_file, 1)
    deployment_deploy(
        model_name="churn", deployment_name="canary-old", version_number=1, actor=alice
    )
    path = tmp_path / "reference.npz"
    rows = np.random.default_rng(0).normal(size=(50, 4)).astype("float32")
    rows[:, 0] = np.arange(50) % 8
    np.savez(path, features=rows)
    dataset = dataset_create(name="reference", upload=path, filename="reference.npz", actor=alice)
    page, watch = _login(browser, live_server, "alice", width, "/deployments/churn/canary-old/")

    page.click("#archive summary")
    page.fill("#archive-reason", "replaced by production")
    page.click("#archive button[type=submit]")
    page.wait_for_url("**/deployments/")
    expect(page.locator(".messages")).to_contain_text("Archived churn/canary-old")
    assert Deployment.objects.get(name="canary-old").archived_at is not None

    page.goto(f"{live_server.url}/models/datasets/")
    page.click(f"a[href='/models/datasets/{dataset.pk}/columns/']")
    first = page.locator("#column-kinds select").first
    expect(first.locator("option[selected]")).to_have_text("numeric (inferred)")
    first.select_option("categorical")
    page.click("#column-kinds button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Column kinds of")
    assert Dataset.objects.get(pk=dataset.pk).column_kinds == {
        dataset.feature_names[0]: "categorical"
    }
    watch.assert_clean()
