"""The machine reader beside the radiologists, end to end with tiny models: a GAN trained and
sampled, a current classifier, a study opened (which queues the machine reader), read by two
scripted readers; the worker scores every study item with a discriminator that never saw
them, and the results, the page and the ROC figure show the machine next to the readers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sklearn.metrics import roc_auc_score
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.tables import Patch, StudyItem
from tests.app.routes.test_study_results import run_readers
from tests.factories import api_token, login, make_user
from tests.job_factories import run_queue, store_patch_set, use_tiny_models
from tests.models.synthetic import blob_patches
from tests.study_factories import study_body

N_REAL_PATCHES = 18  # 6 per label


def _job(client: TestClient, auth: dict[str, str], kind: str, **params: object) -> int:
    response = client.post("/api/v1/jobs", json={"kind": kind, "params": params}, headers=auth)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
def gan_and_classifier(
    client: TestClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """A tiny GAN v1 trained on 'blobs', its generated set 'gen', a current classifier v1
    (about 40 s of setup on the shared CPU, so one test runs the whole story)."""
    use_tiny_models(monkeypatch)
    store_patch_set(db, "blobs", blob_patches(6, codes=("GGO", "CAL", "NOR")))
    admin = api_token(db, make_user(db, "admin"))
    _job(client, admin, "train_gan", dataset="blobs", steps=20)
    _job(client, admin, "train_classifier", dataset="blobs", folds=2)
    run_queue(settings)
    _job(client, admin, "generate", gan=1, per_label=4, dataset="gen")
    run_queue(settings)
    classifier = next(
        m for m in client.get("/api/v1/models", headers=admin).json() if m["kind"] == "classifier"
    )
    client.post(f"/api/v1/models/{classifier['id']}/promote", headers=admin)
    return admin


def test_machine_reader_scores_the_study_beside_the_readers(
    client: TestClient, db: Database, settings: Settings, gan_and_classifier: dict[str, str]
) -> None:
    coord_account = make_user(db, "coordinator")
    coord = api_token(db, coord_account)
    readers = [api_token(db, make_user(db, "reader", name)) for name in ("ann", "bob")]
    body = study_body(
        real={"dataset": "blobs", "split": "train"},
        generated={"datasets": ["gen"]},
        readers=["ann", "bob"],
    )
    created = client.post("/api/v1/studies", json=body, headers=coord)
    assert created.status_code == 201, created.text
    study_id = int(created.json()["id"])
    results_url = f"/api/v1/studies/{study_id}/results"
    assert client.get(results_url, headers=coord).json()["machine_reader"] is None  # a draft

    assert client.post(f"/api/v1/studies/{study_id}/open", headers=coord).status_code == 200
    pending = client.get(results_url, headers=coord).json()["machine_reader"]
    assert pending["status"] == "queued" and pending["job"]  # queued by the opening
    run_readers(client, db, study_id, readers)
    run_queue(settings)

    results = client.get(results_url, headers=coord).json()
    machine = results["machine_reader"]
    assert machine["status"] == "succeeded" and machine["reader"] == "machine"
    with db.session() as session:
        study_items = dict(
            session.execute(
                select(StudyItem.id, Patch.source)
                .join(Patch, Patch.id == StudyItem.patch_id)
                .where(StudyItem.study_id == study_id)
            ).all()
        )
    items = machine["items"]
    assert {i["item"]: i["source"] for i in items} == study_items  # every study item, scored
    n_real = sum(source == "real" for source in study_items.values())
    # never saw the study's items: its real training patches are the GAN's minus the study's
    assert machine["left_out_study_patches"] == n_real
    assert machine["train_real"] == N_REAL_PATCHES - n_real
    assert machine["train_generated"] >= 8 * 3 and machine["gan_versions"] == [1]

    truth = [i["source"] == "real" for i in items]
    p_real = [i["p_real"] for i in items]
    assert machine["auc"] == pytest.approx(roc_auc_score(truth, p_real))
    gen = [i for i in items if i["source"] == "generated"]
    judged = machine["generated_judged_real"]
    assert (judged["k"], judged["n"]) == (sum(i["p_real"] > 0.5 for i in gen), len(gen))
    (version,) = machine["per_model_version"]
    assert version["model_version"] == "1" and version["auc"] == machine["auc"]
    assert "machine" not in {r["reader"] for r in results["per_reader"]}  # keys unchanged

    # the current classifier labelled every real item; its agreement with the readers
    classifier = machine["classifier"]
    labels = {i["item"]: i["classifier_label"] for i in items if i["source"] == "real"}
    assert classifier["model_version"] == 1 and all(labels.values())
    assert all(i["classifier_label"] is None for i in gen)
    same = classifier["same_items"]
    answers = client.get(f"/api/v1/studies/{study_id}/export.csv", headers=coord).text.splitlines()
    real_rows = [row.split(",") for row in answers[1:] if row.split(",")[4] == "real"]
    agree = sum(labels[int(row[2])] == row[9] for row in real_rows)
    assert (same["agreement"]["k"], same["agreement"]["n"]) == (agree, len(real_rows))
    assert same["n_items"] == n_real

    login(client, coord_account)
    page = client.get(f"/studies/{study_id}/results").text
    assert "Machine reader" in page and '<td class="row-head">machine</td>' in page
    assert "Readers&#39; labels agree with the classifier&#39;s" in page or "agree with" in page
    roc = client.get(f"/api/v1/studies/{study_id}/figures/reader_roc.svg", headers=coord).text
    assert "machine (AUC" in roc

    # runnable again: without a seed, a fresh run (the next seed); a seed asked before, the
    # same job; readers may not; the results follow the newest run once it has scored
    url = f"/api/v1/studies/{study_id}/machine-reader"
    again = client.post(url, headers=coord)
    assert again.status_code == 201, again.text
    same = client.post(url, json={"seed": 1}, headers=coord)
    assert same.status_code == 200 and same.json()["id"] == again.json()["id"]
    assert client.post(url, headers=readers[0]).status_code == 403
    waiting = client.get(results_url, headers=coord).json()["machine_reader"]
    assert waiting["job"] == pending["job"] and waiting["newer_job"]["status"] == "queued"
    run_queue(settings)
    newest = client.get(results_url, headers=coord).json()["machine_reader"]
    assert newest["job"] == again.json()["id"] and newest["seed"] == 1


def test_a_study_without_a_known_gan_opens_without_a_machine_reader(
    client: TestClient, db: Database
) -> None:
    from tests.study_factories import create_open_study, with_data

    with_data(db)  # its GAN version has no lineage: no training data to learn from
    coord = api_token(db, make_user(db, "coordinator"))
    make_user(db, "reader", "ann")
    study_id = create_open_study(client, coord, readers=["ann"])
    assert (
        client.get(f"/api/v1/studies/{study_id}/results", headers=coord).json()["machine_reader"]
        is None
    )
    refused = client.post(f"/api/v1/studies/{study_id}/machine-reader", headers=coord)
    assert refused.status_code == 422 and "trained on" in refused.json()["detail"]
