"""``lungsign train-gan``, ``generate``, ``train-classifier`` and ``evaluate`` on a tiny dataset
with tiny configs (the science is tested in tests/models)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from sqlalchemy import func
from typer.testing import CliRunner

from app.cli import root, train
from app.cli.root import cli
from app.config import Settings
from app.db import Database
from app.services import classifier_training, training
from app.services.patching import content_hash, pixel_bytes
from app.tables import Dataset, ModelVersion, Patch
from models.classifier import ClassifierConfig
from models.gan_training import GANConfig
from models.patches import PatchSet
from tests.models.synthetic import blob_patches

TINY_CLASSIFIER = ClassifierConfig(widths=(8, 16, 32), epochs=2, pretrain_epochs=1, batch_size=8)


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    torch.set_num_threads(1)
    for module in (root, train):
        monkeypatch.setattr(module, "get_settings", lambda: settings)
    monkeypatch.setattr(
        training, "GAN_DEFAULTS", GANConfig(z_dim=16, g_channels=4, d_channels=4, batch_size=8)
    )
    monkeypatch.setattr(training, "FEATURE_CLASSIFIER", TINY_CLASSIFIER)
    monkeypatch.setattr(training, "C2ST_CLASSIFIER", TINY_CLASSIFIER)
    monkeypatch.setattr(training, "METRIC_SAMPLES_PER_LABEL", 4)
    monkeypatch.setattr(classifier_training, "CLASSIFIER_DEFAULTS", TINY_CLASSIFIER)
    return CliRunner()


@pytest.fixture
def real_dataset(db: Database) -> str:
    return _store(db, "real", blob_patches(6, codes=("GGO", "CAL", "NOR")))


def _store(db: Database, name: str, data: PatchSet) -> str:
    size = data.image_size
    with db.session() as session:
        dataset = Dataset(name=name, kind="real", patch_size=size)
        session.add(dataset)
        session.flush()
        for patch, label, patient in zip(data.patches, data.labels, data.patients, strict=True):
            session.add(
                Patch(
                    dataset_id=dataset.id,
                    source="real",
                    label_code=label,
                    patient_key=patient,
                    split="train",
                    height=size,
                    width=size,
                    pixels=pixel_bytes(patch),
                    content_hash=content_hash(label, patch),
                )
            )
    return name


def _json(runner: CliRunner, args: list[str]) -> dict:
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_gan_generate_classifier_evaluate(
    runner: CliRunner, db: Database, real_dataset: str
) -> None:
    gan = _json(runner, ["train-gan", "--dataset", real_dataset, "--epochs", "1"])
    assert gan["model_version"] == 1
    assert {"c2st_accuracy", "fd", "kid", "precision", "recall", "memorisation"} <= set(gan)
    assert 0 <= gan["label_fidelity"]["overall"] <= 1
    with Image.open(gan["samples_png"]) as sheet:  # a row per label: real, then generated
        assert sheet.size[1] == 3 * 32 and sheet.size[0] > 8 * 32

    made = _json(runner, ["generate", "--gan", "1", "--per-label", "3", "--dataset", "gen"])
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
    )
    assert clf["model_version"] == 1 and 0 <= clf["accuracy"] <= 1
    assert set(clf["per_class"]) == {"GGO", "CAL", "NOR"}
    assert "accuracy_difference" in clf["paired_vs_real_only"]

    evaluated = _json(runner, ["evaluate", "--model", "1", "--dataset", real_dataset])
    assert evaluated["n"] == 18
    with db.session() as session:
        lineage = session.query(ModelVersion).filter_by(kind="classifier").one().lineage
        assert lineage["parent_gan_version"] == 1


def test_errors_are_messages(runner: CliRunner, real_dataset: str) -> None:
    result = runner.invoke(cli, ["train-gan", "--dataset", "nope"])
    assert result.exit_code == 1 and "no dataset named 'nope'" in result.output
    result = runner.invoke(cli, ["train-classifier", "--dataset", real_dataset, "--mode", "mixed"])
    assert result.exit_code == 1 and "--generated" in result.output


def test_datasets_the_models_cannot_use_are_refused_with_the_reason(
    runner: CliRunner, db: Database, real_dataset: str
) -> None:
    odd = _store(db, "odd-size", blob_patches(2, size=40, codes=("GGO", "NOR")))
    result = runner.invoke(cli, ["train-gan", "--dataset", odd])
    assert result.exit_code == 1
    assert "'odd-size' has 40 px patches; the GAN needs 32, 64, 128 px" in result.output

    result = runner.invoke(cli, ["train-classifier", "--dataset", real_dataset, "--folds", "6"])
    assert result.exit_code == 1
    assert "6 patient-disjoint folds need ≥ 6 patients, have 5" in result.output

    single = _store(db, "one-label", blob_patches(4, codes=("GGO",)))
    result = runner.invoke(cli, ["train-classifier", "--dataset", single])
    assert result.exit_code == 1 and "'one-label' has one label only" in result.output
    with db.session() as session:
        assert session.query(ModelVersion).count() == 0


def test_generate_can_drop_near_copies_of_the_training_patches(
    runner: CliRunner, db: Database
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
    _json(runner, ["train-gan", "--dataset", name, "--epochs", "1"])

    kept = _json(runner, ["generate", "--gan", "1", "--per-label", "3", "--dataset", "all"])
    assert (kept["generated"], kept["dropped_near_copies"]) == (6, 0)
    args = ["generate", "--gan", "1", "--per-label", "3", "--dataset", "few", "--drop-near-copies"]
    dropped = _json(runner, args)
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
