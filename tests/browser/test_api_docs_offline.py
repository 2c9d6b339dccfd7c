"""/docs works offline: Swagger UI's script and style come from this server (the npm package
swagger-ui-dist, installed like htmx), never from a CDN."""

from __future__ import annotations

import pytest

from app.db import Database
from tests.factories import make_user

pytestmark = pytest.mark.browser


def test_docs_render_with_no_network_but_this_server(live_server: str, page, db: Database) -> None:  # type: ignore[no-untyped-def]
    account = make_user(db, "coordinator")
    outside: list[str] = []

    def only_this_server(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith(live_server):
            route.continue_()
        else:  # the network a hospital's reading room may not have
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(f"{live_server}/login?next=/docs")
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/docs")
    title = page.locator(".swagger-ui .info .title")
    title.wait_for(state="visible")
    assert title.inner_text().startswith("lungsign")
    assert page.locator(".opblock-summary-path[data-path='/api/v1/reading/next']").count() == 1
    assert outside == []  # nothing was even asked of another host
