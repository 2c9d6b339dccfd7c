"""Real DICOM fixtures: pydicom's bundled test files, and small cohorts built from them."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import pydicom
from pydicom.dataset import FileMetaDataset
from sqlalchemy import JSON, String, Text, select
from sqlalchemy.orm import Session

from app.tables import Base

# Located on disk directly: get_testdata_file() may try the network for files not bundled.
TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
CT_SMALL_UID = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
PHI = ("CompressedSamples^CT1", "1CT1", "CQ500-CT-310", "Patient^Zero", "PID-000")
ANNOTATION_HEADER = ["sop_instance_uid", "path", "x", "y", "label", "width", "height", "note"]


def sample(name: str) -> Path:
    return TEST_FILES / name


def copy_sample(name: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(sample(name), target)
    return target


def ct_variant(target: Path, patient_id: str, sop_uid: str, name: str = "Patient^Zero") -> Path:
    """CT_small as another patient's slice (new PatientID, PatientName and SOP UID)."""
    dataset = pydicom.dcmread(sample("CT_small.dcm"))
    dataset.PatientID = patient_id
    dataset.PatientName = name
    dataset.SOPInstanceUID = sop_uid
    dataset.file_meta.MediaStorageSOPInstanceUID = sop_uid
    target.parent.mkdir(parents=True, exist_ok=True)
    dataset.save_as(target)
    return target


def without_file_meta(source: Path, target: Path) -> Path:
    """SOURCE rewritten with no preamble and no file meta header (raw dataset)."""
    dataset = pydicom.dcmread(source)
    implicit, little = dataset.original_encoding
    dataset.preamble = None
    dataset.file_meta = FileMetaDataset()
    pydicom.dcmwrite(
        target, dataset, implicit_vr=implicit, little_endian=little, enforce_file_format=False
    )
    return target


def write_annotations(directory: Path, rows: list[dict[str, object]]) -> Path:
    path = directory / "annotations.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ANNOTATION_HEADER)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


def mixed_cohort(directory: Path) -> Path:
    """Good and bad files and rows; ``annotations.csv`` line numbers are fixed (see tests)."""
    copy_sample("CT_small.dcm", directory / "a" / "ct_small.dcm")
    copy_sample("693_J2KI.dcm", directory / "b" / "c" / "j2k.dcm")
    copy_sample("SC_rgb_rle.dcm", directory / "rgb.dcm")
    copy_sample("rtplan.dcm", directory / "plan.dcm")
    copy_sample("MR_truncated.dcm", directory / "truncated.dcm")
    (directory / "notes.txt").write_text("not DICOM")
    (directory / ".hidden").write_text("ignored")
    rows: list[dict[str, object]] = [
        {"sop_instance_uid": CT_SMALL_UID, "x": 64, "y": 64, "label": "GGO"},  # 2 ok
        {"path": "a/ct_small.dcm", "x": 2, "y": 3, "label": "normal tissue"},  # 3 ok, padded
        {"path": "b/c/j2k.dcm", "x": 256, "y": 200, "label": "cal", "width": 12},  # 4 ok
        {"path": "b/c/j2k.dcm", "x": 600, "y": 10, "label": "CAL"},  # 5 centre outside
        {"path": "b/c/j2k.dcm", "x": "abc", "y": 10, "label": "CAL"},  # 6 not a number
        {"path": "b/c/j2k.dcm", "x": 10, "y": 10, "label": "XYZ"},  # 7 unknown label
        {"x": 10, "y": 10, "label": "GGO"},  # 8 no reference
        {"path": "missing.dcm", "x": 10, "y": 10, "label": "GGO"},  # 9 unknown path
        {"sop_instance_uid": "1.2.3.999", "x": 1, "y": 1, "label": "GGO"},  # 10 unknown UID
        {"path": "rgb.dcm", "x": 10, "y": 10, "label": "GGO"},  # 11 RGB
        {"path": "truncated.dcm", "x": 10, "y": 10, "label": "GGO"},  # 12 MR, truncated
        {"path": "a/ct_small.dcm", "x": 2, "y": 3, "label": "NOR"},  # 13 duplicate of 3
    ]
    write_annotations(directory, rows)
    return directory


def all_text(session: Session) -> list[str]:
    """Every value of every text column in the database, for PHI searches."""
    values = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        for row in session.execute(select(*columns)) if columns else []:
            values.extend(str(v) for v in row if v is not None)
    return values


def zip_directory(directory: Path, prefix: str = "") -> bytes:
    """DIRECTORY as zip bytes, entries under PREFIX."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                zipped.write(path, prefix + path.relative_to(directory).as_posix())
    return buffer.getvalue()
