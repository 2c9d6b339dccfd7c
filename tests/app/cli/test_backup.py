"""``lungsign backup`` while the installation is being written to, then ``lungsign restore``
into a new installation: accounts, patches, model checkpoints and the keys come back."""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.cli import backup as backup_cli
from app.cli import cli, root
from app.config import Settings
from app.db import Database
from app.main import create_app
from app.services.installation.setup import prepare_database
from app.tables import AuditEvent, ModelVersion, Patch
from tests.conftest import PG_URL, _pg_admin_execute
from tests.factories import make_user
from tests.job_factories import store_patch_set
from tests.models.synthetic import blob_patches


def _use(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(root, "get_settings", lambda: settings)
    monkeypatch.setattr(backup_cli, "get_settings", lambda: settings)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Settings]:
    """A new, empty installation on the same kind of database, with keys of its own."""
    data_dir = tmp_path / "restored"
    if PG_URL:
        if shutil.which("pg_restore") is None:
            pytest.skip("pg_dump/pg_restore are not installed")
        name = f"lungsign_restore_{uuid.uuid4().hex[:10]}"
        _pg_admin_execute(f'CREATE DATABASE "{name}"')
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        yield Settings(data_dir=data_dir, database_url=url)
        _pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield Settings(data_dir=data_dir)


def _writer(db: Database, stop: threading.Event, written: list[int]) -> None:
    """A server's worth of writes meanwhile: one audit event per commit."""
    while not stop.is_set():
        with db.session() as session:
            session.add(AuditEvent(action="busy", target=str(len(written))))
        written.append(1)


def test_backup_while_writing_restores_into_a_new_installation(
    settings: Settings,
    db: Database,
    target: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ada = make_user(db, "coordinator", "dr-ada")
    store_patch_set(db, "blobs", blob_patches(3, codes=("GGO", "NOR")))
    models = settings.data_dir / "models"
    models.mkdir(parents=True, exist_ok=True)
    (models / "gan-v1.pt").write_bytes(b"checkpoint bytes")
    with db.session() as session:
        session.add(
            ModelVersion(
                kind="gan", version=1, checkpoint_path=str((models / "gan-v1.pt").resolve())
            )
        )
    stop, written = threading.Event(), []
    writer = threading.Thread(target=_writer, args=(db, stop, written))
    writer.start()
    try:
        while len(written) < 5:  # writing has started
            stop.wait(0.01)
        before = len(written)
        _use(settings, monkeypatch)
        out = tmp_path / "backup"
        result = CliRunner().invoke(cli, ["backup", str(out)])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert (out / "keys" / "pseudonym_key").read_text() == settings.secret("pseudonym_key")
    assert oct((out / "keys" / "pseudonym_key").stat().st_mode & 0o777) == "0o600"

    _use(target, monkeypatch)
    prepare_database(target).dispose()  # an installation started once: schema, no accounts
    restored = CliRunner().invoke(cli, ["restore", str(out)])
    assert restored.exit_code == 0, restored.output
    assert (target.data_dir / ".pseudonym_key").read_text() == settings.secret("pseudonym_key")
    assert (target.data_dir / ".secret_key").read_text() == settings.secret("secret_key")

    target_db = Database(target.sqlalchemy_url)
    try:
        with target_db.session() as session:
            events = session.scalar(select(func.count()).where(AuditEvent.action == "busy"))
            assert events is not None and before <= events <= len(written)
            assert session.scalar(select(func.count()).select_from(Patch)) == 6
        with TestClient(create_app(target, target_db)) as client:
            login = {"username": "dr-ada", "password": ada.password}
            assert client.post("/api/v1/auth/login", json=login).status_code == 200
            (gan,) = client.get("/api/v1/models").json()
        admin = make_user(target_db, "admin", "restorer")
        with TestClient(create_app(target, target_db)) as client:
            client.post(
                "/api/v1/auth/login", json={"username": "restorer", "password": admin.password}
            )
            checkpoint = client.get(f"/api/v1/models/{gan['id']}/checkpoint")
            assert checkpoint.content == b"checkpoint bytes"  # its path now in this data dir
    finally:
        target_db.dispose()

    again = CliRunner().invoke(cli, ["restore", str(out)])
    assert again.exit_code == 1 and "already holds accounts" in again.output
    (out / "models" / "gan-v1.pt").write_bytes(b"checkpoint bytez")
    damaged = CliRunner().invoke(cli, ["restore", str(out), "--force"])
    assert (
        damaged.exit_code == 1 and "models/gan-v1.pt does not match its checksum" in damaged.output
    )
