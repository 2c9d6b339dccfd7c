"""The study page's sharing card in Chromium (issue 11, finding 13): the owner shares a study
with another coordinator through htmx (the CSRF header base.html sets), who then opens it;
removing them takes it away at their next page load."""

from __future__ import annotations

import pytest

from app.db import Database
from tests.browser.test_reading import log_in
from tests.factories import make_user
from tests.study_factories import open_reader_study

pytestmark = pytest.mark.browser


def test_owner_shares_and_unshares_from_the_study_page(  # type: ignore[no-untyped-def]
    live_server: str, browser, db: Database
) -> None:
    ann, bob = make_user(db, "coordinator", "ann"), make_user(db, "coordinator", "bob")
    make_user(db, "reader", "rea")
    study_id = open_reader_study(db, "shared-vtt", "rea", 4, 3, owner="ann")
    study = f"/studies/{study_id}"

    other = browser.new_context().new_page()
    log_in(other, live_server, bob, "/studies")
    assert "shared-vtt" not in other.content()
    assert other.goto(f"{live_server}{study}").status == 404

    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, ann, study)
    assert page.locator('[data-testid="owner"]').inner_text() == "ann"
    page.select_option("#sharing select[name=username]", "bob")
    page.click("#sharing button:has-text('Share')")
    page.locator("#sharing td", has_text="bob").first.wait_for()

    seen = other.goto(f"{live_server}{study}")
    assert seen.status == 200 and "shared-vtt" in other.content()
    other.goto(f"{live_server}/studies")
    assert "shared-vtt" in other.content()

    page.click("#sharing button:has-text('Remove')")
    page.locator("#sharing", has_text="Not shared").wait_for()
    assert other.goto(f"{live_server}{study}").status == 404
