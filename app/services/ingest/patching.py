"""Cutting patches and the keys that identify them: content hash, pseudonym, split.

Pure functions over arrays and strings; ``docs/import.md`` states each rule.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import numpy as np

PAD_HU = -1000  # air: what lies outside the scanned field
PSEUDONYM_HEX = 24  # 96 bits of HMAC-SHA256
SPLIT_BOUNDS = (("train", 70), ("val", 85), ("test", 100))  # cumulative percent

HuWindow = Callable[[slice, slice], np.ndarray]


def cut_patch(
    hu_window: HuWindow, shape: tuple[int, int], x: int, y: int, size: int
) -> tuple[np.ndarray, int]:
    """The SIZE×SIZE int16 patch centred on column X, row Y, and how many pixels were padded.

    The centre pixel sits at index ``size // 2``; parts outside the image are −1000 HU.
    ``hu_window(rows, cols)`` converts a window of the image to HU.
    """
    rows, cols = shape
    top, left = y - size // 2, x - size // 2
    r0, r1 = max(top, 0), min(top + size, rows)
    c0, c1 = max(left, 0), min(left + size, cols)
    patch = np.full((size, size), PAD_HU, dtype=np.int16)
    patch[r0 - top : r1 - top, c0 - left : c1 - left] = hu_window(slice(r0, r1), slice(c0, c1))
    padded = size * size - (r1 - r0) * (c1 - c0)
    return patch, padded


def pixel_bytes(patch: np.ndarray) -> bytes:
    """The storage form: little-endian int16, row-major."""
    return np.ascontiguousarray(patch, dtype="<i2").tobytes()


def content_hash(label_code: str, patch: np.ndarray) -> str:
    """SHA-256 over label code, shape and stored pixels: the same patch with the same label
    is the same content, wherever it came from."""
    height, width = patch.shape
    digest = hashlib.sha256(f"{label_code}|{height}x{width}|".encode())
    digest.update(pixel_bytes(patch))
    return digest.hexdigest()


def pseudonym(key: str, patient_id: str) -> str:
    """The keyed pseudonym stored instead of a PatientID (HMAC-SHA256, truncated)."""
    mac = hmac.new(key.encode(), patient_id.strip().encode(), hashlib.sha256)
    return mac.hexdigest()[:PSEUDONYM_HEX]


def split_for(patient_key: str) -> str:
    """train/val/test (70/15/15) from the pseudonym alone, so a patient never changes split."""
    bucket = int(patient_key[:8], 16) % 100
    return next(name for name, bound in SPLIT_BOUNDS if bucket < bound)
