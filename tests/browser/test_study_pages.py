"""The coordinator's study pages in Chromium (issue 9): the studies list with progress, and
closing a study through the htmx confirmation that names who has not finished; the closed
study then offers no "Assign readers". Screenshots at both sizes through ``shoot``."""

from __future__ import annotations

import pytest

from app.db import Database
from app.services.accounts.users import get_user
from app.services.studies import lifecycle as studies
from app.services.studies.spec import StudySpec
from tests.browser.pages import log_in, shoot
from tests.factories import make_user
from tests.study_factories import open_reader_study, study_body, with_data

pytestmark = pytest.mark.browser


def test_closing_names_unfinished_readers_then_closes(  # type: ignore[no-untyped-def]
    live_server: str, page, db: Database
) -> None:
    coordinator = make_user(db, "coordinator", "carol")
    make_user(db, "reader", "ann")
    make_user(db, "reader", "bob")
    study_id = open_reader_study(db, "vtt-close", "ann", 4, 3, owner="carol")
    with db.session() as session:
        studies.assign_readers(session, studies.get_study(session, study_id), ["bob"], None)
        get_user(session, "bob").experience_years = 2
    log_in(page, live_server, coordinator, "/studies")
    row = page.locator("tr[data-study=vtt-close]")
    assert row.locator("td.readers").inner_text() == "2"
    assert row.locator("td.judgments .count").inner_text() == "0 / 8"
    shoot(page, "studies")

    page.click("a:text-is('vtt-close')")
    page.wait_for_url(f"{live_server}/studies/{study_id}")
    shoot(page, "study-open")
    page.click("a:text-is('Close…')")
    page.wait_for_selector("#close-confirm li[data-reader=bob]")
    assert page.url == f"{live_server}/studies/{study_id}"  # a fragment, not a new page
    assert "2 readers have not finished" in page.inner_text("#close-confirm")
    assert "ann — 0 of 4 answered" in page.inner_text("#close-confirm")
    shoot(page, "study-close-confirm")

    page.click("#close-confirm button:text-is('Close the study')")
    page.wait_for_selector("h1 small:text-is('closed')")
    assert page.locator("h2:text-is('Assign readers')").count() == 0
    assert page.locator("a:text-is('Close…')").count() == 0
    shoot(page, "study-closed")


def test_a_draft_is_edited_from_its_page(  # type: ignore[no-untyped-def]
    live_server: str, page, db: Database
) -> None:
    coordinator = make_user(db, "coordinator", "carol")
    make_user(db, "reader", "ann")
    make_user(db, "reader", "bob")
    with_data(db)
    spec = StudySpec.model_validate(study_body(name="vtt-draft", readers=["ann"]))
    with db.session() as session:
        study_id = studies.create_study(session, spec, get_user(session, "carol")).id
    log_in(page, live_server, coordinator, f"/studies/{study_id}")
    shoot(page, "study-draft")
    page.click("a:text-is('Edit design')")
    page.wait_for_url(f"{live_server}/studies/{study_id}/edit")
    assert page.is_checked("input[name=readers][value=ann]")
    assert page.is_checked("input[name=generated][value=gen1]")
    shoot(page, "study-edit")
    page.check("input[name=readers][value=bob]")
    page.fill("input[name=items_per_reader]", "6")
    page.click("form.study-form button[type=submit]")
    page.wait_for_url(f"{live_server}/studies/{study_id}")
    assert page.locator("#progress tr[data-reader]").all_inner_texts()[1].startswith("bob")
    assert "6, real fraction" in page.inner_text("dl.facts")
