"""``lungsign study machine-reader STUDY``: queue a fresh run, or say why it cannot run."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import root
from app.cli.root import cli
from app.config import Settings
from app.db import Database
from app.tables import Dataset, Job, ModelVersion
from tests.factories import make_user
from tests.study_factories import open_reader_study


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(root, "get_settings", lambda: settings)
    return CliRunner()


def test_refused_without_the_gan_s_training_data_then_queued(
    runner: CliRunner, db: Database
) -> None:
    make_user(db, "reader", "ann")
    open_reader_study(db, "vtt", "ann", items=6, years=3)  # its GAN has no lineage
    refused = runner.invoke(cli, ["study", "machine-reader", "vtt"])
    assert refused.exit_code == 1 and "the dataset it was trained on" in refused.output
    with db.session() as session:  # now the GAN names its training data
        gan = session.scalars(select(ModelVersion).where(ModelVersion.kind == "gan")).one()
        real = session.scalars(select(Dataset).where(Dataset.name == "real1")).one()
        gan.lineage = {"dataset": real.name, "dataset_id": real.id}
    first = runner.invoke(cli, ["study", "machine-reader", "vtt", "--json"])
    assert first.exit_code == 0, first.output
    queued = json.loads(first.stdout)
    assert queued["new"] is True and queued["status"] == "queued"
    second = json.loads(runner.invoke(cli, ["study", "machine-reader", "vtt", "--json"]).stdout)
    assert second["new"] is True and second["job"] != queued["job"]  # each call: a fresh run
    same = runner.invoke(cli, ["study", "machine-reader", "vtt", "--seed", "0", "--json"])
    assert json.loads(same.stdout) == {**queued, "new": False}
    with db.session() as session:
        seeds = [j.params["seed"] for j in session.scalars(select(Job).order_by(Job.id))]
    assert seeds == [0, 1]
