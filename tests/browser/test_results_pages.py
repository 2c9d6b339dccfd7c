"""The coordinator's results and dataset pages in Chromium (issue 9): the headline in words,
the reader who has not finished, figures loaded with numbered captions, the patch gallery
filtered through htmx and, without JavaScript, through its plain form; tiles enlarge on
click and shrink on Escape; the page printed has no navigation; a generated dataset shows
its GAN version's figures. Screenshots at both sizes and of the printed page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.tables import ModelVersion
from tests.browser.pages import log_in, shoot
from tests.factories import Account
from tests.study_factories import study_with_two_gans

pytestmark = pytest.mark.browser
CORA = Account("cora", "pw-cora-secret", "coordinator")
ENLARGED = "document.querySelector('.tile:focus img')?.getBoundingClientRect().width || 0"


def tile_width(page: Any, selector: str) -> float:
    return float(
        page.evaluate(f"document.querySelector({selector!r}).getBoundingClientRect().width")
    )


def test_results_page_explains_filters_enlarges_and_prints(  # type: ignore[no-untyped-def]
    live_server: str, page, client: TestClient, db: Database
) -> None:
    study_id = study_with_two_gans(client, db)
    results = f"/studies/{study_id}/results"
    log_in(page, live_server, CORA, results)
    assert "could not tell generated from real patches" in page.inner_text("#headline-explained")
    assert "dan" in page.inner_text("#partly-finished")
    captions = page.locator(".result-figure figcaption").all_inner_texts()
    assert [c.split(".")[0] for c in captions] == ["Figure 1", "Figure 2", "Figure 3"]
    for img in page.locator(".result-figure img").all():
        img.scroll_into_view_if_needed()
        assert img.evaluate("i => i.decode().then(() => i.naturalWidth)") > 0
    shoot(page, "results")

    # Filter the gallery to GAN v2 (htmx swaps the gallery; the URL follows).
    page.select_option("#item-gallery select[name=gan]", "2")
    page.wait_for_url(f"{live_server}{results}/gallery?gan=2&label=")
    texts = page.locator(".gallery.fooling figcaption").all_inner_texts()
    assert texts and all("GAN v2" in t for t in texts)
    assert "Showing GAN v2, every label" in page.inner_text(".filters-shown")

    # A tile enlarges on click and shrinks on Escape.
    first = ".gallery.fooling .tile img"
    assert tile_width(page, first) == 128
    page.click(".gallery.fooling .tile")
    assert page.evaluate(ENLARGED) > 400
    shoot(page, "results-tile-enlarged")
    page.keyboard.press("Escape")
    assert page.evaluate(ENLARGED) == 0 and tile_width(page, first) == 128

    # Printed: no navigation or forms, the figures with their captions.
    page.emulate_media(media="print")
    assert not page.is_visible(".topbar") and not page.is_visible("#item-gallery form")
    assert page.is_visible(".result-figure figcaption")
    out = os.environ.get("LUNGSIGN_SHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{out}/results-print.png", full_page=True)
    page.emulate_media(media="screen")
    assert page.is_visible(".topbar")


def test_gallery_filters_without_javascript(  # type: ignore[no-untyped-def]
    live_server: str, browser, client: TestClient, db: Database
) -> None:
    study_id = study_with_two_gans(client, db)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, CORA, f"/studies/{study_id}/results")
        page.select_option("#item-gallery select[name=label]", "CAL")
        page.click("#item-gallery button:text-is('Show')")
        page.wait_for_url(f"{live_server}/studies/{study_id}/results?gan=&label=CAL#gallery")
        texts = page.locator("#item-gallery figcaption").all_inner_texts()
        assert texts and all("CAL" in t for t in texts)
    finally:
        context.close()


def test_generated_dataset_shows_its_gan_and_tiles_enlarge(  # type: ignore[no-untyped-def]
    live_server: str, page, client: TestClient, db: Database
) -> None:
    study_with_two_gans(client, db)
    with db.session() as session:
        v2 = session.scalars(select(ModelVersion).where(ModelVersion.version == 2)).one()
        model_id = v2.id
        v2.metrics = {
            "c2st_accuracy": 0.58,
            "fd": 8.2,
            "precision": 0.7,
            "recall": 0.5,
            "label_fidelity": {"overall": 0.9},
            "memorisation": {"near_copies": 1, "near_copy_fraction": 0.005},
        }
    log_in(page, live_server, CORA, "/datasets")
    gen2 = page.locator("article.dataset", has_text="gen2")
    assert "From GAN v2" in gen2.inner_text() and "FD" in gen2.inner_text()
    assert "not been measured yet" in page.locator("article.dataset", has_text="gen1").inner_text()
    shoot(page, "datasets-gan")
    gen2.locator("a:text-is('Open the patch gallery')").click()
    page.wait_for_selector(".gan-version")
    page.click(".gallery .tile")
    assert page.evaluate(ENLARGED) > 400
    shoot(page, "gallery-tile-enlarged")
    page.mouse.click(5, 5)  # a click outside shrinks it
    assert page.evaluate(ENLARGED) == 0
    page.click(".gan-version a:text-is('GAN v2')")
    page.wait_for_url(f"{live_server}/models#model-{model_id}")


# Every table of the page whose box or content runs past the window: [where, px past].
WIDE_TABLES = """() => [...document.querySelectorAll('main table')]
  .filter(t => t.getClientRects().length)
  .map(t => {
    const box = t.getBoundingClientRect();
    const past = Math.max(box.right - window.innerWidth, t.scrollWidth - t.clientWidth, -box.left);
    const where = t.closest('section, div[id]');
    const name = where && (where.id || where.querySelector('h2')?.textContent);
    return [name + ' ' + t.className, past];
  })
  .filter(([, past]) => past > 1)"""


def test_results_tables_fit_a_phone(  # type: ignore[no-untyped-def]
    live_server: str, page, client: TestClient, db: Database
) -> None:
    study_id = study_with_two_gans(client, db)  # dan unfinished, two GAN versions compared
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, CORA, f"/studies/{study_id}/results")
    assert page.locator("#partly-finished table").is_visible()
    assert page.locator(".version-differences").is_visible()
    assert page.evaluate(WIDE_TABLES) == []
    # a row reads as a block: the reader's name, then each value beside its column's name
    row = page.locator("table.stack tbody tr", has_text="ann").first
    assert row.locator("td.row-head").inner_text().startswith("ann")
    label = row.locator("td[data-label=accuracy]").evaluate(
        "td => getComputedStyle(td, '::before').content"
    )
    assert label == '"accuracy"'
    shoot(page, "results-phone-tables")
