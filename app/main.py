"""The FastAPI application factory."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from app.bodies import BodyLimit
from app.config import Settings, get_settings
from app.db import Database
from app.deps import study_access
from app.errors import LungsignError
from app.routes import ROUTERS
from app.routes.api_docs import SWAGGER_UI_PATH
from app.security_headers import SecurityHeaders
from app.tables import User
from app.templating import render
from app.transactions import CommitBeforeResponse

log = logging.getLogger(__name__)

SESSION_MAX_AGE_S = 12 * 3600


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the app for SETTINGS (default: from the environment)."""
    settings = settings or get_settings()
    app = FastAPI(  # /docs and /openapi.json: app.routes.api_docs, for logged-in users
        title="lungsign", version="0.1.0", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.sqlalchemy_url)
    app.state.templates = Jinja2Templates(directory=str(settings.templates_dir))
    app.add_middleware(BodyLimit)
    app.add_middleware(CommitBeforeResponse)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret("secret_key"),
        session_cookie="lungsign_session",
        max_age=SESSION_MAX_AGE_S,
        same_site="lax",
        https_only=bool(settings.cookie_secure),
    )
    app.add_middleware(SecurityHeaders, settings=settings)  # outermost: sees every response
    app.mount(
        "/static/vendor/htmx",
        StaticFiles(directory=settings.node_modules_dir / "htmx.org" / "dist", check_dir=False),
        name="htmx",
    )
    app.mount(  # Swagger UI for /docs (app.routes.api_docs), from the npm package, no CDN
        SWAGGER_UI_PATH,
        StaticFiles(directory=settings.node_modules_dir / "swagger-ui-dist", check_dir=False),
        name="swagger-ui",
    )
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    for router in ROUTERS:  # study routes: the caller's studies only (app.deps.study_access)
        app.include_router(router, dependencies=[Depends(study_access)])
    app.add_exception_handler(LungsignError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # unknown paths too
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OverflowError, _out_of_range)  # ints >= 2**63 reaching SQLite
    app.add_exception_handler(DataError, _out_of_range)  # ... or PostgreSQL's range checks
    app.add_exception_handler(Exception, _server_error)  # anything else: a 500 page
    return app


ERROR_TITLES = {
    400: "That request cannot be done",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Not possible now",
    422: "Check what was entered",
}


def _wants_html(request: Request) -> bool:
    """A browser page (not /api/..., not htmx, and asking for HTML) gets HTML errors;
    everything else keeps JSON ``{"detail": ...}``."""
    return (
        not request.url.path.startswith("/api/")
        and request.headers.get("HX-Request") != "true"
        and "text/html" in request.headers.get("accept", "")
    )


async def _error(request: Request, status_code: int, detail: str, headers: Any = None) -> Response:
    """DETAIL as JSON, or as an HTML page in the site's layout when a browser page asked."""
    if not _wants_html(request):
        return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)
    title = ERROR_TITLES.get(status_code, "Something went wrong")
    if status_code == 404 and detail == "Not Found":  # no route at all
        detail = f"There is no page at {request.url.path}."
    ctx = {
        "title": title,
        "detail": detail,
        "status_code": status_code,
        "path": request.url.path,
        "user": await run_in_threadpool(_page_user, request),
    }
    return render(request, "pages/error.html", ctx, status_code=status_code)


def _page_user(request: Request) -> SimpleNamespace | None:
    """The logged-in user's name and role for the top bar, read afresh: the request's own
    session (and the user loaded through it) may be rolled back and closed by now."""
    user_id, version = request.session.get("user_id"), request.session.get("sv")
    if not user_id:
        return None
    with request.app.state.db.session() as session:
        user = session.get(User, user_id)
        if user is None or not user.active or user.session_version != version:
            return None
        return SimpleNamespace(username=user.username, role=user.role)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LungsignError)
    return await _error(request, exc.status_code, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 401 and _wants_html(request):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return await _error(request, exc.status_code, str(exc.detail), exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    """A bug or an outage: a page in the site's layout (or JSON), never a bare traceback
    text; the exception is logged by the server as well. No database lookups here."""
    detail = "Something failed on the server; it has been logged. Try again in a moment."
    if not _wants_html(request):
        return JSONResponse({"detail": detail}, status_code=500)
    ctx = {
        "title": "Something went wrong",
        "detail": detail,
        "status_code": 500,
        "path": request.url.path,
        "user": None,
    }
    return render(request, "pages/error.html", ctx, status_code=500)


async def _out_of_range(request: Request, exc: Exception) -> Response:
    """A number (or text) in the request that the database cannot hold: the caller's
    mistake, 422, not a 500 (issue 11, finding 7). The session was rolled back already."""
    log.info("out of range in %s %s: %s", request.method, request.url.path, exc)
    return await _error(request, 422, "a number in the request is out of range")


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )
    return await _error(request, 422, problems)
