"""Login and logout: a page for people and JSON for scripts."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.deps import SessionDep, check_csrf
from app.schemas import LoginBody, SessionPublic
from app.services.accounts import audit, users
from app.tables import User
from app.templating import csrf_token, render

router = APIRouter(tags=["auth"])
api = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _start_session(request: Request, user: User) -> None:
    """Log USER in; the CSRF token the login form carried stays valid."""
    csrf = request.session.get("csrf")
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["sv"] = user.session_version
    if csrf:
        request.session["csrf"] = csrf
    csrf_token(request)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login."""
    if (
        not target
        or urlparse(target).netloc
        or not target.startswith("/")
        or target.startswith("//")
    ):
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    """The login form."""
    return render(request, "pages/login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", dependencies=[Depends(check_csrf)])
def login_form(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Log in from the form and go on to NEXT."""
    user = users.authenticate(session, username, password)
    if user is None:
        audit.record(session, None, "login_failed", username)
        ctx = {"next": _safe_next(next), "error": "Wrong username or password."}
        return render(request, "pages/login.html", ctx, status_code=401)
    _start_session(request, user)
    audit.record(session, user, "login", username)
    return RedirectResponse(_safe_next(next), status_code=303)


def _end_session(request: Request, session: Session) -> None:
    """Log out: this cookie and every other session of the same user stop working."""
    user_id = request.session.get("user_id")
    if user_id:
        users.end_sessions(session, int(user_id))
    request.session.clear()


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout_form(request: Request, session: SessionDep) -> Response:
    """End the session (and the user's other sessions)."""
    _end_session(request, session)
    return RedirectResponse("/login", status_code=303)


@api.post("/login")
def api_login(request: Request, session: SessionDep, body: LoginBody) -> SessionPublic:
    """Start a cookie session; send the returned CSRF token as X-CSRF-Token on writes."""
    user = users.authenticate(session, body.username, body.password)
    if user is None:
        raise HTTPException(401, "wrong username or password")
    _start_session(request, user)
    return SessionPublic(username=user.username, role=user.role, csrf_token=csrf_token(request))


@api.post("/logout")
def api_logout(request: Request, session: SessionDep) -> dict[str, bool]:
    """End the session (and the user's other sessions)."""
    _end_session(request, session)
    return {"ok": True}
