"""The Alembic revisions and the ORM describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from app.cli import cli
from app.db import Database
from app.schema_upgrade import alembic_config
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


def test_item_flags_come_with_0008_and_go_with_its_downgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'flags.db'}"
    config = alembic_config(url)
    engine = sa.create_engine(url)
    command.upgrade(config, "0008")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("item_flags")}
    assert columns == {"assignment_item_id", "unreadable", "comment", "flagged_at"}
    command.downgrade(config, "0007")
    assert "item_flags" not in sa.inspect(engine).get_table_names()
    command.upgrade(config, "head")
    engine.dispose()
