"""Windowing HU to 8 bits and deterministic PNG encoding."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from app.services.datasets.rendering import WINDOWS, patch_png, png_bytes, window_to_uint8


def test_window_maps_edges_and_clips() -> None:
    hu = np.array([[-1350, -600, 150, 3000, -3000]], dtype=np.int16)
    assert window_to_uint8(hu, *WINDOWS["lung"]).tolist() == [[0, 128, 255, 255, 0]]
    assert window_to_uint8(np.array([40]), *WINDOWS["mediastinal"]).tolist() == [128]


def test_png_is_deterministic_8_bit_without_metadata() -> None:
    gray = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    data = png_bytes(gray)
    assert data == png_bytes(gray.copy())
    image = Image.open(io.BytesIO(data))
    assert image.mode == "L" and not image.info.keys() - {"dpi"}
    assert b"tEXt" not in data and b"iTXt" not in data and b"tIME" not in data
    assert np.array_equal(np.asarray(image), gray)


def test_presets_render_differently() -> None:
    hu = np.linspace(-1000, 400, 64 * 64).astype("<i2").reshape(64, 64)
    lung = patch_png(hu.tobytes(), 64, 64, "lung")
    mediastinal = patch_png(hu.tobytes(), 64, 64, "mediastinal")
    assert lung != mediastinal
