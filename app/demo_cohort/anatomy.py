"""Axial chest anatomy in Hounsfield units: body wall, bones, mediastinum, lungs and vessels.

Geometry is in millimetres around the image centre (x to the image right = patient left,
y downwards = posterior); `Thorax` holds one patient's proportions, `draw_slice` renders one
axial level of it, lungs and vessel tree freshly drawn per slice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from app.demo_cohort.geometry import Window, capsule, disk, ellipse, paint, window
from app.demo_cohort.noise import smooth_field

AIR, FAT, MUSCLE, BLOOD, CSF = -1000.0, -95.0, 45.0, 40.0, 10.0
LUNG = -860.0  # anterior (non-dependent) parenchyma; dependent lung is up to ~45 HU denser


@dataclass(frozen=True)
class Thorax:
    """One patient's body proportions (mm) and tissue values (HU)."""

    fov_mm: float
    body_a: float
    body_b_ant: float
    body_b_post: float
    body_y: float
    exponent: float
    fat_mm: float
    wall_lat: float
    wall_ant: float
    wall_post: float
    mediastinum_half: float
    heart_x: float
    heart_y: float
    heart_a: float
    heart_b: float
    heart_angle: float
    vertebra_r: float
    aorta_r: float
    bone_cortex: float
    bone_marrow: float
    lung_hu: float

    @staticmethod
    def sample(rng: np.random.Generator) -> Thorax:
        """Random adult proportions."""
        fov = float(rng.uniform(340.0, 380.0))
        b_ant = float(rng.uniform(95.0, 115.0))
        return Thorax(
            fov_mm=fov,
            body_a=float(min(rng.uniform(140.0, 165.0), 0.45 * fov)),
            body_b_ant=b_ant,
            body_b_post=b_ant + float(rng.uniform(0.0, 10.0)),
            body_y=float(rng.uniform(0.0, 12.0)),
            exponent=float(rng.uniform(2.2, 2.8)),
            fat_mm=float(rng.uniform(6.0, 20.0)),
            wall_lat=float(rng.uniform(16.0, 24.0)),
            wall_ant=float(rng.uniform(18.0, 26.0)),
            wall_post=float(rng.uniform(26.0, 34.0)),
            mediastinum_half=float(rng.uniform(16.0, 22.0)),
            heart_x=float(rng.uniform(12.0, 24.0)),
            heart_y=float(rng.uniform(-28.0, -12.0)),
            heart_a=float(rng.uniform(48.0, 60.0)),
            heart_b=float(rng.uniform(38.0, 48.0)),
            heart_angle=float(np.deg2rad(rng.uniform(20.0, 40.0))),
            vertebra_r=float(rng.uniform(15.0, 18.0)),
            aorta_r=float(rng.uniform(10.0, 13.0)),
            bone_cortex=float(rng.uniform(700.0, 950.0)),
            bone_marrow=float(rng.uniform(180.0, 300.0)),
            lung_hu=LUNG + float(rng.uniform(-15.0, 15.0)),
        )


@dataclass
class Slice:
    """One rendered axial slice before blur and noise."""

    hu: np.ndarray  # float32 HU
    lung: np.ndarray  # bool, lung parenchyma
    cavity: np.ndarray  # bool, inside the costal pleura (lungs + mediastinum)
    spacing: float  # mm per pixel
    hila: list[tuple[float, float]] = field(default_factory=list)  # (column, row)
    _pleura: tuple[np.ndarray, np.ndarray] | None = None

    def pleura(self) -> tuple[np.ndarray, np.ndarray]:
        """Distance (px) of every pixel to the costal pleura, and the nearest pleural pixel."""
        if self._pleura is None:
            self._pleura = inside_distance(self.cavity, with_nearest=True)
        return self._pleura

    def mm(self, value: float) -> float:
        """Millimetres to pixels."""
        return value / self.spacing


def inside_distance(mask: np.ndarray, with_nearest: bool = False):
    """Distance (px) from each pixel of MASK to the nearest pixel outside it (0 outside),
    and with WITH_NEAREST that pixel's (row, col) indices; computed on MASK's bounding box."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        dist = np.zeros(mask.shape)
        index = np.indices(mask.shape)
        return (dist, index) if with_nearest else dist
    r0, r1 = max(rows[0] - 1, 0), min(rows[-1] + 2, mask.shape[0])
    c0, c1 = max(cols[0] - 1, 0), min(cols[-1] + 2, mask.shape[1])
    crop = mask[r0:r1, c0:c1]
    dist = np.zeros(mask.shape)
    if not with_nearest:
        dist[r0:r1, c0:c1] = ndimage.distance_transform_edt(crop)
        return dist
    inner, nearest = ndimage.distance_transform_edt(crop, return_indices=True)
    dist[r0:r1, c0:c1] = inner
    index = np.indices(mask.shape)
    index[0, r0:r1, c0:c1] = nearest[0] + r0
    index[1, r0:r1, c0:c1] = nearest[1] + c0
    return dist, index


def _grid(size: int, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Millimetre coordinates (x, y) of every pixel centre."""
    axis = (np.arange(size, dtype=np.float32) - size / 2 + 0.5) * spacing
    return axis[None, :].repeat(size, 0), axis[:, None].repeat(size, 1)


def _superellipse(x, y, cy, a, b_ant, b_post, p) -> np.ndarray:
    """Inside test of a superellipse with a flatter back (different b for y > cy)."""
    b = np.where(y < cy, b_ant, b_post)
    return (np.abs(x / a) ** p + np.abs((y - cy) / b) ** p) <= 1.0


def _full(size: int) -> Window:
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    return Window(slice(0, size), slice(0, size), x, y)


def _bone(img: np.ndarray, w: Window, cx, cy, a, b, angle, t: Thorax, cortex_px: float) -> None:
    """A bone cross-section: dense cortex around cancellous marrow (centre and sizes in px)."""
    paint(img, w, ellipse(w, cx, cy, a, b, angle), t.bone_cortex)
    paint(
        img,
        w,
        ellipse(w, cx, cy, max(a - cortex_px, 0.5), max(b - cortex_px, 0.5), angle),
        t.bone_marrow,
    )


@dataclass(frozen=True)
class _Frame:
    """The pixel grid of one slice: millimetre coordinates of every pixel and conversions."""

    size: int
    sp: float  # mm per pixel
    x: np.ndarray
    y: np.ndarray

    def px(self, xm: float, ym: float) -> tuple[float, float]:
        """Millimetre position → (column, row)."""
        return xm / self.sp + self.size / 2 - 0.5, ym / self.sp + self.size / 2 - 0.5


def draw_slice(rng: np.random.Generator, t: Thorax, size: int, level: float) -> Slice:
    """Render the axial slice at LEVEL (0 = upper chest, 1 = lower chest) of thorax T."""
    sp = t.fov_mm / size
    f = _Frame(size, sp, *_grid(size, sp))
    img = np.full((size, size), AIR, dtype=np.float32)
    _table(img, f.x, f.y, t, sp)
    _body_wall(img, f, t)
    ca = t.body_a - t.wall_lat + 6.0 * level  # the chest widens towards the bases
    cb_ant, cb_post = t.body_b_ant - t.wall_ant, t.body_b_post - t.wall_post
    cavity = _superellipse(f.x, f.y, t.body_y, ca, cb_ant, cb_post, t.exponent - 0.1)
    img[cavity] = FAT
    vy = t.body_y + cb_post - 0.6 * t.vertebra_r  # vertebral body centre, mm
    _spine(img, f, t, vy)
    lung = _mediastinum_and_lungs(img, f, t, cavity, vy, level)
    _ribs(img, rng, t, sp, size, ca, cb_ant, cb_post, lung)
    _parenchyma(img, rng, lung, f.y, t, sp)
    hila = _vessels(img, rng, lung, sp, f.x)
    return Slice(hu=img, lung=lung, cavity=cavity, spacing=sp, hila=hila)


def _body_wall(img: np.ndarray, f: _Frame, t: Thorax) -> None:
    """Body outline: skin and muscle with a subcutaneous fat layer."""
    body = _superellipse(f.x, f.y, t.body_y, t.body_a, t.body_b_ant, t.body_b_post, t.exponent)
    img[body] = MUSCLE
    inside = [
        _superellipse(
            f.x, f.y, t.body_y, t.body_a - d, t.body_b_ant - d, t.body_b_post - d, t.exponent
        )
        for d in (1.5, 1.5 + t.fat_mm)
    ]
    img[inside[0] & ~inside[1]] = FAT


def _spine(img: np.ndarray, f: _Frame, t: Thorax, vy: float) -> None:
    """Vertebral body bulging into the back of the cavity, canal, laminae and processes."""
    sp = f.sp
    cvx, cvy = f.px(0.0, vy)
    vr = t.vertebra_r / sp
    w = _window_for(img.shape, cvx, cvy + vr, vr + 45.0 / sp)
    _bone(img, w, cvx, cvy, vr, vr * 0.9, 0.0, t, 2.0 / sp)
    cy = cvy + vr + 8.0 / sp  # canal centre
    arch = t.bone_cortex * 0.8
    laminae = capsule(w, (cvx - 9 / sp, cy - 3 / sp), (cvx + 9 / sp, cy - 3 / sp), 3 / sp, 3 / sp)
    paint(img, w, laminae, arch)
    paint(img, w, disk(w, cvx, cy, 7.0 / sp), CSF)
    spinous = capsule(w, (cvx, cy + 7 / sp), (cvx, cy + 28 / sp), 3.5 / sp, 2.5 / sp)
    paint(img, w, spinous, arch)
    for side in (-1, 1):
        start, end = (cvx + side * 8 / sp, cy - 2 / sp), (cvx + side * 30 / sp, cy - 6 / sp)
        paint(img, w, capsule(w, start, end, 3.5 / sp, 3.0 / sp), t.bone_cortex * 0.7)


def _mediastinum_and_lungs(
    img: np.ndarray, f: _Frame, t: Thorax, cavity: np.ndarray, vy: float, level: float
) -> np.ndarray:
    """Fat band, heart in pericardial fat, descending aorta, oesophagus; returns the lungs
    (the rest of the cavity, rounded)."""
    sp, full = f.sp, _full(f.size)
    scale = 0.7 + 0.3 * level  # the heart grows towards the lower slices
    hx, hy = f.px(t.heart_x, t.body_y + t.heart_y)
    ha, hb = t.heart_a * scale / sp, t.heart_b * scale / sp
    heart = ellipse(full, hx, hy, ha + 3 / sp, hb + 3 / sp, t.heart_angle) > 0.5
    aorta = disk(full, *f.px(20.0, vy - 4.0), t.aorta_r / sp)
    band = (np.abs(f.x) < t.mediastinum_half) & (f.y < vy)
    media = cavity & (band | heart | (aorta > 0.2))
    media |= (np.hypot(f.x, f.y - vy) < t.vertebra_r + 4.0) & cavity
    lung = ndimage.gaussian_filter((cavity & ~media).astype(np.float32), 2.5 / sp) > 0.55
    lung = _two_largest(lung & cavity)
    paint(img, full, ellipse(full, hx, hy, ha, hb, t.heart_angle), BLOOD)
    paint(img, full, aorta, BLOOD + 5.0)
    paint(img, full, disk(full, *f.px(-4.0, vy - t.vertebra_r - 6.0), 6.0 / sp), MUSCLE - 10)
    return lung


def _two_largest(mask: np.ndarray) -> np.ndarray:
    """Keep the two largest connected components (the lungs)."""
    labels, n = ndimage.label(mask)
    if n <= 2:
        return mask
    sizes = ndimage.sum(mask, labels, index=np.arange(1, n + 1))
    keep = np.argsort(sizes)[-2:] + 1
    return np.isin(labels, keep)


def _table(img: np.ndarray, x: np.ndarray, y: np.ndarray, t: Thorax, sp: float) -> None:
    """The curved CT table top below the patient."""
    top = t.body_y + t.body_b_post + 8.0 - 0.0006 * x**2
    shell = (y > top) & (y < top + 2.5) & (np.abs(x) < 0.42 * t.fov_mm)
    foam = (y >= top + 2.5) & (y < top + 14.0) & (np.abs(x) < 0.40 * t.fov_mm)
    img[foam] = -850.0
    img[shell] = 150.0


def _ribs(img, rng, t: Thorax, sp, size, ca, cb_ant, cb_post, lung) -> None:
    """Rib cross-sections just outside the costal pleura, and the sternum in front."""
    p = t.exponent - 0.1
    theta = float(rng.uniform(0, 0.4))
    while theta < 2 * np.pi:
        deg = np.rad2deg(theta) % 360
        near_sternum, near_spine = abs(deg - 270) < 16, abs(deg - 90) < 28
        if not near_spine and rng.random() > 0.12:
            c, s = np.cos(theta), np.sin(theta)
            b = cb_ant if s < 0 else cb_post
            r = (abs(c / ca) ** p + abs(s / b) ** p) ** (-1 / p)
            out = 9.0 if near_sternum else 5.5
            rx = (r + out) * c / sp + size / 2 - 0.5
            ry = ((r + out) * s + t.body_y) / sp + size / 2 - 0.5
            w = _window_for(img.shape, rx, ry, 14.0 / sp)
            if near_sternum:
                _bone(img, w, rx, ry, 14.0 / sp, 5.5 / sp, 0.0, t, 1.5 / sp)
            else:
                tangent = theta + np.pi / 2 + rng.uniform(-0.3, 0.3)
                a_r, b_r = rng.uniform(5.0, 9.0) / sp, rng.uniform(3.5, 5.0) / sp
                _bone(img, w, rx, ry, a_r, b_r, tangent, t, 1.4 / sp)
        theta += np.deg2rad(rng.uniform(20.0, 30.0)) if not near_sternum else np.deg2rad(36)


def _window_for(shape, cx, cy, half) -> Window:
    """A window known to overlap the image."""
    w = window(shape, cx, cy, half)
    assert w is not None
    return w


def _parenchyma(img, rng, lung, y, t: Thorax, sp) -> None:
    """Lung density with a dependent (posterior) gradient and faint texture."""
    rows = np.flatnonzero(lung.any(axis=1))
    if rows.size == 0:
        return
    top, bottom = y[rows[0], 0], y[rows[-1], 0]
    gradient = (y - top) / max(bottom - top, 1.0)
    texture = smooth_field(rng, lung.shape, 6.0 / sp, 10.0)
    values = t.lung_hu + 45.0 * np.clip(gradient, 0, 1) ** 2 + texture
    img[lung] = values[lung]


def _vessels(img, rng, lung, sp, x) -> list[tuple[float, float]]:
    """Pulmonary vessels: a branching tree from each hilum plus vessels seen end-on.

    Returns the hila (column, row).
    """
    occupancy = np.zeros_like(img)
    hila = []
    for side in (-1, 1):
        side_mask = lung & ((x > 0) if side > 0 else (x <= 0))
        ys, xs = np.nonzero(side_mask)
        if ys.size == 0:
            continue
        # Hilum: the lung pixel nearest the mediastinum at mid-height.
        mid_y = float(np.median(ys))
        score = np.abs(xs - img.shape[1] / 2) + 0.6 * np.abs(ys - mid_y)
        hx, hy = float(xs[np.argmin(score)]), float(ys[np.argmin(score)])
        hila.append((hx, hy))
        reach = float(np.abs(xs - hx).max())
        for angle in np.linspace(-70, 70, int(rng.integers(3, 5))):
            direction = np.deg2rad((0 if side > 0 else 180) + side * (angle + rng.uniform(-12, 12)))
            _branch(
                occupancy,
                rng,
                side_mask,
                (hx, hy),
                direction,
                rng.uniform(2.2, 3.5) / sp,
                rng.uniform(10.0, 20.0) / sp,
                0,
            )
        for _ in range(int(rng.integers(110, 170))):
            i = int(rng.integers(ys.size))
            cx, cy = float(xs[i]), float(ys[i])
            near = 1.0 - min(np.hypot(cx - hx, cy - hy) / max(reach, 1.0), 1.0)
            r = rng.uniform(0.5, 1.0) * (0.7 + 2.8 * near**1.5) / sp
            stretch = rng.random() < 0.35  # a short stretch running in-plane, tapering outwards
            half = rng.uniform(1.5, 5.0) / sp if stretch else 0.0
            a = rng.uniform(0, 2 * np.pi)
            w = _window_for(img.shape, cx, cy, r + half + 1.0)
            shape = capsule(
                w,
                (cx - half * np.cos(a), cy - half * np.sin(a)),
                (cx + half * np.cos(a), cy + half * np.sin(a)),
                0.8 * r if stretch else r,
                0.3 * r if stretch else r,
            )
            np.maximum(occupancy[w.index], shape, out=occupancy[w.index])
    occupancy *= lung
    img += occupancy * (BLOOD - img)
    return hila


def _branch(occ, rng, mask, start, direction, radius, length, depth) -> None:
    """One tapering vessel segment and, recursively, its two daughters."""
    if radius < 0.35 or depth > 4:
        return
    end = (start[0] + length * np.cos(direction), start[1] + length * np.sin(direction))
    ex, ey = round(end[0]), round(end[1])
    inside = 0 <= ey < mask.shape[0] and 0 <= ex < mask.shape[1] and mask[ey, ex]
    w = _window_for(
        occ.shape, (start[0] + end[0]) / 2, (start[1] + end[1]) / 2, length / 2 + radius + 2
    )
    np.maximum(occ[w.index], capsule(w, start, end, radius, radius * 0.85), out=occ[w.index])
    if not inside:
        return
    for sign in (-1, 1):
        if rng.random() < 0.4:  # the daughter leaves the slice plane
            continue
        spread = np.deg2rad(rng.uniform(15.0, 38.0))
        _branch(
            occ,
            rng,
            mask,
            end,
            direction + sign * spread,
            radius * rng.uniform(0.62, 0.8),
            length * rng.uniform(0.65, 0.9),
            depth + 1,
        )
