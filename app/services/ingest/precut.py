"""``patches.csv`` (``path,label,patient_id[,hu_offset]``) → patch candidates.

``.npy`` files hold HU directly; 16-bit PNG/TIFF hold HU + offset (``hu_offset`` column,
default 1024, so a stored 0 is −1024 HU). Each patch must be patch_size × patch_size.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from app.errors import Invalid
from app.services.datasets.labels import LabelResolver
from app.services.ingest.annotations import count_rows, read_rows, relative_path
from app.services.ingest.dicom_io import HU_MAX, HU_MIN
from app.services.ingest.patching import content_hash, pixel_bytes, pseudonym
from app.services.ingest.types import BadItem, Candidate, CandidateSink, ProgressCallback

PATCHES = "patches.csv"
DEFAULT_HU_OFFSET = 1024
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I")
MAX_PATCH_FILE_BYTES = 16 * 1024 * 1024  # a 512 × 512 float64 patch is 2 MiB


def read_precut(
    directory: Path,
    labels: LabelResolver,
    pseudonym_key: str,
    patch_size: int,
    max_rows: int,
    emit: CandidateSink,
    on_progress: ProgressCallback | None = None,
) -> list[BadItem]:
    """Every row of DIRECTORY/patches.csv as a candidate (handed to EMIT) or a bad item."""
    errors: list[BadItem] = []
    total = count_rows(directory / PATCHES, max_rows)
    for line, row in read_rows(directory / PATCHES, _check_columns, max_rows):
        item = f"{PATCHES}:{line}"
        try:
            hu = load_patch(directory, row, patch_size)
            code = labels.resolve(row.get("label", ""))
            emit(_candidate(item, code, hu, _patient_key(row, pseudonym_key)))
        except Invalid as exc:
            errors.append(BadItem(item, str(exc)))
        if on_progress:
            on_progress(line - 1, total)
    return errors


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
    if path.stat().st_size > MAX_PATCH_FILE_BYTES:
        raise Invalid(
            f"{relative} is larger than a patch file may be ({MAX_PATCH_FILE_BYTES} bytes)"
        )
    if path.suffix.lower() == ".npy":
        values = _load_npy(path, relative, patch_size)
    else:
        values = _load_image(path, row, relative, patch_size)
    return np.clip(np.rint(values), HU_MIN, HU_MAX).astype(np.int16)


def _check_shape(relative: str, shape: tuple[int, ...], patch_size: int) -> None:
    """Checked from the file's header, before its pixels are read."""
    if shape != (patch_size, patch_size):
        text = "×".join(str(n) for n in shape)
        raise Invalid(f"{relative} is {text}, the patch size is {patch_size}×{patch_size}")


def _load_npy(path: Path, relative: str, patch_size: int) -> np.ndarray:
    try:
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)  # reads the header only
        if mapped.dtype.kind not in "iuf":
            raise Invalid(f"{path.name} holds {mapped.dtype}, not numbers")
        _check_shape(relative, mapped.shape, patch_size)
        return np.array(mapped, dtype=np.float64)
    except (OSError, ValueError) as exc:
        raise Invalid(f"{path.name} is not a readable .npy array ({exc})") from None


def _load_image(path: Path, row: dict[str, str], relative: str, patch_size: int) -> np.ndarray:
    try:
        with warnings.catch_warnings():  # PIL warns from 89 M pixels on; the shape check follows
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)  # reads the header; pixels are decoded below
        with image:
            mode = image.mode
            if mode not in SIXTEEN_BIT_MODES:
                raise Invalid(f"{path.name} is a {mode} image, not 16-bit grayscale")
            width, height = image.size
            _check_shape(relative, (height, width), patch_size)
            stored = np.asarray(image, dtype=np.float64)
    except (OSError, Image.DecompressionBombError) as exc:  # over 179 M pixels: PIL refuses
        raise Invalid(f"{path.name} is not a readable image ({exc})") from None
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
