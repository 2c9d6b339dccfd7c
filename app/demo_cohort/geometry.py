"""Rasterising helpers: local pixel windows, anti-aliased disks, capsules and blobs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    """A clipped rectangle of an image with pixel-centre coordinates for each pixel."""

    rows: slice
    cols: slice
    x: np.ndarray  # column coordinate of every pixel, shape (h, w)
    y: np.ndarray  # row coordinate of every pixel

    @property
    def index(self) -> tuple[slice, slice]:
        return self.rows, self.cols


def window(shape: tuple[int, ...], cx: float, cy: float, half: float) -> Window | None:
    """The part of an image of SHAPE within HALF pixels of (CX, CY), or None if empty."""
    r0, r1 = max(int(np.floor(cy - half)), 0), min(int(np.ceil(cy + half)) + 1, shape[0])
    c0, c1 = max(int(np.floor(cx - half)), 0), min(int(np.ceil(cx + half)) + 1, shape[1])
    if r0 >= r1 or c0 >= c1:
        return None
    y, x = np.mgrid[r0:r1, c0:c1].astype(np.float32)
    return Window(slice(r0, r1), slice(c0, c1), x, y)


def coverage(signed: np.ndarray, width: float) -> np.ndarray:
    """Pixel coverage from a signed distance (positive inside) with an edge WIDTH in px."""
    return np.clip(signed / max(width, 1e-3) + 0.5, 0.0, 1.0)


def capsule(w: Window, p0: tuple[float, float], p1: tuple[float, float], r0: float, r1: float):
    """Coverage of a tapering capsule from P0 (radius R0) to P1 (radius R1), in pixels.

    Lines thinner than a pixel get a proportionally lower peak, as partial volume does.
    """
    vx, vy = p1[0] - p0[0], p1[1] - p0[1]
    length2 = vx * vx + vy * vy + 1e-9
    t = np.clip(((w.x - p0[0]) * vx + (w.y - p0[1]) * vy) / length2, 0.0, 1.0)
    d = np.hypot(w.x - (p0[0] + t * vx), w.y - (p0[1] + t * vy))
    r = r0 + t * (r1 - r0)
    return np.clip(np.minimum(r - d + 0.5, 2.0 * r), 0.0, 1.0)


def disk(w: Window, cx: float, cy: float, r: float) -> np.ndarray:
    """Anti-aliased disk coverage."""
    return capsule(w, (cx, cy), (cx, cy), r, r)


def ellipse(
    w: Window, cx: float, cy: float, a: float, b: float, angle: float = 0.0, edge: float = 1.0
) -> np.ndarray:
    """Coverage of an ellipse with semi-axes A, B (px) rotated by ANGLE (radians)."""
    c, s = np.cos(angle), np.sin(angle)
    u = (w.x - cx) * c + (w.y - cy) * s
    v = -(w.x - cx) * s + (w.y - cy) * c
    q = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    return coverage((1.0 - q) * min(a, b), edge)


def blob(
    w: Window,
    cx: float,
    cy: float,
    radius: float,
    harmonics: list[tuple[int, float, float]],
    edge: float = 1.0,
) -> np.ndarray:
    """Coverage of a star-shaped blob r(θ) = R·(1 + Σ a·cos(kθ + φ)) for (k, a, φ)."""
    dx, dy = w.x - cx, w.y - cy
    theta = np.arctan2(dy, dx)
    r = np.full_like(theta, radius)
    for k, amp, phase in harmonics:
        r += radius * amp * np.cos(k * theta + phase)
    return coverage(r - np.hypot(dx, dy), edge)


def random_harmonics(
    rng: np.random.Generator, orders: tuple[int, ...], amplitude: float
) -> list[tuple[int, float, float]]:
    """Random contour harmonics, each with amplitude up to AMPLITUDE."""
    return [
        (k, float(rng.uniform(0.3, 1.0) * amplitude), float(rng.uniform(0, 2 * np.pi)))
        for k in orders
    ]


def paint(img: np.ndarray, w: Window, alpha: np.ndarray, value: float | np.ndarray) -> None:
    """Alpha-blend VALUE (HU) into IMG over window W."""
    region = img[w.index]
    region += alpha * (value - region)


def raise_floor(img: np.ndarray, w: Window, alpha: np.ndarray, level: float | np.ndarray) -> None:
    """Raise IMG towards LEVEL where it is lower (haze that keeps denser structures visible)."""
    region = img[w.index]
    region += alpha * np.maximum(level - region, 0.0)
