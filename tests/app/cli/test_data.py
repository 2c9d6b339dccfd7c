"""``lungsign import``: JSON summary and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import data, root
from app.cli.root import cli
from app.config import Settings
from app.db import Database
from app.tables import Base
from tests.dicom_samples import mixed_cohort

PHI_KEYWORDS = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "AccessionNumber",
    "ReferringPhysicianName",
    "InstitutionName",
)


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(root, "get_settings", lambda: settings)
    monkeypatch.setattr(data, "get_settings", lambda: settings)
    return CliRunner()


def test_import_json_then_reimport(runner: CliRunner, tmp_path: Path) -> None:
    cohort = mixed_cohort(tmp_path / "cohort")
    first = runner.invoke(cli, ["import", str(cohort), "--dataset", "cli1", "--json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert set(summary) >= {"dataset", "imported", "skipped", "errors"}
    assert summary["imported"] == 3 and len(summary["errors"]) == 13
    again = runner.invoke(cli, ["import", str(cohort), "--dataset", "cli1", "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["imported"] == 0


def test_import_with_progress_prints_a_summary(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["import", str(mixed_cohort(tmp_path / "c")), "--dataset", "p"])
    assert result.exit_code == 0
    assert "p: 3 imported, 13 skipped" in result.stdout


def test_nothing_importable_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["import", str(tmp_path), "--dataset", "x"])
    assert result.exit_code == 1 and "neither annotations.csv nor patches.csv" in result.output
    (tmp_path / "annotations.csv").write_text("path,x,y,label\nnope.dcm,1,1,GGO\n")
    result = runner.invoke(cli, ["import", str(tmp_path), "--dataset", "x", "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["imported"] == 0


def test_demo_data_then_import_everything(runner: CliRunner, db: Database, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    written = runner.invoke(cli, ["demo-data", str(out), "--patients", "1", "--json"])
    assert written.exit_code == 0, written.output
    findings = json.loads(written.stdout)["findings"]
    imported = runner.invoke(cli, ["import", str(out), "--dataset", "demo", "--json"])
    summary = json.loads(imported.stdout)
    assert (summary["imported"], summary["errors"]) == (findings, [])
    again = json.loads(
        runner.invoke(cli, ["import", str(out), "--dataset", "demo", "--json"]).stdout
    )
    assert (again["imported"], again["already_present"]) == (0, findings)
    phi = fake_phi(out)
    assert {"PatientName", "PatientID", "PatientBirthDate"} <= {k for k, _ in phi}
    stored = every_stored_value(db)
    leaked = [(k, v) for k, v in phi if any(v.encode() in value for value in stored)]
    assert not leaked, f"the import stored the demo cohort's fake PHI: {leaked}"


def fake_phi(cohort: Path) -> set[tuple[str, str]]:
    """(keyword, value) of every identifying element in the cohort's DICOM files; dates also
    in ISO form (``19580101`` and ``1958-01-01``)."""
    found = set()
    for path in cohort.rglob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        for keyword in (*PHI_KEYWORDS, "StudyDate"):
            value = str(ds.get(keyword, "") or "")
            if len(value) >= 4:
                found.add((keyword, value))
            if keyword.endswith("Date") and len(value) == 8:
                found.add((keyword, f"{value[:4]}-{value[4:6]}-{value[6:]}"))
    return found


def every_stored_value(db: Database) -> list[bytes]:
    """Every non-null value of every column of every table, as bytes (text UTF-8 encoded)."""
    values = []
    with db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(*table.columns)):
                values += [v if isinstance(v, bytes) else str(v).encode() for v in row if v]
    return values
