"""The coordinator's and admin's table pages on a 390×844 phone: nothing is wider than the
screen (no page scroll, no table scrolled inside its card) and the row actions (Open a study,
Remove a collaborator, open a gallery, Revoke a token) are on screen without scrolling
sideways. Screenshots at both sizes through ``shoot``."""

from __future__ import annotations

from typing import Any

import pytest

from app.db import Database
from app.services.accounts.users import get_user, issue_token
from app.services.studies import access
from app.services.studies import lifecycle as studies
from app.services.studies.spec import StudySpec
from tests.browser.pages import SIZES, log_in, shoot
from tests.factories import Account, make_user
from tests.study_factories import open_reader_study

pytestmark = pytest.mark.browser
PHONE = SIZES["phone"]

# Every laid-out element whose box pokes out of the viewport, and every table that scrolls
# inside its box; an empty list when the page fits the screen.
TOO_WIDE = """() => {
  const width = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
    + (el.id ? '#' + el.id : '');
  const found = [];
  const page = document.scrollingElement;
  if (page.scrollWidth > page.clientWidth) found.push(`page ${page.scrollWidth} px`);
  for (const table of document.querySelectorAll('table')) {
    if (table.scrollWidth > table.clientWidth) {
      found.push(`${name(table)} scrolls: ${table.scrollWidth} > ${table.clientWidth} px`);
    }
  }
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.left < -1 || box.right > width + 1) {
      found.push(`${name(el)} spans ${Math.round(box.left)}..${Math.round(box.right)} px`);
    }
  }
  return found;
}"""

NOT_CUT = "(input) => input.scrollWidth <= input.clientWidth"


def fits_the_phone(page: Any, what: str) -> None:
    """PAGE at phone size has nothing wider than the screen."""
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    too_wide = page.evaluate(TOO_WIDE)
    assert too_wide == [], f"{what} at {PHONE[0]} px: {too_wide[:8]}"


def on_screen(page: Any, selector: str) -> None:
    """Every element SELECTOR matches lies within the phone's width (no sideways scroll)."""
    found = page.locator(selector)
    assert found.count() > 0, f"nothing matches {selector}"
    for i in range(found.count()):
        box = found.nth(i).bounding_box()
        assert box is not None, f"{selector} #{i} is not shown"
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0], (
            f"{selector} #{i} spans {box['x']:.0f}..{box['x'] + box['width']:.0f} px"
        )


def a_study_with_a_collaborator(db: Database) -> tuple[Account, int]:
    """Carol, and her open study read by ann and bob, shared with dave; and her draft."""
    owner = make_user(db, "coordinator", "carol")
    make_user(db, "coordinator", "dave")
    make_user(db, "reader", "ann")
    make_user(db, "reader", "bob")
    study_id = open_reader_study(db, "a study whose name is long enough to wrap", "ann", 4, 3)
    with db.session() as session:
        carol = get_user(session, "carol")
        study = studies.get_study(session, study_id)
        access.set_owner(session, study, "carol", None)
        access.add_collaborator(session, study, "dave", carol)
        studies.assign_readers(session, study, ["bob"], None)
        get_user(session, "bob").experience_years = 2
        spec = StudySpec.model_validate(
            {
                "name": "second round, disjoint items, eight per reader",
                "real": {"dataset": "real1"},
                "generated": {"datasets": ["gen1"]},
                "items_per_reader": 8,
                "readers": ["ann"],
            }
        )
        studies.create_study(session, spec, carol)
    return owner, study_id


def test_coordinator_pages_fit_a_phone(  # type: ignore[no-untyped-def]
    live_server: str, page, db: Database
) -> None:
    coordinator, study_id = a_study_with_a_collaborator(db)
    log_in(page, live_server, coordinator, "/studies")
    page.wait_for_selector("#plan-result table.plan")  # the planner's figures are in
    fits_the_phone(page, "studies list, study form and planner")
    on_screen(page, "table.study-list td a[href^='/studies/']")
    shoot(page, "phone-studies")

    page.goto(f"{live_server}/studies/{study_id}")
    copy_name = page.locator(".copy-form input[name=name]")
    assert copy_name.evaluate(NOT_CUT), "the copy's prefilled name is cut on a desktop"
    fits_the_phone(page, "study page")
    on_screen(page, "#sharing button:has-text('Remove')")
    on_screen(page, "#progress tr[data-reader=bob] progress")
    card = page.locator(".copy-form").bounding_box()
    assert copy_name.bounding_box()["width"] >= card["width"] - 1, "the copy name is not full width"
    shoot(page, "phone-study")

    page.goto(f"{live_server}/datasets")
    fits_the_phone(page, "datasets")
    on_screen(page, "a:has-text('Open the patch gallery')")
    shoot(page, "phone-datasets")


def test_tokens_page_fits_a_phone(  # type: ignore[no-untyped-def]
    live_server: str, page, db: Database
) -> None:
    admin = make_user(db, "admin", "root")
    with db.session() as session:
        issue_token(session, "root", "nightly export script")
        issue_token(session, "root", "a second, older script", expires_days=None)
    log_in(page, live_server, admin, "/admin/users/root/tokens")
    fits_the_phone(page, "tokens")
    on_screen(page, "button.revoke")
    shoot(page, "phone-tokens")
