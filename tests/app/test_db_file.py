"""Finding 10 and 11 of issue 11: the SQLite file is private (0600, like the secrets) and
every commit is synced (synchronous=FULL)."""

from __future__ import annotations

import os
import stat
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
