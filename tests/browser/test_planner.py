"""The sample-size planner on the study form updates as the coordinator types (issue 10,
item 5), in Chromium under the site's Content-Security-Policy."""

from __future__ import annotations

import pytest

from app.db import Database
from tests.browser.pages import log_in
from tests.browser.waits import wait_until
from tests.factories import make_user

pytestmark = pytest.mark.browser

DESIGN = "(document.querySelector('#plan-result p') || {}).textContent"


def test_the_planner_follows_the_study_form(  # type: ignore[no-untyped-def]
    live_server: str, page, db: Database
) -> None:
    coordinator = make_user(db, "coordinator", "cora")
    for name in ("ann", "bob", "cy"):
        make_user(db, "reader", name)
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    log_in(page, live_server, coordinator, "/studies")
    # on load: the form's defaults (50 items, real fraction 0.5), six readers
    wait_until(page, f"({DESIGN} || '').includes('6 readers × 50 items')", what="first plan")
    power = page.locator('#plan-result [data-key="judged_real.power"]').inner_text()
    assert power.endswith("%")

    page.fill("form.study-form input[name=items_per_reader]", "80")  # the study form's field
    wait_until(page, f"({DESIGN} || '').includes('6 readers × 80 items')", what="items followed")
    assert page.input_value("#plan-form input[name=items]") == "80"

    for name in ("ann", "bob", "cy"):
        page.check(f"form.study-form input[name=readers][value={name}]")
    wait_until(page, f"({DESIGN} || '').includes('3 readers × 80 items')", what="readers followed")

    page.fill("#plan-form input[name=readers]", "1")  # outside the bounds: the reason is shown
    wait_until(
        page,
        "(document.querySelector('#plan-result [role=alert]') || {}).textContent",
        what="the refusal",
    )
    assert "readers must lie between 2 and 50" in page.inner_text("#plan-result")
    assert violations == []
