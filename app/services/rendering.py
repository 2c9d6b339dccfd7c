"""HU patches → windowed 8-bit PNGs, the same bytes for the same pixels (no metadata).

The reader study reuses this, so real and generated patches are encoded identically.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

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
