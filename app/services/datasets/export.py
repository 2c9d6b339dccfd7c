"""A generated dataset as a zip to take elsewhere: ``patches.npy`` (N, S, S) int16 HU and
``manifest.csv`` (row, patch_id, label, seed, model_version, content_hash), in one order."""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.services.datasets.catalog import get_dataset
from app.tables import ModelVersion, Patch
from app.text_rules import spreadsheet_cell

MANIFEST = ("row", "patch_id", "label", "seed", "model_version", "content_hash")


def export_generated_zip(session: Session, dataset_id: int, folder: Path) -> tuple[Path, str]:
    """Write the zip into FOLDER; (its path, the download name)."""
    dataset = get_dataset(session, dataset_id)
    if dataset.kind != "generated":
        raise Invalid(f"dataset {dataset.name!r} is real: only generated datasets are exported")
    rows = session.execute(
        select(Patch, ModelVersion.version)
        .outerjoin(ModelVersion, ModelVersion.id == Patch.model_version_id)
        .where(Patch.dataset_id == dataset.id)
        .order_by(Patch.id)
    ).all()
    size = dataset.patch_size
    pixels = (
        np.stack([np.frombuffer(p.pixels, dtype="<i2").reshape(p.height, p.width) for p, _ in rows])
        if rows
        else np.empty((0, size, size), dtype="<i2")
    )
    manifest = io.StringIO()
    writer = csv.writer(manifest, lineterminator="\n")
    writer.writerow(MANIFEST)
    for i, (patch, version) in enumerate(rows):
        row = [i, patch.id, patch.label_code, patch.seed, version, patch.content_hash]
        writer.writerow([spreadsheet_cell(cell) for cell in row])
    array = io.BytesIO()
    np.save(array, pixels.astype("<i2"))
    folder.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.NamedTemporaryFile(dir=folder, suffix=".zip", delete=False) as out,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped,
    ):
        zipped.writestr("patches.npy", array.getvalue())
        zipped.writestr("manifest.csv", manifest.getvalue())
    return Path(out.name), f"{dataset.name}.zip"
