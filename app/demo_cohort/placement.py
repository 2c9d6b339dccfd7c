"""Where findings go: inside the lung, at the depth or pleural distance a sign needs, and far
enough from every other finding that no 64×64 patch shows two of them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from app.demo_cohort.anatomy import Slice, inside_distance
from app.demo_cohort.signs import Sign

HILUM_CLEAR_MM = 30.0


@dataclass(frozen=True)
class Spot:
    """A placed finding's anchor and reach (pixels)."""

    x: float
    y: float
    reach: float


class Placer:
    """Placement maps of one slice, computed once."""

    def __init__(self, s: Slice, patch_px: int) -> None:
        self.slice = s
        self.patch_px = patch_px
        self.lung_depth = inside_distance(s.lung)
        self.pleura_dist = s.pleura()[0]
        self.lung_fraction = ndimage.uniform_filter(s.lung.astype(np.float32), patch_px)
        size = s.lung.shape[0]
        self.rows, self.cols = np.mgrid[0:size, 0:size]

    def dense_fraction(self) -> np.ndarray:
        """Share of each patch window denser than −300 HU, as drawn so far."""
        dense = (self.slice.hu > -300).astype(np.float32)
        return ndimage.uniform_filter(dense, self.patch_px)

    def place(
        self, rng: np.random.Generator, sign: Sign, size_mm: float, taken: list[Spot]
    ) -> Spot | None:
        """A random anchor for SIGN of SIZE_MM clear of TAKEN, or None when none fits."""
        s = self.slice
        radius = s.mm(size_mm)
        ok = s.lung & (self.lung_fraction >= sign.min_lung_fraction)
        if sign.max_dense_fraction < 1.0:
            ok &= self.dense_fraction() <= sign.max_dense_fraction
        ok &= self.lung_depth >= sign.depth * radius
        if sign.pleura is not None:
            lo, hi = sign.pleura(size_mm)
            ok &= (self.pleura_dist >= s.mm(lo)) & (self.pleura_dist <= s.mm(hi))
        reach = max(radius * sign.reach, radius)
        margin = self.patch_px / 2 + 2
        for hx, hy in s.hila:  # keep clear of the large hilar vessels
            clear = reach + s.mm(HILUM_CLEAR_MM)
            ok &= (self.cols - hx) ** 2 + (self.rows - hy) ** 2 >= clear * clear
        for spot in taken:
            clear = margin + max(reach, spot.reach)
            ok &= (self.cols - spot.x) ** 2 + (self.rows - spot.y) ** 2 >= clear * clear
        candidates = np.flatnonzero(ok)
        if candidates.size == 0:
            return None
        row, col = divmod(int(candidates[rng.integers(candidates.size)]), ok.shape[1])
        return Spot(float(col), float(row), reach)
