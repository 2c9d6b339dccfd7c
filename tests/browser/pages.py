"""What the browser tests do on every page: log in through the form, and look at a page at
desktop and phone size (screenshots when LUNGSIGN_SHOTS names a folder)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.factories import Account

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def log_in(page: Any, base: str, account: Account, target: str) -> None:
    """Log in through the login form, landing on TARGET."""
    page.goto(f"{base}/login?next={target}")
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{target}")


def shoot(page: Any, name: str) -> None:
    """Screenshots at both sizes (when LUNGSIGN_SHOTS names a folder), and either way:
    nothing overflows the phone's width."""
    out = os.environ.get("LUNGSIGN_SHOTS")
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} overflows by {overflow} px at {width} px"
        if out:
            Path(out).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{out}/{name}-{size}.png", full_page=True)
    page.set_viewport_size({"width": SIZES["desktop"][0], "height": SIZES["desktop"][1]})


def skip_tutorial(page: Any) -> None:
    """Past the tutorial that a reader's first visit to a study shows (Enter, as a reader)."""
    page.wait_for_selector("#tutorial", state="visible")
    page.keyboard.press("Enter")
