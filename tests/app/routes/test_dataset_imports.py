"""The datasets page's import form: it starts an import job and answers with a fragment that
polls ``/datasets/imports/{id}`` until the job ends, then shows the summary or the reason."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from app.config import Settings
from app.db import Database
from app.tables import Job
from tests.dicom_samples import mixed_cohort, zip_directory
from tests.factories import login, make_user
from tests.job_factories import run_queue
from tests.upload_factories import counts, small_zip, waiting_uploads

HTMX = {"HX-Request": "true"}


def post_form(client: TestClient, token: str, data: bytes, name: str = "web"):
    files = {"file": ("c.zip", data, "application/zip")}
    return client.post("/datasets", data={"name": name, "csrf_token": token}, files=files)


def polled_job(fragment: str) -> int:
    """The job id the fragment polls; fails when it does not poll."""
    found = re.search(r'hx-get="/datasets/imports/(\d+)" hx-trigger="load delay:1s"', fragment)
    assert found, fragment
    return int(found.group(1))


def test_browser_upload_needs_csrf_and_shows_progress_then_summary(
    client: TestClient, db: Database, settings: Settings, tmp_path: Path
) -> None:
    token = login(client, make_user(db, "coordinator"))
    data = zip_directory(mixed_cohort(tmp_path / "c"))
    files = {"file": ("c.zip", data, "application/zip")}
    assert client.post("/datasets", data={"name": "web"}, files=files).status_code == 403
    assert counts(db) == (0, 0)
    response = post_form(client, token, data)
    assert response.status_code == 200 and "<html" not in response.text
    job_id = polled_job(response.text)
    assert 'hx-swap="outerHTML"' in response.text and "queued" in response.text
    assert "Imported" not in response.text and counts(db) == (1, 0)  # the request imported none
    waiting = client.get(f"/datasets/imports/{job_id}", headers=HTMX)
    assert polled_job(waiting.text) == job_id and "waiting for a worker" in waiting.text
    run_queue(settings)
    done = client.get(f"/datasets/imports/{job_id}", headers=HTMX)
    assert done.status_code == 200 and "hx-get" not in done.text  # it stops polling
    assert "Imported 3 patches" in done.text and "<strong>web</strong>" in done.text
    assert "notes.txt" in done.text and "not a DICOM file" in done.text
    assert counts(db) == (1, 3) and waiting_uploads(settings) == []


def test_a_failed_import_shows_its_reason(
    client: TestClient, db: Database, settings: Settings
) -> None:
    token = login(client, make_user(db, "coordinator"))
    response = post_form(client, token, small_zip({"/abs/evil.txt": "x"}))
    job_id = polled_job(response.text)
    run_queue(settings)
    done = client.get(f"/datasets/imports/{job_id}", headers=HTMX).text
    assert "hx-get" not in done and 'role="alert"' in done
    assert "Import failed" in done and "outside the archive" in done


def test_refusals_before_a_job_show_their_reason(
    client: TestClient, db: Database, settings: Settings
) -> None:
    token = login(client, make_user(db, "coordinator"))
    response = post_form(client, token, b"PK\x03\x04 broken")
    assert response.status_code == 200 and 'role="alert"' in response.text
    assert "not a readable zip" in response.text and "hx-get" not in response.text
    assert counts(db) == (0, 0) and waiting_uploads(settings) == []


def test_the_status_route_serves_import_jobs_to_coordinators(
    client: TestClient, db: Database
) -> None:
    with db.session() as session:
        other = Job(kind="train_gan", params={"dataset": "x"})
        imports = Job(kind="import", params={"dataset": "x", "upload": "0" * 32 + ".zip"})
        session.add_all([other, imports])
        session.flush()
        other_id, import_id = other.id, imports.id
    login(client, make_user(db, "reader"))
    assert client.get(f"/datasets/imports/{import_id}", headers=HTMX).status_code == 403
    login(client, make_user(db, "coordinator"))
    assert client.get(f"/datasets/imports/{import_id}", headers=HTMX).status_code == 200
    assert client.get(f"/datasets/imports/{other_id}", headers=HTMX).status_code == 404
    assert client.get("/datasets/imports/999", headers=HTMX).status_code == 404
    page = client.get(f"/datasets/imports/{import_id}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == f"/jobs/{import_id}"
