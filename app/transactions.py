"""One transaction per request, committed before the first byte of the response.

FastAPI runs a ``yield`` dependency's cleanup after the response is sent, so a commit there
acknowledges writes that a crash can still lose (issue 11, finding 1). Instead ``get_session``
(``app.deps``) registers its session on the request scope and ``CommitBeforeResponse`` commits
it when the response starts: a client never sees a status before its writes are durable, and
a commit that fails becomes a 500. A route or dependency that raises has its session rolled
back by ``get_session`` before the error response starts, so nothing half-done is committed.

Commits run on threads of their own (``COMMIT_THREADS``), not the route threadpool: a request
waiting to commit holds a pooled connection, and if it had to wait for a route thread while
every route thread waits for a connection, the server would stall (found by
``bench/bench_reading.py`` at 100 readers: pool timeouts and 500s).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
SESSIONS_KEY = "lungsign_db_sessions"
COMMIT_THREADS = 16


def register(scope: Scope, session: Session) -> None:
    """Make SESSION part of this request's commit-before-response."""
    scope.setdefault("state", {}).setdefault(SESSIONS_KEY, []).append(session)


def _commit_all(sessions: list[Session]) -> None:
    for session in sessions:
        session.commit()


class CommitBeforeResponse:
    """ASGI middleware: commit the request's sessions, then let the response start."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._commit_threads: anyio.CapacityLimiter | None = None  # made inside the event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        failed = False

        async def send_after_commit(message: Message) -> None:
            nonlocal failed
            if failed:
                return  # the response was replaced by a 500: drop its body
            if message["type"] == "http.response.start":
                sessions: list[Session] = scope.get("state", {}).get(SESSIONS_KEY, [])
                if self._commit_threads is None:
                    self._commit_threads = anyio.CapacityLimiter(COMMIT_THREADS)
                try:
                    await anyio.to_thread.run_sync(
                        _commit_all, sessions, limiter=self._commit_threads
                    )
                except Exception:
                    log.exception("commit failed for %s %s", scope["method"], scope["path"])
                    failed = True
                    await _send_error(send)
                    return
            await send(message)

        await self.app(scope, receive, send_after_commit)


async def _send_error(send: Send) -> None:
    body = json.dumps({"detail": "the change could not be saved; nothing was stored"}).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
