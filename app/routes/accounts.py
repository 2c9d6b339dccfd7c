"""Accounts in the JSON API: API tokens (list, create, revoke) and, for admins, the accounts
(list, add with a one-time password, role, password reset, deactivation). The admin's users
page (``app.routes.admin``) and the CLI do the same through the same services."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import AdminUser, CurrentUser, SessionDep
from app.schemas import (
    PasswordSetBody,
    RoleBody,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserAccountPublic,
    UserCreate,
    UserCreated,
    UserPublic,
)
from app.services.accounts import admin, audit, users
from app.tables import ApiToken, User

tokens_api = APIRouter(prefix="/api/v1/tokens", tags=["accounts"])
users_api = APIRouter(prefix="/api/v1/users", tags=["accounts"])


def _token(row: ApiToken) -> TokenPublic:
    return TokenPublic(
        id=row.id,
        username=row.user.username,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def _user(user: User) -> UserPublic:
    return UserPublic(username=user.username, role=user.role, active=user.active)


@tokens_api.get("")
def list_tokens(session: SessionDep, user: CurrentUser) -> list[TokenPublic]:
    """Your API tokens (an admin sees everyone's), revoked and expired ones included."""
    owner = None if users.has_role(user, "admin") else user
    return [_token(row) for row in users.list_tokens(session, owner)]


@tokens_api.post("", status_code=201)
def create_token(session: SessionDep, user: AdminUser, body: TokenCreate) -> TokenCreated:
    """A new token for a user (shown once), expiring after ``expires_days`` (0: never)."""
    row, token = users.issue_token(session, body.username, body.name, body.expires_days)
    audit.record(session, user, "token_created", body.username, token_id=row.id)
    return TokenCreated(**_token(row).model_dump(), token=token)


@tokens_api.delete("/{token_id}")
def revoke_token(session: SessionDep, user: CurrentUser, token_id: int) -> TokenPublic:
    """Revoke one of your tokens (an admin: anyone's); it stops working at once."""
    row = users.revoke_token(session, token_id, user)
    audit.record(session, user, "token_revoked", row.user.username, token_id=row.id)
    return _token(row)


@users_api.get("")
def list_users(session: SessionDep, user: AdminUser) -> list[UserAccountPublic]:
    """Every account with its last login and API token counts."""
    return [
        UserAccountPublic(
            **_user(row.user).model_dump(),
            last_login=row.last_login,
            api_tokens=row.tokens,
            api_tokens_total=row.tokens_total,
        )
        for row in admin.overview(session)
    ]


@users_api.post("", status_code=201)
def add_user(session: SessionDep, user: AdminUser, body: UserCreate) -> UserCreated:
    """Add an account; the answer carries its one-time password, shown this once."""
    added, password = admin.add_account(session, body.username, body.role, user)
    return UserCreated(**_user(added).model_dump(), password=password)


@users_api.post("/{username}/role")
def change_role(session: SessionDep, user: AdminUser, username: str, body: RoleBody) -> UserPublic:
    """Change an account's role (409: your own lower, or the last active admin's)."""
    return _user(admin.change_role(session, username, body.role, user))


@users_api.post("/{username}/password")
def reset_password(
    session: SessionDep, user: AdminUser, username: str, body: PasswordSetBody
) -> UserPublic:
    """Set a user's password: their sessions end and their API tokens are revoked."""
    target = users.set_password(session, username, body.new_password)
    audit.record(session, user, "password_reset", username)
    return _user(target)


@users_api.post("/{username}/deactivate")
def deactivate(session: SessionDep, user: AdminUser, username: str) -> UserPublic:
    """Deactivate a user: login is refused, sessions end and tokens are revoked at once."""
    target = users.set_active(session, username, False, by=user)
    audit.record(session, user, "user_deactivated", username)
    return _user(target)


@users_api.post("/{username}/activate")
def activate(session: SessionDep, user: AdminUser, username: str) -> UserPublic:
    """Let a deactivated user log in again (their old tokens stay revoked)."""
    target = users.set_active(session, username, True, by=user)
    audit.record(session, user, "user_activated", username)
    return _user(target)
