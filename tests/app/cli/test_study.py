"""``lungsign study create|open|close`` and ``lungsign export``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import root
from app.cli.root import cli
from app.config import Settings
from app.db import Database
from tests.factories import make_user
from tests.study_factories import study_body, with_data


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(root, "get_settings", lambda: settings)
    return CliRunner()


def test_create_from_a_toml_file_with_flag_overrides(
    runner: CliRunner, db: Database, tmp_path: Path
) -> None:
    with_data(db)
    make_user(db, "reader", "ann")
    design = tmp_path / "study.toml"
    design.write_text(
        'name = "from-file"\nitems_per_reader = 6\nreal_fraction = 0.5\n'
        '[real]\ndataset = "real1"\n[generated]\ndatasets = ["gen1"]\n'
    )
    args = ["study", "create", str(design), "--reader", "ann", "--name", "renamed"]
    result = runner.invoke(cli, [*args, "--open", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "open"
    assert json.loads(result.stdout)["name"] == "renamed"
    closed = runner.invoke(cli, ["study", "close", "renamed"])
    assert closed.exit_code == 0 and "closed" in closed.stdout


def test_create_from_flags_and_report_errors(runner: CliRunner, db: Database) -> None:
    with_data(db)
    flags = ["study", "create", "--name", "f", "--real", "real1", "--split", "test"]
    flags += ["--generated", "gen1", "--items-per-reader", "4", "--disjoint", "--no-label"]
    created = runner.invoke(cli, [*flags, "--json"])
    assert created.exit_code == 0, created.output
    again = runner.invoke(cli, flags)
    assert again.exit_code == 1 and "already exists" in again.output
    bad = runner.invoke(cli, ["study", "create", "--name", "x"])
    assert bad.exit_code == 1 and "items_per_reader" in bad.output


def test_export_writes_csv_json_and_figures(
    runner: CliRunner, db: Database, tmp_path: Path
) -> None:
    with_data(db)
    make_user(db, "reader", "ann")
    design = tmp_path / "study.json"
    design.write_text(json.dumps(study_body(readers=["ann"])))
    assert runner.invoke(cli, ["study", "create", str(design), "--open"]).exit_code == 0
    out = tmp_path / "export"
    result = runner.invoke(cli, ["export", "vtt1", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert "judgments.csv" in names and "summary.json" in names and "reader_roc.svg" in names
    assert "study.imrmc" in names and "mrmc.json" in names  # for iMRMC and other tools
    assert len(names) == 10
    assert "BEGIN DATA:" in (out / "study.imrmc").read_text()
    assert json.loads((out / "mrmc.json").read_text())["study"] == "vtt1"
    header = next(csv.reader((out / "judgments.csv").open()))
    assert header[0] == "study" and header[11] == "answered_at"  # later columns appended
    assert json.loads((out / "summary.json").read_text())["n_judgments"] == 0
    missing = runner.invoke(cli, ["export", "nope", "--out", str(out)])
    assert missing.exit_code == 1 and "no study" in missing.output
