"""The classifier comparison is leak-free by default: in GAN modes without a fixed generated
set, each fold's GAN trains on that fold's training patients only; a fixed set is marked."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import Database
from app.jobs import store
from models.folds import patient_folds
from tests.factories import api_token, make_user
from tests.job_factories import run_queue, store_patch_set, use_tiny_models
from tests.models.synthetic import blob_patches


@pytest.fixture
def admin(db: Database, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    use_tiny_models(monkeypatch)
    store_patch_set(db, "blobs", blob_patches(10, codes=("GGO", "CAL", "NOR")))
    return api_token(db, make_user(db, "admin"))


def _run(client: TestClient, auth: dict[str, str], settings: Settings, **params: object) -> dict:
    body = {"kind": "train_classifier", "params": {"dataset": "blobs", **params}}
    created = client.post("/api/v1/jobs", json=body, headers=auth)
    assert created.status_code == 201, created.text
    run_queue(settings)
    done = client.get(f"/api/v1/jobs/{created.json()['id']}", headers=auth).json()
    assert done["status"] == "succeeded", done["log_tail"]
    return done


def test_each_fold_gan_sees_none_of_its_test_patients(
    client: TestClient, db: Database, settings: Settings, admin: dict[str, str]
) -> None:
    done = _run(client, admin, settings, mode="gan-pretrain", folds=5, gan_steps=6, per_label=2)
    assert done["result"]["leakage"] is False
    assert "one GAN per fold" in done["result"]["generated_source"]

    with db.session() as session:
        real = store.load_patch_set(session, store.get_dataset(session, "blobs"))
    patients = sorted(set(real.patients))
    manifests = sorted((settings.data_dir / "models").rglob("gan-fold*.json"))
    assert len(manifests) == 5
    for fold, (train_idx, test_idx) in enumerate(patient_folds(real, 5, seed=0)):
        trained_on = set(json.loads(manifests[fold].read_text())["patients"])
        test_patients = {real.patients[i] for i in test_idx}
        assert trained_on, f"fold {fold}: its GAN saw no patient"
        assert not trained_on & test_patients, f"fold {fold}: the GAN saw test patients"
        assert trained_on <= {real.patients[i] for i in train_idx}
    assert len(patients) == 5  # every patient was a test patient once


def test_a_fixed_generated_set_is_marked_as_leakage(
    client: TestClient, settings: Settings, admin: dict[str, str]
) -> None:
    gan = client.post(
        "/api/v1/jobs",
        json={"kind": "train_gan", "params": {"dataset": "blobs", "steps": 6}},
        headers=admin,
    )
    assert gan.status_code == 201
    run_queue(settings)
    generate = {"gan": 1, "per_label": 2, "dataset": "gen"}
    client.post("/api/v1/jobs", json={"kind": "generate", "params": generate}, headers=admin)
    run_queue(settings)
    done = _run(client, admin, settings, mode="gan-pretrain", generated="gen", folds=3)
    assert done["result"]["leakage"] is True
    assert "optimistic: leakage" in done["result"]["generated_source"]
