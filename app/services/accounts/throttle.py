"""Login throttling with back-off, per account and per address, kept in the database.

Each failed login counts against two keys: ``user:NAME`` (the name as typed, known or not, so
the throttle says nothing about which accounts exist) and ``addr:IP``. A key may fail
``FREE_FAILURES`` times (``FREE_FAILURES_PER_ADDRESS`` for an address, which a hospital's NAT
shares among many people); each failure after that locks the key for 1 s, 2 s, 4 s, ... up to
``MAX_LOCK_S``. While either key is locked every attempt is refused before the password is
looked at, the right password included. A successful login clears the account's count; counts
are forgotten ``FORGET_AFTER`` after the last failure. The counters live in the database
(table ``login_throttle``) so that every web process, on SQLite or PostgreSQL, sees the same
counts; each failure is one atomic upsert.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.tables import LoginThrottle, utcnow

FREE_FAILURES = 5
FREE_FAILURES_PER_ADDRESS = 20
MAX_LOCK_S = 900.0
FORGET_AFTER = timedelta(hours=1)
KEY_CHARS = 150


@dataclass(frozen=True)
class Refusal:
    """A throttled attempt: when the caller may try again."""

    retry_after_s: int


def account_key(username: str) -> str:
    return f"user:{username[:KEY_CHARS]}"


def address_key(address: str | None) -> str:
    return f"addr:{(address or 'unknown')[:KEY_CHARS]}"


def check(session: Session, username: str, address: str | None) -> Refusal | None:
    """A Refusal while the account or the address is locked, else None."""
    now = utcnow()
    keys = [account_key(username), address_key(address)]
    until = session.scalars(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key.in_(keys), LoginThrottle.locked_until.is_not(None)
        )
    ).all()
    latest = max((_aware(u) for u in until if u is not None), default=None)
    if latest is None or latest <= now:
        return None
    return Refusal(max(1, math.ceil((latest - now).total_seconds())))


def record_failure(session: Session, username: str, address: str | None) -> None:
    """Count a failed login against the account and the address, locking past the free ones."""
    now = utcnow()
    forget_before = now - FORGET_AFTER
    session.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.last_failure_at < forget_before)
        .execution_options(synchronize_session=False)
    )
    for key, free in (
        (account_key(username), FREE_FAILURES),
        (address_key(address), FREE_FAILURES_PER_ADDRESS),
    ):
        failures = _count(session, key, now)
        if failures > free:
            lock = min(MAX_LOCK_S, 2.0 ** (failures - free - 1))
            session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.key == key)
                .values(locked_until=now + timedelta(seconds=lock))
                .execution_options(synchronize_session=False)
            )


def record_success(session: Session, username: str) -> None:
    """The account's count starts over (the address's does not: one good account must not
    reset a password-spraying address)."""
    session.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.key == account_key(username))
        .execution_options(synchronize_session=False)
    )


def _count(session: Session, key: str, now: datetime) -> int:
    """Add one failure to KEY in a single statement (no lost updates between processes)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    upsert = (
        insert(LoginThrottle)
        .values(key=key, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={"failures": LoginThrottle.failures + 1, "last_failure_at": now},
        )
        .returning(LoginThrottle.failures)
    )
    return int(session.scalar(upsert) or 1)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
