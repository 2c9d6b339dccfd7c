"""Hounsfield units ↔ network values.

GAN space: HU clipped to ``[low, high]`` (default −1024..1024) and scaled linearly to [−1, 1].
With the default window the scale is 1/1024, a power of two, so for every integer HU inside the
window ``network_to_hu(hu_to_network(hu)) == hu`` exactly; generated values are rounded to the
nearest integer HU, the same quantisation as real patches.

Classifier input: one channel per radiological window (lung, mediastinal, bone), each clipped
and scaled to [−1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HUWindow:
    """A display window: HU below ``low`` or above ``high`` are clipped."""

    low: float
    high: float

    @classmethod
    def from_level(cls, level: float, width: float) -> HUWindow:
        return cls(level - width / 2, level + width / 2)

    @property
    def centre(self) -> float:
        return (self.low + self.high) / 2

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


GAN_WINDOW = HUWindow(-1024.0, 1024.0)
CLASSIFIER_WINDOWS: dict[str, HUWindow] = {
    "lung": HUWindow.from_level(-600, 1500),
    "mediastinal": HUWindow.from_level(40, 350),
    "bone": HUWindow.from_level(300, 2000),
}
AIR_HU = -1000


def hu_to_network(hu: np.ndarray, window: HUWindow = GAN_WINDOW) -> np.ndarray:
    """(…) int16 HU → (…) float32 in [−1, 1]."""
    clipped = np.clip(hu.astype(np.float32), window.low, window.high)
    return ((clipped - window.centre) / window.half_width).astype(np.float32)


def network_to_hu(x: np.ndarray, window: HUWindow = GAN_WINDOW) -> np.ndarray:
    """(…) float in [−1, 1] → (…) int16 HU, rounded to the nearest integer and clipped."""
    hu = np.asarray(x, dtype=np.float64) * window.half_width + window.centre
    return np.clip(np.rint(hu), window.low, window.high).astype(np.int16)


def window_channels(hu: np.ndarray, windows: tuple[str, ...]) -> np.ndarray:
    """(N, H, W) int16 HU → (N, C, H, W) float32, one [−1, 1] channel per named window."""
    return np.stack([hu_to_network(hu, CLASSIFIER_WINDOWS[name]) for name in windows], axis=1)
