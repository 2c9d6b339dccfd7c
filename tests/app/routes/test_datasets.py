"""Datasets page, gallery, patch PNGs and the upload API (an upload is an import job)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.config import Settings
from app.db import Database
from app.services.datasets.catalog import list_datasets
from tests.dicom_samples import mixed_cohort, zip_directory
from tests.factories import api_token, login, make_user
from tests.job_factories import run_queue
from tests.upload_factories import (
    counts,
    import_job,
    imported,
    multipart_without_length,
    small_zip,
    upload,
    waiting_uploads,
)

HTML = {"accept": "text/html"}
SMALL_ZIP = small_zip()


def coordinator_with_data(
    client: TestClient, db: Database, settings: Settings, tmp_path: Path
) -> dict[str, str]:
    headers = api_token(db, make_user(db, "coordinator"))
    summary = imported(
        client, settings, headers, zip_directory(mixed_cohort(tmp_path / "c"), "cohort/")
    )
    assert summary["imported"] == 3
    return headers


def test_roles(client: TestClient, db: Database) -> None:
    assert client.get("/datasets", headers=HTML, follow_redirects=False).status_code == 303
    assert client.get("/api/v1/datasets").status_code == 401
    reader = api_token(db, make_user(db, "reader"))
    assert client.get("/api/v1/datasets", headers=reader).status_code == 403
    assert client.get("/patches/1.png", headers=reader).status_code == 403
    login(client, make_user(db, "reader", "reader2"))
    assert client.get("/datasets").status_code == 403


def test_upload_is_a_job_and_the_request_stores_no_patches(
    client: TestClient, db: Database, settings: Settings, tmp_path: Path
) -> None:
    headers = api_token(db, make_user(db, "coordinator"))
    response = upload(client, headers, zip_directory(mixed_cohort(tmp_path / "c"), "cohort/"))
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["kind"] == "import" and job["status"] == "queued" and job["result"] == {}
    assert counts(db) == (1, 0) and client.get("/api/v1/datasets", headers=headers).json() == []
    assert len(waiting_uploads(settings)) == 1
    assert run_queue(settings) == 1
    done = client.get(f"/api/v1/jobs/{job['id']}", headers=headers).json()
    assert done["status"] == "succeeded" and done["result"]["imported"] == 3
    assert counts(db) == (1, 3) and waiting_uploads(settings) == []


def test_upload_returns_summary_and_counts(
    client: TestClient, db: Database, settings: Settings, tmp_path: Path
) -> None:
    headers = api_token(db, make_user(db, "coordinator"))
    data = zip_directory(mixed_cohort(tmp_path / "c"), "cohort/")
    summary = imported(client, settings, headers, data)
    assert summary["imported"] == 3 and summary["dataset"] == "real1"
    not_dicom = "not a DICOM file (no DICM marker and no DICOM element at its start)"
    assert {"item": "notes.txt", "reason": not_dicom} in summary["errors"]
    assert summary["skipped"] == len(summary["errors"]) and summary["already_present"] == 0
    assert summary["errors_not_listed"] == 0
    again = imported(client, settings, headers, data)
    assert again["imported"] == 0 and again["already_present"] >= 3
    (listed,) = client.get("/api/v1/datasets", headers=headers).json()
    assert listed["total"] == 3 and listed["kind"] == "real"
    assert sum(listed["counts"]["CAL"].values()) == 1


def test_pages_show_counts_and_gallery(
    client: TestClient, db: Database, settings: Settings, tmp_path: Path
) -> None:
    coordinator_with_data(client, db, settings, tmp_path)
    login(client, make_user(db, "coordinator", "coord2"))
    page = client.get("/datasets")
    assert page.status_code == 200
    assert (
        "real1" in page.text
        and "ground-glass opacity" in page.text
        and "calcification" in page.text
    )
    gallery = client.get("/datasets/1/gallery?window=mediastinal")
    assert gallery.status_code == 200 and "<html" in gallery.text
    assert gallery.text.count("/patches/") == 3 and "window=mediastinal" in gallery.text
    fragment = client.get("/datasets/1/gallery?label=CAL", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and fragment.text.count("<figure ") == 1


def test_window_presets_render_different_pngs(
    client: TestClient, db: Database, settings: Settings, tmp_path: Path
) -> None:
    headers = coordinator_with_data(client, db, settings, tmp_path)
    lung = client.get("/patches/1.png?window=lung", headers=headers)
    mediastinal = client.get("/patches/1.png?window=mediastinal", headers=headers)
    assert lung.headers["content-type"] == "image/png"
    assert lung.content != mediastinal.content
    assert Image.open(io.BytesIO(lung.content)).size == (64, 64)
    assert client.get("/patches/1.png?window=bone", headers=headers).status_code == 422
    assert client.get("/patches/999.png", headers=headers).status_code == 404


def test_upload_too_large_is_413(client: TestClient, db: Database, settings: Settings) -> None:
    headers = api_token(db, make_user(db, "coordinator"))
    settings.max_upload_mb = 1
    response = upload(client, headers, bytes(1024 * 1024 + 10))
    assert response.status_code == 413 and "1 MB" in response.json()["detail"]
    assert client.get("/healthz").status_code == 200
    assert counts(db) == (0, 0) and waiting_uploads(settings) == []


def test_upload_without_length_is_counted_and_413(
    client: TestClient, db: Database, settings: Settings
) -> None:
    headers = api_token(db, make_user(db, "coordinator"))
    settings.max_upload_mb = 1
    body, content_type = multipart_without_length("big", bytes(1024 * 1024 + 10))
    response = client.post("/api/v1/datasets", content=body, headers=headers | content_type)
    assert response.status_code == 413 and "1 MB" in response.json()["detail"]
    assert counts(db) == (0, 0) and waiting_uploads(settings) == []


def test_malformed_zip_is_400(client: TestClient, db: Database, settings: Settings) -> None:
    headers = api_token(db, make_user(db, "coordinator"))
    response = upload(client, headers, b"PK\x03\x04 broken")
    assert response.status_code == 400 and "not a readable zip" in response.json()["detail"]
    assert client.get("/healthz").status_code == 200
    with db.session() as session:
        assert list_datasets(session) == []
    assert counts(db) == (0, 0) and waiting_uploads(settings) == []


@pytest.mark.parametrize(
    ("fields", "with_file"),
    [({"name": "x"}, False), ({}, True), ({"name": " "}, True), ({"name": "x" * 121}, True)],
)
def test_missing_or_bad_fields_are_422(
    client: TestClient, db: Database, settings: Settings, fields: dict, with_file: bool
) -> None:
    headers = api_token(db, make_user(db, "coordinator"))
    files = {"file": ("c.zip", SMALL_ZIP, "application/zip")} if with_file else None
    response = client.post("/api/v1/datasets", data=fields, files=files, headers=headers)
    assert response.status_code == 422, response.text
    assert counts(db) == (0, 0) and waiting_uploads(settings) == []


def test_zip_slip_fails_the_job_and_stores_nothing(
    client: TestClient, db: Database, settings: Settings
) -> None:
    headers = api_token(db, make_user(db, "coordinator"))
    data = small_zip({"annotations.csv": "path,x,y,label\n", "../evil.txt": "x"})
    job = import_job(client, settings, headers, data)
    assert job["status"] == "failed" and "outside the archive" in job["message"]
    assert job["attempts"] == 1 and job["result"] == {}
    assert counts(db) == (1, 0) and waiting_uploads(settings) == []
    assert not (settings.data_dir / "evil.txt").exists()


def test_coordinators_read_import_jobs_readers_do_not(
    client: TestClient, db: Database, settings: Settings, tmp_path: Path
) -> None:
    coordinator = api_token(db, make_user(db, "coordinator"))
    reader = api_token(db, make_user(db, "reader"))
    assert upload(client, reader, SMALL_ZIP).status_code == 403
    job = upload(client, coordinator, SMALL_ZIP).json()
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=reader).status_code == 403
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=coordinator).status_code == 200
