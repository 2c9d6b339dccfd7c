"""The synthetic demo cohort: valid DICOM, plausible HU, sound annotations, determinism, and
each sign measured on its patch the way a radiologist would look at it."""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, RLELossless
from scipy import ndimage
from scipy.spatial import ConvexHull, Delaunay

from app.demo_cohort import LABELS, CohortSummary, write_cohort
from app.demo_cohort.cohort import ANNOTATION_HEADER, PATCH_MM


@dataclass
class Cohort:
    root: Path
    summary: CohortSummary
    files: dict[str, Path]  # SOPInstanceUID → file
    rows: list[dict[str, str]]
    _hu: dict[str, np.ndarray]
    _spacing: dict[str, float]

    def hu(self, uid: str) -> np.ndarray:
        if uid not in self._hu:
            ds = pydicom.dcmread(self.files[uid])
            self._hu[uid] = np.asarray(apply_modality_lut(ds.pixel_array, ds), dtype=np.float64)
            self._spacing[uid] = float(ds.PixelSpacing[0])
        return self._hu[uid]

    def box(self, row: dict[str, str], grow: float = 1.0) -> np.ndarray:
        """The annotated ROI (scaled by GROW) in HU, padded with air."""
        hu = self.hu(row["sop_instance_uid"])
        half_w = max(float(row["width"]) * grow / 2, 2)
        half_h = max(float(row["height"]) * grow / 2, 2)
        return _crop(hu, float(row["x"]), float(row["y"]), half_w, half_h)

    def patch(self, row: dict[str, str]) -> np.ndarray:
        """The consumers' patch (45 mm ≈ 64 px at the default matrix) around the ROI centre."""
        hu = self.hu(row["sop_instance_uid"])
        half = PATCH_MM / self._spacing[row["sop_instance_uid"]] / 2
        return _crop(hu, float(row["x"]), float(row["y"]), half, half)

    def of(self, label: str) -> list[dict[str, str]]:
        return [row for row in self.rows if row["label"] == label]


def _crop(hu: np.ndarray, x: float, y: float, half_w: float, half_h: float) -> np.ndarray:
    pad = int(max(half_w, half_h)) + 2
    padded = np.pad(hu, pad, constant_values=-1000)
    cx, cy = round(x) + pad, round(y) + pad
    return padded[
        cy - round(half_h) : cy + round(half_h) + 1, cx - round(half_w) : cx + round(half_w) + 1
    ]


def _load(root: Path, summary: CohortSummary) -> Cohort:
    files = {}
    for path in sorted(root.rglob("*.dcm")):
        header = pydicom.dcmread(path, stop_before_pixels=True)
        files[str(header.SOPInstanceUID)] = path
    with (root / "annotations.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return Cohort(root, summary, files, rows, {}, {})


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    """Six small patients: every storage variant, both transfer syntaxes, ~5 findings/label."""
    root = tmp_path_factory.mktemp("cohort")
    return _load(root, write_cohort(root, patients=6, seed=3, slices=4, size=256))


@pytest.fixture(scope="module")
def full_size(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    """Three patients at the default 512 × 512 matrix (2–3 findings per label)."""
    root = tmp_path_factory.mktemp("full")
    return _load(root, write_cohort(root, patients=3, seed=11, slices=4))


@pytest.fixture(params=["cohort", "full_size"])
def any_cohort(request: pytest.FixtureRequest) -> Cohort:
    return request.getfixturevalue(request.param)


# --- files and headers ---------------------------------------------------------------------


def test_layout_and_summary(cohort: Cohort) -> None:
    paths = sorted(cohort.root.rglob("*.dcm"))
    assert len(paths) == cohort.summary.files == 6 * 4
    assert cohort.summary.patients == 6
    assert paths[0].relative_to(cohort.root).as_posix() == "patient_0001/series_1/slice_000.dcm"
    assert sum(cohort.summary.labels.values()) == len(cohort.rows) == cohort.summary.findings
    assert "24 files" in str(cohort.summary)


def test_files_are_valid_ct_and_decode(cohort: Cohort) -> None:
    syntaxes, intercepts, signed, bits = set(), set(), set(), set()
    patients: dict[str, set[str]] = {}
    for path in cohort.files.values():
        ds = pydicom.dcmread(path)
        assert ds.SOPClassUID == CTImageStorage == ds.file_meta.MediaStorageSOPClassUID
        assert ds.Modality == "CT" and ds.PatientID.startswith("DEMO")
        assert ds.PatientName and ds.PatientBirthDate and ds.StudyDate  # fake PHI, to be dropped
        assert ds.pixel_array.shape == (ds.Rows, ds.Columns) == (256, 256)
        assert float(ds.RescaleSlope) == 1.0 and ds.BitsAllocated == 16
        assert len(ds.ImagePositionPatient) == 3 and float(ds.SliceThickness) > 0
        patients.setdefault(ds.PatientID, set()).add(ds.SeriesInstanceUID)
        syntaxes.add(ds.file_meta.TransferSyntaxUID)
        intercepts.add(float(ds.RescaleIntercept))
        signed.add(ds.PixelRepresentation)
        bits.add(ds.BitsStored)
    assert len(patients) == 6 and all(len(series) == 1 for series in patients.values())
    assert syntaxes == {ExplicitVRLittleEndian, RLELossless}
    assert intercepts == {-1024.0, -1000.0, 0.0}
    assert signed == {0, 1} and bits == {12, 16}


def test_instances_are_ordered_along_z(full_size: Cohort) -> None:
    series = sorted((full_size.root / "patient_0001" / "series_1").glob("*.dcm"))
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in series]
    assert [h.InstanceNumber for h in headers] == list(range(1, len(series) + 1))
    z = [float(h.ImagePositionPatient[2]) for h in headers]
    assert all(a > b for a, b in itertools.pairwise(z))


# --- Hounsfield units ----------------------------------------------------------------------


def test_structures_have_plausible_hounsfield_units(any_cohort: Cohort) -> None:
    for uid in list(any_cohort.files)[::3]:
        hu = any_cohort.hu(uid)
        corner = hu[:10, :10]
        assert hu.min() >= -1024 and abs(corner.mean() + 1000) < 15  # air
        assert 5 < corner.std() < 40  # CT noise, not a flat image
        total = hu.size
        assert ((hu > -950) & (hu < -700)).sum() / total > 0.12  # aerated lung
        assert ((hu > -140) & (hu < -60)).sum() / total > 0.02  # fat
        assert ((hu > 10) & (hu < 80)).sum() / total > 0.06  # muscle, heart, soft tissue
        assert (hu > 400).sum() / total > 0.002 and hu.max() > 600  # ribs and spine


def test_noise_is_spatially_correlated(full_size: Cohort) -> None:
    """CT noise is not white: neighbouring pixels in uniform air correlate."""
    hu = full_size.hu(next(iter(full_size.files)))
    air = hu[:40, :200] - hu[:40, :200].mean()
    lag1 = (air[:, 1:] * air[:, :-1]).mean() / air.var()
    assert 12 < air.std() < 30
    assert abs(lag1) > 0.1


# --- annotations ---------------------------------------------------------------------------


def test_annotations_reference_slices_in_bounds(any_cohort: Cohort) -> None:
    with (any_cohort.root / "annotations.csv").open() as handle:
        assert handle.readline().strip() == ",".join(ANNOTATION_HEADER)
    for row in any_cohort.rows:
        assert row["sop_instance_uid"] in any_cohort.files
        rows, cols = any_cohort.hu(row["sop_instance_uid"]).shape
        assert 0 <= float(row["x"]) < cols and 0 <= float(row["y"]) < rows
        assert float(row["width"]) > 0 and float(row["height"]) > 0
        assert row["label"] in LABELS


def test_every_label_present_and_balanced(cohort: Cohort) -> None:
    counts = Counter(row["label"] for row in cohort.rows)
    assert set(counts) == set(LABELS)
    assert dict(counts) == {k: v for k, v in cohort.summary.labels.items() if v}
    assert max(counts.values()) - min(counts.values()) <= 1


def test_findings_do_not_share_a_patch(any_cohort: Cohort) -> None:
    by_slice: dict[str, list[tuple[float, float]]] = {}
    for row in any_cohort.rows:
        by_slice.setdefault(row["sop_instance_uid"], []).append((float(row["x"]), float(row["y"])))
    for uid, centres in by_slice.items():
        any_cohort.hu(uid)
        half = PATCH_MM / any_cohort._spacing[uid] / 2
        for i, a in enumerate(centres):
            for b in centres[i + 1 :]:
                assert max(abs(a[0] - b[0]), abs(a[1] - b[1])) > half


# --- determinism ---------------------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        write_cohort(tmp_path / name, patients=2, seed=seed, slices=2, size=128)
    a, b, c = (_tree(tmp_path / n) for n in "abc")
    assert a == b
    assert a.keys() == c.keys()
    assert all(a[k] != c[k] for k in a)


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_cohort(tmp_path, patients=0)
    with pytest.raises(ValueError):
        write_cohort(tmp_path, seed=-1)


# --- the signs, as a radiologist would check them -------------------------------------------


def _despeckle(hu: np.ndarray) -> np.ndarray:
    return ndimage.median_filter(hu, size=3)


def _largest(mask: np.ndarray) -> np.ndarray:
    labels, n = ndimage.label(mask)
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == sizes.argmax()


def _enclosed_air(hu: np.ndarray, rim_min: float = -400.0) -> list[np.ndarray]:
    """Air pockets (reaching < −930 HU) closed off from the patch border by a rim denser than
    RIM_MIN (mean HU one to three pixels outside the pocket)."""
    smooth = _despeckle(hu)
    labels, n = ndimage.label(smooth < -850)
    pockets = []
    for k in range(1, n + 1):
        comp = labels == k
        if comp[0].any() or comp[-1].any() or comp[:, 0].any() or comp[:, -1].any():
            continue
        if comp.sum() < 3 or hu[comp].min() > -930:
            continue
        near = ndimage.binary_dilation(comp, iterations=1)
        ring = ndimage.binary_dilation(comp, iterations=3) & ~near
        if smooth[ring].mean() > rim_min:
            pockets.append(comp)
    return pockets


def _centre(hu: np.ndarray, fraction: float = 0.5) -> np.ndarray:
    h, w = hu.shape
    dh, dw = max(int(h * fraction / 2), 1), max(int(w * fraction / 2), 1)
    return hu[h // 2 - dh : h // 2 + dh + 1, w // 2 - dw : w // 2 + dw + 1]


def _inside_hull(mask: np.ndarray) -> np.ndarray:
    """Pixels inside the convex hull of MASK."""
    hull = Delaunay(np.argwhere(mask))
    grid = np.indices(mask.shape).reshape(2, -1).T
    return (hull.find_simplex(grid) >= 0).reshape(mask.shape)


def _elongation(comp: np.ndarray) -> float:
    """Ratio of the principal variances of a pixel set (1 for a disk, large for a tube)."""
    eig = np.sort(np.linalg.eigvalsh(np.cov(np.argwhere(comp).T.astype(float))))
    return float(eig[1] / max(eig[0], 1e-3))


def _solidity(box: np.ndarray) -> float:
    """Area over convex-hull area of the lesion at the ROI centre."""
    lesion = _largest(_despeckle(box) > -400)
    corners = (np.argwhere(lesion)[:, None, :] + [[0, 0], [0, 1], [1, 0], [1, 1]]).reshape(-1, 2)
    return float(lesion.sum() / ConvexHull(corners).volume)


def _crossings(c: Cohort, row: dict[str, str], radius: float, threshold: float) -> int:
    """How many separate dense structures a circle of RADIUS px around the ROI centre cuts."""
    hu = _despeckle(c.hu(row["sop_instance_uid"]))
    angles = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    xs = float(row["x"]) + radius * np.cos(angles)
    ys = float(row["y"]) + radius * np.sin(angles)
    ring = ndimage.map_coordinates(hu, [ys, xs], order=1) > threshold
    return int(np.count_nonzero(ring & ~np.roll(ring, 1)))


def check_cal(c: Cohort, row: dict[str, str]) -> None:
    """Calcification: a focus far denser than soft tissue (> 400 HU), not a noisy pixel."""
    box = c.box(row, 1.2)
    assert box.max() > 400
    assert (_despeckle(box) > 300).sum() >= 3


def check_cav(c: Cohort, row: dict[str, str]) -> None:
    """Cavity/vacuole: air (< −900 HU) enclosed by a rim of soft tissue."""
    box = c.box(row, 1.3)
    assert _enclosed_air(box)
    assert (_despeckle(box) > -300).mean() > 0.15


def check_ggo(c: Cohort, row: dict[str, str]) -> None:
    """Ground glass: hazy, between aerated lung and solid tissue, vessels still visible."""
    box = c.box(row)
    level = np.median(_centre(box))
    assert -720 < level < -350
    assert np.percentile(box, 99) > level + 200  # vessels seen through the haze
    assert _centre(box, 0.8).max() < 300


def check_nor(c: Cohort, row: dict[str, str]) -> None:
    """Normal tissue: mostly aerated lung, some vessels, nothing solid or air-filled."""
    patch = c.patch(row)
    assert ((patch > -950) & (patch < -700)).mean() > 0.6
    assert patch.max() > -450  # vessels
    assert (_despeckle(patch) > -300).mean() < 0.2
    assert not _enclosed_air(patch)


def check_lob(c: Cohort, row: dict[str, str]) -> None:
    """Lobulation: a solid nodule whose contour has notches (solidity clearly below 1)."""
    box = c.box(row, 1.1)
    assert np.median(_centre(box)) > -300
    assert box.max() < 300
    assert _solidity(box) < 0.94


def check_spi(c: Cohort, row: dict[str, str]) -> None:
    """Spiculation: solid core and many thin lines crossing a circle just outside it."""
    box = c.box(row)
    assert np.median(_centre(box)) > -300
    assert box.max() < 300
    assert _crossings(c, row, 0.8 * float(row["width"]), -650) >= 4


def check_pli(c: Cohort, row: dict[str, str]) -> None:
    """Pleural indentation: nodule, tag and retracted pleura form one band across the ROI."""
    roi = _despeckle(c.box(row))
    context = _despeckle(c.box(row, 1.6))  # reaches into the chest wall
    wall = _largest(context > -500)  # chest wall, retracted pleura, tag and nodule
    pad_y, pad_x = ((a - b) // 2 for a, b in zip(context.shape, roi.shape, strict=True))
    inner = wall[pad_y : pad_y + roi.shape[0], pad_x : pad_x + roi.shape[1]]
    solid = roi > -300
    assert (inner & solid).sum() > 0.8 * solid.sum()  # the nodule hangs on the pleura
    assert (roi < -700).mean() > 0.15  # aerated lung beside the tag


def check_aib(c: Cohort, row: dict[str, str]) -> None:
    """Air bronchogram: air-filled, branching tubes inside the outline of a consolidation."""
    raw = c.box(row, 1.1)
    box = _despeckle(raw)
    solid = box > -300
    assert solid.mean() > 0.35
    outline = _largest(ndimage.binary_closing(solid, iterations=4))  # bridged across the tubes
    labels, n = ndimage.label((box < -750) & _inside_hull(outline))
    tubes = [labels == k for k in range(1, n + 1) if (labels == k).sum() >= 6]
    assert tubes
    assert min(raw[t].min() for t in tubes) < -900  # air, not lung
    assert max(_elongation(t) for t in tubes) > 3.0
    assert _centre(c.box(row), 0.8).max() < 300


def check_bre(c: Cohort, row: dict[str, str]) -> None:
    """Bronchiectasis: air rings with a thin wall, in aerated lung (not a mass)."""
    box = c.box(row, 1.1)
    assert _enclosed_air(box, rim_min=-650)
    assert (box < -700).mean() > 0.3


def check_obp(c: Cohort, row: dict[str, str]) -> None:
    """Obstructive pneumonia: a consolidated segment reaching the edges of its ROI (pleura)."""
    box = _despeckle(c.box(row))
    solid = box > -300
    assert 0.25 < solid.mean() < 0.9
    wedge = _largest(solid)
    assert sum((wedge[0].any(), wedge[-1].any(), wedge[:, 0].any(), wedge[:, -1].any())) >= 2


SIGN_CHECKS = {
    "GGO": check_ggo,
    "LOB": check_lob,
    "CAL": check_cal,
    "CAV": check_cav,
    "SPI": check_spi,
    "PLI": check_pli,
    "AIB": check_aib,
    "BRE": check_bre,
    "OBP": check_obp,
    "NOR": check_nor,
}


@pytest.mark.parametrize("label", LABELS)
def test_sign_looks_like_its_label(full_size: Cohort, label: str) -> None:
    rows = full_size.of(label)
    assert rows
    for row in rows:
        try:
            SIGN_CHECKS[label](full_size, row)
        except AssertionError as error:
            raise AssertionError(f"{label} at {row}: {error}") from error


def test_ggo_sits_between_lung_and_solid(full_size: Cohort) -> None:
    lung = np.median([np.median(full_size.patch(r)) for r in full_size.of("NOR")])
    solid = np.median([np.median(_centre(full_size.box(r))) for r in full_size.of("LOB")])
    for row in full_size.of("GGO"):
        assert lung + 150 < np.median(_centre(full_size.box(row))) < solid - 300


def test_lobulated_less_convex_than_calcified(full_size: Cohort) -> None:
    lob = [_solidity(full_size.box(r, 1.1)) for r in full_size.of("LOB")]
    cal = [_solidity(full_size.box(r, 1.1)) for r in full_size.of("CAL")]
    assert np.mean(lob) < np.mean(cal) - 0.03
