"""Zip uploads: bounded in size, extracted safely, then imported like a directory.

Limits: the upload itself ≤ ``max_upload_mb``; the bytes actually extracted ≤
``UNZIP_FACTOR`` × that (counted while writing, never trusted from the zip's header); at most
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

UNZIP_FACTOR = 4
MAX_MEMBERS = 100_000
CHUNK = 1 << 20


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
        extract_zip(archive, root, UNZIP_FACTOR * upload_limit(settings))
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


def extract_zip(archive: Path, root: Path, max_bytes: int) -> None:
    """Extract ARCHIVE under ROOT, refusing unsafe names, links and more than MAX_BYTES."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            if len(members) > MAX_MEMBERS:
                raise BadUpload(f"zip has {len(members)} entries; at most {MAX_MEMBERS}")
            budget = max_bytes
            for member in members:
                budget -= _extract_member(zipped, member, root, budget)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise BadUpload(f"not a readable zip file ({exc})") from None


def _extract_member(
    zipped: zipfile.ZipFile, member: zipfile.ZipInfo, root: Path, budget: int
) -> int:
    """Write one entry; return the bytes written."""
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
    with zipped.open(member) as source:
        try:
            copy_bounded(source, target, budget)
        except TooLarge:
            raise TooLarge("zip expands beyond the allowed size") from None
    return target.stat().st_size


def import_root(root: Path) -> Path:
    """ROOT, or its single top folder when the CSV sits there (zips of a folder)."""
    if (root / ANNOTATIONS).is_file() or (root / PATCHES).is_file():
        return root
    entries = [p for p in root.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return root
