"""Jinja2 templates: full pages extend ``base.html``; fragments start with ``_``."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.security import new_csrf_token


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return str(token)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render TEMPLATE with the request, the current user and the CSRF token in scope."""
    templates: Jinja2Templates = request.app.state.templates
    ctx = {"user": getattr(request.state, "user", None), "csrf_token": csrf_token(request)}
    ctx.update(context or {})
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)
