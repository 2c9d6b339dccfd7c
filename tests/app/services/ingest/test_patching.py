"""Patch cutting, hashes, pseudonyms and splits."""

from __future__ import annotations

import numpy as np

from app.services.ingest.patching import (
    PAD_HU,
    content_hash,
    cut_patch,
    pixel_bytes,
    pseudonym,
    split_for,
)

IMAGE = np.arange(100 * 80, dtype=np.int16).reshape(100, 80)  # (rows, cols)


def window(rows: slice, cols: slice) -> np.ndarray:
    return IMAGE[rows, cols]


def test_centre_pixel_sits_at_half_size() -> None:
    patch, padded = cut_patch(window, IMAGE.shape, x=40, y=50, size=16)
    assert padded == 0 and patch[8, 8] == IMAGE[50, 40]
    assert np.array_equal(patch, IMAGE[42:58, 32:48])


def test_border_is_padded_with_air_and_counted() -> None:
    patch, padded = cut_patch(window, IMAGE.shape, x=79, y=0, size=16)
    inside = 8 * 9  # rows 0..7, columns 71..79
    assert padded == 16 * 16 - inside
    assert (patch == PAD_HU).sum() == padded
    assert patch[8, 8] == IMAGE[0, 79]


def test_content_hash_depends_on_label_and_pixels() -> None:
    patch = IMAGE[:8, :8]
    assert content_hash("GGO", patch) == content_hash("GGO", patch.copy())
    assert content_hash("GGO", patch) != content_hash("NOR", patch)
    assert content_hash("GGO", patch) != content_hash("GGO", patch.reshape(4, 16))
    assert pixel_bytes(patch) == patch.astype("<i2").tobytes()


def test_pseudonym_is_keyed_and_stable() -> None:
    assert pseudonym("k1", "PID") == pseudonym("k1", " PID ")
    assert pseudonym("k1", "PID") != pseudonym("k2", "PID")
    assert "PID" not in pseudonym("k1", "PID") and len(pseudonym("k1", "PID")) == 24


def test_split_shares_are_near_70_15_15() -> None:
    splits = [split_for(pseudonym("key", f"patient-{n}")) for n in range(3000)]
    shares = {name: splits.count(name) / len(splits) for name in ("train", "val", "test")}
    assert abs(shares["train"] - 0.70) < 0.03
    assert abs(shares["val"] - 0.15) < 0.03 and abs(shares["test"] - 0.15) < 0.03
