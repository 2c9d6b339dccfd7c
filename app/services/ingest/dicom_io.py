"""Reading CT slices from DICOM files, whatever their transfer syntax or file meta.

Each file is read once; its pixel data is decoded only when a finding needs it (decoding,
not reading, is the expensive part). Anything that is not a single-frame, single-channel CT image is
refused with a reason a coordinator can act on (see ``docs/import.md``).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

HU_MIN, HU_MAX = -32768, 32767  # int16 storage
MAX_PIXEL_BYTES = 64 * 1024 * 1024  # a 4096 × 4096 16-bit slice is 32 MiB
MAX_FILE_BYTES = MAX_PIXEL_BYTES + 16 * 1024 * 1024  # pixels plus a generous header
MONOCHROME = ("MONOCHROME1", "MONOCHROME2")
NATIVE_LITTLE_ENDIAN = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)


class DicomProblem(Exception):
    """A file that cannot give a CT slice; the message is the reason shown to the user."""

    def __init__(self, reason: str, sop_uid: str | None = None) -> None:
        super().__init__(reason)
        self.sop_uid = sop_uid  # known when the header could be read


@dataclass
class SliceHeader:
    """What the importer needs to know about a file before decoding its pixels."""

    path: Path
    dataset: Dataset
    sop_uid: str
    series_uid: str
    patient_id: str
    rescale: tuple[float, float] | None  # (slope, intercept); None: a Modality LUT Sequence


@dataclass
class Slice:
    """A decoded slice: stored values plus the modality LUT that turns them into HU."""

    header: SliceHeader
    stored: np.ndarray  # (rows, cols), the decoded stored values

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.stored.shape
        return rows, cols

    def hu(self, rows: slice, cols: slice) -> np.ndarray:
        """Hounsfield units of a window, rounded and clipped to int16."""
        window = self.stored[rows, cols]
        if self.header.rescale is None:
            values = apply_modality_lut(window, self.header.dataset)
        else:
            slope, intercept = self.header.rescale
            values = window * slope + intercept
        return np.clip(np.rint(values), HU_MIN, HU_MAX).astype(np.int16)


def read_header(path: Path, *, ct_only: bool = True) -> SliceHeader:
    """Parse PATH's header and check it describes a usable CT slice."""
    dataset = _dcmread(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about each odd value it tolerates
        problem = image_problem(dataset, ct_only=ct_only)
    if problem:
        raise DicomProblem(problem, str(dataset.SOPInstanceUID))
    _ensure_transfer_syntax(dataset)
    return SliceHeader(
        path=path,
        dataset=dataset,
        sop_uid=str(dataset.SOPInstanceUID),
        series_uid=str(dataset.get("SeriesInstanceUID", "")),
        patient_id=str(dataset.get("PatientID", "")).strip(),
        rescale=_rescale(dataset),
    )


def decode(header: SliceHeader) -> Slice:
    """Decode the pixel data of a checked header (any transfer syntax pydicom handles)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stored = _native_pixels(header.dataset)
            if stored is None:
                stored = header.dataset.pixel_array
    except Exception as exc:  # decoders raise many types for broken data
        reason = f"pixel data cannot be decoded: {_first_line(exc)}"
        raise DicomProblem(reason, header.sop_uid) from exc
    if stored.ndim != 2:
        reason = f"pixel data has shape {stored.shape}, expected one 2-D slice"
        raise DicomProblem(reason, header.sop_uid)
    return Slice(header=header, stored=stored)


def _native_pixels(dataset: Dataset) -> np.ndarray | None:
    """A zero-copy view of uncompressed little-endian 16-in-16-bit pixels, the common CT case
    (what pydicom returns for them, at half the import time); None for anything else."""
    if dataset.file_meta.TransferSyntaxUID not in NATIVE_LITTLE_ENDIAN:
        return None
    if (dataset.BitsAllocated, dataset.BitsStored) != (16, 16):
        return None
    count = int(dataset.Rows) * int(dataset.Columns)
    data = dataset.PixelData
    if len(data) < 2 * count:
        return None  # pydicom reports the truncation
    dtype = "<i2" if dataset.PixelRepresentation == 1 else "<u2"
    return np.frombuffer(data, dtype=dtype, count=count).reshape(dataset.Rows, dataset.Columns)


def read_slice(path: Path, *, ct_only: bool = True) -> Slice:
    """Header check and decode in one call."""
    return decode(read_header(path, ct_only=ct_only))


def image_problem(dataset: Dataset, *, ct_only: bool = True) -> str | None:
    """Why DATASET is not a single-frame, single-channel CT image, or None."""
    if "PixelData" not in dataset:
        kind = dataset.get("Modality") or "object"
        return f"no pixel data ({kind}, not an image)"
    photometric = str(dataset.get("PhotometricInterpretation", ""))
    if int(dataset.get("SamplesPerPixel", 1)) != 1 or photometric not in MONOCHROME:
        return f"not a single-channel CT image (PhotometricInterpretation {photometric or '?'})"
    frames = str(dataset.get("NumberOfFrames") or "1").strip()
    if not frames.isdigit():
        return f"invalid NumberOfFrames {frames!r}"
    if int(frames) != 1:
        return f"multi-frame image ({frames} frames); export single-frame slices"
    rows, cols = int(dataset.get("Rows") or 0), int(dataset.get("Columns") or 0)
    pixel_bytes = rows * cols * -(-int(dataset.get("BitsAllocated") or 16) // 8)
    if pixel_bytes > MAX_PIXEL_BYTES:
        size = f"{cols}×{rows} pixels, {pixel_bytes // (1024 * 1024)} MB"
        return f"image too large ({size}); a slice may have at most {_mb(MAX_PIXEL_BYTES)}"
    modality = str(dataset.get("Modality", "CT"))
    if ct_only and modality != "CT":
        return f"modality {modality}, not CT"
    if not str(dataset.get("PatientID", "")).strip():
        return "no PatientID (needed for the patient-disjoint split)"
    return None


def _dcmread(path: Path) -> Dataset:
    """Read PATH with or without a file meta header; refuse what is not DICOM.

    Before parsing: a file over ``MAX_FILE_BYTES`` is refused from its size, and a file
    that has neither the ``DICM`` marker after its preamble nor a plausible first element
    (group 0002–0008, as every dataset with a SOP Instance UID starts) is not parsed at all:
    pydicom's ``force=True`` would walk, say, 100 MB of zeros as millions of empty
    elements (31 s of CPU, issue 11 finding 3)."""
    with path.open("rb") as handle:  # opened once: checked, then parsed
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_FILE_BYTES:
            reason = f"file of {size // (1024 * 1024)} MB; a CT slice file may have at most"
            raise DicomProblem(f"{reason} {_mb(MAX_FILE_BYTES)}")
        start = handle.read(132)
        if start[128:132] != b"DICM" and not _starts_with_element(start):
            reason = "no DICM marker and no DICOM element at its start"
            raise DicomProblem(f"not a DICOM file ({reason})")
        handle.seek(0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dataset = pydicom.dcmread(handle, force=True)
                uid = dataset.get("SOPInstanceUID")
        except Exception as exc:  # a non-DICOM file can fail anywhere in the parser
            raise DicomProblem(f"not a readable DICOM file ({_first_line(exc)})") from exc
    if not uid:
        raise DicomProblem("not a DICOM file (no SOP Instance UID)")
    return dataset


def _starts_with_element(start: bytes) -> bool:
    """A raw dataset (no preamble) starts with its lowest group: 0002 (file meta) or 0008."""
    if len(start) < 8:
        return False
    little, big = int.from_bytes(start[:2], "little"), int.from_bytes(start[:2], "big")
    return 0x0002 <= little <= 0x0008 or 0x0002 <= big <= 0x0008


def _mb(size: int) -> str:
    return f"{size // (1024 * 1024)} MB"


def _rescale(dataset: Dataset) -> tuple[float, float] | None:
    """Slope and intercept (1, 0 when absent), read once per file rather than per patch."""
    if "ModalityLUTSequence" in dataset:
        return None
    slope = dataset.get("RescaleSlope")
    intercept = dataset.get("RescaleIntercept")
    return float(1 if slope is None else slope), float(intercept or 0)


def _ensure_transfer_syntax(dataset: Dataset) -> None:
    """Files without a file meta header get the transfer syntax they were parsed with."""
    meta = dataset.file_meta
    if "TransferSyntaxUID" in meta:
        return
    if dataset["PixelData"].is_undefined_length:
        reason = "compressed pixel data but no file meta header to say how it is compressed"
        raise DicomProblem(reason, str(dataset.SOPInstanceUID))
    implicit, little = dataset.original_encoding
    if implicit:
        meta.TransferSyntaxUID = ImplicitVRLittleEndian
    else:
        meta.TransferSyntaxUID = ExplicitVRLittleEndian if little else ExplicitVRBigEndian


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
