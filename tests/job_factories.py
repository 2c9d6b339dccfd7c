"""Builders for job tests: a real dataset stored from a synthetic patch set, tiny model
configs for in-process workers, and a helper that runs the queue until it is empty."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.config import Settings
from app.db import Database
from app.jobs import classifier, gan, machine_reader, worker
from app.services.ingest.patching import content_hash, pixel_bytes
from app.tables import Dataset, Job, Patch
from models.classifier import ClassifierConfig
from models.gan_training import GANConfig
from models.patches import PatchSet

TINY_CLASSIFIER = ClassifierConfig(widths=(8, 16, 32), epochs=2, pretrain_epochs=1, batch_size=8)
TINY_GAN = GANConfig(z_dim=16, g_channels=4, d_channels=4, batch_size=8)


def store_patch_set(db: Database, name: str, data: PatchSet) -> str:
    """DATA as a real dataset named NAME."""
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


def use_tiny_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small networks for jobs run in this process (the science is tested in tests/models)."""
    monkeypatch.setattr(gan, "GAN_DEFAULTS", TINY_GAN)
    monkeypatch.setattr(gan, "FEATURE_CLASSIFIER", TINY_CLASSIFIER)
    monkeypatch.setattr(gan, "C2ST_CLASSIFIER", replace(TINY_CLASSIFIER, epochs=1))
    monkeypatch.setattr(gan, "METRIC_SAMPLES_PER_LABEL", 4)
    monkeypatch.setattr(classifier, "CLASSIFIER_DEFAULTS", TINY_CLASSIFIER)
    tiny = {k: v for k, v in TINY_CLASSIFIER.to_dict().items() if k != "seed"}
    monkeypatch.setattr(machine_reader, "DISCRIMINATOR", {**tiny, "epochs": 3})


def run_queue(settings: Settings) -> int:
    """What `lungsign worker --until-idle` does, in this process."""
    return worker.run_until_idle(settings)


def job_row(db: Database, job_id: int) -> Job:
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job
