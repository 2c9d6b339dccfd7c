"""Request bodies are bounded per route before they are read or spooled (issue 11, finding 4).

The app is called as an ASGI server calls it, with a body that arrives in chunks from a
counter: a refused body must be refused after at most the route's limit (plus the chunk in
flight), not after the server has read or spooled all of it. (Starlette's TestClient reads a
generator body whole before calling the app, so it cannot show this.)"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import Database
from tests.factories import api_token, make_user
from tests.upload_factories import counts, small_zip, waiting_uploads

CHUNK = 16 * 1024
GIB = 1024**3
FORM = {"content-type": "application/x-www-form-urlencoded"}
MULTIPART = {"content-type": "multipart/form-data; boundary=B"}
MB = 1024 * 1024


class Body:
    """HEAD, then CHUNK-sized pieces up to TOTAL bytes; ``pulled`` counts what was taken."""

    def __init__(self, total: int, head: bytes = b"") -> None:
        self.total, self.head, self.pulled = total, head, 0

    def __iter__(self) -> Iterator[bytes]:
        self.pulled += len(self.head)
        yield self.head
        while self.pulled < self.total:
            self.pulled += CHUNK
            yield b"a" * CHUNK


def post(
    app: FastAPI, path: str, body: Iterable[bytes], headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """POST BODY to APP chunk by chunk, without Content-Length unless HEADERS has one, as
    uvicorn does for a chunked request; the status and the JSON answer."""
    chunks = iter(body)
    answer: dict[str, Any] = {"status": 0, "body": b""}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def receive() -> dict[str, Any]:
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    anyio.run(app, scope, receive, send)
    return answer["status"], json.loads(answer["body"] or b"{}")


def multipart_head(name: str) -> bytes:
    return (
        b'--B\r\nContent-Disposition: form-data; name="name"\r\n\r\n'
        + name.encode()
        + b'\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="c.zip"\r\n'
        + b"Content-Type: application/zip\r\n\r\n"
    )


def test_a_1_gib_chunked_login_body_is_refused_after_the_small_limit(
    client: TestClient, settings: Settings
) -> None:
    body = Body(GIB, head=b"username=x&password=")
    status, answer = post(client.app, "/login", body, FORM)  # type: ignore[arg-type]
    assert status == 413, answer  # not the CSRF 403 after reading (and spooling) 1 GiB
    assert "64 KB" in answer["detail"]
    assert body.pulled <= settings.max_body_kb * 1024 + 2 * CHUNK
    assert client.get("/healthz").status_code == 200


def test_a_declared_length_over_the_limit_is_refused_before_any_byte_is_read(
    client: TestClient,
) -> None:
    body = Body(GIB)
    headers = FORM | {"content-length": str(GIB)}
    status, _ = post(client.app, "/login", body, headers)  # type: ignore[arg-type]
    assert status == 413 and body.pulled == 0


def test_json_api_bodies_are_bounded_too(client: TestClient, settings: Settings) -> None:
    settings.max_body_kb = 4
    padding = "x" * 5000
    response = client.post("/api/v1/auth/login", json={"username": "a", "password": padding})
    assert response.status_code == 413 and "4 KB" in response.json()["detail"]
    chunked = Body(10 * MB, head=b'{"username": "a", "password": "')
    json_type = {"content-type": "application/json"}
    status, _ = post(client.app, "/api/v1/auth/login", chunked, json_type)  # type: ignore[arg-type]
    assert status == 413 and chunked.pulled <= 4 * 1024 + 2 * CHUNK
    small = client.post("/api/v1/auth/login", json={"username": "a", "password": "b"})
    assert small.status_code == 401  # under the limit: the route answers as before


def test_the_upload_routes_take_the_upload_limit_and_stop_past_it(
    client: TestClient, db: Database, settings: Settings
) -> None:
    headers = api_token(db, make_user(db, "coordinator"))
    settings.max_upload_mb = 1
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("annotations.csv", "path,x,y,label\n")
        zipped.writestr("noise.bin", os.urandom(300 * 1024))  # well over the small limit
    tail = b"\r\n--B--\r\n"
    accepted = Body(0, head=multipart_head("ok") + buffer.getvalue() + tail)
    status, answer = post(client.app, "/api/v1/datasets", accepted, headers | MULTIPART)  # type: ignore[arg-type]
    assert status == 202, answer
    assert counts(db) == (1, 0)

    huge = Body(GIB, head=multipart_head("big"))
    status, answer = post(client.app, "/api/v1/datasets", huge, headers | MULTIPART)  # type: ignore[arg-type]
    assert status == 413 and "1 MB" in answer["detail"]
    assert huge.pulled <= MB + 64 * 1024 + 2 * CHUNK
    assert counts(db) == (1, 0) and len(waiting_uploads(settings)) == 1  # only the first zip


def test_anonymous_uploads_are_bounded_before_anything_reads_them(
    client: TestClient, db: Database, settings: Settings
) -> None:
    settings.max_upload_mb = 1
    huge = Body(GIB, head=multipart_head("x"))
    status, _ = post(client.app, "/datasets", huge, MULTIPART)  # type: ignore[arg-type]
    assert status in (401, 413)
    assert huge.pulled <= MB + 64 * 1024 + 2 * CHUNK
    assert counts(db) == (0, 0)
    small = client.post("/api/v1/datasets", files={"file": ("c.zip", small_zip())})
    assert small.status_code == 401
