"""Zip uploads: bounded in size, extracted safely, then imported like a directory.

Limits (issue 11, finding 3: a 54 KB zip used to expand to 2 GB): the upload itself ≤
``max_upload_mb``. Extraction counts the bytes actually written (never trusting the zip's
header) and stops at the first of: an entry writing more than ``max_unzip_ratio`` × its
compressed size (past a ``RATIO_FLOOR`` every entry may reach, so small files that do not
compress are never refused), the whole archive writing more than ``max_unzip_ratio`` × the
upload's size (+ ``RATIO_FLOOR``), or more than ``max_unzip_mb`` in all. At most
``MAX_MEMBERS`` entries; no absolute paths, ``..`` or links (zip slip).
"""

from __future__ import annotations

import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import LungsignError
from app.services.ingest.annotations import ANNOTATIONS
from app.services.ingest.directory import import_directory
from app.services.ingest.precut import PATCHES
from app.services.ingest.types import ImportSummary
from app.tables import User

MAX_MEMBERS = 100_000
CHUNK = 1 << 20
RATIO_FLOOR = 1 << 20  # bytes any entry (and the archive) may expand to, whatever its ratio


class TooLarge(LungsignError):
    status_code = 413


class BadUpload(LungsignError):
    """Not a zip, or a zip with unsafe entries (400)."""


def upload_limit(settings: Settings) -> int:
    return settings.max_upload_mb * 1024 * 1024


def import_zip(
    session: Session, settings: Settings, upload: IO[bytes], dataset_name: str, user: User | None
) -> ImportSummary:
    """Import a zip (file object) holding the import directory, at its root or one level down."""
    with tempfile.TemporaryDirectory(prefix="lungsign-upload-") as tmp:
        archive = Path(tmp) / "upload.zip"
        copy_bounded(upload, archive, upload_limit(settings))
        root = Path(tmp) / "files"
        extract_zip(archive, root, settings.max_unzip_mb * 1024 * 1024, settings.max_unzip_ratio)
        return import_directory(session, settings, import_root(root), dataset_name, user)


def copy_bounded(source: IO[bytes], target: Path, limit: int) -> None:
    """Copy SOURCE to TARGET, refusing more than LIMIT bytes."""
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise TooLarge(f"upload larger than the {limit // (1024 * 1024)} MB limit")
            out.write(chunk)


def extract_zip(archive: Path, root: Path, max_bytes: int, max_ratio: int = 100) -> None:
    """Extract ARCHIVE under ROOT, refusing unsafe names and links, an entry that expands
    more than MAX_RATIO times, and more than MAX_BYTES (or MAX_RATIO × the archive) in all."""
    by_ratio = max_ratio * archive.stat().st_size + RATIO_FLOOR
    if by_ratio < max_bytes:
        total = Bound(by_ratio, f"zip expands beyond {max_ratio} times its size ({_mb(by_ratio)})")
    else:
        total = Bound(max_bytes, f"zip expands beyond the {_mb(max_bytes)} limit")
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            if len(members) > MAX_MEMBERS:
                raise BadUpload(f"zip has {len(members)} entries; at most {MAX_MEMBERS}")
            for member in members:
                total.used += _extract_member(zipped, member, root, total, max_ratio)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise BadUpload(f"not a readable zip file ({exc})") from None


class Bound:
    """A byte budget and the reason given when it runs out."""

    def __init__(self, limit: int, reason: str) -> None:
        self.limit, self.reason, self.used = limit, reason, 0

    @property
    def left(self) -> int:
        return self.limit - self.used


def _extract_member(
    zipped: zipfile.ZipFile, member: zipfile.ZipInfo, root: Path, total: Bound, max_ratio: int
) -> int:
    """Write one entry, streamed in chunks; return the bytes written."""
    name = PurePosixPath(member.filename.replace("\\", "/"))
    if name.is_absolute() or ".." in name.parts or (name.parts and ":" in name.parts[0]):
        raise BadUpload(f"zip entry {member.filename!r} points outside the archive")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise BadUpload(f"zip entry {member.filename!r} is a link")
    target = root.joinpath(*name.parts)
    if member.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    by_ratio = max_ratio * member.compress_size + RATIO_FLOOR
    written = 0
    with zipped.open(member) as source, target.open("wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > by_ratio:
                reason = f"zip entry {member.filename!r} expands more than {max_ratio} times"
                raise TooLarge(f"{reason} its compressed size (a zip bomb?)")
            if written > total.left:
                raise TooLarge(total.reason)
            out.write(chunk)
    return written


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


def import_root(root: Path) -> Path:
    """ROOT, or its single top folder when the CSV sits there (zips of a folder)."""
    if (root / ANNOTATIONS).is_file() or (root / PATCHES).is_file():
        return root
    entries = [p for p in root.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return root
