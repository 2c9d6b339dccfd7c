"""Training services: GAN, generation, classifier cross-validation, evaluation.

Each takes a session and plain options, calls ``models`` on arrays and records the result
(ModelVersion rows, generated datasets). Progress goes to ``on_progress(fraction, message)``;
``should_stop()`` is polled between steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import Conflict, Invalid
from app.services import model_store as store
from app.services.patching import content_hash, pixel_bytes
from app.services.rendering import sample_sheet
from app.tables import Dataset, ModelVersion, Patch
from models.classifier import ClassifierConfig, train_classifier
from models.gan import IMAGE_SIZES
from models.gan_metrics import evaluate_gan, memorisation
from models.gan_training import GANConfig, GANProgress, train
from models.generation import generate
from models.patches import PatchSet

Progress = Callable[[float, str], None]
StopCheck = Callable[[], bool]
METRIC_SAMPLES_PER_LABEL = 64  # generated patches per label for the GAN report
SHEET_REAL, SHEET_GENERATED = 4, 8  # patches per label row of the sample sheet
GAN_DEFAULTS = GANConfig()
FEATURE_CLASSIFIER = ClassifierConfig()  # the FD/KID/precision/recall feature space
C2ST_CLASSIFIER = ClassifierConfig(epochs=15)


def no_progress(_fraction: float, _message: str) -> None:
    """The default progress sink."""


def train_gan(
    session: Session,
    settings: Settings,
    dataset_name: str,
    epochs: int | None = None,
    seed: int = 0,
    config: GANConfig | None = None,
    on_progress: Progress = no_progress,
    should_stop: StopCheck | None = None,
) -> dict[str, Any]:
    """Train a GAN on a real dataset, measure it, record a ``gan`` model version.

    ``epochs`` passes over the data (default: the config's step count). Re-running the same
    command after an interruption resumes from the checkpoint under ``models/training``.
    """
    dataset = store.get_dataset(session, dataset_name)
    data = store.load_patch_set(session, dataset)
    if data.image_size not in IMAGE_SIZES:
        sizes = ", ".join(map(str, IMAGE_SIZES))
        raise Invalid(
            f"dataset {dataset_name!r} has {data.image_size} px patches; the GAN needs {sizes} px"
        )
    cfg = replace(config or GAN_DEFAULTS, seed=seed, image_size=data.image_size)
    if epochs is not None:
        cfg.steps = max(1, math.ceil(epochs * len(data) / cfg.batch_size))
    snap = store.snapshot(session, dataset)
    partial = store.models_dir(settings) / "training" / f"gan-{snap[:16]}-s{seed}-{cfg.steps}.pt"

    def progress(p: GANProgress) -> None:
        on_progress(0.9 * p.step / p.total, f"step {p.step}/{p.total} d={p.losses['d']:.3f}")

    result = train(cfg, data, progress, should_stop, checkpoint_path=partial)
    if result.stopped:
        raise Conflict(f"GAN training stopped at step {result.step}; run again to resume")
    on_progress(0.9, "measuring")
    measured, fake = _gan_metrics(result.checkpoint, data)
    metrics = {"train_seconds": round(result.seconds, 1), **measured}
    lineage = {"dataset": dataset.name, "dataset_id": dataset.id, "snapshot": snap, "n": len(data)}
    row = store.record_version(session, settings, "gan", partial, cfg.to_dict(), metrics, lineage)
    sheet = Path(row.checkpoint_path).with_suffix(".png")
    sheet.write_bytes(_sheet(data, fake))
    on_progress(1.0, "done")
    return {"model_version": row.version, "samples_png": str(sheet), **metrics}


def evaluate_gan_version(session: Session, version: int, dataset_name: str) -> dict[str, Any]:
    """A GAN version's quality measures against the patches of a (real) dataset."""
    gan = store.get_model_version(session, "gan", version)
    data = store.load_patch_set(session, store.get_dataset(session, dataset_name))
    return {
        "model_version": version,
        "dataset": dataset_name,
        **_gan_metrics(store.load_checkpoint(gan), data)[0],
    }


def _gan_metrics(checkpoint: dict[str, Any], real: PatchSet) -> tuple[dict[str, Any], PatchSet]:
    """The quality report of a checkpoint against REAL, and the generated patches measured."""
    seed = int(checkpoint["config"]["seed"])
    out = generate(checkpoint, METRIC_SAMPLES_PER_LABEL, seed=seed + 1)
    fake = PatchSet(out.patches, out.labels, ["generated"] * len(out.labels), real.label_codes)
    features = train_classifier(real, replace(FEATURE_CLASSIFIER, seed=seed))
    m = evaluate_gan(real, fake, features, C2ST_CLASSIFIER, seed=seed)
    m["memorisation"].pop("near_copy_indices")
    return {"fd": m.pop("fd_lungsign"), "kid": m.pop("kid_lungsign")["mean"], **m}, fake


def _sheet(real: PatchSet, fake: PatchSet) -> bytes:
    """Per label: the first real patches beside generated ones, for a look by eye."""
    rows = []
    for code in real.label_codes:
        r = real.patches[np.asarray(real.labels) == code][:SHEET_REAL]
        g = fake.patches[np.asarray(fake.labels) == code][:SHEET_GENERATED]
        rows.append((code, r, g))
    return sample_sheet(rows)


def generate_dataset(
    session: Session,
    settings: Settings,
    gan_version: int,
    per_label: int,
    dataset_name: str,
    seed: int = 0,
    drop_near_copies: bool = False,
    on_progress: Progress = no_progress,
) -> dict[str, Any]:
    """A new ``generated`` dataset: PER_LABEL patches per label from GAN version GAN_VERSION.

    With ``drop_near_copies``, patches that the memorisation check flags as near-copies of the
    GAN's training patches are left out (a reader study should not show them as generated).
    """
    if store.dataset_exists(session, dataset_name):
        raise Conflict(f"dataset {dataset_name!r} exists; choose a new name")
    gan = store.get_model_version(session, "gan", gan_version)
    out = generate(
        store.load_checkpoint(gan),
        per_label,
        seed=seed,
        on_progress=lambda d, n: on_progress(d / n, ""),
    )
    dropped = set(_near_copies(session, gan, out.patches)) if drop_near_copies else set()
    size = int(out.patches.shape[-1])
    dataset = Dataset(name=dataset_name, kind="generated", patch_size=size, model_version_id=gan.id)
    session.add(dataset)
    session.flush()
    seen: set[str] = set()
    for i, (patch, label, patch_seed) in enumerate(
        zip(out.patches, out.labels, out.seeds, strict=True)
    ):
        digest = content_hash(label, patch)
        if digest in seen or i in dropped:
            continue
        seen.add(digest)
        session.add(
            _generated_patch(dataset, gan.id, gan.version, patch, label, patch_seed, digest)
        )
    session.flush()
    return {
        "dataset": dataset_name,
        "model_version": gan.version,
        "generated": len(seen),
        "dropped_near_copies": len(dropped),
    }


def _near_copies(session: Session, gan: ModelVersion, patches: np.ndarray) -> list[int]:
    """Indices of PATCHES the memorisation check flags against the GAN's training dataset."""
    trained_on = session.get(Dataset, (gan.lineage or {}).get("dataset_id"))
    if trained_on is None:
        raise Invalid(
            f"the dataset GAN version {gan.version} was trained on is gone: near-copies "
            "cannot be checked"
        )
    return list(
        memorisation(store.load_patch_set(session, trained_on), patches)["near_copy_indices"]
    )


def _generated_patch(
    dataset: Dataset, gan_id: int, version: int, patch: Any, label: str, seed: int, digest: str
) -> Patch:
    size = int(patch.shape[-1])
    return Patch(
        dataset_id=dataset.id,
        source="generated",
        label_code=label,
        patient_key=f"gan-v{version}",
        split="train",
        height=size,
        width=size,
        pixels=pixel_bytes(patch),
        content_hash=digest,
        model_version_id=gan_id,
        seed=seed,
    )
