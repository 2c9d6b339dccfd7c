"""``lungsign train-gan``, ``generate``, ``train-classifier`` and ``evaluate`` on a tiny dataset
with tiny configs (the science is tested in tests/models). Each command queues a job; the
worker's code runs the queue in this process (``run_queue``) and ``--wait`` prints the result."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from sqlalchemy import func
from typer.testing import CliRunner

from app.cli import jobs, root
from app.cli.root import cli
from app.config import Settings
from app.db import Database
from app.tables import Dataset, ModelVersion, Patch
from models.patches import PatchSet
from tests.job_factories import run_queue, store_patch_set, use_tiny_models
from tests.models.synthetic import blob_patches


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    torch.set_num_threads(1)
    for module in (root, jobs):
        monkeypatch.setattr(module, "get_settings", lambda: settings)
    use_tiny_models(monkeypatch)
    return CliRunner()


@pytest.fixture
def real_dataset(db: Database) -> str:
    return _store(db, "real", blob_patches(6, codes=("GGO", "CAL", "NOR")))


def _store(db: Database, name: str, data: PatchSet) -> str:
    return store_patch_set(db, name, data)


def _json(runner: CliRunner, args: list[str], settings: Settings) -> dict:
    """Queue the command's job, let the worker run the queue, then print the result with
    --wait (the same request again finds the same job: now finished)."""
    queued = runner.invoke(cli, [*args, "--json"])
    assert queued.exit_code == 0, queued.output
    assert json.loads(queued.stdout)["status"] == "queued"
    run_queue(settings)
    result = runner.invoke(cli, [*args, "--wait", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_gan_generate_classifier_evaluate(
    runner: CliRunner, db: Database, settings: Settings, real_dataset: str
) -> None:
    gan = _json(runner, ["train-gan", "--dataset", real_dataset, "--epochs", "1"], settings)
    assert gan["model_version"] == 1
    assert {"c2st_accuracy", "fd", "kid", "precision", "recall", "memorisation"} <= set(gan)
    assert 0 <= gan["label_fidelity"]["overall"] <= 1
    with Image.open(gan["samples_png"]) as sheet:  # a row per label: real, then generated
        assert sheet.size[1] == 3 * 32 and sheet.size[0] > 8 * 32

    made = _json(
        runner, ["generate", "--gan", "1", "--per-label", "3", "--dataset", "gen"], settings
    )
    assert made["generated"] == 9
    with db.session() as session:
        patches = session.query(Patch).join(Dataset).filter(Dataset.name == "gen").all()
        assert {p.source for p in patches} == {"generated"}
        assert all(p.seed is not None and p.model_version_id for p in patches)
        assert np.frombuffer(patches[0].pixels, "<i2").shape == (32 * 32,)

    clf = _json(
        runner,
        [
            "train-classifier",
            "--dataset",
            real_dataset,
            "--mode",
            "gan-pretrain",
            "--generated",
            "gen",
            "--folds",
            "3",
        ],
        settings,
    )
    assert clf["model_version"] == 1 and 0 <= clf["accuracy"] <= 1
    assert set(clf["per_class"]) == {"GGO", "CAL", "NOR"}
    assert "accuracy_difference" in clf["paired_vs_real_only"]

    evaluated = _json(runner, ["evaluate", "--model", "1", "--dataset", real_dataset], settings)
    assert evaluated["n"] == 18
    with db.session() as session:
        lineage = session.query(ModelVersion).filter_by(kind="classifier").one().lineage
        assert lineage["parent_gan_version"] == 1


def test_errors_are_messages(runner: CliRunner, real_dataset: str) -> None:
    result = runner.invoke(cli, ["train-gan", "--dataset", "nope"])
    assert result.exit_code == 1 and "no dataset named 'nope'" in result.output
    result = runner.invoke(cli, ["train-classifier", "--dataset", real_dataset, "--generated", "x"])
    assert result.exit_code == 1 and "generated is used by gan-pretrain and mixed" in result.output


def test_datasets_the_models_cannot_use_are_refused_with_the_reason(
    runner: CliRunner, db: Database, real_dataset: str
) -> None:
    odd = _store(db, "odd-size", blob_patches(2, size=40, codes=("GGO", "NOR")))
    result = runner.invoke(cli, ["train-gan", "--dataset", odd])
    assert result.exit_code == 1
    assert "'odd-size' has 40 px patches; the GAN needs 32, 64, 128 px" in result.output
    per_fold_gans = ["train-classifier", "--dataset", odd, "--mode", "gan-pretrain", "--folds", "2"]
    result = runner.invoke(cli, per_fold_gans)
    assert result.exit_code == 1 and "the GAN needs 32, 64, 128 px" in result.output

    result = runner.invoke(cli, ["train-classifier", "--dataset", real_dataset, "--folds", "6"])
    assert result.exit_code == 1
    assert "6 patient-disjoint folds need ≥ 6 patients, have 5" in result.output

    single = _store(db, "one-label", blob_patches(4, codes=("GGO",)))
    result = runner.invoke(cli, ["train-classifier", "--dataset", single])
    assert result.exit_code == 1 and "'one-label' has one label only" in result.output
    with db.session() as session:
        assert session.query(ModelVersion).count() == 0


def test_generate_can_drop_near_copies_of_the_training_patches(
    runner: CliRunner, db: Database, settings: Settings
) -> None:
    # Two patients at opposite ends of the GAN window (air-black and bone-white): every real
    # patch is 2 network units from the other patient's, so any generated patch in between
    # is nearer to a training patch than real patches are to each other: a "near-copy".
    patches, labels, patients = [], [], []
    for patient, hu in (("P0", -1024), ("P1", 1024)):
        for i, label in enumerate(["GGO", "GGO", "NOR", "NOR"]):
            patches.append(np.full((32, 32), hu - np.sign(hu) * i, np.int16))
            labels.append(label)
            patients.append(patient)
    name = _store(db, "poles", PatchSet(np.stack(patches), labels, patients, ("GGO", "NOR")))
    _json(runner, ["train-gan", "--dataset", name, "--epochs", "1"], settings)

    kept = _json(
        runner, ["generate", "--gan", "1", "--per-label", "3", "--dataset", "all"], settings
    )
    assert (kept["generated"], kept["dropped_near_copies"]) == (6, 0)
    args = ["generate", "--gan", "1", "--per-label", "3", "--dataset", "few", "--drop-near-copies"]
    dropped = _json(runner, args, settings)
    assert (dropped["generated"], dropped["dropped_near_copies"]) == (0, 6)
    with db.session() as session:
        counts = dict(
            session.query(Dataset.name, func.count(Patch.id))
            .outerjoin(Patch)
            .filter(Dataset.name.in_(["all", "few"]))
            .group_by(Dataset.name)
            .all()
        )
    assert counts == {"all": 6, "few": 0}
