"""Request bodies bounded per route, counted as they arrive (issue 11, finding 4).

``BodyLimit`` is an ASGI middleware: it refuses a body whose ``Content-Length`` is over the
route's limit with 413 before anything reads it, and counts the bytes of the
``http.request`` messages as the route reads them, so a chunked body (no
``Content-Length``) is cut off at the limit too, before a form parser spools more of it to
disk. Past the limit the route's reads raise ``BodyTooLarge`` and the answer is 413,
whatever the route would have answered (a CSRF 403 comes after the body is read, so a 1 GB
chunked body to ``/login`` is refused after 64 KiB, not after 1 GB).

Limits: every route takes at most ``max_body_kb`` (forms, JSON); a route whose endpoint is
marked with ``takes_upload`` takes the upload limit (``max_upload_mb``) plus
``FORM_OVERHEAD`` for the multipart framing and small fields around the file. The route is
the one the router matched (its endpoint, in the scope), so a new route gets the small limit
without being listed anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.services.ingest.uploads import upload_limit

FORM_OVERHEAD = 64 * 1024
UPLOAD_MARK = "__lungsign_takes_upload__"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def takes_upload(endpoint: Endpoint) -> Endpoint:
    """Mark a route's endpoint as taking a zip upload (the upload limit, not the small one)."""
    setattr(endpoint, UPLOAD_MARK, True)
    return endpoint


class BodyTooLarge(HTTPException):
    """Raised into the route when its body passes the limit; answered with 413."""

    def __init__(self, detail: str) -> None:
        super().__init__(413, detail)


def limit_for(settings: Settings, scope: Scope) -> tuple[int, str]:
    """The body limit of the route SCOPE was routed to, in bytes, and the 413's message."""
    if getattr(scope.get("endpoint"), UPLOAD_MARK, False):
        detail = f"upload larger than the {settings.max_upload_mb} MB limit"
        return upload_limit(settings) + FORM_OVERHEAD, detail
    limit = settings.max_body_kb * 1024
    return limit, f"request body larger than the {settings.max_body_kb} KB this route accepts"


class BodyLimit:
    """ASGI middleware: 413 for a body over its route's limit, before it is read or spooled.

    The route is known once the router has matched it (it puts the endpoint in the scope), so
    the route's limit is taken at the first read of the body; before that, only a declared
    length over the largest limit of any route is refused (at once)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings: Settings = scope["app"].state.settings
        length = _content_length(scope)
        largest = max(upload_limit(settings) + FORM_OVERHEAD, settings.max_body_kb * 1024)
        if length is not None and length > largest:
            await _send_413(send, limit_for(settings, scope)[1])
            return
        limit: int | None = None
        detail = ""
        received = 0
        exceeded = False

        async def counted_receive() -> Message:
            nonlocal limit, detail, received, exceeded
            if limit is None:  # the first read: the route is matched by now
                limit, detail = limit_for(settings, scope)
                exceeded = length is not None and length > limit
            if exceeded:
                raise BodyTooLarge(detail)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(detail)
            return message

        started = replaced = False

        async def send_or_413(message: Message) -> None:
            nonlocal started, replaced
            if replaced:
                return  # the route's own answer, dropped for the 413
            if message["type"] == "http.response.start":
                if exceeded:  # whatever the route made of the cut-off body, it is a 413
                    replaced = True
                    await _send_413(send, detail)
                    return
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, send_or_413)
        except BodyTooLarge:
            if not started and not replaced:
                await _send_413(send, detail)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None


async def _send_413(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
