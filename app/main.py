"""The FastAPI application factory."""

from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from app.config import Settings, get_settings
from app.db import Database
from app.errors import LungsignError
from app.routes import ROUTERS
from app.transactions import CommitBeforeResponse

log = logging.getLogger(__name__)

SESSION_MAX_AGE_S = 12 * 3600


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the app for SETTINGS (default: from the environment)."""
    settings = settings or get_settings()
    app = FastAPI(title="lungsign", version="0.1.0", docs_url="/docs", redoc_url=None)
    app.state.settings = settings
    app.state.db = db or Database(settings.sqlalchemy_url)
    app.state.templates = Jinja2Templates(directory=str(settings.templates_dir))
    app.add_middleware(CommitBeforeResponse)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret("secret_key"),
        session_cookie="lungsign_session",
        max_age=SESSION_MAX_AGE_S,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.mount(
        "/static/vendor/htmx",
        StaticFiles(directory=settings.node_modules_dir / "htmx.org" / "dist", check_dir=False),
        name="htmx",
    )
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(LungsignError, _domain_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    return app


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LungsignError)
    return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 401 and _wants_html(request):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )
    return JSONResponse({"detail": problems}, status_code=422)
