"""A reader's whole session in Chromium, on a phone (390×844) and a desktop (1280×900): the
login lands in their only study, the tutorial, `?` help, practice with feedback, a flag, the
counted items and the reader's own summary; the coordinator then sees the flag.

Set ``LUNGSIGN_SHOTS=/some/dir`` to keep a screenshot of each step at the session's size."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from app.db import Database
from app.services.accounts.users import get_user
from app.services.studies import lifecycle as studies
from app.services.studies.spec import StudySpec
from tests.browser.pages import SIZES, log_in
from tests.browser.test_reading_pages import practice_truth, reader_study
from tests.browser.waits import wait_for_item
from tests.factories import make_user
from tests.study_factories import with_data

pytestmark = pytest.mark.browser
ITEMS, PRACTICE = 3, 2


def snap(page: Any, name: str, size: str) -> None:
    """Nothing wider than the screen; a screenshot when LUNGSIGN_SHOTS names a folder."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} overflows by {overflow} px at {size}"
    if out := os.environ.get("LUNGSIGN_SHOTS"):
        Path(out).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{out}/session-{name}-{size}.png", full_page=True)


def log_in_plainly(page: Any, base: str, account: Any) -> None:
    """Log in from the login page itself, with no target: the site decides where to go."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")


def key_of(page: Any, label: str) -> str:
    return str(page.locator(f'button[data-label="{label}"] kbd').inner_text()).lower()


def answer(page: Any, verdict: str, label: str = "GGO") -> None:
    for press in (verdict[0], "3", key_of(page, label), "Enter"):
        page.keyboard.press(press)


@pytest.mark.parametrize("size", list(SIZES))
def test_a_reader_session_from_login_to_summary(
    live_server: str, browser: Any, db: Database, size: str
) -> None:
    width, height = SIZES[size]
    reader, coordinator = make_user(db, "reader", "ann"), make_user(db, "coordinator")
    study_id = reader_study(db, reader.username, ITEMS, PRACTICE, owner=coordinator.username)
    truth = practice_truth(db, study_id, reader.username)
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(15_000)
    log_in_plainly(page, live_server, reader)
    page.wait_for_url(f"{live_server}/reading/{study_id}")

    tutorial = page.locator("#tutorial")
    tutorial.wait_for(state="visible")
    text = tutorial.inner_text()
    assert "real" in text and "generated" in text and "practice" in text
    assert f"The first {PRACTICE} patches are practice" in text and "no feedback" in text
    assert page.locator("#item").is_hidden() and page.locator("#counter").inner_text() == ""
    snap(page, "tutorial", size)

    page.keyboard.press("?")
    help_box = page.locator("#help")
    help_box.wait_for(state="visible")
    keys = dict(
        zip(
            help_box.locator("dt").all_inner_texts(),
            help_box.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    assert keys["R"] == "Real" and keys["G"] == "Generated" and keys["Enter"] == "Submit"
    assert keys["O"] == "ground-glass opacity (GGO)" and keys["A"] == "air bronchogram (AIB)"
    assert "Backspace" not in keys, "this study does not allow going back"
    assert keys["F"], "the viewer's keys are read from the page too"
    assert "How this study works" in help_box.inner_text()
    snap(page, "help", size)
    page.keyboard.press("Escape")
    help_box.wait_for(state="hidden")

    page.keyboard.press("Enter")  # skip the tutorial
    wait_for_item(page, f"1 / {PRACTICE}")
    assert page.locator("#tutorial").is_hidden()
    page.click("#reading [data-open-help]")
    help_box.wait_for(state="visible")
    page.keyboard.press("r")  # the reading keys sleep while the help is open
    page.keyboard.press("?")
    help_box.wait_for(state="hidden")
    assert not page.locator("button[data-verdict].chosen").count(), "R pressed in the help"
    legend = page.locator('button[data-label="GGO"]').inner_text()
    assert "ground-glass opacity" in legend and "GGO" in legend and "O" in legend
    answer(page, truth[0][0], truth[0][1])
    page.locator("#feedback.right").wait_for()
    box = page.locator("#feedback").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, "the feedback off the screen"
    snap(page, "practice-feedback", size)
    page.keyboard.press("Enter")

    wait_for_item(page, f"2 / {PRACTICE}")
    page.click("#flag-open")
    flag = page.locator("#flag")
    flag.wait_for(state="visible")
    page.check("#flag input[name=unreadable]")
    page.locator("#flag textarea[name=comment]").press_sequentially("ring artefact, top left")
    snap(page, "flag", size)
    page.click("#flag button[type=submit]")
    flag.wait_for(state="hidden")
    status = page.locator("#flag-status")
    assert status.inner_text() == "Flagged: unreadable · “ring artefact, top left”"
    assert not page.locator("button[data-verdict].chosen").count(), "the R typed in the comment"
    wrong = "generated" if truth[1][0] == "real" else "real"
    answer(page, wrong, truth[1][1])
    page.locator("#feedback.wrong").wait_for()
    page.keyboard.press("Enter")

    page.locator("#practice-done").wait_for(state="visible")
    page.keyboard.press("Enter")
    for position in range(1, ITEMS + 1):
        wait_for_item(page, f"{position} / {ITEMS}")
        assert status.inner_text() == "", "a flag belongs to its own item"
        page.wait_for_timeout(200)
        answer(page, "real")
    done = page.locator("#done")
    done.wait_for(state="visible")
    summary = page.locator("#summary")
    summary.wait_for(state="visible")
    rows = dict(
        zip(
            summary.locator("dt").all_inner_texts(),
            summary.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    assert rows["Items answered"] == f"{ITEMS} of {ITEMS}"
    assert rows["Practice"] == f"1 of {PRACTICE} right"
    assert rows["Flagged"] == "1 item"
    assert " s in all, " in rows["Reading time"] and "per item (median)" in rows["Reading time"]
    assert set(rows) == {"Items answered", "Reading time", "Practice", "Flagged"}
    snap(page, "summary", size)

    coord = browser.new_context(viewport={"width": width, "height": height}).new_page()
    log_in(coord, live_server, coordinator, f"/studies/{study_id}/results")
    flags = coord.locator("#flags")
    assert "ring artefact, top left" in flags.inner_text() and "ann" in flags.inner_text()
    snap(coord, "results-flags", size)


def open_studies(db: Database, reader: str, names: list[str]) -> list[int]:
    """Open studies of ITEMS items each for READER (whose intake is answered) on the
    datasets real1 and gen1."""
    ids = []
    with db.session() as session:
        get_user(session, reader).experience_years = 4
        for name in names:
            spec = StudySpec.model_validate(
                {
                    "name": name,
                    "real": {"dataset": "real1"},
                    "generated": {"datasets": ["gen1"]},
                    "items_per_reader": ITEMS,
                    "readers": [reader],
                }
            )
            study = studies.create_study(session, spec, None)
            studies.open_study(session, study.id, None)
            ids.append(study.id)
    return ids


def test_one_study_opens_at_login_several_show_the_list(
    live_server: str, page: Any, db: Database
) -> None:
    reader = make_user(db, "reader", "ann")
    with_data(db)
    (first,) = open_studies(db, reader.username, ["chest-1"])
    log_in_plainly(page, live_server, reader)
    page.wait_for_url(f"{live_server}/reading/{first}")
    page.click("#tutorial [data-start]")  # skipped by a click (a phone has no Enter)
    wait_for_item(page, f"1 / {ITEMS}")

    open_studies(db, reader.username, ["chest-2"])
    log_in_plainly(page, live_server, reader)
    page.wait_for_url(f"{live_server}/reading")
    rows = page.locator("main tbody tr")
    assert rows.count() == 2
    for row in rows.all():
        assert f"0 / {ITEMS}" in row.inner_text() and row.locator("progress").is_visible()
    page.click("text=Start >> nth=0")
    page.locator("#tutorial").wait_for(state="visible")
