"""patches.csv: pre-cut patches as .npy (HU) or 16-bit PNG/TIFF (HU + offset)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.services.ingest.directory import import_directory
from app.tables import Patch

HU = np.linspace(-1000, 500, 64 * 64).round().astype(np.int16).reshape(64, 64)


def write_patches_csv(directory: Path, rows: list[dict[str, str]]) -> None:
    with (directory / "patches.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "label", "patient_id", "hu_offset"])
        writer.writeheader()
        writer.writerows(rows)


def test_precut_formats_and_bad_rows(db: Database, settings: Settings, tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", HU)
    Image.fromarray((HU + 1024).astype(np.uint16)).save(tmp_path / "b.png")
    Image.fromarray((HU + 2000).astype(np.uint16)).save(tmp_path / "c.tif")
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "eight.png")
    np.save(tmp_path / "small.npy", HU[:32, :32])
    write_patches_csv(
        tmp_path,
        [
            {"path": "a.npy", "label": "GGO", "patient_id": "P1"},  # 2
            {"path": "b.png", "label": "NOR", "patient_id": "P1"},  # 3
            {"path": "c.tif", "label": "CAL", "patient_id": "P2", "hu_offset": "2000"},  # 4
            {"path": "eight.png", "label": "GGO", "patient_id": "P2"},  # 5
            {"path": "small.npy", "label": "GGO", "patient_id": "P2"},  # 6
            {"path": "gone.npy", "label": "GGO", "patient_id": "P2"},  # 7
            {"path": "a.npy", "label": "GGO", "patient_id": ""},  # 8
            {"path": "a.npy", "label": "nope", "patient_id": "P3"},  # 9
        ],
    )
    with db.session() as session:
        summary = import_directory(session, settings, tmp_path, "precut")
    bad = {e.item: e.reason for e in summary.errors}
    assert summary.imported == 3
    assert "not 16-bit grayscale" in bad["patches.csv:5"]
    assert "32×32, the patch size is 64×64" in bad["patches.csv:6"]
    assert "no file" in bad["patches.csv:7"]
    assert "no patient_id" in bad["patches.csv:8"]
    assert "unknown label" in bad["patches.csv:9"]
    with db.session() as session:
        stored = [
            np.frombuffer(p.pixels, "<i2").reshape(64, 64)
            for p in session.scalars(select(Patch).order_by(Patch.id))
        ]
    assert all(np.array_equal(s, HU) for s in stored)
