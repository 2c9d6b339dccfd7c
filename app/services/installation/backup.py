"""Backup and restore of an installation: the database, the two keys, the models.

A backup is a folder:

- ``database.sqlite`` (SQLite's online backup API: a consistent copy while the server and
  workers keep writing) or ``database.pgdump`` (``pg_dump --format=custom``, consistent by
  PostgreSQL's snapshot);
- ``keys/secret_key`` and ``keys/pseudonym_key`` (0600): without the pseudonym key a
  re-import gives the same patients new pseudonyms, and patient-disjoint splits break;
- ``models/``: every checkpoint and sample sheet (generated patches are in the database);
- ``manifest.json``: when, from where, the schema revision, and a SHA-256 per file.

Restore checks every file against the manifest first, then puts the database, the keys and
the models in place, and points the model versions' checkpoint paths at this data dir. It
refuses to overwrite a database that holds accounts unless asked (``force``). Stop the
server and the workers while restoring.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.config import Settings
from app.db import Database
from app.errors import Conflict, Invalid
from app.tables import ModelVersion, User

KEYS = ("secret_key", "pseudonym_key")
MANIFEST = "manifest.json"


def backup(settings: Settings, out: Path) -> dict[str, Any]:
    """Write a backup of SETTINGS' installation into the new folder OUT; its manifest."""
    if out.exists() and any(out.iterdir()):
        raise Conflict(f"{out} exists and is not empty; choose a new folder")
    out.mkdir(parents=True, exist_ok=True)
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() == "sqlite":
        database = out / "database.sqlite"
        _sqlite_backup(Path(str(url.database)), database)
    else:
        database = out / "database.pgdump"
        _pg("pg_dump", "--format=custom", "--no-owner", f"--file={database}", _libpq(url))
    keys = out / "keys"
    keys.mkdir(mode=0o700)
    for name in KEYS:
        _write_private(keys / name, settings.secret(name))
    models = settings.data_dir / "models"
    if models.is_dir():
        shutil.copytree(models, out / "models", ignore=shutil.ignore_patterns("training"))
    manifest = {
        "created_at": datetime.now(UTC).isoformat(),
        "database": database.name,
        "schema_revision": _revision(settings.sqlalchemy_url),
        "data_dir": str(settings.data_dir.resolve()),
        "files": {
            str(path.relative_to(out)): _sha256(path)
            for path in sorted(out.rglob("*"))
            if path.is_file()
        },
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def restore(settings: Settings, src: Path, force: bool = False) -> dict[str, Any]:
    """Put the backup in SRC in place for SETTINGS' installation; what was restored."""
    manifest = _checked_manifest(src)
    url = make_url(settings.sqlalchemy_url)
    sqlite = url.get_backend_name() == "sqlite"
    if (manifest["database"] == "database.sqlite") != sqlite:
        raise Invalid(
            f"the backup holds {manifest['database']}, but this installation uses "
            f"{url.get_backend_name()}: restore into the same kind of database"
        )
    if not force and _has_accounts(settings.sqlalchemy_url):
        raise Conflict(
            "this installation's database already holds accounts; restoring replaces it "
            "(use --force to replace it anyway)"
        )
    _check_keys(settings, src / "keys")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if sqlite:
        target = Path(str(url.database))
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        _sqlite_backup(src / "database.sqlite", target)
        os.chmod(target, 0o600)
    else:
        _pg(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            f"--dbname={_libpq(url)}",
            str(src / "database.pgdump"),
        )
    for name in KEYS:
        if not getattr(settings, name):  # from the environment: checked equal above
            _write_private(settings.data_dir / f".{name}", (src / "keys" / name).read_text())
    models = settings.data_dir / "models"
    if (src / "models").is_dir():
        shutil.copytree(src / "models", models, dirs_exist_ok=True)
    moved = _repoint_checkpoints(settings, Path(manifest["data_dir"]) / "models", models)
    return {
        "database": manifest["database"],
        "created_at": manifest["created_at"],
        "files": len(manifest["files"]),
        "checkpoints_repointed": moved,
    }


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise Invalid(f"no SQLite database at {source}")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    # sqlite3's context manager commits but does not close
    src.close()
    dst.close()


def _libpq(url: Any) -> str:
    """The SQLAlchemy URL as libpq takes it (no ``+psycopg`` driver part)."""
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))


def _pg(tool: str, *args: str) -> None:
    if shutil.which(tool) is None:
        raise Invalid(f"{tool} is not installed; it is needed for a PostgreSQL backup")
    done = subprocess.run([tool, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Invalid(f"{tool} failed: {done.stderr.strip()[-500:]}")


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def _has_accounts(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(select(func.count()).select_from(User)).scalar())
    except SQLAlchemyError:  # no schema yet: nothing to lose
        return False
    finally:
        engine.dispose()


def _checked_manifest(src: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise Invalid(f"{src} is not a lungsign backup ({MANIFEST}: {exc})") from exc
    for name, digest in manifest["files"].items():
        path = src / name
        if not path.is_file():
            raise Invalid(f"backup file {name} is missing")
        if _sha256(path) != digest:
            raise Invalid(f"backup file {name} does not match its checksum: damaged")
    return manifest


def _check_keys(settings: Settings, keys: Path) -> None:
    """A key set in the environment must be the backup's: a different pseudonym key would
    give re-imported patients new pseudonyms, a different secret end every session."""
    for name in KEYS:
        value = getattr(settings, name)
        if value and value != (keys / name).read_text():
            raise Invalid(
                f"LUNGSIGN_{name.upper()} in the environment differs from the backup's "
                f"{name}; set it to the backup's value (keys/{name}) or unset it"
            )


def _repoint_checkpoints(settings: Settings, old: Path, new: Path) -> int:
    """Model versions' checkpoint paths under the backed-up data dir → this data dir."""
    if old.resolve() == new.resolve():
        return 0
    db = Database(settings.sqlalchemy_url)
    moved = 0
    try:
        with db.session() as session:
            for row in session.scalars(select(ModelVersion)):
                path = Path(row.checkpoint_path)
                if path.is_relative_to(old):
                    row.checkpoint_path = str(new.resolve() / path.relative_to(old))
                    moved += 1
    finally:
        db.dispose()
    return moved


def _write_private(path: Path, value: str) -> None:
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
