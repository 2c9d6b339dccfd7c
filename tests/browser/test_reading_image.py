"""The reading page's image viewer in a real browser, at 1280×900 (mouse) and 390×844
(touch): window/level by drag and by keys (the values shown and the canvas pixels follow), zoom
by wheel, pinch, keys and buttons, pan, reset, full screen, and an HU read-out that names the
stored value of the pixel under the pointer.

Set ``LUNGSIGN_SHOTS=/some/dir`` to keep screenshots."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from app.db import Database
from app.tables import AssignmentItem, Patch, StudyItem
from tests.browser.pages import SIZES, log_in, shoot
from tests.browser.waits import wait_for_item, wait_until
from tests.factories import make_user
from tests.study_factories import open_reader_study

pytestmark = pytest.mark.browser
READOUT = re.compile(r"^(-?\d+) HU at \((\d+), (\d+)\)$")
WINDOW = re.compile(r"^W (\d+) / L (-?\d+)( \((\w+)\))?$")


def reading(browser: Any, live_server: str, db: Database, size: str) -> Any:
    """A reader on the first item of a 4-item study, at SIZE (the phone with touch)."""
    reader = make_user(db, "reader", "ann")
    study_id = open_reader_study(db, "viewer-vtt", reader.username, 4, 5)
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, has_touch=size == "phone"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, reader, f"/reading/{study_id}")
    page.wait_for_selector("#tutorial:visible, #counter:text-is('1 / 4')")
    if page.locator("#tutorial").is_visible():  # "How this study works", before the first item
        page.keyboard.press("Enter")
    wait_for_item(page, "1 / 4")
    return page


def stored_hu(page: Any, db: Database) -> np.ndarray:
    """The HU the database holds for the item the canvas shows."""
    token = page.locator("#patch").evaluate("c => c.dataset.item")
    with db.session() as session:
        patch = session.scalar(
            select(Patch)
            .join(StudyItem, StudyItem.patch_id == Patch.id)
            .join(AssignmentItem, AssignmentItem.study_item_id == StudyItem.id)
            .where(AssignmentItem.token == token)
        )
        assert patch is not None
        return np.frombuffer(patch.pixels, "<i2").reshape(patch.height, patch.width)


def centre_of(page: Any, col: int, row: int, size: int = 16) -> tuple[float, float]:
    """Page coordinates of a patch pixel's centre, unzoomed and unpanned."""
    box = page.locator("#patch").bounding_box()
    step = box["width"] / size
    return box["x"] + (col + 0.5) * step, box["y"] + (row + 0.5) * step


def shown_window(page: Any) -> tuple[int, int, str | None]:
    match = WINDOW.match(page.inner_text("#viewer-window"))
    assert match, page.inner_text("#viewer-window")
    return int(match[1]), int(match[2]), match[4]


def gray(hu: int, width: int, level: int) -> int:
    """The window as the viewer and the server's PNGs apply it (Math.round: half up)."""
    return min(255, max(0, math.floor((hu - (level - width / 2)) * 255 / width + 0.5)))


def canvas_gray(page: Any, x: float, y: float) -> int:
    """The canvas pixel's gray value at page coordinates (x, y)."""
    return int(
        page.locator("#patch").evaluate(
            "(c, p) => { const r = c.getBoundingClientRect(), k = c.width / r.width;"
            " return c.getContext('2d').getImageData(Math.floor((p[0] - r.left) * k),"
            " Math.floor((p[1] - r.top) * k), 1, 1).data[0]; }",
            [x, y],
        )
    )


def point_at(page: Any, x: float, y: float, touch: bool) -> tuple[int, int, int]:
    """Hover (mouse) or tap (touch) at (x, y); the read-out's (HU, column, row)."""
    if touch:
        page.touchscreen.tap(x, y)
    else:
        page.mouse.move(x, y)
    match = READOUT.match(page.inner_text("#viewer-hu"))
    assert match, page.inner_text("#viewer-hu")
    return int(match[1]), int(match[2]), int(match[3])


def drag(page: Any, start: tuple[float, float], end: tuple[float, float], touch: bool) -> None:
    """One finger (touch, through Chromium's input events) or the left mouse button."""
    if not touch:
        page.mouse.move(*start)
        page.mouse.down()
        page.mouse.move(*end, steps=6)
        page.mouse.up()
        return
    cdp = page.context.new_cdp_session(page)
    for i in range(7):
        x = start[0] + (end[0] - start[0]) * i / 6
        y = start[1] + (end[1] - start[1]) * i / 6
        kind = "touchStart" if i == 0 else "touchMove"
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def pinch(page: Any, centre: tuple[float, float], from_px: float, to_px: float) -> None:
    """Two fingers moving apart from FROM_PX to TO_PX either side of CENTRE."""
    cdp = page.context.new_cdp_session(page)
    for i in range(7):
        half = from_px + (to_px - from_px) * i / 6
        points = [
            {"x": centre[0] + s * half, "y": centre[1], "id": n} for n, s in ((0, -1), (1, 1))
        ]
        kind = "touchStart" if i == 0 else "touchMove"
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def assert_pixels_follow_the_window(page: Any, hu: np.ndarray) -> None:
    """Every sampled patch pixel is drawn in the gray the shown window gives its HU."""
    width, level, _ = shown_window(page)
    for col, row in ((0, 0), (3, 5), (8, 8), (15, 15)):
        x, y = centre_of(page, col, row)
        assert canvas_gray(page, x, y) == gray(int(hu[row, col]), width, level), (col, row)


@pytest.mark.parametrize("size", list(SIZES))
def test_window_level_by_drag_and_keys_and_the_hu_read_out(
    live_server: str, browser: Any, db: Database, size: str
) -> None:
    touch = size == "phone"
    page = reading(browser, live_server, db, size)
    hu = stored_hu(page, db)
    assert shown_window(page) == (1500, -600, "lung")
    assert_pixels_follow_the_window(page, hu)
    for col, row in ((0, 0), (7, 3), (15, 15), (2, 13)):
        value, shown_col, shown_row = point_at(page, *centre_of(page, col, row), touch)
        assert (value, shown_col, shown_row) == (int(hu[row, col]), col, row)

    box = page.locator("#patch").bounding_box()
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    drag(page, middle, (middle[0] + 100, middle[1] + 40), touch)  # right: wider; down: higher
    width, level, preset = shown_window(page)
    assert width > 1500 and level > -600 and preset is None, (width, level)
    assert_pixels_follow_the_window(page, hu)
    drag(page, middle, (middle[0] - 150, middle[1] - 60), touch)
    narrower, lower, _ = shown_window(page)
    assert narrower < width and lower < level
    assert_pixels_follow_the_window(page, hu)
    shoot(page, "reading-viewer-window")

    page.keyboard.press("0")
    assert shown_window(page) == (1500, -600, "lung")
    page.keyboard.press("w")
    assert shown_window(page) == (350, 40, "mediastinal")
    assert page.locator("[data-preset=mediastinal]").get_attribute("class") == "chosen"
    assert_pixels_follow_the_window(page, hu)
    page.keyboard.press("W")
    assert shown_window(page) == (1500, -600, "lung")
    page.locator("[data-preset=mediastinal]").click()
    assert shown_window(page) == (350, 40, "mediastinal")
    assert page.locator("button.chosen[data-verdict], button.chosen[data-label]").count() == 0

    # The next item starts again at the first preset, unzoomed.
    for key in ("r", "3", page.locator("button[data-label=GGO] kbd").inner_text().lower()):
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    wait_for_item(page, "2 / 4")
    assert shown_window(page) == (1500, -600, "lung")
    assert_pixels_follow_the_window(page, stored_hu(page, db))


@pytest.mark.parametrize("size", list(SIZES))
def test_zoom_pan_and_reset(live_server: str, browser: Any, db: Database, size: str) -> None:
    touch = size == "phone"
    page = reading(browser, live_server, db, size)
    hu = stored_hu(page, db)
    assert page.inner_text("#viewer-zoom") == "zoom 100%"
    corner = centre_of(page, 4, 4)

    if touch:  # two fingers apart: 40 px → 120 px is three times as large
        box = page.locator("#patch").bounding_box()
        pinch(page, (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2), 20, 60)
        zoom = int(page.inner_text("#viewer-zoom").split()[1].rstrip("%"))
        assert 270 <= zoom <= 330, zoom
    else:  # the wheel zooms about the pointer: the pixel under it stays under it
        page.mouse.move(*corner)
        page.mouse.wheel(0, -100)
        wait_until(page, "document.getElementById('viewer-zoom').textContent === 'zoom 125%'")
        assert point_at(page, *corner, touch)[1:] == (4, 4)
        page.mouse.wheel(0, -300)
        wait_until(page, "document.getElementById('viewer-zoom').textContent === 'zoom 244%'")
        assert point_at(page, *corner, touch)[1:] == (4, 4)
    # Zoomed in, a pixel's neighbour sits where the pixel was; what is drawn is what is read out.
    value, col, row = point_at(page, *centre_of(page, 1, 1), touch)
    assert (col, row) != (1, 1) and value == int(hu[row, col])
    width, level, _ = shown_window(page)
    assert canvas_gray(page, *centre_of(page, 1, 1)) == gray(value, width, level)

    page.keyboard.press("0")
    assert page.inner_text("#viewer-zoom") == "zoom 100%"
    page.keyboard.press("+")
    page.keyboard.press("=")
    assert page.inner_text("#viewer-zoom") == "zoom 156%"
    page.keyboard.press("-")
    assert page.inner_text("#viewer-zoom") == "zoom 125%"
    page.locator("[data-view=zoom-in]").click()
    assert page.inner_text("#viewer-zoom") == "zoom 156%"

    # Pan: Shift-drag with the mouse, the Pan mode with a finger; the window stays as it was.
    before = point_at(page, *corner, touch)
    if touch:
        page.locator("[data-view=pan]").click()
        assert page.locator("[data-view=pan]").get_attribute("aria-pressed") == "true"
        drag(page, corner, (corner[0] + 64, corner[1] + 64), touch)
    else:
        page.keyboard.down("Shift")
        drag(page, corner, (corner[0] + 64, corner[1] + 64), touch)
        page.keyboard.up("Shift")
    after = point_at(page, *corner, touch)
    assert after[1] < before[1] and after[2] < before[2], (before, after)  # the patch moved
    assert shown_window(page) == (1500, -600, "lung")
    shoot(page, "reading-viewer-zoomed")

    page.locator("[data-view=reset]").click()
    assert page.inner_text("#viewer-zoom") == "zoom 100%"
    assert point_at(page, *centre_of(page, 4, 4), touch)[1:] == (4, 4)  # shoot() resized it


def test_full_screen_shows_the_patch_large_with_the_questions(
    live_server: str, browser: Any, db: Database
) -> None:
    page = reading(browser, live_server, db, "desktop")
    assert page.locator("#patch").bounding_box()["width"] == 512
    page.keyboard.press("f")
    assert "full" in (page.locator("#item").get_attribute("class") or "")
    wait_until(page, "document.getElementById('patch').getBoundingClientRect().width > 700")
    assert page.locator("button[data-verdict=real]").is_visible()  # answers stay at hand
    assert_pixels_follow_the_window(page, stored_hu(page, db))
    shoot(page, "reading-viewer-full")
    page.keyboard.press("f")
    wait_until(page, "document.getElementById('patch').getBoundingClientRect().width === 512")
    assert "full" not in (page.locator("#item").get_attribute("class") or "")
    page.locator("[data-view=full]").click()
    assert "full" in (page.locator("#item").get_attribute("class") or "")
    page.keyboard.press("Escape")
    wait_until(page, "!document.getElementById('item').classList.contains('full')")
