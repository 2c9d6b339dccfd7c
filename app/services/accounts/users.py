"""Accounts and API tokens.

Ending access (docs/security.md): logout ends every cookie session of the user; a password
change, an admin's password reset and deactivation also revoke every API token of the user.
An inactive user cannot log in, and their cookies and tokens stop working at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import security
from app.errors import Conflict, Invalid, NotFound
from app.tables import ROLES, ApiToken, Assignment, Study, User, utcnow
from app.text_rules import USERNAME_RE

MIN_PASSWORD = 8  # characters, not counting surrounding whitespace
MAX_PASSWORD = 1024
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 3650

ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


def has_role(user: User, role: str) -> bool:
    """Roles are nested: an admin can do what a coordinator can, and so on."""
    return ROLE_RANK[user.role] >= ROLE_RANK[role]


def add_user(session: Session, username: str, password: str, role: str) -> User:
    if role not in ROLES:
        raise Invalid(f"role {role!r} is not one of {', '.join(ROLES)}")
    check_username(username)
    check_password(username, password)
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, password_hash=security.hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def check_username(username: str) -> None:
    """Usernames are ASCII: lower-case letters, digits, '.', '-', '_' (1-64, starting with a
    letter or digit), so no two can look alike across scripts (Cyrillic 'а' vs Latin 'a')."""
    if not USERNAME_RE.fullmatch(username):
        raise Invalid(
            f"username {username!r}: use 1-64 lower-case ASCII letters, digits, '.', '-' or '_',"
            " starting with a letter or digit"
        )


def check_password(username: str, password: str) -> None:
    """At least MIN_PASSWORD characters besides surrounding whitespace, at most MAX_PASSWORD,
    and not the username."""
    if len(password.strip()) < MIN_PASSWORD:
        raise Invalid(
            f"password for {username!r}: at least {MIN_PASSWORD} characters"
            " (surrounding spaces do not count)"
        )
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"password for {username!r}: at most {MAX_PASSWORD} characters")
    if password.strip().lower() == username.lower():
        raise Invalid(f"password for {username!r}: must not be the username")


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
    """A new token for USERNAME with the default expiry (shown once; only its hash is kept)."""
    return issue_token(session, username)[1]


def issue_token(
    session: Session,
    username: str,
    name: str = "",
    expires_days: int | None = DEFAULT_TOKEN_DAYS,
) -> tuple[ApiToken, str]:
    """Store a new token's hash for USERNAME; return its row and the token itself (shown
    once). EXPIRES_DAYS None or 0: the token never expires."""
    user = get_user(session, username)
    if not user.active:
        raise Conflict(f"user {username!r} is deactivated")
    if expires_days is not None and not 0 <= expires_days <= MAX_TOKEN_DAYS:
        raise Invalid(f"a token expires after 1 to {MAX_TOKEN_DAYS} days (0: never)")
    expires = utcnow() + timedelta(days=expires_days) if expires_days else None
    token = security.new_api_token()
    row = ApiToken(
        user_id=user.id,
        token_hash=security.hash_api_token(token),
        name=name[:120],
        expires_at=expires,
    )
    session.add(row)
    session.flush()
    return row, token


def user_for_token(session: Session, token: str) -> User | None:
    """The active owner of a token that is neither revoked nor expired, else None."""
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == security.hash_api_token(token))
    )
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    if row.expires_at is not None and _aware(row.expires_at) <= utcnow():
        return None
    row.last_used_at = utcnow()
    return row.user


def list_tokens(session: Session, user: User | None = None) -> list[ApiToken]:
    """USER's tokens (None: everyone's), newest first, revoked and expired ones included."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int, by: User | None) -> ApiToken:
    """Revoke a token; BY (None: the CLI) must own it or be an admin."""
    row = session.get(ApiToken, token_id)
    if row is None or (by is not None and row.user_id != by.id and not has_role(by, "admin")):
        raise NotFound(f"no API token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def revoke_tokens(session: Session, user_id: int) -> None:
    """Revoke every API token of the user."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def end_sessions(session: Session, user_id: int) -> None:
    """Invalidate every session cookie of the user (logout, password change, deactivation)."""
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )


def verify(user: User, password: str) -> bool:
    """Whether PASSWORD is USER's (for a password change, which also needs the current one)."""
    return security.verify_password(user.password_hash, password)


def set_password(session: Session, username: str, new: str) -> User:
    """Set (or, for an admin, reset) USERNAME's password; ends sessions, revokes tokens."""
    user = get_user(session, username)
    check_password(username, new)
    user.password_hash = security.hash_password(new)
    _end_access(session, user)
    return user


def set_active(session: Session, username: str, active: bool, by: User | None = None) -> User:
    """Deactivate (every session ends and every token is revoked at once) or reactivate;
    BY (None: the CLI) cannot deactivate themselves, and nobody the last active admin."""
    user = get_user(session, username)
    if by is not None and by.id == user.id and not active:
        raise Conflict("you cannot deactivate your own account")
    if not active:
        _keep_an_admin(session, user, "deactivate")
    user.active = active
    if not active:
        _end_access(session, user)
    return user


def set_role(session: Session, username: str, role: str, by: User | None = None) -> User:
    """Change USERNAME's role (it applies from their next request). BY (None: the CLI) cannot
    lower their own role, nobody can demote the last active admin, and an account that can
    now see galleries and results has its assignments in studies not yet closed marked
    unblinded (its readings from now on are not blinded)."""
    if role not in ROLES:
        raise Invalid(f"role {role!r} is not one of {', '.join(ROLES)}")
    user = get_user(session, username)
    if by is not None and by.id == user.id and ROLE_RANK[role] < ROLE_RANK[user.role]:
        raise Conflict("you cannot lower your own role: another admin must do it")
    if role != "admin":
        _keep_an_admin(session, user, "demote")
    user.role = role
    if has_role(user, "coordinator"):
        session.execute(
            update(Assignment)
            .where(
                Assignment.reader_id == user.id,
                Assignment.study_id.in_(select(Study.id).where(Study.status != "closed")),
            )
            .values(unblinded=True)
            .execution_options(synchronize_session=False)
        )
    return user


def _keep_an_admin(session: Session, user: User, verb: str) -> None:
    """Refuse to take away the last active admin (nobody could manage accounts after)."""
    if user.role != "admin" or not user.active:
        return
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == "admin", User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise Conflict(f"cannot {verb} {user.username!r}: the last active admin")


def _end_access(session: Session, user: User) -> None:
    session.flush()
    end_sessions(session, user.id)
    revoke_tokens(session, user.id)
    session.refresh(user)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_users(session: Session, role: str | None = None) -> list[User]:
    query = select(User).order_by(User.username)
    if role:
        query = query.where(User.role == role)
    return list(session.scalars(query))


_DUMMY_HASH = security.hash_password("timing-equaliser")
