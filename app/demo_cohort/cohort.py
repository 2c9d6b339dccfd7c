"""The cohort: patients → series of axial slices with findings → DICOM files + annotations.csv."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from app.demo_cohort.anatomy import Slice, Thorax, draw_slice
from app.demo_cohort.dicom_writer import SeriesInfo, slice_dataset, storage_for, write_slice
from app.demo_cohort.noise import ct_noise
from app.demo_cohort.placement import Placer, Spot
from app.demo_cohort.signs import LABELS, SIGNS, Roi

PATCH_MM = 45.0  # physical size of the consumers' 64×64 patch at the default 512 matrix
SLICE_MM = 5.0  # slice thickness and spacing
FINDINGS_PER_SLICE = 2
PSF_SIGMA_PX = 0.6  # in-plane blur of the reconstruction
ANNOTATION_HEADER = ("sop_instance_uid", "x", "y", "label", "width", "height")


@dataclass(frozen=True)
class CohortSummary:
    """What `write_cohort` wrote."""

    out_dir: Path
    patients: int
    files: int
    labels: dict[str, int] = field(default_factory=dict)  # findings per label code

    @property
    def findings(self) -> int:
        return sum(self.labels.values())

    def __str__(self) -> str:
        counts = ", ".join(f"{code} {n}" for code, n in self.labels.items())
        return f"{self.patients} patients, {self.files} files, {self.findings} findings: {counts}"


@dataclass(frozen=True)
class Finding:
    """One annotated finding on slice SLICE_INDEX."""

    label: str
    slice_index: int
    roi: Roi
    spot: Spot
    size_mm: float


def write_cohort(
    out_dir: Path, patients: int = 24, seed: int = 0, *, slices: int = 10, size: int = 512
) -> CohortSummary:
    """Write the synthetic cohort to OUT_DIR (see the package docstring for the layout)."""
    if patients < 1 or slices < 2 or size < 128 or seed < 0:
        raise ValueError("need patients ≥ 1, slices ≥ 2, size ≥ 128 and seed ≥ 0")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    rows: list[tuple[str, ...]] = []
    files = 0
    for patient in range(1, patients + 1):
        for uid, finding in _write_patient(out_dir, seed, patient, slices, size):
            counts[finding.label] += 1
            r = finding.roi
            rows.append(
                (
                    uid,
                    f"{r.x:.1f}",
                    f"{r.y:.1f}",
                    finding.label,
                    f"{r.width:.0f}",
                    f"{r.height:.0f}",
                )
            )
        files += slices
    with (out_dir / "annotations.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ANNOTATION_HEADER)
        writer.writerows(rows)
    labels = {code: counts[code] for code in LABELS}
    return CohortSummary(out_dir=out_dir, patients=patients, files=files, labels=labels)


def patient_labels(rng: np.random.Generator, patient: int, n: int) -> list[str]:
    """N labels for PATIENT, continuing a round-robin over patients so totals stay balanced."""
    start = (patient - 1) * n
    labels = [LABELS[(start + i) % len(LABELS)] for i in range(n)]
    rng.shuffle(labels)
    return labels


def _write_patient(
    out_dir: Path, seed: int, patient: int, n_slices: int, size: int
) -> list[tuple[str, Finding]]:
    """Render and write one patient's series; (SOPInstanceUID, finding) per finding."""
    rng = np.random.default_rng([seed, patient])
    thorax = Thorax.sample(rng)
    levels = np.linspace(0.0, 1.0, n_slices) * rng.uniform(0.6, 1.0)
    stack = [draw_slice(rng, thorax, size, float(level)) for level in levels]
    findings = _draw_findings(
        rng, stack, patient_labels(rng, patient, n_slices * FINDINGS_PER_SLICE)
    )
    info = SeriesInfo(
        seed=seed,
        patient=patient,
        spacing_mm=stack[0].spacing,
        thickness_mm=SLICE_MM,
        birth_date=f"{int(rng.integers(1940, 1990))}{int(rng.integers(1, 13)):02d}15",
        sex=str(rng.choice(["F", "M"])),
        study_date=f"2024{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}",
        storage=storage_for(patient),
    )
    sigma = float(rng.uniform(15.0, 25.0))
    folder = out_dir / f"patient_{patient:04d}" / "series_1"
    uids: list[str] = []
    for index, s in enumerate(stack):
        ds = slice_dataset(info, index, finish(rng, s, sigma))
        write_slice(folder / f"slice_{index:03d}.dcm", ds)
        uids.append(str(ds.SOPInstanceUID))
    return [(uids[f.slice_index], f) for f in findings]


def finish(rng: np.random.Generator, s: Slice, sigma: float) -> np.ndarray:
    """Blur by the scanner's PSF, add correlated noise, quantise to integer HU."""
    hu = ndimage.gaussian_filter(s.hu, PSF_SIGMA_PX)
    hu += ct_noise(rng, hu.shape[0], s.spacing, sigma)
    return np.clip(np.rint(hu), -1024, 3071).astype(np.int16)


def _draw_findings(
    rng: np.random.Generator, stack: list[Slice], labels: list[str]
) -> list[Finding]:
    """Place and draw LABELS over the slices, each with smaller echoes on its neighbours."""
    patch_px = max(16, round(PATCH_MM / stack[0].spacing))
    placers = [Placer(s, patch_px) for s in stack]
    taken: list[list[Spot]] = [[] for _ in stack]
    findings: list[Finding] = []
    # Larger findings first: they are the hardest to fit.
    order = sorted(
        range(len(labels)), key=lambda i: -SIGNS[labels[i]].size_mm[1] * SIGNS[labels[i]].reach
    )
    for i in order:
        sign = SIGNS[labels[i]]
        size_mm = float(rng.uniform(*sign.size_mm))
        home = i // FINDINGS_PER_SLICE
        candidates = [home, *rng.permutation([k for k in range(len(stack)) if k != home])]
        for k in candidates:
            k = int(k)
            near = [spot for j in range(max(k - 1, 0), min(k + 2, len(stack))) for spot in taken[j]]
            spot = placers[k].place(rng, sign, size_mm, near)
            if spot is None:
                continue
            taken[k].append(spot)
            roi = sign.draw(stack[k], spot.x, spot.y, size_mm, rng)
            findings.append(Finding(sign.code, k, roi, spot, size_mm))
            break
    for f in findings:
        _echo(rng, stack, f)
    findings.sort(key=lambda f: (f.slice_index, f.roi.y, f.roi.x))
    return findings


def _echo(rng: np.random.Generator, stack: list[Slice], f: Finding) -> None:
    """Draw the finding's cut on the adjacent slices: a sphere of its radius seen 5 mm off."""
    sign = SIGNS[f.label]
    if not sign.echo:
        return
    scale = 0.85 if sign.pleura is not None and f.label == "OBP" else 0.0
    if not scale and f.size_mm > 1.3 * SLICE_MM:
        scale = float(np.sqrt(1.0 - (SLICE_MM / f.size_mm) ** 2))
    if scale < 0.5:
        return
    for k in (f.slice_index - 1, f.slice_index + 1):
        if 0 <= k < len(stack) and stack[k].lung[int(f.spot.y), int(f.spot.x)]:
            sign.draw(stack[k], f.spot.x, f.spot.y, f.size_mm * scale, rng)
