"""A login attempt: throttle, check the password, count and audit the outcome."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.services.accounts import audit, throttle, users
from app.services.accounts.throttle import Refusal
from app.tables import User


def attempt(
    session: Session, username: str, password: str, address: str | None, via: str
) -> User | Refusal | None:
    """The user on success; a Refusal while throttled (the password is not even checked);
    None for wrong credentials. Failures and successes are audited (``login_failed``,
    ``login``, with VIA and the address); refusals are not, so a flood cannot fill the log.
    The caller must let the session commit in every case (no exception is raised)."""
    refusal = throttle.check(session, username, address)
    if refusal is not None:
        return refusal
    user = users.authenticate(session, username, password)
    if user is None:
        throttle.record_failure(session, username, address)
        audit.record(session, None, "login_failed", username[:64], via=via, address=address)
        return None
    throttle.record_success(session, username)
    audit.record(session, user, "login", username, via=via, address=address)
    return user


def change_own_password(
    session: Session, user: User, current: str, new: str, address: str | None
) -> User | Refusal | None:
    """USER changes their password; the current one is checked under the login throttle (a
    stolen cookie must not become an unthrottled password oracle). None: it was wrong."""
    refusal = throttle.check(session, user.username, address)
    if refusal is not None:
        return refusal
    if not users.verify(user, current):
        throttle.record_failure(session, user.username, address)
        audit.record(session, user, "password_change_failed", user.username, address=address)
        return None
    changed = users.set_password(session, user.username, new)
    audit.record(session, user, "password_changed", user.username, address=address)
    return changed
