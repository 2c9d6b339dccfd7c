"""CT Image Storage files with pydicom: deterministic UIDs, fake PHI, varied pixel storage.

Storage varies by patient so importers meet the usual encodings: unsigned 16-bit with
intercept −1024 (most), unsigned 12-bit stored, intercept −1000, signed 16-bit with
intercept 0; every fourth patient's series is RLE Lossless, the rest Explicit VR Little Endian.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    RLELossless,
    generate_uid,
)

UID_ROOT = "lungsign-demo"


@dataclass(frozen=True)
class Storage:
    """How HU become stored values: HU = stored · slope + intercept."""

    signed: bool
    bits_stored: int
    intercept: float
    rle: bool

    def encode(self, hu: np.ndarray) -> np.ndarray:
        """Stored pixel values for integer HU, clipped to what the encoding can hold."""
        stored = hu.astype(np.int32) - int(self.intercept)
        if self.signed:
            lo, hi = -(2 ** (self.bits_stored - 1)), 2 ** (self.bits_stored - 1) - 1
            return np.clip(stored, lo, hi).astype(np.int16)
        return np.clip(stored, 0, 2**self.bits_stored - 1).astype(np.uint16)


def storage_for(patient: int) -> Storage:
    """The storage variant of patient number PATIENT (1-based)."""
    rle = patient % 4 == 0
    kind = patient % 6
    if kind == 3:
        return Storage(signed=False, bits_stored=12, intercept=-1024.0, rle=rle)
    if kind == 4:
        return Storage(signed=False, bits_stored=16, intercept=-1000.0, rle=rle)
    if kind == 5:
        return Storage(signed=True, bits_stored=16, intercept=0.0, rle=rle)
    return Storage(signed=False, bits_stored=16, intercept=-1024.0, rle=rle)


def uid(seed: int, *parts: object) -> UID:
    """A UID derived only from the seed and PARTS (same inputs → same UID)."""
    return generate_uid(entropy_srcs=[UID_ROOT, str(seed), *map(str, parts)])


@dataclass(frozen=True)
class SeriesInfo:
    """Per-series header values shared by every slice."""

    seed: int
    patient: int
    spacing_mm: float
    thickness_mm: float
    birth_date: str
    sex: str
    study_date: str
    storage: Storage

    @property
    def patient_id(self) -> str:
        return f"DEMO{self.patient:04d}"


def slice_dataset(info: SeriesInfo, index: int, hu: np.ndarray) -> Dataset:
    """The dataset of slice INDEX (0 = most superior) holding integer HU image HU."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = uid(info.seed, info.patient, "slice", index)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = info.study_date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "093000"
    ds.AccessionNumber = f"ACC{info.seed % 1000:03d}{info.patient:05d}"
    ds.Modality = "CT"
    ds.Manufacturer = "lungsign synthetic"
    ds.InstitutionName = "Synthetic General Hospital"
    ds.ReferringPhysicianName = "Doe^Jane"
    ds.StudyDescription = "CT CHEST (synthetic demo)"
    ds.SeriesDescription = "AXIAL LUNG 5mm"
    ds.PatientName = f"Demo^Patient{info.patient:04d}"
    ds.PatientID = info.patient_id
    ds.PatientBirthDate = info.birth_date
    ds.PatientSex = info.sex
    ds.BodyPartExamined = "CHEST"
    ds.SliceThickness = f"{info.thickness_mm:g}"
    ds.KVP = "120"
    ds.ConvolutionKernel = "LUNG"
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = uid(info.seed, info.patient, "study")
    ds.SeriesInstanceUID = uid(info.seed, info.patient, "series")
    ds.FrameOfReferenceUID = uid(info.seed, info.patient, "frame")
    ds.StudyID = f"{info.patient}"
    ds.SeriesNumber = 1
    ds.InstanceNumber = index + 1
    rows, cols = hu.shape
    z = -info.thickness_mm * index
    half = info.spacing_mm * (cols - 1) / 2
    ds.ImagePositionPatient = [f"{-half:.3f}", f"{-half:.3f}", f"{z:.3f}"]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceLocation = f"{z:.3f}"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.PixelSpacing = [f"{info.spacing_mm:.6f}", f"{info.spacing_mm:.6f}"]
    storage = info.storage
    ds.BitsAllocated = 16
    ds.BitsStored = storage.bits_stored
    ds.HighBit = storage.bits_stored - 1
    ds.PixelRepresentation = int(storage.signed)
    ds.WindowCenter, ds.WindowWidth = "-600", "1500"
    ds.RescaleIntercept = f"{storage.intercept:g}"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    pixels = storage.encode(hu)
    if storage.rle:
        ds.compress(RLELossless, pixels, encoding_plugin="pylibjpeg")
    else:
        ds.PixelData = pixels.tobytes()
    return ds


def write_slice(path: Path, ds: Dataset) -> None:
    """Write DS as a DICOM Part 10 file, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
