"""import_directory on cohorts built from real DICOM files, good and bad mixed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.errors import Conflict, Invalid
from app.services.ingest.directory import import_directory
from app.services.ingest.patching import PAD_HU
from app.tables import Dataset, Patch
from tests.dicom_samples import (
    CT_SMALL_UID,
    PHI,
    all_text,
    ct_variant,
    mixed_cohort,
    write_annotations,
)


def run_import(db: Database, settings: Settings, directory: Path, name: str = "real1"):
    with db.session() as session:
        return import_directory(session, settings, directory, name)


def reasons(summary) -> dict[str, str]:
    return {error.item: error.reason for error in summary.errors}


def test_mixed_cohort_imports_valid_rows_and_names_every_bad_item(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    summary = run_import(db, settings, mixed_cohort(tmp_path / "cohort"))
    assert summary.imported == 3
    bad = reasons(summary)
    assert "outside the 512×512 image" in bad["annotations.csv:5"]
    assert "not a number" in bad["annotations.csv:6"]
    assert "unknown label 'XYZ'" in bad["annotations.csv:7"]
    assert "no sop_instance_uid or path" in bad["annotations.csv:8"]
    assert "no file missing.dcm" in bad["annotations.csv:9"]
    assert "1.2.3.999" in bad["annotations.csv:10"]
    assert "not a single-channel CT image" in bad["annotations.csv:11"]
    assert "truncated.dcm" in bad["annotations.csv:12"]
    assert "same patch and label as annotations.csv:3" in bad["annotations.csv:13"]
    assert "not a single-channel CT image" in bad["rgb.dcm"]
    assert "no pixel data" in bad["plan.dcm"]
    assert "not a DICOM file" in bad["notes.txt"]
    assert ".hidden" not in bad and "annotations.csv" not in bad
    assert "modality MR" in bad["truncated.dcm"]
    assert summary.skipped == len(summary.errors) == 9 + 4


def test_reimport_adds_nothing(db: Database, settings: Settings, tmp_path: Path) -> None:
    cohort = mixed_cohort(tmp_path / "cohort")
    first = run_import(db, settings, cohort)
    second = run_import(db, settings, cohort)
    assert (first.imported, second.imported) == (3, 0)
    assert second.already_present == 4  # three imported + the duplicate row
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Patch)) == 3


def test_patch_content_provenance_and_padding(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    run_import(db, settings, mixed_cohort(tmp_path / "cohort"))
    with db.session() as session:
        patches = {p.roi_x: p for p in session.scalars(select(Patch))}
    corner = patches[2]  # centre (2, 3) on a 128×128 slice: 35 rows × 34 columns inside
    assert (corner.label_code, corner.padded_pixels) == ("NOR", 64 * 64 - 35 * 34)
    hu = np.frombuffer(corner.pixels, dtype="<i2").reshape(64, 64)
    assert (hu[:29, :] == PAD_HU).all() and (hu[:, :30] == PAD_HU).all()
    centre = patches[64]
    assert centre.sop_uid == CT_SMALL_UID and centre.padded_pixels == 0
    assert (centre.height, centre.width, centre.source) == (64, 64, "real")
    assert patches[256].roi_width == 12 and patches[256].label_code == "CAL"


def test_no_phi_is_stored(db: Database, settings: Settings, tmp_path: Path) -> None:
    cohort = mixed_cohort(tmp_path / "cohort")
    ct_variant(cohort / "p" / "x.dcm", "PID-000", "1.2.826.0.1.3680043.8.498.1")
    run_import(db, settings, cohort)
    with db.session() as session:
        text = " ".join(all_text(session))
    assert text and not [phi for phi in PHI if phi in text]


def test_splits_are_patient_disjoint_and_stable_across_imports(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    cohort = tmp_path / "many"
    rows = []
    for n in range(24):
        uid = f"1.2.826.0.1.3680043.8.498.{n + 10}"
        ct_variant(cohort / f"p{n}" / "s.dcm", f"patient-{n}", uid)
        xs = (10 + 4 * n + k for k in range(3))  # distinct pixels: CT_small is every slice
        rows += [{"sop_instance_uid": uid, "x": x, "y": 40, "label": "GGO"} for x in xs]
    write_annotations(cohort, rows)
    assert run_import(db, settings, cohort, "first").imported == 72
    assert run_import(db, settings, cohort, "second").imported == 72
    with db.session() as session:
        pairs = set(session.execute(select(Patch.patient_key, Patch.split)))
    keys = {key for key, _ in pairs}
    assert len(keys) == 24 and len(pairs) == 24  # one split per patient, in both datasets
    assert {split for _, split in pairs} == {"train", "val", "test"}


def test_failed_import_leaves_no_dataset(db: Database, settings: Settings, tmp_path: Path) -> None:
    cohort = mixed_cohort(tmp_path / "cohort")

    def explode(done: int, total: int) -> None:
        if done == 3:
            raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError), db.session() as session:
        import_directory(session, settings, cohort, "half", on_progress=explode)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Dataset)) == 0
        assert session.scalar(select(func.count()).select_from(Patch)) == 0


def test_generated_dataset_is_not_imported_into(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    with db.session() as session:
        session.add(Dataset(name="gen", kind="generated", patch_size=64))
    with pytest.raises(Conflict, match="generated"):
        run_import(db, settings, mixed_cohort(tmp_path / "cohort"), "gen")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Patch)) == 0


def test_all_bad_creates_no_dataset(db: Database, settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    write_annotations(tmp_path / "in", [{"path": "nope.dcm", "x": 1, "y": 1, "label": "GGO"}])
    summary = run_import(db, settings, tmp_path / "in", "empty")
    assert summary.imported == 0 and len(summary.errors) == 1
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Dataset)) == 0


def test_missing_csv_or_columns_is_invalid(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(Invalid, match=r"neither annotations\.csv nor patches\.csv"):
        run_import(db, settings, tmp_path)
    (tmp_path / "annotations.csv").write_text("path,label\na.dcm,GGO\n")
    with pytest.raises(Invalid, match="lacks the column"):
        run_import(db, settings, tmp_path)


def test_truncated_ct_is_named_with_its_rows(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    cohort = tmp_path / "cohort"
    whole = ct_variant(cohort / "whole.dcm", "PID-000", "1.2.826.0.1.3680043.8.498.77")
    data = whole.read_bytes()
    whole.write_bytes(data[: len(data) - 1000])
    write_annotations(cohort, [{"path": "whole.dcm", "x": 5, "y": 5, "label": "SPI"}])
    bad = reasons(run_import(db, settings, cohort))
    assert bad["whole.dcm"].startswith("pixel data cannot be decoded")
    assert bad["annotations.csv:2"].startswith("whole.dcm: pixel data cannot be decoded")


def test_csv_that_is_not_utf8_is_invalid(db: Database, settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "annotations.csv").write_bytes(
        "path,x,y,label\nä.dcm,1,1,GGO\n".encode("latin-1")
    )
    with pytest.raises(Invalid, match="not a readable UTF-8 CSV"):
        run_import(db, settings, tmp_path / "in")


def test_broken_copy_does_not_hide_the_good_slice(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    cohort = tmp_path / "cohort"
    good = ct_variant(cohort / "b_good.dcm", "PID-000", "1.2.826.0.1.3680043.8.498.78")
    data = good.read_bytes()
    (cohort / "a_broken.dcm").write_bytes(data[: len(data) - 1000])
    uid = "1.2.826.0.1.3680043.8.498.78"
    write_annotations(cohort, [{"sop_instance_uid": uid, "x": 5, "y": 5, "label": "SPI"}])
    summary = run_import(db, settings, cohort)
    assert summary.imported == 1
    assert list(reasons(summary)) == ["a_broken.dcm"]
