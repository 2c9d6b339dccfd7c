"""Account administration for the admin's users page: the accounts with their last login and
token counts, adding an account with a one-time password, role changes, deactivation,
password resets and token revocation. Every change is audit-logged here.

A one-time password is generated here, shown to the admin once and never stored in clear
(only its argon2 hash); the admin hands it over. Guards live in ``users``: an admin cannot
lower their own role or deactivate themselves, and nobody can demote or deactivate the last
active admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app import security
from app.errors import NotFound
from app.services.accounts import audit, users
from app.tables import ApiToken, AuditEvent, User, utcnow


@dataclass(frozen=True)
class AccountRow:
    user: User
    last_login: datetime | None  # None: never logged in (or before logins were audited)
    tokens: int  # usable API tokens: neither revoked nor expired
    tokens_total: int


def overview(session: Session) -> list[AccountRow]:
    """Every account by username, with its last login and API token counts."""
    logins = dict(
        session.execute(
            select(AuditEvent.user_id, func.max(AuditEvent.at))
            .where(AuditEvent.action == "login", AuditEvent.user_id.is_not(None))
            .group_by(AuditEvent.user_id)
        ).all()
    )
    usable = or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > utcnow())
    counts = {
        user_id: (int(live or 0), int(total))
        for user_id, live, total in session.execute(
            select(
                ApiToken.user_id,
                func.sum(case((and_(ApiToken.revoked_at.is_(None), usable), 1), else_=0)),
                func.count(),
            ).group_by(ApiToken.user_id)
        ).all()
    }
    return [
        AccountRow(user, logins.get(user.id), *counts.get(user.id, (0, 0)))
        for user in users.list_users(session)
    ]


def add_account(session: Session, username: str, role: str, by: User) -> tuple[User, str]:
    """A new account with a one-time password (returned once, stored hashed)."""
    password = security.new_password()
    user = users.add_user(session, username.strip(), password, role)
    audit.record(session, by, "user_added", user.username, role=role)
    return user, password


def reset_password(session: Session, username: str, by: User) -> tuple[User, str]:
    """A new one-time password: the user's sessions end and their API tokens are revoked."""
    password = security.new_password()
    user = users.set_password(session, username, password)
    audit.record(session, by, "password_reset", username)
    return user, password


def change_role(session: Session, username: str, role: str, by: User) -> User:
    before = users.get_user(session, username).role
    user = users.set_role(session, username, role, by)
    if before != role:
        audit.record(session, by, "role_changed", username, old=before, new=role)
    return user


def set_active(session: Session, username: str, active: bool, by: User) -> User:
    """Deactivate (sessions end, tokens are revoked at once) or reactivate."""
    user = users.set_active(session, username, active, by)
    audit.record(session, by, "user_activated" if active else "user_deactivated", username)
    return user


def tokens_of(session: Session, username: str) -> tuple[User, list[ApiToken]]:
    user = users.get_user(session, username)
    return user, users.list_tokens(session, user)


def revoke_token(session: Session, username: str, token_id: int, by: User) -> ApiToken:
    """Revoke USERNAME's token TOKEN_ID (it stops working at once)."""
    user = users.get_user(session, username)
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"{username!r} has no API token {token_id}")
    users.revoke_token(session, token_id, by)
    audit.record(session, by, "token_revoked", username, token_id=token_id)
    return row
