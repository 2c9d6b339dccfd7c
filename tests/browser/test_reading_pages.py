"""Issue 9's "broken today" list, each in a real browser: hidden panels stay hidden, pages
show HTML errors, the study form keeps what was typed, phones fit, practice feedback says
right or wrong, practice is counted apart, changed answers keep their first time, /docs
works offline; every answer and Submit fit a phone's, a tablet's and a desktop's screen with
the patch, and the intake asked again shows the answers given.

Set ``LUNGSIGN_SHOTS=/some/dir`` to keep screenshots at 1280×900 and 390×844."""

from __future__ import annotations

import os

import pytest

from app.db import Database
from app.services.accounts.users import get_user
from app.services.studies import access
from app.services.studies import lifecycle as studies
from app.services.studies.spec import StudySpec
from tests.browser.pages import log_in, shoot, skip_tutorial
from tests.browser.waits import wait_for_item
from tests.factories import make_user
from tests.study_factories import with_data

pytestmark = pytest.mark.browser


def reader_study(
    db: Database,
    reader: str,
    items: int,
    practice: int = 0,
    allow_changes: bool = False,
    owner: str | None = None,
) -> int:
    """Datasets real1/gen1 and an open study of ITEMS (plus PRACTICE) for READER, owned by
    the coordinator OWNER (None: admins only)."""
    with_data(db)
    spec = StudySpec.model_validate(
        {
            "name": "pages-vtt",
            "real": {"dataset": "real1"},
            "generated": {"datasets": ["gen1"]},
            "items_per_reader": items,
            "practice_items": practice,
            "allow_changes": allow_changes,
            "readers": [reader],
        }
    )
    with db.session() as session:
        get_user(session, reader).experience_years = 4
        study = studies.create_study(session, spec, None)
        if owner is not None:
            access.set_owner(session, study, owner, None)
        studies.open_study(session, study.id, None)
        return study.id


def next_patch(page, shown: str = "") -> str:  # type: ignore[no-untyped-def]
    """The item token of the patch once one other than SHOWN is drawn (whatever the counter
    says)."""
    for _ in range(150):
        src = page.locator("#patch").evaluate("c => c.dataset.item")
        if src and src != shown:
            return str(src)
        page.wait_for_timeout(100)
    raise AssertionError("no new patch loaded")


def answer(page, verdict: str = "r", label: str = "GGO") -> None:  # type: ignore[no-untyped-def]
    key = page.locator(f'button[data-label="{label}"] kbd').inner_text().lower()
    for press in (verdict, "3", key, "Enter"):
        page.keyboard.press(press)


def test_question_panel_hides_at_the_end_on_review_and_when_closed(
    live_server: str, page, db: Database
) -> None:  # type: ignore[no-untyped-def]
    reader = make_user(db, "reader", "ann")
    study_id = reader_study(db, reader.username, items=2)
    log_in(page, live_server, reader, f"/reading/{study_id}")
    skip_tutorial(page)
    for position in (1, 2):
        wait_for_item(page, f"{position} / 2")
        answer(page)
    page.wait_for_selector("#done", state="visible")
    assert page.locator("#item").is_hidden()  # no last patch above "Thank you"
    assert page.locator("#patch").is_hidden()
    assert page.locator("#reading .keys").is_hidden()  # no key legend under "Thank you"
    shoot(page, "reading-done")

    page.goto(f"{live_server}/reading")
    page.click("text=Review")
    page.wait_for_selector("#done", state="visible")
    assert page.locator("#item").is_hidden()
    assert page.locator("#reading .keys").is_hidden()
    page.wait_for_selector("#counter:text-is('2 / 2')")  # on a fresh load too
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.locator("#counter").is_visible()
    page.set_viewport_size({"width": 1280, "height": 900})

    with db.session() as session:
        studies.close_study(session, study_id, None)
    page.goto(f"{live_server}/reading/{study_id}")
    page.wait_for_selector("#message:text-is('the study is closed')")
    assert page.locator("#item").is_hidden()  # no broken image beside the answer buttons
    assert page.locator("button[data-verdict]").first.is_hidden()


def test_browser_errors_are_pages_in_the_layout_and_the_api_keeps_json(
    live_server: str, page, db: Database
) -> None:  # type: ignore[no-untyped-def]
    reader = make_user(db, "reader", "ann")
    with db.session() as session:
        get_user(session, reader.username).experience_years = 4
    log_in(page, live_server, reader, "/reading")

    response = page.goto(f"{live_server}/studies")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Not allowed"
    assert page.locator("[role=alert]").inner_text() == "this needs the coordinator role"
    assert page.locator(".topbar .brand").is_visible()  # the site's layout, not raw JSON
    assert page.locator("main a[href='/reading']").is_visible()
    shoot(page, "error-403")

    response = page.goto(f"{live_server}/reading/999")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert "no such study among your assignments" in page.locator("main").inner_text()
    response = page.goto(f"{live_server}/no-such-page")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    page.click("main >> text=Home")
    page.wait_for_url(f"{live_server}/reading")  # a reader's home: their studies

    api = page.request.get(f"{live_server}/api/v1/reading/next?study=999")
    assert api.status == 404
    assert api.json() == {"detail": "no such study among your assignments"}
    api = page.request.get(f"{live_server}/api/v1/studies", headers={"Accept": "text/html"})
    assert api.status == 403
    assert api.json() == {"detail": "this needs the coordinator role"}

    page.context.clear_cookies()
    response = page.goto(f"{live_server}/no-such-page")
    assert response.status == 404
    assert page.locator("main a[href^='/login']").is_visible()  # logged out: a way in


def test_study_form_keeps_its_fields_and_names_the_largest_design_that_fits(
    live_server: str, page, db: Database
) -> None:  # type: ignore[no-untyped-def]
    coordinator = make_user(db, "coordinator")
    make_user(db, "reader", "ann")
    with_data(db)  # 18 real and 18 generated patches, 6 per label
    log_in(page, live_server, coordinator, "/studies")
    page.fill("input[name=name]", "too-big")
    page.select_option("select[name=real_dataset]", "real1")
    page.select_option("select[name=real_split]", "")
    page.check("input[name=generated][value=gen1]")
    page.fill("input[name=items_per_reader]", "250")
    page.check("input[name=allow_changes]")
    page.uncheck("input[name=ask_confidence]")
    page.check("input[name=shared_items][value=disjoint]")
    page.fill("textarea[name=instructions]", "Judge each patch in under 10 s.")
    page.check("input[name=readers][value=ann]")
    page.click("form.study-form button[type=submit]")

    alert = page.locator("[role=alert]")
    assert alert.inner_text() == (
        "not enough real patches: need 125, have 18; the largest design that fits is 36 items"
        " per reader (18 real, 18 generated; real fraction 0.5, disjoint sets for 1 reader)"
    )
    assert page.input_value("input[name=name]") == "too-big"
    assert page.input_value("select[name=real_dataset]") == "real1"
    assert page.input_value("select[name=real_split]") == ""
    assert page.is_checked("input[name=generated][value=gen1]")
    assert page.input_value("input[name=items_per_reader]") == "250"
    assert page.is_checked("input[name=allow_changes]")
    assert not page.is_checked("input[name=ask_confidence]")
    assert page.is_checked("input[name=ask_label]")
    assert page.is_checked("input[name=shared_items][value=disjoint]")
    assert page.input_value("textarea[name=instructions]") == "Judge each patch in under 10 s."
    assert page.is_checked("input[name=readers][value=ann]")

    page.fill("input[name=items_per_reader]", "36")  # the design it named
    page.click("form.study-form button[type=submit]")
    page.wait_for_url(f"{live_server}/studies/*")
    assert page.locator("h1").inner_text().startswith("too-big")


def test_a_phone_reads_a_patch_that_fits_and_result_tables_fit_the_screen(
    live_server: str, browser, db: Database
) -> None:  # type: ignore[no-untyped-def]
    reader, coordinator = make_user(db, "reader", "ann"), make_user(db, "coordinator")
    study_id = reader_study(db, reader.username, items=2, owner=coordinator.username)
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.set_default_timeout(15_000)
    log_in(phone, live_server, reader, f"/reading/{study_id}")
    skip_tutorial(phone)
    wait_for_item(phone, "1 / 2")
    box = phone.locator("#patch").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # not fixed at 512 px
    assert box["width"] >= 330 and box["height"] == box["width"]  # as wide as the screen allows
    assert phone.locator("#patch").evaluate("i => getComputedStyle(i).imageRendering") in (
        "pixelated",
        "crisp-edges",
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(phone, "reading-item")
    for position in (1, 2):
        wait_for_item(phone, f"{position} / 2")
        phone.locator("button[data-verdict=real]").click()  # by touch, not keys
        phone.locator("button[data-confidence='4']").click()
        phone.locator("button[data-label=NOR]").click()
        phone.locator("#submit").click()
    phone.wait_for_selector("#done", state="visible")
    phone.goto(f"{live_server}/reading")
    shoot(phone, "reader-home")

    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, coordinator, "/studies")
    shoot(page, "studies")
    page.goto(f"{live_server}/studies/{study_id}")
    shoot(page, "study")
    page.goto(f"{live_server}/studies/{study_id}/results")
    page.set_viewport_size({"width": 390, "height": 844})
    wide = page.locator(".card table.stats").nth(1)  # per reader: ten columns on a desktop
    assert wide.evaluate("t => t.scrollWidth <= t.clientWidth")  # one block per row: no scrolling
    assert wide.evaluate("t => t.getBoundingClientRect().right") <= 390  # inside the screen
    shoot(page, "study-results")


def practice_truth(db: Database, study_id: int, reader: str) -> list[tuple[str, str]]:
    """(source, label code) of the reader's practice items, in reading order."""
    from sqlalchemy import select

    from app.tables import Assignment, AssignmentItem, Patch, StudyItem, User

    with db.session() as session:
        rows = session.execute(
            select(Patch.source, Patch.label_code)
            .join(StudyItem, StudyItem.patch_id == Patch.id)
            .join(AssignmentItem, AssignmentItem.study_item_id == StudyItem.id)
            .join(Assignment, Assignment.id == AssignmentItem.assignment_id)
            .join(User, User.id == Assignment.reader_id)
            .where(Assignment.study_id == study_id, User.username == reader)
            .where(StudyItem.is_practice.is_(True))
            .order_by(AssignmentItem.position)
        )
        return [(source, label) for source, label in rows]


def test_hints_clear_once_answered_and_practice_feedback_says_right_or_wrong_by_name(
    live_server: str, page, db: Database
) -> None:  # type: ignore[no-untyped-def]
    reader = make_user(db, "reader", "ann")
    study_id = reader_study(db, reader.username, items=2, practice=2)
    (first_source, first_label), (second_source, second_label) = practice_truth(
        db, study_id, reader.username
    )
    names = {"GGO": "ground-glass opacity", "CAL": "calcification", "NOR": "normal tissue"}
    log_in(page, live_server, reader, f"/reading/{study_id}")
    skip_tutorial(page)
    first = next_patch(page)  # practice item 1 of 2

    page.keyboard.press("Enter")  # nothing chosen yet
    assert page.locator("#message").inner_text() == "Choose real (R) or generated (G)."
    page.keyboard.press("r" if first_source == "real" else "g")
    assert page.locator("#message").inner_text() == "Choose a confidence from 1 to 5."
    page.locator("button[data-confidence='2']").click()
    assert page.locator("#message").inner_text() == "Choose a sign label."
    page.locator(f"button[data-label={first_label}]").click()
    assert page.locator("#message").inner_text() == ""  # the hint is gone once answered
    page.keyboard.press("Enter")
    feedback = page.locator("#feedback")
    feedback.wait_for(state="visible")
    assert feedback.inner_text() == (
        f"Practice. Right: this patch is {first_source}; the sign, {names[first_label]},"
        " is right too. Press Enter to go on."
    )
    assert feedback.get_attribute("class") == "feedback right"
    green = feedback.evaluate("e => getComputedStyle(e).backgroundColor")
    shoot(page, "practice-right")

    page.keyboard.press("Enter")
    next_patch(page, first)
    wrong_verdict = "generated" if second_source == "real" else "real"
    wrong_label = "CAL" if second_label != "CAL" else "NOR"
    answer(page, wrong_verdict[0], wrong_label)
    feedback.wait_for(state="visible")
    assert feedback.inner_text() == (
        f"Practice. Wrong: this patch is {second_source} (you said {wrong_verdict}); its sign"
        f" is {names[second_label]}, not {names[wrong_label]}. Press Enter to go on."
    )
    assert feedback.get_attribute("class") == "feedback wrong"
    assert feedback.evaluate("e => getComputedStyle(e).backgroundColor") != green
    assert "AIB" not in feedback.inner_text() and second_label not in feedback.inner_text()
    shoot(page, "practice-wrong")


def brightness(page, selector: str) -> float:  # type: ignore[no-untyped-def]
    """Mean grey level (0 black … 255 white) of the element as drawn."""
    import io

    from PIL import Image, ImageStat

    shot = Image.open(io.BytesIO(page.locator(selector).screenshot())).convert("L")
    return float(ImageStat.Stat(shot).mean[0])


def test_practice_is_counted_apart_ends_with_a_step_and_an_empty_bar_looks_empty(
    live_server: str, browser, db: Database
) -> None:  # type: ignore[no-untyped-def]
    reader, coordinator = make_user(db, "reader", "ann"), make_user(db, "coordinator")
    study_id = reader_study(db, reader.username, items=3, practice=2, owner=coordinator.username)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, reader, "/reading")
    row = page.locator("table tbody tr").first
    assert row.locator("td.num").inner_text() == "0 / 3"  # as the coordinator counts
    page.click("text=Start")
    page.wait_for_url(f"{live_server}/reading/{study_id}")
    skip_tutorial(page)

    wait_for_item(page, "1 / 2")
    assert page.locator("#practice").is_visible()
    assert brightness(page, "#bar") < 90, "an empty bar must look empty on the dark page"
    shoot(page, "reading-practice")
    for position in (1, 2):
        wait_for_item(page, f"{position} / 2")
        answer(page)
        page.locator("#feedback").wait_for(state="visible")
        page.keyboard.press("Enter")

    step = page.locator("#practice-done")
    step.wait_for(state="visible")
    assert "Practice done — the study starts now" in step.inner_text()
    assert "3 items" in step.inner_text()
    assert page.locator("#item").is_hidden()  # no counted patch behind the step
    shoot(page, "reading-practice-done")
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    wait_for_item(page, "1 / 3")
    assert step.is_hidden() and page.locator("#practice").is_hidden()
    assert page.locator("#bar").evaluate("b => b.value") == 0
    answer(page)
    wait_for_item(page, "2 / 3")
    assert page.locator("#bar").evaluate("b => b.value") == pytest.approx(1 / 3)

    page.reload()  # resuming mid-study: no practice step again
    wait_for_item(page, "2 / 3")
    assert step.is_hidden()
    page.goto(f"{live_server}/reading")
    assert row.locator("td.num").inner_text() == "1 / 3"

    watcher = browser.new_context().new_page()
    log_in(watcher, live_server, coordinator, f"/studies/{study_id}")
    reader_row = watcher.locator('tr[data-reader="ann"]')
    assert reader_row.locator(".answered").inner_text() == "1"
    assert reader_row.locator("td.num").nth(1).inner_text() == "3"


def test_a_changed_answer_keeps_its_first_reading_time(
    live_server: str, browser, db: Database
) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    reader, coordinator = make_user(db, "reader", "ann"), make_user(db, "coordinator")
    study_id = reader_study(
        db, reader.username, items=3, allow_changes=True, owner=coordinator.username
    )
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, reader, f"/reading/{study_id}")
    skip_tutorial(page)
    wait_for_item(page, "1 / 3")
    page.wait_for_timeout(1200)  # the first reading: long
    answer(page, "r", "GGO")
    wait_for_item(page, "2 / 3")
    page.keyboard.press("Backspace")
    wait_for_item(page, "1 / 3")
    assert page.locator("button[data-verdict=real]").get_attribute("class") == "chosen"
    page.keyboard.press("g")  # the second look: short, and a different verdict
    page.keyboard.press("Enter")
    wait_for_item(page, "2 / 3")
    answer(page)
    wait_for_item(page, "3 / 3")
    answer(page)
    page.wait_for_selector("#done", state="visible")

    watcher = browser.new_context().new_page()
    log_in(watcher, live_server, coordinator, f"/studies/{study_id}")
    export = watcher.request.get(f"{live_server}/api/v1/studies/{study_id}/export.csv")
    assert export.ok
    header, *rows = list(csv.reader(io.StringIO(export.text())))
    assert header == [  # the old columns in their old places, the new ones after them
        *("study", "reader", "item", "patch_id", "source", "true_label", "model_version"),
        *("verdict", "confidence", "label", "duration_ms", "answered_at"),
        *("first_duration_ms", "first_answered_at", "revisions"),
    ]
    changed = dict(zip(header, rows[0], strict=True))
    assert changed["verdict"] == "generated" and changed["revisions"] == "1"
    assert int(changed["first_duration_ms"]) >= 1150  # the first reading is kept ...
    assert int(changed["duration_ms"]) < int(changed["first_duration_ms"])  # ... beside the last
    assert changed["first_answered_at"] < changed["answered_at"]
    for row in rows[1:]:  # never changed: first equals last
        unchanged = dict(zip(header, row, strict=True))
        assert unchanged["revisions"] == "0"
        assert unchanged["first_duration_ms"] == unchanged["duration_ms"]
        assert unchanged["first_answered_at"] == unchanged["answered_at"]


SCREENS = {"phone": (390, 844), "tablet": (768, 1024), "desktop": (1280, 900)}
ANSWERS = "button[data-verdict], button[data-confidence], button[data-label], #submit"
UNCOVERED = """b => {
  const r = b.getBoundingClientRect();
  const seen = (x, y) => b.contains(document.elementFromPoint(x, y));
  return seen(r.x + r.width / 2, r.y + 3) && seen(r.x + r.width / 2, r.bottom - 3);
}"""


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_answer_and_submit_are_on_the_screen_with_the_patch(
    live_server: str, browser, db: Database, screen: str
) -> None:  # type: ignore[no-untyped-def]
    width, height = SCREENS[screen]
    reader = make_user(db, "reader", "ann")
    study_id = reader_study(db, reader.username, items=2)
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, reader, f"/reading/{study_id}")
    skip_tutorial(page)
    wait_for_item(page, "1 / 2")
    if out := os.environ.get("LUNGSIGN_SHOTS"):
        page.screenshot(path=f"{out}/reading-fold-{screen}.png")
    buttons = page.locator(ANSWERS)
    assert buttons.count() == 2 + 5 + 10 + 1
    for button in buttons.all():  # no scrolling: the item as it arrives
        box = button.bounding_box()
        name = button.get_attribute("title") or button.inner_text()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{name} off the side"
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, f"{name} below the fold"
        assert button.evaluate(UNCOVERED), f"{name} partly under another element"
    patch = page.locator("#patch").bounding_box()
    assert patch["y"] >= 0 and patch["y"] + patch["height"] <= height  # the whole patch too
    label = page.locator("button[data-label=GGO]")
    assert "ground-glass opacity" in label.inner_text() and "GGO" in label.inner_text()
    page.locator("#submit").click()  # nothing chosen: the hint shows on the screen
    hint = page.locator("#message:text-is('Choose real (R) or generated (G).')")
    box = hint.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, "the hint off the screen"
    assert hint.evaluate(UNCOVERED) and page.locator("#submit").evaluate(UNCOVERED)
    if out := os.environ.get("LUNGSIGN_SHOTS"):
        page.screenshot(path=f"{out}/reading-hint-{screen}.png")
    page.locator("button[data-verdict=generated]").click()
    page.locator("button[data-confidence='5']").click()
    page.locator("button[data-label=NOR]").click()
    page.locator("#submit").click()
    wait_for_item(page, "2 / 2")


def test_the_intake_asked_again_shows_the_answers_given(
    live_server: str, page, db: Database
) -> None:  # type: ignore[no-untyped-def]
    reader = make_user(db, "reader", "ann")
    log_in(page, live_server, reader, "/reading")
    page.goto(f"{live_server}/reading/intake")
    page.fill("input[name=experience_years]", "12")
    page.fill("input[name=subspecialty]", "thoracic radiology")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/reading")

    page.goto(f"{live_server}/reading/intake?next=/reading")
    assert page.locator("#given-years").inner_text() == "12"
    assert page.locator("#given-subspecialty").inner_text() == "thoracic radiology"
    assert page.locator("input[name=experience_years]").count() == 0  # asked once: read-only
    shoot(page, "intake-given")
    page.click("main >> text=Continue")
    page.wait_for_url(f"{live_server}/reading")
