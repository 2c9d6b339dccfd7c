"""Reading CT slices from pydicom's real test files: transfer syntaxes, HU, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from app.services.ingest.dicom_io import DicomProblem, read_header, read_slice
from tests.dicom_samples import sample, without_file_meta

EVERYTHING = (slice(None), slice(None))


def hu_of(path: Path, ct_only: bool = False) -> np.ndarray:
    return read_slice(path, ct_only=ct_only).hu(*EVERYTHING)


@pytest.mark.parametrize(
    "twin",
    [
        "MR_small_RLE.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_expb.dcm",
        "MR_small_implicit.dcm",
    ],
)
def test_lossless_and_big_endian_twins_decode_identically(twin: str) -> None:
    assert np.array_equal(hu_of(sample(twin)), hu_of(sample("MR_small.dcm")))


def test_ct_values_are_hounsfield_units_from_rescale() -> None:
    dataset = pydicom.dcmread(sample("CT_small.dcm"))
    expected = dataset.pixel_array.astype(np.int32) * int(dataset.RescaleSlope) + int(
        dataset.RescaleIntercept
    )
    hu = hu_of(sample("CT_small.dcm"), ct_only=True)
    assert hu.dtype == np.int16
    assert np.array_equal(hu, expected)
    assert int(dataset.RescaleIntercept) == -1024 and hu.min() < 0


@pytest.mark.parametrize("name", ["693_J2KI.dcm", "J2K_pixelrep_mismatch.dcm"])
def test_compressed_ct_decodes(name: str) -> None:
    hu = hu_of(sample(name), ct_only=True)
    assert hu.shape == (512, 512)
    assert hu.min() < -500 < 0 < hu.max()


def test_jpeg_extended_12_bit_decodes() -> None:
    image = read_slice(sample("JPGExtended.dcm"), ct_only=False)
    assert image.shape == (1024, 256)


def test_file_without_meta_header_reads_like_the_original(tmp_path: Path) -> None:
    raw = without_file_meta(sample("CT_small.dcm"), tmp_path / "raw")
    assert raw.read_bytes()[128:132] != b"DICM"
    assert np.array_equal(hu_of(raw, ct_only=True), hu_of(sample("CT_small.dcm"), ct_only=True))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("SC_rgb_rle.dcm", "not a single-channel CT image"),
        ("SC_rgb_jpeg.dcm", "not a single-channel CT image"),
        ("examples_palette.dcm", "not a single-channel CT image"),
        ("rtplan.dcm", "no pixel data"),
        ("ExplVR_BigEndNoMeta.dcm", "no pixel data"),
        ("rtdose.dcm", "multi-frame image (15 frames)"),
        ("MR_small.dcm", "modality MR, not CT"),
        ("badVR.dcm", "invalid NumberOfFrames"),
        ("README.txt", "not a DICOM file"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(DicomProblem, match=reason.replace("(", r"\(").replace(")", r"\)")):
        read_slice(sample(name))


@pytest.mark.parametrize("name", ["MR_truncated.dcm", "JPEG-lossy.dcm"])
def test_undecodable_pixel_data_is_refused(name: str) -> None:
    header = read_header(sample(name), ct_only=False)
    assert header.sop_uid
    with pytest.raises(DicomProblem, match="pixel data cannot be decoded") as caught:
        read_slice(sample(name), ct_only=False)
    assert caught.value.sop_uid == header.sop_uid


def test_truncated_file_on_disk_is_refused(tmp_path: Path) -> None:
    data = sample("CT_small.dcm").read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DicomProblem):
        read_slice(cut)


@pytest.mark.filterwarnings("ignore:The pixel data is 8320 bytes long")
@pytest.mark.parametrize(
    "name", ["CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_padded.dcm"]
)
def test_uncompressed_fast_path_equals_pydicom(name: str) -> None:
    dataset = pydicom.dcmread(sample(name))
    assert (dataset.BitsAllocated, dataset.BitsStored) == (16, 16)
    stored = read_slice(sample(name), ct_only=False).stored
    assert stored.dtype == dataset.pixel_array.dtype
    assert np.array_equal(stored, dataset.pixel_array)


def test_compressed_file_without_meta_header_is_refused(tmp_path: Path) -> None:
    raw = without_file_meta(sample("MR_small_RLE.dcm"), tmp_path / "raw")
    with pytest.raises(DicomProblem, match="compressed pixel data but no file meta header"):
        read_slice(raw, ct_only=False)
