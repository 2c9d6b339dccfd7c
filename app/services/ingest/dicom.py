"""DICOM files plus ``annotations.csv`` → patch candidates.

One pass over the files: each is read once and its pixel data decoded only when a finding
refers to it, by path or by SOP Instance UID. Every finding ends as a candidate or
as a bad item with its reason; unusable files are reported once each.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.services.ingest.annotations import ANNOTATIONS, Finding
from app.services.ingest.dicom_io import DicomProblem, Slice, decode, read_header
from app.services.ingest.patching import content_hash, cut_patch, pixel_bytes, pseudonym
from app.services.ingest.types import BadItem, Candidate, CandidateSink, ProgressCallback


def walk_files(directory: Path) -> Iterator[tuple[Path, str]]:
    """Every non-hidden file under DIRECTORY, at any depth, with its relative POSIX path;
    the root ``annotations.csv`` is not a data file."""
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            relative = path.relative_to(directory).as_posix()
            if not name.startswith(".") and relative != ANNOTATIONS:
                yield path, relative


@dataclass
class DicomImport:
    """The state of one pass: findings still open, files seen, and the results."""

    findings: list[Finding]
    pseudonym_key: str
    patch_size: int
    emit: CandidateSink  # each candidate goes there as it is cut (stored in batches)
    errors: list[BadItem] = field(default_factory=list)
    uid_paths: dict[str, str] = field(default_factory=dict)  # SOP Instance UID → usable file
    uid_problems: dict[str, str] = field(default_factory=dict)  # UID → why its file failed

    def __post_init__(self) -> None:
        self.open: dict[str, list[Finding]] = defaultdict(list)  # "uid:…" / "path:…" → rows
        for finding in self.findings:
            key = f"uid:{finding.uid}" if finding.uid else f"path:{finding.path}"
            self.open[key].append(finding)

    def run(self, directory: Path, on_progress: ProgressCallback | None = None) -> None:
        files = list(walk_files(directory))
        for done, (path, relative) in enumerate(files, start=1):
            self._read_file(path, relative)
            if on_progress:
                on_progress(done, len(files))
        self._report_unmatched()

    def _read_file(self, path: Path, relative: str) -> None:
        """Decode the file only if an open finding refers to it. A file claims its SOP
        Instance UID only once it is usable, so a broken copy never hides a good one."""
        try:
            header = read_header(path)
            if header.sop_uid in self.uid_paths:
                first = self.uid_paths[header.sop_uid]
                raise DicomProblem(f"same SOP Instance UID as {first}; ignored")
            keys = (f"path:{relative}", f"uid:{header.sop_uid}")
            image = decode(header) if any(key in self.open for key in keys) else None
            self.uid_paths[header.sop_uid] = relative
            if image is not None:
                self._cut(image, relative, self._take(keys[0]) + self._take(keys[1]))
        except DicomProblem as problem:
            self._file_failed(relative, problem)

    def _take(self, key: str) -> list[Finding]:
        return self.open.pop(key, [])

    def _file_failed(self, relative: str, problem: DicomProblem) -> None:
        """Report the file once, and the findings that name it by path with its reason;
        findings by UID stay open for another file with that UID."""
        self.errors.append(BadItem(relative, str(problem)))
        reason = f"{relative}: {problem}"
        self.errors.extend(BadItem(f.item, reason) for f in self._take(f"path:{relative}"))
        if problem.sop_uid:
            self.uid_problems[problem.sop_uid] = reason

    def _cut(self, image: Slice, relative: str, findings: list[Finding]) -> None:
        """One candidate per finding whose centre lies on the slice."""
        patient_key = pseudonym(self.pseudonym_key, image.header.patient_id)
        rows, cols = image.shape
        for finding in findings:
            if 0 <= finding.x < cols and 0 <= finding.y < rows:
                self.emit(self._candidate(image, finding, patient_key))
            else:
                where = f"(x={finding.x}, y={finding.y})"
                reason = f"ROI centre {where} outside the {cols}×{rows} image {relative}"
                self.errors.append(BadItem(finding.item, reason))

    def _candidate(self, image: Slice, finding: Finding, patient_key: str) -> Candidate:
        patch, padded = cut_patch(image.hu, image.shape, finding.x, finding.y, self.patch_size)
        return Candidate(
            item=finding.item,
            label_code=finding.label_code,
            patient_key=patient_key,
            height=self.patch_size,
            width=self.patch_size,
            pixels=pixel_bytes(patch),
            content_hash=content_hash(finding.label_code, patch),
            padded_pixels=padded,
            series_uid=image.header.series_uid or None,
            sop_uid=image.header.sop_uid,
            roi_x=finding.x,
            roi_y=finding.y,
            roi_width=finding.width,
            roi_height=finding.height,
        )

    def _report_unmatched(self) -> None:
        """Findings no file answered: a missing path or an unknown SOP Instance UID."""
        for key, findings in self.open.items():
            kind, _, ref = key.partition(":")
            if kind == "path":
                reason = f"no file {ref} in DIR"
            else:
                missing = f"no usable DICOM file with SOP Instance UID {ref}"
                reason = self.uid_problems.get(ref, missing)
            self.errors.extend(BadItem(finding.item, reason) for finding in findings)
        self.open.clear()
