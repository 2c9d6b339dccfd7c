"""Zip uploads through the API as import jobs: post, run the queue in this process, read the
job back (what a client of ``POST /api/v1/datasets`` does with a worker running)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.jobs.imports import uploads_dir
from app.tables import Job, Patch
from tests.job_factories import run_queue


def upload(client: TestClient, headers: dict[str, str], data: bytes, name: str = "real1"):
    files = {"file": ("cohort.zip", data, "application/zip")}
    return client.post("/api/v1/datasets", data={"name": name}, files=files, headers=headers)


def import_job(
    client: TestClient,
    settings: Settings,
    headers: dict[str, str],
    data: bytes,
    name: str = "real1",
) -> dict[str, Any]:
    """Upload DATA (202: a queued import job), run the queue, return the job as the API shows
    it afterwards."""
    response = upload(client, headers, data, name)
    assert response.status_code == 202, response.text
    run_queue(settings)
    job = client.get(f"/api/v1/jobs/{response.json()['id']}", headers=headers)
    assert job.status_code == 200, job.text
    return dict(job.json())


def imported(
    client: TestClient, settings: Settings, headers: dict[str, str], data: bytes, **kw: Any
) -> dict[str, Any]:
    """The import summary of a successful upload (the job's result)."""
    job = import_job(client, settings, headers, data, **kw)
    assert job["status"] == "succeeded", job
    return dict(job["result"])


def small_zip(entries: dict[str, str] | None = None) -> bytes:
    """A zip of ENTRIES (name → text); by default an ``annotations.csv`` with no rows."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, text in (entries or {"annotations.csv": "path,x,y,label\n"}).items():
            zipped.writestr(name, text)
    return buffer.getvalue()


def counts(db: Database) -> tuple[int, int]:
    """(import jobs, patches) in the database."""
    with db.session() as session:
        jobs = session.scalar(select(func.count()).select_from(Job).where(Job.kind == "import"))
        patches = session.scalar(select(func.count()).select_from(Patch))
        return int(jobs or 0), int(patches or 0)


def waiting_uploads(settings: Settings) -> list[str]:
    return sorted(p.name for p in uploads_dir(settings).iterdir())


def multipart_without_length(name: str, data: bytes) -> tuple[Any, dict[str, str]]:
    """A multipart body sent chunked (no Content-Length), and its Content-Type header."""
    head = (
        b'--B\r\nContent-Disposition: form-data; name="name"\r\n\r\n'
        + name.encode()
        + b'\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="c.zip"\r\n'
        + b"Content-Type: application/zip\r\n\r\n"
    )
    return iter([head, data, b"\r\n--B--\r\n"]), {"content-type": "multipart/form-data; boundary=B"}
