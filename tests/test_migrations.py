"""The Alembic revisions and the ORM describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from app.cli import cli
from app.db import Database
from app.tables import Base


def test_autogenerate_finds_no_difference(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_init_creates_then_upgrades_idempotently(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LUNGSIGN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("LUNGSIGN_DATABASE_URL", raising=False)
    from app.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(cli, ["init"])
        assert result.exit_code == 0, result.output
        assert "schema ready" in result.output
    assert (tmp_path / "var" / "lungsign.db").exists()
    get_settings.cache_clear()
