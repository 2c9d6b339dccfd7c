"""Waiting for the page from Python: the pages' Content-Security-Policy forbids the eval that
Playwright's ``wait_for_function`` needs for a string predicate, so these poll
``evaluate`` (which the CSP allows) instead."""

from __future__ import annotations

from typing import Any

POLL_MS = 100


def wait_until(page: Any, expression: str, timeout_s: float = 30, what: str = "") -> Any:
    """Poll EXPRESSION (a page-level JS expression) until it is truthy; its value."""
    for _ in range(int(timeout_s * 1000 / POLL_MS)):
        value = page.evaluate(expression)
        if value:
            return value
        page.wait_for_timeout(POLL_MS)
    raise AssertionError(f"never true: {what or expression}")


def wait_for_item(page: Any, counter: str) -> None:
    """Until the counter reads COUNTER and the viewer has drawn the item's pixels (its canvas
    names the item it shows once they are on screen)."""
    page.wait_for_selector(f"#counter:text-is({counter!r})")
    wait_until(
        page,
        "document.getElementById('patch').dataset.item",
        what=f"the patch at {counter} drawn",
    )
