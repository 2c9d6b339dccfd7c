"""Accounts and API tokens."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import security
from app.errors import Conflict, Invalid, NotFound
from app.tables import ROLES, ApiToken, User, utcnow

ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


def has_role(user: User, role: str) -> bool:
    """Roles are nested: an admin can do what a coordinator can, and so on."""
    return ROLE_RANK[user.role] >= ROLE_RANK[role]


def add_user(session: Session, username: str, password: str, role: str) -> User:
    if role not in ROLES:
        raise Invalid(f"role {role!r} is not one of {', '.join(ROLES)}")
    if (
        not username
        or len(username) > 64
        or not username.replace("-", "").replace("_", "").replace(".", "").isalnum()
    ):
        raise Invalid(f"username {username!r}: use 1-64 letters, digits, '.', '-' or '_'")
    if len(password) < 8:
        raise Invalid(f"password for {username!r}: at least 8 characters")
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, password_hash=security.hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        security.verify_password(_DUMMY_HASH, password)  # same work for unknown users
        return None
    return user if security.verify_password(user.password_hash, password) else None


def create_token(session: Session, username: str) -> str:
    """Store a new token's hash for USERNAME and return the token itself (shown once)."""
    user = get_user(session, username)
    token = security.new_api_token()
    session.add(ApiToken(user_id=user.id, token_hash=security.hash_api_token(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == security.hash_api_token(token))
    )
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user


def end_sessions(session: Session, user_id: int) -> None:
    """Invalidate every session cookie of the user (logout; later: password change)."""
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )


def list_users(session: Session, role: str | None = None) -> list[User]:
    query = select(User).order_by(User.username)
    if role:
        query = query.where(User.role == role)
    return list(session.scalars(query))


_DUMMY_HASH = security.hash_password("timing-equaliser")
