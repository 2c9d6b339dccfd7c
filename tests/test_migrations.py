"""The Alembic revisions and the ORM describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import cli
from app.db import Database
from app.schema_upgrade import alembic_config
from app.services.datasets.rendering import WINDOWS, window_to_uint8
from app.services.studies.images import blinded_png
from app.tables import Base, ItemImage, Patch, StudyItem
from tests.factories import api_token, make_user
from tests.study_factories import create_open_study, with_data


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


def test_0009_renders_again_the_images_of_studies_opened_before_clipping(
    client: TestClient, db: Database, database_url: str
) -> None:
    with_data(db)
    real = np.resize(np.array([-2048, -1000, -600, 40, 1000, 3000]), (16, 16)).astype("<i2")
    with db.session() as session:
        for patch in session.scalars(select(Patch).where(Patch.source == "real")):
            patch.pixels = real.tobytes()
    coord = api_token(db, make_user(db, "coordinator"))
    make_user(db, "reader", "ann")
    create_open_study(client, coord, readers=["ann"], items_per_reader=6)
    images = (
        select(ItemImage.study_item_id, ItemImage.window, ItemImage.png, Patch.source)
        .join(StudyItem, StudyItem.id == ItemImage.study_item_id)
        .join(Patch, Patch.id == StudyItem.patch_id)
    )
    with db.session() as session:
        fresh = {
            (item, window): (png, source) for item, window, png, source in session.execute(images)
        }
        # What the app stored before 0323138: the same PNGs of the unclipped HU.
        for (item, window), (_, source) in fresh.items():
            if source == "real":
                unclipped = window_to_uint8(real.reshape(16, 16), *WINDOWS[window])
                session.get_one(ItemImage, (item, window)).png = blinded_png(unclipped)
    assert {source for _, source in fresh.values()} == {"real", "generated"}
    config = alembic_config(database_url)
    command.downgrade(config, "0008")
    with db.session() as session:
        old = {(item, window): png for item, window, png, _ in session.execute(images)}
    # Lung window −1350…150 HU: −2048 is black in the old images, −1024 gray 55 in the fresh.
    real_lung = {key for key, (_, source) in fresh.items() if source == "real" and key[1] == "lung"}
    assert {key for key in fresh if old[key] != fresh[key][0]} == real_lung
    command.upgrade(config, "0009")
    with db.session() as session:
        upgraded = {(item, window): png for item, window, png, _ in session.execute(images)}
    assert upgraded == {key: png for key, (png, _) in fresh.items()}
