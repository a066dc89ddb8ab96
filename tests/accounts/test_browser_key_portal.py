"""In Chromium: a created key's secret shows once and a reload creates nothing; revoking asks in a
<dialog> that works under the console's CSP (cancel keeps the key, confirm revokes it)."""

from __future__ import annotations

import pytest


@pytest.mark.browser
def test_it_confirms_revoke_in_a_dialog_and_a_reload_creates_no_key(
    live_server, transactional_db, browser
):
    from accounts.models import ApiKey
    from accounts.services import api_key_create, user_create

    alice = user_create(username="alice", password="correct horse battery", role="deployer")
    keep, _ = api_key_create(user=alice, name="keep", scopes=["predict"])

    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{live_server.url}/accounts/keys/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/keys/")

    page.fill("input[name=name]", "from-browser")
    page.check("input[name=scopes][value=predict]")
    page.click("text=Create key")
    page.wait_for_url("**/accounts/keys/")
    secret = page.inner_text("#new-key-value").strip()
    assert secret.startswith("mg_")
    page.reload()
    assert page.locator("#new-key-value").count() == 0
    assert secret not in page.content()
    assert ApiKey.objects.filter(name="from-browser").count() == 1

    row = page.locator("tr", has_text="keep")
    row.locator("button.danger").click()
    dialog = page.locator("#confirm-dialog")
    assert dialog.is_visible()
    assert keep.prefix in dialog.inner_text()
    dialog.locator("[data-confirm-cancel]").click()
    assert not dialog.is_visible()
    keep.refresh_from_db()
    assert keep.revoked_at is None  # cancel posts nothing

    row.locator("button.danger").click()
    with page.expect_navigation():
        dialog.locator("[data-confirm-ok]").click()
    assert f"Key 'keep' ({keep.prefix}) revoked." in page.inner_text("ul.messages")
    keep.refresh_from_db()
    assert keep.revoked_at is not None
    # The key page loads its refused-calls card from monitoring (htmx, under the CSP).
    page.goto(f"{live_server.url}/accounts/keys/{keep.pk}/")
    refusals = page.locator("#refusals [data-refused-total]")
    refusals.wait_for()
    assert refusals.get_attribute("data-refused-total") == "0"
    assert problems == []
