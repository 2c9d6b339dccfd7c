"""Login and logout: a page for people and JSON for scripts."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.deps import CurrentUser, SessionDep, check_csrf
from app.schemas import LoginBody, PasswordChangeBody, SessionPublic
from app.security import new_csrf_token
from app.services.accounts import logins, users
from app.services.accounts.throttle import Refusal
from app.tables import User
from app.templating import csrf_token, render

router = APIRouter(tags=["auth"])
api = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _start_session(request: Request, user: User) -> None:
    """Log USER in with a fresh CSRF token: a token planted before login (or read from the
    login page) is worth nothing afterwards."""
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["sv"] = user.session_version
    request.session["csrf"] = new_csrf_token()


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _too_many(refusal: Refusal) -> dict[str, str]:
    return {"Retry-After": str(refusal.retry_after_s)}


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
    outcome = logins.attempt(session, username, password, _address(request), via="form")
    if not isinstance(outcome, User):
        if isinstance(outcome, Refusal):
            error = f"Too many failed logins. Try again in {outcome.retry_after_s} s."
        else:
            error = "Wrong username or password."
        ctx = {"next": _safe_next(next), "error": error}
        response = render(request, "pages/login.html", ctx, status_code=401)
        if isinstance(outcome, Refusal):
            response.status_code = 429
            response.headers.update(_too_many(outcome))
        return response
    _start_session(request, outcome)
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


@api.post(
    "/login",
    response_model=SessionPublic,
    responses={401: {"description": "wrong credentials"}, 429: {"description": "throttled"}},
)
def api_login(request: Request, session: SessionDep, body: LoginBody) -> Response | SessionPublic:
    """Start a cookie session; send the returned CSRF token as X-CSRF-Token on writes.

    Throttled per account and per address: 429 with Retry-After while locked."""
    outcome = logins.attempt(session, body.username, body.password, _address(request), "api")
    if isinstance(outcome, Refusal):  # answered, not raised: the failure counts must commit
        detail = f"too many failed logins; try again in {outcome.retry_after_s} s"
        return JSONResponse({"detail": detail}, status_code=429, headers=_too_many(outcome))
    if outcome is None:
        return JSONResponse({"detail": "wrong username or password"}, status_code=401)
    _start_session(request, outcome)
    return SessionPublic(
        username=outcome.username, role=outcome.role, csrf_token=csrf_token(request)
    )


@api.post("/logout")
def api_logout(request: Request, session: SessionDep) -> dict[str, bool]:
    """End the session (and the user's other sessions)."""
    _end_session(request, session)
    return {"ok": True}


@api.post(
    "/password",
    response_model=SessionPublic,
    responses={403: {"description": "wrong current password"}, 429: {"description": "throttled"}},
)
def change_password(
    request: Request, session: SessionDep, user: CurrentUser, body: PasswordChangeBody
) -> Response | SessionPublic:
    """Change your own password. Every other session ends and every API token of yours is
    revoked; a cookie session making the change goes on with a fresh cookie."""
    outcome = logins.change_own_password(
        session, user, body.current_password, body.new_password, _address(request)
    )
    if isinstance(outcome, Refusal):
        detail = f"too many failed attempts; try again in {outcome.retry_after_s} s"
        return JSONResponse({"detail": detail}, status_code=429, headers=_too_many(outcome))
    if outcome is None:
        return JSONResponse({"detail": "the current password is wrong"}, status_code=403)
    if request.session.get("user_id") == outcome.id:
        _start_session(request, outcome)
    return SessionPublic(
        username=outcome.username, role=outcome.role, csrf_token=csrf_token(request)
    )
