"""Writes are committed before the response starts (issue 11, finding 1).

Each request is driven through the raw ASGI interface; at the moment the response starts —
the moment a client could see "200" and the server could be killed — a separate connection,
as a restarted server would, must already find the write."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.main import create_app
from app.tables import Study, StudyItem, User
from tests.factories import api_token, make_user
from tests.study_factories import study_body, with_data


def _request(
    app: FastAPI, method: str, path: str, headers: dict[str, str], body: Any, at_start: Callable
) -> tuple[int, Any]:
    """Run one request; call AT_START when the response starts. (status, what AT_START saw)."""
    raw = json.dumps(body).encode() if body is not None else b""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    seen: dict[str, Any] = {}
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
            seen["found"] = at_start()

    asyncio.run(app(scope, receive, send))
    return seen["status"], seen["found"]


def test_study_create_open_and_intake_are_durable_when_the_response_starts(
    settings: Settings, db: Database
) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    reader = make_user(db, "reader", "ann")
    reader_auth = api_token(db, reader)
    app = create_app(settings, Database(settings.sqlalchemy_url))
    restarted = Database(settings.sqlalchemy_url)  # what a server restarted after kill -9 sees

    def studies_named_vtt1() -> int:
        with restarted.session() as s:
            return int(s.scalar(select(func.count()).where(Study.name == "vtt1")) or 0)

    status, found = _request(
        app, "POST", "/api/v1/studies", coord, study_body(readers=["ann"]), studies_named_vtt1
    )
    assert (status, found) == (201, 1)

    def study_state() -> tuple[str, int]:
        with restarted.session() as s:
            study = s.scalars(select(Study)).one()
            items = s.scalar(select(func.count()).where(StudyItem.study_id == study.id))
            return study.status, int(items or 0)

    with restarted.session() as s:
        study_id = s.scalars(select(Study.id)).one()
    status, state = _request(
        app, "POST", f"/api/v1/studies/{study_id}/open", coord, None, study_state
    )
    assert status == 200 and state[0] == "open" and state[1] > 0

    def intake_years() -> int | None:
        with restarted.session() as s:
            return s.scalars(select(User.experience_years).where(User.username == "ann")).one()

    intake = {"experience_years": 7, "subspecialty": "thoracic"}
    status, years = _request(
        app, "POST", "/api/v1/reading/intake", reader_auth, intake, intake_years
    )
    assert (status, years) == (204, 7)
    restarted.dispose()


def test_a_refused_write_stores_nothing(settings: Settings, db: Database) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    app = create_app(settings, Database(settings.sqlalchemy_url))
    body = study_body(readers=["nobody-by-this-name"])

    def studies() -> int:
        with db.session() as s:
            return int(s.scalar(select(func.count()).select_from(Study)) or 0)

    status, found = _request(app, "POST", "/api/v1/studies", coord, body, studies)
    assert status >= 400 and found == 0
    assert studies() == 0
