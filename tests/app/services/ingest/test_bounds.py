"""Each bound of an import, where it is enforced (issue 11, finding 3; docs/import.md →
"Bounds"): expansion by ratio and in all, CSV rows, DICOM files and pixels, pre-cut patches,
the error list. The worker-process measurements are in tests/app/jobs/test_hostile_imports.py.
"""

from __future__ import annotations

import os
import struct
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pydicom
import pytest

from app.config import Settings
from app.db import Database
from app.errors import Invalid
from app.services.ingest.directory import import_directory
from app.services.ingest.types import BadItem, ImportSummary
from app.services.ingest.uploads import TooLarge, extract_zip
from tests.dicom_samples import copy_sample, sample, write_annotations

MB = 1024 * 1024


def zip_of(path: Path, entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zipped:
        for name, data in entries.items():
            zipped.writestr(name, data)
    return path


def run_import(db: Database, settings: Settings, directory: Path) -> ImportSummary:
    with db.session() as session:
        return import_directory(session, settings, directory, "bounded")


def test_an_entry_expanding_past_the_ratio_is_refused_by_name(tmp_path: Path) -> None:
    archive = zip_of(tmp_path / "u.zip", {"ok.txt": b"x", "bomb.dcm": bytes(20 * MB)})
    with pytest.raises(TooLarge, match=r"zip entry 'bomb\.dcm' expands more than 100 times"):
        extract_zip(archive, tmp_path / "out", 2048 * MB, max_ratio=100)
    written = sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written <= 100 * archive.stat().st_size + 2 * MB  # stopped, not extracted whole


def test_the_whole_zip_is_bounded_by_its_size_too(tmp_path: Path) -> None:
    """Many entries, each under the ratio floor, still may not add up past ratio × zip."""
    entries = {f"f{i}.bin": bytes(900 * 1024) for i in range(40)}  # 36 MB of zeros, ~40 KB
    archive = zip_of(tmp_path / "u.zip", entries)
    with pytest.raises(TooLarge, match="zip expands beyond 100 times its size"):
        extract_zip(archive, tmp_path / "out", 2048 * MB, max_ratio=100)


def test_real_data_and_small_incompressible_files_pass(tmp_path: Path) -> None:
    ct = sample("CT_small.dcm").read_bytes()
    entries = {"annotations.csv": b"path,x,y,label\n", "noise.bin": os.urandom(MB), "ct.dcm": ct}
    archive = zip_of(tmp_path / "u.zip", entries)
    extract_zip(archive, tmp_path / "out", 2048 * MB, max_ratio=100)
    assert (tmp_path / "out" / "ct.dcm").read_bytes() == ct


def test_the_total_limit_holds_for_stored_entries(tmp_path: Path) -> None:
    archive = zip_of(tmp_path / "u.zip", {"a.bin": os.urandom(3 * MB)}, zipfile.ZIP_STORED)
    with pytest.raises(TooLarge, match="zip expands beyond the 2 MB limit"):
        extract_zip(archive, tmp_path / "out", 2 * MB, max_ratio=100)


def test_a_csv_past_the_row_limit_is_refused_and_nothing_is_stored(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    settings.max_import_rows = 10
    copy_sample("CT_small.dcm", tmp_path / "d" / "ct.dcm")
    rows = [{"path": "ct.dcm", "x": 5, "y": 5, "label": "GGO"}] * 11
    write_annotations(tmp_path / "d", rows)
    with pytest.raises(Invalid, match=r"annotations\.csv has more than 10 rows"):
        run_import(db, settings, tmp_path / "d")
    settings.max_import_rows = 11
    summary = run_import(db, settings, tmp_path / "d")  # the same finding 11 times
    assert summary.imported == 1 and len(summary.errors) == 10


def test_zeros_and_junk_named_dcm_are_not_parsed(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """Parsing 50 MB of zeros with pydicom's force=True took ~13 s; now it is not parsed."""
    directory = tmp_path / "d"
    directory.mkdir()
    (directory / "zeros.dcm").write_bytes(bytes(50 * MB))
    write_annotations(directory, [{"path": "zeros.dcm", "x": 1, "y": 1, "label": "GGO"}])
    started = time.process_time()
    summary = run_import(db, settings, directory)
    assert time.process_time() - started < 2
    reason = "not a DICOM file (no DICM marker and no DICOM element at its start)"
    assert BadItem("zeros.dcm", reason) in summary.errors
    assert BadItem("annotations.csv:2", f"zeros.dcm: {reason}") in summary.errors


def test_a_dicom_file_over_the_size_bound_is_not_read(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    directory = tmp_path / "d"
    directory.mkdir()
    with (directory / "huge.dcm").open("wb") as handle:
        handle.truncate(1900 * MB)  # sparse: 1.9 GB long, no disk used
    write_annotations(directory, [{"path": "huge.dcm", "x": 1, "y": 1, "label": "GGO"}])
    summary = run_import(db, settings, directory)
    reason = "file of 1900 MB; a CT slice file may have at most 80 MB"
    assert BadItem("huge.dcm", reason) in summary.errors


def test_claimed_pixels_are_bounded_before_decoding(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    dataset = pydicom.dcmread(sample("MR_small_RLE.dcm"))  # 7 KB, RLE-compressed
    dataset.Modality, dataset.PatientID = "CT", "PID-1"
    dataset.Rows = dataset.Columns = 30_000
    directory = tmp_path / "d"
    directory.mkdir()
    dataset.save_as(directory / "claim.dcm")
    write_annotations(directory, [{"path": "claim.dcm", "x": 1, "y": 1, "label": "GGO"}])
    summary = run_import(db, settings, directory)
    reason = "image too large (30000×30000 pixels, 1716 MB); a slice may have at most 64 MB"
    assert BadItem("claim.dcm", reason) in summary.errors


def png_claiming(width: int, height: int, target: Path) -> Path:
    """A PNG whose header says WIDTH × HEIGHT 16-bit grayscale, and that holds no pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)
    target.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return target


def write_patches(directory: Path, names: list[str]) -> None:
    lines = ["path,label,patient_id", *(f"{name},GGO,P1" for name in names)]
    (directory / "patches.csv").write_text("\n".join(lines) + "\n")


def test_precut_shapes_are_checked_from_the_header_before_the_pixels(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    directory = tmp_path / "d"
    directory.mkdir()
    # an .npy header claiming 100 000 × 100 000 float64 (80 GB) over a few bytes of data
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 1)))
    header["shape"] = (100_000, 100_000)
    with (directory / "claim.npy").open("wb") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        handle.write(bytes(64))
    png_claiming(9_000, 9_000, directory / "big.png")  # 16-bit grayscale, no pixel data
    png_claiming(20_000, 20_000, directory / "bomb.png")  # past PIL's own bomb limit
    np.save(directory / "ok.npy", np.zeros((64, 64), dtype=np.int16))
    write_patches(directory, ["claim.npy", "big.png", "bomb.png", "ok.npy"])
    started = time.process_time()
    summary = run_import(db, settings, directory)
    assert time.process_time() - started < 2
    assert summary.imported == 1
    reasons = {error.item: error.reason for error in summary.errors}
    assert reasons["patches.csv:3"] == "big.png is 9000×9000, the patch size is 64×64"
    assert reasons["patches.csv:4"].startswith("bomb.png is not a readable image (Image size")
    assert reasons["patches.csv:2"].startswith("claim.npy is not a readable .npy array")


def test_only_the_first_thousand_bad_items_are_listed(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    directory = tmp_path / "d"
    directory.mkdir()
    rows = [{"path": "a.dcm", "x": 1, "y": 1, "label": "NOPE"}] * 1500
    write_annotations(directory, rows)
    summary = run_import(db, settings, directory)
    assert len(summary.errors) == 1000 and summary.errors_not_listed == 500
    assert summary.errors[-1].item == "annotations.csv:1001"  # the first ones, in order
    assert summary.skipped == 1500
    assert summary.as_dict()["errors_not_listed"] == 500
