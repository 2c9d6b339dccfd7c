"""Engine and session factory; SQLite gets WAL mode, a busy timeout, foreign keys,
``synchronous=FULL`` and a database file only its owner can read."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

# FULL: in WAL mode every commit syncs the WAL, so an acknowledged judgment survives a power
# cut; NORMAL would sync only at checkpoints (issue 11, finding 11). The measured cost is in
# docs/architecture.md; bench/bench_reading.py --synchronous NORMAL,FULL measures it again.
SQLITE_SYNCHRONOUS = "FULL"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite connections are tuned for one writer and many readers."""
    if url.startswith("sqlite"):
        _private_file(url)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if "poolclass" not in kwargs:
        kwargs.update(pool_size=20, max_overflow=20)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    cursor.close()


def _private_file(url: str) -> None:
    """Create the SQLite file as 0600 (like the secrets) before SQLite would create it 0644,
    and tighten an existing one; SQLite gives its -wal and -shm files the same mode.

    An existing file is never opened here, only chmod-ed: SQLite's locks are POSIX locks, and
    closing *any* descriptor of the file drops every lock this process holds on it, so
    another process could take the database for unused and delete the WAL under our open
    connections (their later commits would be lost)."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    with contextlib.suppress(OSError):  # e.g. a read-only copy owned by someone else
        if not os.path.exists(path):  # no connection of ours can be open on it yet
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        for name in (path, f"{path}-wal", f"{path}-shm"):
            if os.path.exists(name):
                os.chmod(name, 0o600)


class Database:
    """One engine plus its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
