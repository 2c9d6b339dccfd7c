"""A reader answers a study with the keyboard only, reloads half-way and resumes; the
coordinator watches progress change and downloads a CSV whose rows are those answers."""

from __future__ import annotations

import csv
import time

import pytest

from app.db import Database
from tests.browser.pages import log_in, skip_tutorial
from tests.browser.waits import wait_for_item
from tests.factories import Account, make_user
from tests.study_factories import open_reader_study

pytestmark = pytest.mark.browser
N_ITEMS = 10
PAUSE_MS = 150  # the test looks at each item this long before answering


def open_study(db: Database, reader: Account, owner: Account) -> int:
    return open_reader_study(db, "browser-vtt", reader.username, N_ITEMS, 8, owner.username)


def wait_for_position(page, position: int) -> None:  # type: ignore[no-untyped-def]
    wait_for_item(page, f"{position} / {N_ITEMS}")


def test_keyboard_reading_resume_progress_and_csv(live_server: str, browser, db: Database) -> None:  # type: ignore[no-untyped-def]
    reader, coordinator = make_user(db, "reader", "ann"), make_user(db, "coordinator")
    study_id = open_study(db, reader, coordinator)
    watcher = browser.new_context().new_page()
    log_in(watcher, live_server, coordinator, f"/studies/{study_id}")
    assert watcher.locator('tr[data-reader="ann"] .answered').inner_text() == "0"

    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    since = time.monotonic()  # the first item's image cannot have appeared before this
    log_in(page, live_server, reader, f"/reading/{study_id}")
    skip_tutorial(page)
    label_keys = {
        code: page.locator(f'button[data-label="{code}"] kbd').inner_text()
        for code in ("GGO", "CAL", "NOR")
    }
    given, bounds = [], []
    for position in range(1, N_ITEMS + 1):
        if position == 6:
            since = time.monotonic()
            page.reload()
        wait_for_position(page, position)
        page.wait_for_timeout(PAUSE_MS)
        verdict = "real" if position % 2 else "generated"
        confidence = 1 + position % 5
        label = ("GGO", "CAL", "NOR")[position % 3]
        page.keyboard.press("r" if verdict == "real" else "g")
        page.keyboard.press(str(confidence))
        page.keyboard.press(label_keys[label].lower())
        before_enter = time.monotonic()
        page.keyboard.press("Enter")
        bounds.append((PAUSE_MS - 30, (time.monotonic() - since) * 1000))
        since = before_enter  # the next item is fetched only after this answer is sent
        given.append([verdict, str(confidence), label])
    page.wait_for_selector("#done", state="visible")

    watcher.wait_for_selector(f'tr[data-reader="ann"] .answered:text-is("{N_ITEMS}")')
    watcher.goto(f"{live_server}/studies/{study_id}/results")
    with watcher.expect_download() as download:
        watcher.click("text=Judgments (CSV)")
    with open(download.value.path(), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [[r["verdict"], r["confidence"], r["label"]] for r in rows] == given
    durations = [int(r["duration_ms"]) for r in rows]
    for position, (ms, (low, high)) in enumerate(zip(durations, bounds, strict=True), start=1):
        assert low <= ms <= high, f"item {position}: {ms} ms, measured {low}..{high:.0f} ms"
