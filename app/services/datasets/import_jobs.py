"""Imports of uploaded zips as jobs: the web process keeps the zip under ``data_dir/uploads``
and creates an ``import`` job; a worker extracts and imports it (``app.jobs.imports``).

Refused before anything is queued (and the kept file removed): an upload over the limit
(413), a file that is not a zip (400: its central directory is read, nothing is extracted),
a bad dataset name (422). Everything that needs the zip's contents — zip slip, links, zip
bombs, bad rows and files — is found by the worker and ends the job (failed, or in its
result's ``errors``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import NotFound
from app.jobs import submit
from app.jobs.imports import save_upload, uploads_dir
from app.services.ingest.uploads import BadUpload
from app.tables import Job, User

KIND = "import"


def start_import(
    session: Session, settings: Settings, upload: IO[bytes], dataset_name: str, user: User
) -> submit.Submitted:
    """A queued import job for UPLOAD into DATASET_NAME (enqueued by the caller once the
    job's row is committed)."""
    saved = save_upload(settings, upload)
    path = uploads_dir(settings) / saved
    try:
        check_zip(path)
        params = {"dataset": dataset_name.strip(), "upload": saved}
        submitted = submit.create(session, settings, KIND, params, user)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if not submitted.created:  # an identical job has its own copy of the zip
        path.unlink(missing_ok=True)
    return submitted


def check_zip(path: Path) -> None:
    """Refuse a file whose zip central directory cannot be read (nothing is extracted)."""
    try:
        with zipfile.ZipFile(path):
            pass
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise BadUpload(f"not a readable zip file ({exc})") from None


def get_import(session: Session, job_id: int) -> Job:
    """Import job JOB_ID (any other kind is not found here)."""
    job = submit.get(session, job_id)
    if job.kind != KIND:
        raise NotFound(f"no import job {job_id}")
    return job


def is_active(job: Job) -> bool:
    return job.status in submit.ACTIVE
