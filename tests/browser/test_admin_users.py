"""An admin adds a reader in the browser and hands over the one-time password the page shows;
the reader logs in with it and reads an item; the admin deactivates them and the reader's
open session ends at once. The users page never reloads (htmx swaps its block).

With LUNGSIGN_SCREENSHOTS=DIR the test also saves the users page at 1280×900 and 390×844."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.db import Database
from app.tables import Judgment
from tests.browser.pages import skip_tutorial
from tests.browser.waits import wait_for_item
from tests.factories import make_user
from tests.study_factories import open_reader_study

pytestmark = pytest.mark.browser
N_ITEMS = 4


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("LUNGSIGN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def test_admin_adds_a_reader_who_logs_in_and_reads(  # type: ignore[no-untyped-def]
    live_server: str, browser, db: Database
) -> None:
    root = make_user(db, "admin", "root")
    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin.set_default_timeout(15_000)
    admin.on("dialog", lambda dialog: dialog.accept())  # the confirmations
    admin.goto(f"{live_server}/login")
    admin.fill("input[name=username]", root.username)
    admin.fill("input[name=password]", root.password)
    admin.click("button[type=submit]")
    admin.wait_for_url(f"{live_server}/")
    admin.click(".admin-links >> text=Users")
    admin.wait_for_url(f"{live_server}/admin/users")
    admin.evaluate("window.sameDocument = true")  # gone if anything reloads the page

    admin.fill(".add-user input[name=username]", "dr.new")
    admin.select_option(".add-user select[name=role]", "reader")
    admin.click(".add-user button[type=submit]")
    password = admin.locator("#one-time-password").inner_text()
    assert admin.locator("#one-time-password").get_attribute("data-username") == "dr.new"
    assert admin.locator('tr[data-user="dr.new"] td.active').inner_text() == "yes"
    shoot(admin, "users-1280.png")
    narrow = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    narrow.goto(f"{live_server}/login")
    narrow.fill("input[name=username]", root.username)
    narrow.fill("input[name=password]", root.password)
    narrow.click("button[type=submit]")
    narrow.wait_for_url(f"{live_server}/")
    narrow.goto(f"{live_server}/admin/users")
    assert narrow.evaluate("document.documentElement.scrollWidth") <= 390  # nothing runs off
    shoot(narrow, "users-390.png")

    study_id = open_reader_study(db, "handover", "dr.new", N_ITEMS, years=5)
    reader = browser.new_context().new_page()
    reader.set_default_timeout(15_000)
    reader.goto(f"{live_server}/login?next=/reading/{study_id}")
    reader.fill("input[name=username]", "dr.new")
    reader.fill("input[name=password]", password)
    reader.click("button[type=submit]")
    reader.wait_for_url(f"{live_server}/reading/{study_id}")
    skip_tutorial(reader)
    wait_for_item(reader, f"1 / {N_ITEMS}")
    label_key = reader.locator('button[data-label="GGO"] kbd').inner_text()
    for key in ("r", "3", label_key.lower(), "Enter"):
        reader.keyboard.press(key)
    wait_for_item(reader, f"2 / {N_ITEMS}")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Judgment)) == 1

    admin.click('tr[data-user="dr.new"] button.deactivate')
    admin.wait_for_selector('tr[data-user="dr.new"] td.active:text-is("deactivated")')
    assert admin.evaluate("window.sameDocument") is True  # htmx swapped, nothing reloaded
    assert admin.locator("#one-time-password").count() == 0  # the password is gone for good
    reader.reload()
    reader.wait_for_url("**/login**")  # the reader's session ended at once
