"""Migration 0007 (study ownership): existing studies belong to whoever created them; a study
without a known creator is owned by no one (admins only)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from app.schema_upgrade import alembic_config


def test_existing_studies_are_owned_by_their_creator(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0006")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO users (id, username, password_hash, role, active, created_at,"
                " session_version)"
                " VALUES (7, 'ann', 'x', 'coordinator', 1, '2026-01-01', 0)"
            )
        )
        for study_id, creator in ((1, 7), (2, None)):
            connection.execute(
                sa.text(
                    "INSERT INTO studies (id, name, status, items_per_reader, real_fraction,"
                    " per_label, shared_items, ask_confidence, ask_label, allow_changes,"
                    " practice_items, windows, instructions, end_text, seed, created_by_id,"
                    " created_at) VALUES (:id, :name, 'open', 4, 0.5, 0, 1, 1, 1, 0, 0, '[]',"
                    " '', '', 0, :creator, '2026-01-01')"
                ),
                {"id": study_id, "name": f"s{study_id}", "creator": creator},
            )
    command.upgrade(config, "0007")
    with engine.connect() as connection:
        owners = connection.execute(sa.text("SELECT id, owner_id FROM studies ORDER BY id")).all()
    assert [tuple(row) for row in owners] == [(1, 7), (2, None)]
    command.downgrade(config, "0006")
    command.upgrade(config, "head")
    engine.dispose()
