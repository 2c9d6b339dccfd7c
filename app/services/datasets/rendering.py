"""HU patches → windowed 8-bit PNGs, the same bytes for the same pixels (no metadata).

The reader study reuses this, so real and generated patches are encoded identically.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

WINDOWS: dict[str, tuple[float, float]] = {  # name → (width, level) in HU
    "lung": (1500.0, -600.0),
    "mediastinal": (350.0, 40.0),
}


def window_to_uint8(hu: np.ndarray, width: float, level: float) -> np.ndarray:
    """Linear window: level − width/2 → 0, level + width/2 → 255, clipped."""
    low = level - width / 2.0
    scaled = (hu.astype(np.float64) - low) * (255.0 / width)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def png_bytes(gray: np.ndarray) -> bytes:
    """An 8-bit grayscale PNG with fixed settings and no text chunks."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(gray, dtype=np.uint8), mode="L").save(
        buffer, format="PNG", optimize=False, compress_level=6
    )
    return buffer.getvalue()


def patch_png(pixels: bytes, height: int, width: int, window: str) -> bytes:
    """A stored patch (little-endian int16 bytes) as a PNG in the named window."""
    hu = np.frombuffer(pixels, dtype="<i2").reshape(height, width)
    return png_bytes(window_to_uint8(hu, *WINDOWS[window]))


def sample_sheet(
    rows: list[tuple[str, np.ndarray, np.ndarray]], window: str = "lung", gap: int = 6
) -> bytes:
    """A PNG with one row per label: its name, real patches, a gap, generated patches.

    ``rows`` holds (label, real (R, S, S), generated (G, S, S)) int16 HU; all in one window.
    """
    size = max(int(a.shape[-1]) for _, r, g in rows for a in (r, g) if len(a))
    n_real = max(len(r) for _, r, _ in rows)
    n_fake = max(len(g) for _, _, g in rows)
    left = 40
    sheet = np.full((len(rows) * size, left + (n_real + n_fake) * size + gap), 255, np.uint8)
    width, level = WINDOWS[window]
    for i, (_, real, generated) in enumerate(rows):
        placed = [(left + j * size, patch) for j, patch in enumerate(real)]
        placed += [(left + gap + (n_real + j) * size, patch) for j, patch in enumerate(generated)]
        for x, patch in placed:
            sheet[i * size : (i + 1) * size, x : x + size] = window_to_uint8(patch, width, level)
    image = Image.fromarray(sheet, mode="L")
    draw = ImageDraw.Draw(image)
    for i, (label, _, _) in enumerate(rows):
        draw.text((4, i * size + size // 2 - 5), label, fill=0)
    return png_bytes(np.asarray(image))
