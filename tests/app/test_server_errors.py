"""An unexpected failure answers 500 with the site's error page (or JSON for the API), never
Starlette's bare "Internal Server Error" text."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import Database
from app.main import create_app
from app.services.studies import lifecycle
from tests.factories import api_token, login, make_user


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("the database went away")


def test_a_failure_is_a_page_for_browsers_and_json_for_the_api(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    coordinator = make_user(db, "coordinator")
    token = api_token(db, coordinator)
    monkeypatch.setattr(lifecycle, "list_studies", _boom)
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
        login(client, coordinator)
        page = client.get("/studies", headers={"accept": "text/html"})
        assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
        assert "Something went wrong" in page.text and 'href="/"' in page.text
        assert "database went away" not in page.text  # no internals shown
        api = client.get("/api/v1/studies", headers=token)
        assert api.status_code == 500 and "has been logged" in api.json()["detail"]
