"""Issue 11, finding 9: the strict Content-Security-Policy breaks nothing a user does — the
pages a coordinator and a reader use (htmx polling included, the reading page's script)
log no CSP violation in Chromium, and the reading page still works under it."""

from __future__ import annotations

import pytest

from app.db import Database
from tests.browser.pages import log_in, skip_tutorial
from tests.browser.test_reading import open_study, wait_for_position
from tests.factories import make_user

pytestmark = pytest.mark.browser


def _watch(page) -> list[str]:  # type: ignore[no-untyped-def]
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return violations


def test_no_csp_violation_while_coordinating_and_reading(  # type: ignore[no-untyped-def]
    live_server: str, browser, db: Database
) -> None:
    reader, coordinator = make_user(db, "reader", "ann"), make_user(db, "coordinator")
    study_id = open_study(db, reader, coordinator)
    coord = browser.new_context().new_page()
    seen = _watch(coord)
    log_in(coord, live_server, coordinator, f"/studies/{study_id}")
    coord.wait_for_timeout(2500)  # the progress table polls through htmx
    for path in ("/studies", "/datasets", "/jobs", "/models", f"/studies/{study_id}/results"):
        coord.goto(f"{live_server}{path}")
        assert coord.locator("main").count() == 1
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    seen += _watch(page)
    log_in(page, live_server, reader, f"/reading/{study_id}")
    skip_tutorial(page)
    wait_for_position(page, 1)
    page.keyboard.press("r")
    page.keyboard.press("3")
    page.keyboard.press(page.locator('button[data-label="GGO"] kbd').inner_text().lower())
    page.keyboard.press("Enter")
    wait_for_position(page, 2)
    assert seen == []
