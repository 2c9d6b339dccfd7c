"""Zip extraction: zip slip, links, bombs and junk are refused."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from app.services.ingest.uploads import BadUpload, TooLarge, copy_bounded, extract_zip, import_root


def make_zip(path: Path, entries: dict[str, bytes], link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in entries.items():
            zipped.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zipped.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt", "C:/x.txt"])
def test_entries_outside_the_archive_are_refused(tmp_path: Path, name: str) -> None:
    archive = make_zip(tmp_path / "u.zip", {name: b"x"})
    with pytest.raises(BadUpload, match="outside the archive"):
        extract_zip(archive, tmp_path / "out", 10_000)
    assert not (tmp_path / "evil.txt").exists()


def test_links_are_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "u.zip", {"a.txt": b"x"}, link="link")
    with pytest.raises(BadUpload, match="is a link"):
        extract_zip(archive, tmp_path / "out", 10_000)


def test_expansion_is_bounded_by_bytes_written(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "bomb.zip", {"zeros.bin": bytes(5_000_000)})
    assert archive.stat().st_size < 20_000
    with pytest.raises(TooLarge, match="expands beyond"):
        extract_zip(archive, tmp_path / "out", 1_000_000)


def test_junk_is_not_a_zip(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(BadUpload, match="not a readable zip"):
        extract_zip(junk, tmp_path / "out", 10_000)


def test_copy_bounded_refuses_more_than_the_limit(tmp_path: Path) -> None:
    with pytest.raises(TooLarge):
        copy_bounded(io.BytesIO(bytes(2049)), tmp_path / "x", 2048)


def test_import_root_descends_into_a_single_folder(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "u.zip", {"cohort/annotations.csv": b"x", "__MACOSX/._a": b""})
    extract_zip(archive, tmp_path / "out", 10_000)
    assert import_root(tmp_path / "out") == tmp_path / "out" / "cohort"
