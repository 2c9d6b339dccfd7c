"""``patches.csv`` (``path,label,patient_id[,hu_offset]``) → patch candidates.

``.npy`` files hold HU directly; 16-bit PNG/TIFF hold HU + offset (``hu_offset`` column,
default 1024, so a stored 0 is −1024 HU). Each patch must be patch_size × patch_size.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from app.errors import Invalid
from app.services.datasets.labels import LabelResolver
from app.services.ingest.annotations import read_rows, relative_path
from app.services.ingest.dicom_io import HU_MAX, HU_MIN
from app.services.ingest.patching import content_hash, pixel_bytes, pseudonym
from app.services.ingest.types import BadItem, Candidate, ProgressCallback

PATCHES = "patches.csv"
DEFAULT_HU_OFFSET = 1024
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I")


def read_precut(
    directory: Path,
    labels: LabelResolver,
    pseudonym_key: str,
    patch_size: int,
    on_progress: ProgressCallback | None = None,
) -> tuple[list[Candidate], list[BadItem]]:
    """Every row of DIRECTORY/patches.csv as a candidate or a bad item."""
    candidates: list[Candidate] = []
    errors: list[BadItem] = []
    rows = read_rows(directory / PATCHES, _check_columns)
    for line, row in rows:
        item = f"{PATCHES}:{line}"
        try:
            hu = load_patch(directory, row, patch_size)
            code = labels.resolve(row.get("label", ""))
            candidates.append(_candidate(item, code, hu, _patient_key(row, pseudonym_key)))
        except Invalid as exc:
            errors.append(BadItem(item, str(exc)))
        if on_progress:
            on_progress(line - 1, len(rows))
    return candidates, errors


def _check_columns(fieldnames: Sequence[str]) -> None:
    columns = {name.strip().lower() for name in fieldnames}
    missing = [name for name in ("path", "label", "patient_id") if name not in columns]
    if missing:
        raise Invalid(f"{PATCHES} lacks the column(s): {', '.join(missing)}")


def _patient_key(row: dict[str, str], key: str) -> str:
    if not row.get("patient_id"):
        raise Invalid("no patient_id")
    return pseudonym(key, row["patient_id"])


def load_patch(directory: Path, row: dict[str, str], patch_size: int) -> np.ndarray:
    """The patch a row points to, in HU as int16, checked for shape."""
    relative = relative_path(row.get("path", ""))
    if not relative or not (directory / relative).is_file():
        raise Invalid(f"no file {row.get('path')!r} in DIR")
    path = directory / relative
    values = _load_npy(path) if path.suffix.lower() == ".npy" else _load_image(path, row)
    if values.shape != (patch_size, patch_size):
        shape = "×".join(str(n) for n in values.shape)
        raise Invalid(f"{relative} is {shape}, the patch size is {patch_size}×{patch_size}")
    return np.clip(np.rint(values), HU_MIN, HU_MAX).astype(np.int16)


def _load_npy(path: Path) -> np.ndarray:
    try:
        values = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise Invalid(f"{path.name} is not a readable .npy array ({exc})") from None
    if values.dtype.kind not in "iuf":
        raise Invalid(f"{path.name} holds {values.dtype}, not numbers")
    return np.asarray(values, dtype=np.float64)


def _load_image(path: Path, row: dict[str, str]) -> np.ndarray:
    try:
        with Image.open(path) as image:
            mode = image.mode
            stored = np.asarray(image, dtype=np.float64)
    except OSError as exc:
        raise Invalid(f"{path.name} is not a readable image ({exc})") from None
    if mode not in SIXTEEN_BIT_MODES:
        raise Invalid(f"{path.name} is a {mode} image, not 16-bit grayscale")
    try:
        offset = float(row.get("hu_offset") or DEFAULT_HU_OFFSET)
    except ValueError:
        raise Invalid(f"hu_offset {row.get('hu_offset')!r} is not a number") from None
    return stored - offset


def _candidate(item: str, code: str, hu: np.ndarray, patient_key: str) -> Candidate:
    height, width = hu.shape
    return Candidate(
        item=item,
        label_code=code,
        patient_key=patient_key,
        height=height,
        width=width,
        pixels=pixel_bytes(hu),
        content_hash=content_hash(code, hu),
    )
