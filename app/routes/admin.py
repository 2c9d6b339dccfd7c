"""The admin's users page: accounts, adding one (with a one-time password shown once), role
changes, deactivation, password resets, and a user's API tokens. Each action is a form that
htmx posts and whose answer replaces the accounts block (``templates/admin/_users.html``);
without htmx the same forms post and get the whole page back. The services audit-log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.deps import AdminUser, SessionDep
from app.errors import LungsignError
from app.services.accounts import admin
from app.tables import ROLES, User
from app.templating import is_htmx, render

router = APIRouter(prefix="/admin", tags=["admin"])
NO_STORE = {"Cache-Control": "no-store"}  # pages that may show a one-time password


def _users(
    request: Request, session: Session, notice: dict[str, Any] | None = None, status: int = 200
) -> Response:
    """The accounts block (htmx) or the whole page, with NOTICE above the table (an error or
    a one-time password). htmx swaps 2xx answers only, so its errors come back as 200."""
    ctx = {"accounts": admin.overview(session), "roles": ROLES, "notice": notice or {}}
    if is_htmx(request):
        response = render(request, "admin/_users.html", ctx)
    else:
        response = render(request, "admin/users.html", ctx, status_code=status)
    response.headers.update(NO_STORE)
    return response


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items()}


def _failed(request: Request, session: Session, exc: LungsignError) -> Response:
    session.rollback()
    return _users(request, session, {"error": str(exc)}, exc.status_code)


@router.get("/users")
def users_page(request: Request, session: SessionDep, user: AdminUser) -> Response:
    """Every account: role, active, last login, API tokens; and the form to add one."""
    return _users(request, session)


@router.post("/users")
async def add_user(request: Request, session: SessionDep, user: AdminUser) -> Response:
    """Add an account; its one-time password is shown once, in the answer."""
    form = await _form(request)
    try:
        added, password = admin.add_account(
            session, form.get("username", ""), form.get("role", "reader"), user
        )
    except LungsignError as exc:
        return _failed(request, session, exc)
    notice = {"password": password, "username": added.username, "what": "added"}
    return _users(request, session, notice)


@router.post("/users/{username}/role")
async def change_role(
    request: Request, session: SessionDep, user: AdminUser, username: str
) -> Response:
    """Give the account another role (not your own lower, not the last admin's)."""
    form = await _form(request)
    try:
        changed = admin.change_role(session, username, form.get("role", ""), user)
    except LungsignError as exc:
        return _failed(request, session, exc)
    return _users(request, session, {"done": f"{changed.username} is now {changed.role}"})


@router.post("/users/{username}/deactivate")
def deactivate(request: Request, session: SessionDep, user: AdminUser, username: str) -> Response:
    """Deactivate: login is refused, sessions end and API tokens are revoked at once."""
    return _set_active(request, session, user, username, False)


@router.post("/users/{username}/activate")
def activate(request: Request, session: SessionDep, user: AdminUser, username: str) -> Response:
    """Let a deactivated account log in again (its old tokens stay revoked)."""
    return _set_active(request, session, user, username, True)


def _set_active(
    request: Request, session: Session, user: User, username: str, active: bool
) -> Response:
    try:
        admin.set_active(session, username, active, user)
    except LungsignError as exc:
        return _failed(request, session, exc)
    what = "reactivated" if active else "deactivated: sessions ended, API tokens revoked"
    return _users(request, session, {"done": f"{username} {what}"})


@router.post("/users/{username}/password")
def reset_password(
    request: Request, session: SessionDep, user: AdminUser, username: str
) -> Response:
    """A new one-time password, shown once; the user's sessions end and tokens are revoked."""
    try:
        target, password = admin.reset_password(session, username, user)
    except LungsignError as exc:
        return _failed(request, session, exc)
    notice = {"password": password, "username": target.username, "what": "reset"}
    return _users(request, session, notice)


def _tokens(
    request: Request, session: Session, username: str, notice: dict[str, Any] | None = None
) -> Response:
    owner, tokens = admin.tokens_of(session, username)
    ctx = {"owner": owner, "tokens": tokens, "notice": notice or {}}
    template = "admin/_tokens.html" if is_htmx(request) else "admin/tokens.html"
    return render(request, template, ctx)


@router.get("/users/{username}/tokens")
def tokens_page(request: Request, session: SessionDep, user: AdminUser, username: str) -> Response:
    """A user's API tokens, revoked and expired ones included, each revocable."""
    return _tokens(request, session, username)


@router.post("/users/{username}/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, session: SessionDep, user: AdminUser, username: str, token_id: int
) -> Response:
    """Revoke one of the user's tokens; it stops working at once."""
    admin.revoke_token(session, username, token_id, user)
    return _tokens(request, session, username, {"done": f"token {token_id} revoked"})
