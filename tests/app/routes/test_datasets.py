"""Datasets page, gallery, patch PNGs and the upload API."""

from __future__ import annotations

import io
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from app.config import Settings
from app.db import Database
from app.services.datasets import list_datasets
from tests.dicom_samples import mixed_cohort, zip_directory
from tests.factories import api_token, login, make_user

HTML = {"accept": "text/html"}


def upload(client: TestClient, headers: dict[str, str], data: bytes, name: str = "real1"):
    files = {"file": ("cohort.zip", data, "application/zip")}
    return client.post("/api/v1/datasets", data={"name": name}, files=files, headers=headers)


def coordinator_with_data(client: TestClient, db: Database, tmp_path: Path) -> dict[str, str]:
    headers = api_token(db, make_user(db, "coordinator"))
    response = upload(client, headers, zip_directory(mixed_cohort(tmp_path / "c"), "cohort/"))
    assert response.status_code == 200, response.text
    return headers


def test_roles(client: TestClient, db: Database) -> None:
    assert client.get("/datasets", headers=HTML, follow_redirects=False).status_code == 303
    assert client.get("/api/v1/datasets").status_code == 401
    reader = api_token(db, make_user(db, "reader"))
    assert client.get("/api/v1/datasets", headers=reader).status_code == 403
    assert client.get("/patches/1.png", headers=reader).status_code == 403
    login(client, make_user(db, "reader", "reader2"))
    assert client.get("/datasets").status_code == 403


def test_upload_returns_summary_and_counts(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    headers = api_token(db, make_user(db, "coordinator"))
    data = zip_directory(mixed_cohort(tmp_path / "c"), "cohort/")
    summary = upload(client, headers, data).json()
    assert summary["imported"] == 3 and summary["dataset"] == "real1"
    assert {"item": "notes.txt", "reason": "not a DICOM file (no SOP Instance UID)"} in summary[
        "errors"
    ]
    assert upload(client, headers, data).json()["imported"] == 0
    (listed,) = client.get("/api/v1/datasets", headers=headers).json()
    assert listed["total"] == 3 and listed["kind"] == "real"
    assert sum(listed["counts"]["CAL"].values()) == 1


def test_pages_show_counts_and_gallery(client: TestClient, db: Database, tmp_path: Path) -> None:
    coordinator_with_data(client, db, tmp_path)
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
    assert "<html" not in fragment.text and fragment.text.count("<figure>") == 1


def test_window_presets_render_different_pngs(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    headers = coordinator_with_data(client, db, tmp_path)
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


def test_malformed_zip_is_400(client: TestClient, db: Database) -> None:
    headers = api_token(db, make_user(db, "coordinator"))
    response = upload(client, headers, b"PK\x03\x04 broken")
    assert response.status_code == 400 and "not a readable zip" in response.json()["detail"]
    assert client.get("/healthz").status_code == 200
    with db.session() as session:
        assert list_datasets(session) == []


def test_browser_upload_needs_csrf_and_shows_summary(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    token = login(client, make_user(db, "coordinator"))
    data = zip_directory(mixed_cohort(tmp_path / "c"))
    files = {"file": ("c.zip", data, "application/zip")}
    assert client.post("/datasets", data={"name": "web"}, files=files).status_code == 403
    response = client.post("/datasets", data={"name": "web", "csrf_token": token}, files=files)
    assert response.status_code == 200 and "Imported 3 patches" in response.text
    assert "notes.txt" in response.text
