"""Logging in and out through the real pages in Chromium."""

from __future__ import annotations

import pytest

from app.db import Database
from tests.factories import make_user

pytestmark = pytest.mark.browser


def test_login_then_logout(live_server: str, page, db: Database) -> None:  # type: ignore[no-untyped-def]
    account = make_user(db, "coordinator")
    page.goto(f"{live_server}/")
    assert "/login" in page.url
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    assert page.locator("h1").inner_text() == f"Welcome, {account.username}"
    assert page.evaluate("typeof htmx") == "object"  # served from the npm package
    page.click("text=Log out")
    page.wait_for_url("**/login")
    page.goto(f"{live_server}/")
    assert "/login" in page.url


def test_wrong_password_shows_error(live_server: str, page, db: Database) -> None:  # type: ignore[no-untyped-def]
    account = make_user(db, "reader")
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", "definitely-wrong")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "Wrong username or password."
