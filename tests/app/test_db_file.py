"""Finding 10 and 11 of issue 11: the SQLite file is private (0600, like the secrets) and
every commit is synced (synchronous=FULL)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from app.config import Settings
from app.db import Database
from app.services.installation.setup import prepare_database
from tests.factories import make_user


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_sqlite_database_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual umask, which would give 0644
    try:
        db = prepare_database(Settings(data_dir=tmp_path / "var"))
        make_user(db, "reader")  # a write, so the -wal and -shm files exist
        files = [tmp_path / "var" / name for name in ("lungsign.db", "lungsign.db-wal")]
        assert all(f.exists() for f in files)
        assert {str(f.name): _mode(f) for f in files} == {f.name: 0o600 for f in files}
        db.dispose()
    finally:
        os.umask(old_umask)


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    prepare_database(Settings(data_dir=tmp_path)).dispose()
    path = tmp_path / "lungsign.db"
    path.chmod(0o644)
    Database(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o600


def test_sqlite_commits_are_synced_in_full(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    db.dispose()


COUNT_ROWS = (
    "import sqlite3, sys; "
    "print(sqlite3.connect(sys.argv[1]).execute('select count(*) from t').fetchone()[0])"
)
WRITE_ROW = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
    "c.execute('insert into t values (2)'); c.commit(); c.close()"
)


def test_a_second_database_object_in_one_process_loses_no_write(tmp_path: Path) -> None:
    """SQLite's locks are POSIX locks, which a process drops on *every* descriptor of the file
    when it closes any one of them. Opening the database file from outside SQLite while a
    connection is open (as making it 0600 once did, each time a Database was made) let
    another process believe it was alone, checkpoint and delete the WAL under the first one:
    later commits went to a deleted file (seen: the demo's first job vanished)."""
    path = tmp_path / "shared.db"
    first = Database(f"sqlite:///{path}")
    with first.engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        conn.commit()
        second = Database(f"sqlite:///{path}")  # e.g. the demo's pipeline beside the server
        subprocess.run([sys.executable, "-c", WRITE_ROW, str(path)], check=True)  # a worker
        conn.execute(text("INSERT INTO t VALUES (3)"))
        conn.commit()
        counted = subprocess.run(
            [sys.executable, "-c", COUNT_ROWS, str(path)], check=True, capture_output=True
        )
        assert counted.stdout.decode().strip() == "3", "a committed row is invisible to others"
    second.dispose()
    first.dispose()
