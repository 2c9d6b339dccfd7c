"""The ten labels as drawings into an axial slice.

Each sign is a `Sign`: a size sampler (the lesion's main radius in mm), how far its drawing
reaches from its anchor (for placement), where it may sit relative to the pleura, and a
`draw(slice, x, y, size_mm, rng) -> Roi` that paints it in HU around the anchor (x = column,
y = row, pixels) and returns the region of interest an annotator would mark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.demo_cohort.anatomy import AIR, BLOOD, Slice
from app.demo_cohort.geometry import (
    Window,
    blob,
    capsule,
    coverage,
    disk,
    paint,
    raise_floor,
    random_harmonics,
    window,
)
from app.demo_cohort.noise import smooth_field

SOLID = (15.0, 45.0)  # HU range of solid lesions (soft tissue, unenhanced)


@dataclass(frozen=True)
class Roi:
    """An annotated region: centre (column, row) and size in pixels."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Sign:
    """How to size, place and draw one label."""

    code: str
    size_mm: tuple[float, float]  # main radius range
    reach: float  # drawing extent from the anchor, in units of the radius
    draw: Callable[[Slice, float, float, float, np.random.Generator], Roi]
    depth: float = 1.2  # lung depth needed at the anchor, in radii
    pleura: Callable[[float], tuple[float, float]] | None = None  # size → anchor-pleura mm
    min_lung_fraction: float = 0.55  # of the patch window around the anchor
    max_dense_fraction: float = 1.0  # of the patch window denser than −300 HU (vessels etc.)
    echo: bool = True  # also drawn, smaller, on the neighbouring slices


def _pli_pleura(size: float) -> tuple[float, float]:
    return size + 5.0, size + 12.0


def _obp_pleura(size: float) -> tuple[float, float]:
    return 0.45 * size, 0.6 * size


def _win(s: Slice, x: float, y: float, half_px: float) -> Window:
    w = window(s.hu.shape, x, y, half_px)
    if w is None:
        raise ValueError("finding outside the image")
    return w


def _lung(s: Slice, w: Window, grow_px: int = 0) -> np.ndarray:
    """The lung mask (optionally grown towards the pleura) as float over window W."""
    from scipy import ndimage

    mask = s.lung[w.index]
    if grow_px:
        mask = ndimage.binary_dilation(mask, iterations=grow_px) & s.cavity[w.index]
    return mask.astype(np.float32)


def _solid(rng: np.random.Generator, w: Window, s: Slice) -> np.ndarray:
    """Soft-tissue density with a faint internal texture."""
    return float(rng.uniform(*SOLID)) + smooth_field(rng, w.x.shape, s.mm(1.2), 7.0)


def _roi(alpha: np.ndarray, w: Window, fallback: tuple[float, float]) -> Roi:
    """Bounding box of the drawn opacity, centred on its box."""
    rows, cols = np.nonzero(alpha > 0.5)
    if rows.size == 0:
        return Roi(fallback[0], fallback[1], 1.0, 1.0)
    r0, r1 = rows.min() + w.rows.start, rows.max() + w.rows.start
    c0, c1 = cols.min() + w.cols.start, cols.max() + w.cols.start
    return Roi((c0 + c1) / 2, (r0 + r1) / 2, float(c1 - c0 + 1), float(r1 - r0 + 1))


def _vessel(s: Slice, w: Window, x, y, rng, length_px, radius_px) -> np.ndarray:
    """Coverage of a vessel segment crossing (x, y) at a random angle."""
    a = rng.uniform(0, np.pi)
    off = rng.uniform(-0.4, 0.4, 2) * length_px
    dx, dy = np.cos(a) * length_px, np.sin(a) * length_px
    p0 = (x + off[0] - dx, y + off[1] - dy)
    p1 = (x + off[0] + dx, y + off[1] + dy)
    return capsule(w, p0, p1, radius_px, radius_px * rng.uniform(0.4, 0.7))


def draw_ggo(s: Slice, x: float, y: float, size: float, rng: np.random.Generator) -> Roi:
    """Ground-glass opacity: hazy −650…−400 HU patch with soft margins; vessels show through."""
    r = s.mm(size)
    w = _win(s, x, y, 1.5 * r + 2)
    lung = _lung(s, w)
    for _ in range(int(rng.integers(1, 3))):
        vessel = _vessel(s, w, x, y, rng, 0.8 * r, s.mm(rng.uniform(0.5, 1.1)))
        paint(s.hu, w, vessel * lung, BLOOD)
    harmonics = random_harmonics(rng, (2, 3, 5), 0.18)
    alpha = blob(w, x, y, r, harmonics, edge=0.35 * r) * lung
    level = rng.uniform(-640.0, -430.0) + smooth_field(rng, w.x.shape, s.mm(2.0), 30.0)
    raise_floor(s.hu, w, alpha, level)
    return _roi(alpha, w, (x, y))


def draw_lob(s: Slice, x: float, y: float, size: float, rng: np.random.Generator) -> Roi:
    """Lobulation: solid nodule whose contour is a chain of rounded bulges with notches."""
    r = s.mm(size)
    w = _win(s, x, y, 1.4 * r + 2)
    alpha = disk(w, x, y, 0.62 * r)
    lobes = int(rng.integers(4, 8))
    start = rng.uniform(0, 2 * np.pi)
    for i in range(lobes):
        a = start + 2 * np.pi * i / lobes + rng.uniform(-0.25, 0.25)
        d = r * rng.uniform(0.55, 0.7)
        rho = r * rng.uniform(0.36, 0.46)
        np.maximum(alpha, disk(w, x + d * np.cos(a), y + d * np.sin(a), rho), out=alpha)
    alpha *= _lung(s, w)
    paint(s.hu, w, alpha, _solid(rng, w, s))
    return _roi(alpha, w, (x, y))


def draw_cal(s: Slice, x: float, y: float, size: float, rng: np.random.Generator) -> Roi:
    """Calcification: smooth nodule with a dense calcified core, popcorn foci, or fully dense."""
    r = s.mm(size)
    w = _win(s, x, y, 1.2 * r + 2)
    lung = _lung(s, w)
    dense = float(rng.uniform(500.0, 950.0))  # stays inside the GAN window (±1024 HU)
    kind = rng.choice(["full", "central", "popcorn"], p=[0.3, 0.4, 0.3])
    if kind == "full":
        r = max(0.6 * r, s.mm(3.0), 2.5)
    alpha = blob(w, x, y, r, random_harmonics(rng, (2, 3), 0.06)) * lung
    paint(s.hu, w, alpha, _solid(rng, w, s))
    if kind == "full":
        paint(s.hu, w, blob(w, x, y, r, random_harmonics(rng, (2,), 0.05)) * lung, dense)
    elif kind == "central":
        core = max(r * rng.uniform(0.35, 0.6), s.mm(2.0), 2.0)
        off = rng.uniform(-0.15, 0.15, 2) * r
        paint(s.hu, w, disk(w, x + off[0], y + off[1], core) * lung, dense)
    else:
        for _ in range(int(rng.integers(3, 7))):
            a, d = rng.uniform(0, 2 * np.pi), rng.uniform(0, 0.55) * r
            focus = max(s.mm(rng.uniform(1.2, 2.2)), 1.6)
            paint(
                s.hu,
                w,
                disk(w, x + d * np.cos(a), y + d * np.sin(a), focus) * lung,
                dense * rng.uniform(0.8, 1.0),
            )
    return _roi(alpha, w, (x, y))


def draw_cav(s: Slice, x: float, y: float, size: float, rng: np.random.Generator) -> Roi:
    """Cavity (air inside a thick irregular solid wall) or vacuoles (air bubbles in a nodule)."""
    r = s.mm(size)
    w = _win(s, x, y, 1.4 * r + 2)
    lung = _lung(s, w)
    contour = random_harmonics(rng, (2, 3, 4), 0.14)
    alpha = blob(w, x, y, r, contour) * lung
    paint(s.hu, w, alpha, _solid(rng, w, s))
    if rng.random() < 0.6:
        inner = r * rng.uniform(0.4, 0.65)
        off = rng.uniform(-0.2, 0.2, 2) * r
        air = blob(w, x + off[0], y + off[1], inner, random_harmonics(rng, (2, 3, 5), 0.15))
        air *= blob(w, x, y, 0.75 * r, contour)  # the wall stays closed
        paint(s.hu, w, air, AIR + rng.uniform(0.0, 40.0))
        if rng.random() < 0.25:  # air-fluid level: dependent fluid, flat horizontal surface
            fluid_top = y + off[1] + inner * rng.uniform(0.0, 0.4)
            paint(s.hu, w, air * coverage(w.y - fluid_top, 1.0), rng.uniform(5.0, 20.0))
    else:
        for _ in range(int(rng.integers(2, 6))):
            a, d = rng.uniform(0, 2 * np.pi), rng.uniform(0, 0.5) * r
            bubble = max(s.mm(rng.uniform(1.8, 3.0)), 2.2)
            paint(s.hu, w, disk(w, x + d * np.cos(a), y + d * np.sin(a), bubble), AIR + 20.0)
    return _roi(alpha, w, (x, y))


def draw_spi(s: Slice, x: float, y: float, size: float, rng: np.random.Generator) -> Roi:
    """Spiculation: solid nodule with thin tapering spicules radiating into the lung."""
    r = s.mm(size)
    w = _win(s, x, y, 2.8 * r + 2)
    alpha = blob(w, x, y, r, random_harmonics(rng, (3, 5, 7), 0.07))
    n = int(rng.integers(8, 16))
    start = rng.uniform(0, 2 * np.pi)
    for i in range(n):
        a = start + 2 * np.pi * i / n + rng.uniform(-0.2, 0.2)
        length = r * rng.uniform(0.7, 1.7)
        bend = rng.uniform(-0.25, 0.25)
        p0 = (x + 0.8 * r * np.cos(a), y + 0.8 * r * np.sin(a))
        mid = (
            x + (r + 0.5 * length) * np.cos(a + bend * 0.3),
            y + (r + 0.5 * length) * np.sin(a + bend * 0.3),
        )
        p1 = (x + (r + length) * np.cos(a + bend), y + (r + length) * np.sin(a + bend))
        base = max(s.mm(rng.uniform(0.9, 1.5)), 1.0)
        np.maximum(alpha, capsule(w, p0, mid, base, 0.6 * base), out=alpha)
        np.maximum(alpha, capsule(w, mid, p1, 0.6 * base, 0.25 * base), out=alpha)
    alpha *= _lung(s, w)
    paint(s.hu, w, alpha, _solid(rng, w, s))
    return _roi(blob(w, x, y, r, []) * 1.0, w, (x, y))


def draw_pli(s: Slice, x: float, y: float, size: float, rng: np.random.Generator) -> Roi:
    """Pleural indentation: nodule near the chest wall tethered to a pleura pulled inwards."""
    r = s.mm(size)
    _, index = s.pleura()
    qy, qx = (float(v) for v in index[:, round(y), round(x)])
    dist = float(np.hypot(qx - x, qy - y)) or 1.0
    ux, uy = (qx - x) / dist, (qy - y) / dist  # towards the pleura
    cx, cy = (x + qx) / 2, (y + qy) / 2
    w = _win(s, cx, cy, dist / 2 + 1.4 * r + s.mm(6.0))
    alpha = blob(w, x, y, r, random_harmonics(rng, (2, 3, 5), 0.1)) * _lung(s, w)
    tags = int(rng.integers(1, 3))
    for i in range(tags):
        spread = (i - (tags - 1) / 2) * rng.uniform(0.25, 0.45)
        ex = qx + s.mm(3.0) * ux - spread * uy * s.mm(6.0)
        ey = qy + s.mm(3.0) * uy + spread * ux * s.mm(6.0)
        width = max(s.mm(rng.uniform(0.7, 1.3)), 1.2)
        np.maximum(
            alpha,
            capsule(w, (x + 0.8 * r * ux, y + 0.8 * r * uy), (ex, ey), width * 1.3, width),
            out=alpha,
        )
    # The retracted pleura: a small soft-tissue triangle whose apex points at the nodule.
    depth, half_base = s.mm(rng.uniform(2.5, 4.5)), s.mm(rng.uniform(3.0, 5.0))
    along = (w.x - qx) * -ux + (w.y - qy) * -uy  # distance from the pleura into the lung
    across = np.abs((w.x - qx) * -uy + (w.y - qy) * ux)
    tent = coverage(np.minimum(depth - along, half_base * (1 - along / depth) - across), 1.0)
    np.maximum(alpha, tent * (along > -s.mm(4.0)), out=alpha)
    alpha *= _lung(s, w, grow_px=int(s.mm(3.0)) + 1)
    paint(s.hu, w, alpha, _solid(rng, w, s))
    return _roi(alpha, w, (cx, cy))


def draw_aib(s: Slice, x: float, y: float, size: float, rng: np.random.Generator) -> Roi:
    """Air bronchogram: consolidation with branching air-filled bronchi running through it."""
    r = s.mm(size)
    w = _win(s, x, y, 1.4 * r + 2)
    alpha = blob(w, x, y, r, random_harmonics(rng, (2, 3, 4), 0.14), edge=s.mm(1.5))
    alpha *= _lung(s, w)
    paint(s.hu, w, alpha, _solid(rng, w, s))
    a = rng.uniform(0, 2 * np.pi)
    start = (x - 1.1 * r * np.cos(a), y - 1.1 * r * np.sin(a))
    air = np.zeros_like(alpha)
    _bronchus(air, w, rng, start, a, 1.0 * r, max(s.mm(rng.uniform(1.5, 2.5)), 2.0), 0)
    paint(s.hu, w, air * alpha, AIR + rng.uniform(20.0, 80.0))
    return _roi(alpha, w, (x, y))


def _bronchus(air, w, rng, start, angle, length, radius, depth) -> None:
    """An air-filled bronchus that forks twice, tapering gently."""
    end = (start[0] + length * np.cos(angle), start[1] + length * np.sin(angle))
    np.maximum(air, capsule(w, start, end, radius, radius * 0.85), out=air)
    if depth >= 2:
        return
    for sign in (-1, 1):
        spread = sign * np.deg2rad(rng.uniform(18.0, 35.0))
        _bronchus(
            air,
            w,
            rng,
            end,
            angle + spread,
            length * rng.uniform(0.45, 0.65),
            max(radius * 0.75, 1.0),
            depth + 1,
        )


Segment = tuple[tuple[float, float], tuple[float, float], float]  # p0, p1, radius


def _gap(a: Segment, b: Segment) -> float:
    """Approximate clearance between two capsules (negative when they overlap)."""
    t = np.linspace(0.0, 1.0, 9)[:, None]
    pa = np.asarray(a[0]) + t * (np.asarray(a[1]) - np.asarray(a[0]))
    pb = np.asarray(b[0]) + t * (np.asarray(b[1]) - np.asarray(b[0]))
    d = np.hypot(*(pa[:, None, :] - pb[None, :, :]).transpose(2, 0, 1))
    return float(d.min()) - a[2] - b[2]


def draw_bre(s: Slice, x: float, y: float, size: float, rng: np.random.Generator) -> Roi:
    """Bronchiectasis: dilated thick-walled bronchi, larger than their artery (signet ring),
    seen end-on as rings and in-plane as non-tapering tram tracks."""
    r = s.mm(size)
    w = _win(s, x, y, 1.5 * r + 2)
    lung = _lung(s, w)
    wall = np.zeros_like(lung)
    lumen = np.zeros_like(lung)
    artery = np.zeros_like(lung)
    placed: list[Segment] = []
    for i in range(int(rng.integers(2, 5))):
        inner = s.mm(rng.uniform(2.5, 5.0))
        outer = inner + max(s.mm(rng.uniform(0.9, 1.6)), 1.2)
        ar = outer * rng.uniform(0.35, 0.6)
        tram = i > 0 and rng.random() < 0.35  # the first is always seen end-on
        half = s.mm(rng.uniform(5.0, 8.0)) if tram else 0.0
        for _try in range(20):
            a, d = rng.uniform(0, 2 * np.pi), rng.uniform(0, 0.9) * r
            bx, by = x + d * np.cos(a), y + d * np.sin(a)
            t = rng.uniform(0, np.pi)
            p0 = (bx - half * np.cos(t), by - half * np.sin(t))
            p1 = (bx + half * np.cos(t), by + half * np.sin(t))
            footprint = (p0, p1, outer + (0 if tram else 2 * ar))
            if all(_gap(footprint, other) > 2 for other in placed):
                break
        else:
            continue
        placed.append(footprint)
        np.maximum(wall, capsule(w, p0, p1, outer, outer), out=wall)
        np.maximum(lumen, capsule(w, p0, p1, inner, inner), out=lumen)
        if not tram:
            t = rng.uniform(0, 2 * np.pi)
            sx, sy = bx + (outer + ar) * np.cos(t), by + (outer + ar) * np.sin(t)
            np.maximum(artery, disk(w, sx, sy, ar), out=artery)
    paint(s.hu, w, wall * lung, rng.uniform(*SOLID))
    paint(s.hu, w, lumen * lung, AIR + rng.uniform(10.0, 50.0))
    paint(s.hu, w, artery * lung, BLOOD)
    return _roi(np.maximum(wall, artery) * lung, w, (x, y))


def draw_obp(s: Slice, x: float, y: float, size: float, rng: np.random.Generator) -> Roi:
    """Obstructive pneumonia: segmental wedge of consolidation, base on the pleura, apex at a
    central obstructing mass with an abruptly cut-off bronchus."""
    length = s.mm(size)
    _, index = s.pleura()
    qy, qx = (float(v) for v in index[:, round(y), round(x)])
    dist = float(np.hypot(qx - x, qy - y)) or 1.0
    ux, uy = (x - qx) / dist, (y - qy) / dist  # from the pleura inwards
    while length > s.mm(12.0):
        ax, ay = qx + length * ux, qy + length * uy
        if s.lung[round(ay), round(ax)]:
            break
        length *= 0.9
    ax, ay = qx + length * ux, qy + length * uy
    cx, cy = (qx + ax) / 2, (qy + ay) / 2
    w = _win(s, cx, cy, 0.75 * length + s.mm(8.0))
    vx, vy = w.x - ax, w.y - ay  # from the apex
    along = -(vx * ux + vy * uy)
    across = -vx * uy + vy * ux  # signed: the two sides of the wedge differ
    sides = []
    for side in (1.0, -1.0):
        slope = np.tan(np.deg2rad(rng.uniform(16.0, 28.0)))
        wave = 1.0 + 0.15 * np.sin(along / s.mm(rng.uniform(5.0, 9.0)) + rng.uniform(0, 6.3))
        sides.append(coverage(along * slope * wave - side * across, s.mm(1.5)))
    edge = np.minimum(sides[0], sides[1])
    wedge = edge * coverage(along, 1.0) * _lung(s, w, grow_px=int(s.mm(2.0)) + 1)
    paint(s.hu, w, wedge, _solid(rng, w, s))
    mass_r = s.mm(rng.uniform(4.0, 7.0))
    mass = blob(w, ax, ay, mass_r, random_harmonics(rng, (2, 3), 0.12)) * _lung(s, w)
    paint(s.hu, w, mass, rng.uniform(*SOLID))
    # Cut-off bronchus approaching the mass from the hilar side.
    bl = s.mm(rng.uniform(7.0, 12.0))
    b0 = (ax + (mass_r + bl) * ux, ay + (mass_r + bl) * uy)
    b1 = (ax + 0.8 * mass_r * ux, ay + 0.8 * mass_r * uy)
    lumen = max(s.mm(rng.uniform(1.5, 2.2)), 1.5)
    lung = _lung(s, w)
    paint(s.hu, w, capsule(w, b0, b1, lumen + max(s.mm(1.0), 1.0), lumen) * lung, 30.0)
    paint(s.hu, w, capsule(w, b0, b1, lumen, lumen) * lung * (1 - mass), AIR + 30.0)
    return _roi(np.maximum(wedge, mass), w, (cx, cy))


def draw_nor(s: Slice, x: float, y: float, size: float, rng: np.random.Generator) -> Roi:
    """Normal tissue: nothing is drawn; the ROI is plain parenchyma with its vessels."""
    r = s.mm(size)
    return Roi(x, y, 2 * r, 2 * r)


SIGNS: dict[str, Sign] = {
    sign.code: sign
    for sign in (
        Sign("GGO", (8.0, 15.0), 1.4, draw_ggo),
        Sign("LOB", (7.0, 12.0), 1.25, draw_lob),
        Sign("CAL", (4.0, 9.0), 1.15, draw_cal, depth=1.1),
        Sign("CAV", (9.0, 15.0), 1.25, draw_cav),
        Sign("SPI", (5.0, 8.5), 2.8, draw_spi, depth=1.6),
        Sign("PLI", (5.0, 8.0), 3.0, draw_pli, depth=1.0, pleura=_pli_pleura),
        Sign("AIB", (12.0, 17.0), 1.3, draw_aib),
        Sign("BRE", (9.0, 13.0), 1.5, draw_bre, depth=1.4),
        Sign("OBP", (22.0, 34.0), 0.8, draw_obp, depth=0.25, pleura=_obp_pleura),
        Sign(
            "NOR",
            (10.0, 12.0),
            1.0,
            draw_nor,
            depth=0.5,
            min_lung_fraction=0.95,
            max_dense_fraction=0.1,
            echo=False,
        ),
    )
}
LABELS: tuple[str, ...] = tuple(SIGNS)
