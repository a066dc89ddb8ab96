"""In Chromium: log in, register the .keras model through the upload page, see its signature."""

from __future__ import annotations

import pytest


@pytest.mark.browser
def test_it_registers_a_model_through_the_upload_page(
    live_server, transactional_db, keras_model_file, browser
):
    from accounts.services import user_create

    user_create(username="alice", password="correct horse battery", role="deployer")

    page = browser.new_page()
    page.goto(f"{live_server.url}/models/register/")
    assert "/login" in page.url  # the upload page needs a login first
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/models/register/")

    page.fill("input[name=model_name]", "browser-churn")
    page.set_input_files("input[name=artifact]", str(keras_model_file))
    page.fill("input[name=tags]", "from-browser")
    page.click("#version-upload-form button[type=submit]")
    page.wait_for_url("**/models/browser-churn/v1/", timeout=60_000)

    inputs = page.locator("#signature tr.signature-input td").all_inner_texts()
    outputs = page.locator("#signature tr.signature-output td").all_inner_texts()
    assert inputs == ["input", "features", "float32", "[-1, 4]"]
    assert outputs == ["output", "score", "float32", "[-1, 1]"]
    assert "Registered browser-churn v1" in page.inner_text("ul.messages")
