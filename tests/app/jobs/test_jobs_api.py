"""The jobs API with a real queue (SQLite storage, or Redis on the PostgreSQL run) and the
worker's own code run in this process: create, refuse, de-duplicate, run, cancel, fail."""

from __future__ import annotations

import csv
import io
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.tables import Dataset, Job, ModelVersion, Patch
from tests.factories import api_token, make_user
from tests.job_factories import job_row, run_queue, store_patch_set, use_tiny_models
from tests.models.synthetic import blob_patches


@pytest.fixture
def admin(db: Database) -> dict[str, str]:
    return api_token(db, make_user(db, "admin"))


@pytest.fixture
def real(db: Database, monkeypatch: pytest.MonkeyPatch) -> str:
    use_tiny_models(monkeypatch)
    return store_patch_set(db, "blobs", blob_patches(6, codes=("GGO", "CAL", "NOR")))


def _start(client: TestClient, auth: dict[str, str], kind: str, **params: object) -> dict:
    response = client.post("/api/v1/jobs", json={"kind": kind, "params": params}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def _jobs(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Job)) or 0)


def test_roles(client: TestClient, db: Database, real: str) -> None:
    body = {"kind": "train_gan", "params": {"dataset": real}}
    coordinator = api_token(db, make_user(db, "coordinator"))
    reader = api_token(db, make_user(db, "reader"))
    assert client.post("/api/v1/jobs", json=body).status_code == 401
    assert client.post("/api/v1/jobs", json=body, headers=coordinator).status_code == 403
    assert client.get("/api/v1/jobs", headers=coordinator).status_code == 200
    assert client.get("/api/v1/jobs", headers=reader).status_code == 403
    assert client.get("/api/v1/models", headers=reader).status_code == 403
    assert _jobs(db) == 0


@pytest.mark.parametrize(
    ("kind", "params", "status", "reason"),
    [
        ("train_gan", {"dataset": "nope"}, 404, "no dataset named 'nope'"),
        ("train_gan", {"dataset": "blobs", "epochs": 0}, 422, "epochs"),
        ("train_gan", {"dataset": "blobs", "learning_rate": 1}, 422, "learning_rate"),
        ("generate", {"gan": 3, "per_label": 5, "dataset": "g"}, 404, "no gan model version 3"),
        ("train_classifier", {"dataset": "blobs", "generated": "x"}, 422, "gan-pretrain and mixed"),
        ("train_classifier", {"dataset": "blobs", "folds": 6}, 422, "need ≥ 6 patients, have 5"),
        ("bake", {}, 422, "kind must be one of"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_queued(
    client: TestClient,
    db: Database,
    settings: Settings,
    admin: dict[str, str],
    real: str,
    kind: str,
    params: dict,
    status: int,
    reason: str,
) -> None:
    response = client.post("/api/v1/jobs", json={"kind": kind, "params": params}, headers=admin)
    assert response.status_code == status and reason in response.json()["detail"]
    assert _jobs(db) == 0 and run_queue(settings) == 0


def test_the_same_request_twice_gives_the_same_job(
    client: TestClient, db: Database, admin: dict[str, str], real: str
) -> None:
    first = _start(client, admin, "train_gan", dataset=real, steps=20, seed=1)
    again = client.post(
        "/api/v1/jobs",
        json={"kind": "train_gan", "params": {"dataset": real, "steps": 20, "seed": 1}},
        headers=admin,
    )
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    other_seed = _start(client, admin, "train_gan", dataset=real, steps=20, seed=2)
    assert other_seed["id"] != first["id"] and _jobs(db) == 2


def test_gan_generate_classifier_evaluate_as_jobs(
    client: TestClient, db: Database, settings: Settings, admin: dict[str, str], real: str
) -> None:
    gan_job = _start(client, admin, "train_gan", dataset=real, steps=40)
    run_queue(settings)  # the training, then the measuring job it queued
    done = client.get(f"/api/v1/jobs/{gan_job['id']}", headers=admin).json()
    assert done["status"] == "succeeded" and done["progress"] == 1.0, done["log_tail"]
    assert done["result"]["model_version"] == 1 and len(done["metrics"]["losses"]) > 0
    assert (settings.data_dir / "jobs" / str(gan_job["id"]) / "samples.png").stat().st_size > 0
    measured = job_row(db, done["result"]["evaluate_job"])
    assert measured.status == "succeeded" and 0 <= measured.result["c2st_accuracy"] <= 1

    models = client.get("/api/v1/models", headers=admin).json()
    gan = next(m for m in models if m["kind"] == "gan")
    assert {"c2st_accuracy", "fd", "precision", "recall", "train_seconds"} <= set(gan["metrics"])
    run = gan["lineage"]["run"]
    assert run["seed"] == 0 and run["device"] == "cpu" and len(run["snapshot"]) == 64
    assert run["torch"] and run["code_version"].startswith("0.1.0")

    _start(client, admin, "generate", gan=1, per_label=3, dataset="gen", drop_near_copies=True)
    run_queue(settings)  # a classifier job names an existing generated dataset
    _start(
        client,
        admin,
        "train_classifier",
        dataset=real,
        mode="gan-pretrain",
        generated="gen",
        folds=3,
    )
    run_queue(settings)
    with db.session() as session:
        generated = session.scalar(
            select(func.count()).select_from(Patch).join(Dataset).where(Dataset.name == "gen")
        )
        classifier = session.scalars(select(ModelVersion).where(ModelVersion.kind == "classifier"))
        row = classifier.one()
        assert generated and generated <= 9
        assert row.lineage["parent_gan_version"] == 1 and row.lineage["generated"] == "gen"
        assert "accuracy_difference" in row.metrics["paired_vs_real_only"]
    # real-only on the same folds was part of that job: this one reuses its folds
    real_only = _start(client, admin, "train_classifier", dataset=real, folds=3)
    run_queue(settings)
    again = client.get(f"/api/v1/jobs/{real_only['id']}", headers=admin).json()
    assert again["status"] == "succeeded", again["log_tail"]
    assert "real-only: 3 of 3 folds already computed, reused" in again["log_tail"]
    promoted = client.post(f"/api/v1/models/{gan['id']}/promote", headers=admin).json()
    assert promoted["current"] is True
    checkpoint = client.get(f"/api/v1/models/{gan['id']}/checkpoint", headers=admin)
    assert checkpoint.status_code == 200 and len(checkpoint.content) > 1000


def test_cancel_a_queued_and_a_running_job(
    client: TestClient, db: Database, settings: Settings, admin: dict[str, str], real: str
) -> None:
    queued = _start(client, admin, "train_gan", dataset=real, steps=10, seed=5)
    assert client.post(f"/api/v1/jobs/{queued['id']}/cancel", headers=admin).json()["status"] == (
        "cancelled"
    )
    running = _start(client, admin, "train_gan", dataset=real, steps=100_000)
    worker = threading.Thread(target=run_queue, args=(settings,))
    worker.start()
    deadline = time.monotonic() + 60
    while job_row(db, running["id"]).progress == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job_row(db, running["id"]).status == "running"
    client.post(f"/api/v1/jobs/{running['id']}/cancel", headers=admin)
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert job_row(db, running["id"]).status == "cancelled"
    assert job_row(db, queued["id"]).started_at is None  # never ran
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ModelVersion)) == 0


def test_a_job_that_keeps_failing_stops_after_three_attempts_with_its_traceback(
    client: TestClient, db: Database, settings: Settings, admin: dict[str, str], real: str
) -> None:
    job = _start(client, admin, "train_gan", dataset=real, steps=20)
    # The checkpoint's place is taken by a folder: every attempt fails writing it.
    blocked: Path = settings.data_dir / "models" / "training" / f"gan-job{job['id']}.pt"
    blocked.mkdir(parents=True)
    run_queue(settings)
    failed = job_row(db, job["id"])
    assert failed.status == "failed" and failed.attempts == 3
    assert failed.message.startswith("failed 3 times")
    assert "Traceback" in failed.log_tail and "IsADirectoryError" in failed.log_tail


def test_a_generated_dataset_downloads_as_npy_and_manifest(
    client: TestClient, db: Database, settings: Settings, admin: dict[str, str], real: str
) -> None:
    _start(client, admin, "train_gan", dataset=real, steps=10)
    run_queue(settings)
    _start(client, admin, "generate", gan=1, per_label=2, dataset="take-away", seed=3)
    run_queue(settings)
    datasets = client.get("/api/v1/datasets", headers=admin).json()
    ids = {d["name"]: d["id"] for d in datasets}
    response = client.get(f"/api/v1/datasets/{ids['take-away']}/export.zip", headers=admin)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as zipped:
        patches = np.load(io.BytesIO(zipped.read("patches.npy")))
        manifest = list(csv.DictReader(io.StringIO(zipped.read("manifest.csv").decode())))
    assert patches.dtype == np.dtype("<i2") and patches.shape == (6, 32, 32)
    assert [row["label"] for row in manifest] == ["GGO", "GGO", "CAL", "CAL", "NOR", "NOR"]
    assert {row["model_version"] for row in manifest} == {"1"}
    with db.session() as session:
        stored = session.scalars(
            select(Patch).join(Dataset).where(Dataset.name == "take-away").order_by(Patch.id)
        ).all()
        assert [int(row["seed"]) for row in manifest] == [p.seed for p in stored]
        assert np.array_equal(patches[0], np.frombuffer(stored[0].pixels, "<i2").reshape(32, 32))
    refused = client.get(f"/api/v1/datasets/{ids[real]}/export.zip", headers=admin)
    assert refused.status_code == 422 and "only generated datasets" in refused.json()["detail"]
    assert list((settings.data_dir / "exports").iterdir()) == []  # the temp zip is gone
