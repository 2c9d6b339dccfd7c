"""An admin starts a small GAN job from the form and watches it train on its page — the
progress bar moves, loss curves and the sample grid appear — without the page reloading,
while a reader answers study items in another browser. The server is ``lungsign serve``,
which runs a real worker process beside the web server.

Set ``LUNGSIGN_SHOTS=/some/dir`` to keep screenshots (1280×800 and 390×844) of the jobs list,
the job page mid-training and the models page."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from app.config import Settings
from app.db import Database
from tests.app.routes.test_jobs_pages import store_dataset
from tests.browser.pages import log_in, shoot, skip_tutorial
from tests.browser.waits import wait_for_item, wait_until
from tests.factories import Account, make_user
from tests.servers import free_port, lungsign_command, server_env, wait_until_up
from tests.study_factories import open_reader_study

pytestmark = pytest.mark.browser
STEPS = 60  # grids at steps 20, 40, 60: ~15 s on 2 idle CPU cores (minutes when shared)
N_ITEMS = 6


@pytest.fixture
def served(settings: Settings) -> Iterator[str]:
    """``lungsign serve`` (web server plus its worker process) on a free port; the whole
    process group is stopped afterwards, so no worker outlives the test."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = lungsign_command("serve", "--port", str(port))
    process = subprocess.Popen(command, env=server_env(settings), start_new_session=True)
    try:
        wait_until_up(base, process)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # a worker still finishing its step
        process.wait()


def open_study(db: Database, reader: Account) -> int:
    return open_reader_study(db, "vtt-during-training", reader.username, N_ITEMS, years=5)


def test_admin_watches_a_gan_train_while_a_reader_reads(served: str, browser, db: Database) -> None:
    admin, reader = make_user(db, "admin"), make_user(db, "reader", "ann")
    study_id = open_study(db, reader)
    dataset = store_dataset(db, "lungs32")

    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.set_default_timeout(20_000)
    log_in(page, served, admin, "/jobs/new?kind=train_gan")
    page.select_option("select[name=dataset]", dataset)
    page.fill("input[name=steps]", str(STEPS))
    page.fill("input[name=seed]", "3")
    page.click("#job-form button[type=submit]")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    job_path = page.url.removeprefix(served)
    page.evaluate("window.__sameDocument = 'kept'")

    reading = browser.new_context().new_page()
    reading.set_default_timeout(20_000)
    log_in(reading, served, reader, f"/reading/{study_id}")
    skip_tutorial(reading)
    label_key = reading.locator('button[data-label="GGO"] kbd').inner_text().lower()

    seen: list[float] = []

    def progress() -> float:
        value = float(page.locator("#job-progress").evaluate("el => el.value"))
        if not seen or value != seen[-1]:
            seen.append(value)
        return value

    for position in range(1, N_ITEMS + 1):  # the reader answers while the GAN trains
        wait_for_item(reading, f"{position} / {N_ITEMS}")
        for key in ("r" if position % 2 else "g", str(1 + position % 5), label_key, "Enter"):
            reading.keyboard.press(key)
        progress()
    reading.wait_for_selector("#done", state="visible")

    grid, curves = page.locator("#sample-grid"), page.locator("#job-status polyline")
    deadline = time.monotonic() + 300
    while (
        grid.count() == 0
        or not grid.evaluate("img => img.complete && img.naturalWidth > 0")
        or curves.count() < 2  # D and G losses, from the second report on
    ):
        assert time.monotonic() < deadline, f"no sample grid or curves; progress seen {seen}"
        progress()
        page.wait_for_timeout(250)
    assert grid.evaluate("img => img.naturalWidth") > 0
    if page.locator("#job-status").get_attribute("data-status") == "running":
        shoot(page, "job-running")

    while page.locator("#job-status").get_attribute("data-status") in ("queued", "running"):
        assert time.monotonic() < deadline, f"job still running; progress seen {seen}"
        progress()
        page.wait_for_timeout(250)
    assert page.locator("#job-status").get_attribute("data-status") == "succeeded"
    progress()
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] == 1.0, seen
    assert page.evaluate("window.__sameDocument") == "kept"  # never reloaded
    assert page.url == f"{served}{job_path}"
    page.click("#job-status a[href^='/models#model-']")
    wait_until(page, "[...document.querySelectorAll('.sheet img')].some(i => i.naturalWidth > 0)")
    shoot(page, "models")
    page.goto(f"{served}/jobs")
    assert page.locator("tr.job-succeeded").count() >= 1
    shoot(page, "jobs")
