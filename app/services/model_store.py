"""What the training services share: patch sets from the database, model versions and
checkpoint paths under ``data_dir/models``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import Invalid, NotFound
from app.tables import Dataset, Label, ModelVersion, Patch
from models.patches import PatchSet


def get_dataset(session: Session, name: str) -> Dataset:
    dataset = session.scalar(select(Dataset).where(Dataset.name == name))
    if dataset is None:
        raise NotFound(f"no dataset named {name!r}")
    return dataset


def load_patch_set(session: Session, dataset: Dataset) -> PatchSet:
    """All patches of DATASET as int16 arrays; class order follows the installation's labels."""
    rows = session.execute(
        select(Patch.pixels, Patch.height, Patch.width, Patch.label_code, Patch.patient_key)
        .where(Patch.dataset_id == dataset.id)
        .order_by(Patch.id)
    ).all()
    if not rows:
        raise Invalid(f"dataset {dataset.name!r} has no patches")
    patches = np.stack(
        [np.frombuffer(r.pixels, dtype="<i2").reshape(r.height, r.width) for r in rows]
    ).astype(np.int16)
    present = {r.label_code for r in rows}
    order = session.scalars(select(Label.code).order_by(Label.position, Label.code)).all()
    codes = tuple(code for code in order if code in present)
    return PatchSet(patches, [r.label_code for r in rows], [r.patient_key for r in rows], codes)


def snapshot(session: Session, dataset: Dataset) -> str:
    """SHA-256 over the sorted content hashes: which patches a model was trained on."""
    hashes = session.scalars(
        select(Patch.content_hash)
        .where(Patch.dataset_id == dataset.id)
        .order_by(Patch.content_hash)
    ).all()
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def normal_code(session: Session) -> str | None:
    return session.scalar(select(Label.code).where(Label.is_normal).order_by(Label.position))


def models_dir(settings: Settings) -> Path:
    path = settings.data_dir / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def next_version(session: Session, kind: str) -> int:
    latest = session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.kind == kind))
    return (latest or 0) + 1


def get_model_version(session: Session, kind: str, version: int) -> ModelVersion:
    found = session.scalar(
        select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.version == version)
    )
    if found is None:
        raise NotFound(f"no {kind} model version {version}")
    return found


def load_checkpoint(model: ModelVersion) -> dict[str, Any]:
    path = Path(model.checkpoint_path)
    if not path.exists():
        raise NotFound(f"checkpoint of {model.kind} version {model.version} is missing: {path}")
    return torch.load(path, map_location="cpu", weights_only=False)


def record_version(
    session: Session,
    settings: Settings,
    kind: str,
    checkpoint: Path,
    config: dict[str, Any],
    metrics: dict[str, Any],
    lineage: dict[str, Any],
) -> ModelVersion:
    """A new ModelVersion row; its checkpoint is moved to ``models/<kind>-v<N>.pt``."""
    version = next_version(session, kind)
    final = models_dir(settings) / f"{kind}-v{version}.pt"
    checkpoint.replace(final)
    row = ModelVersion(
        kind=kind,
        version=version,
        config=config,
        metrics=metrics,
        lineage=lineage,
        checkpoint_path=str(final.resolve()),
    )
    session.add(row)
    session.flush()
    return row


def dataset_exists(session: Session, name: str) -> bool:
    return session.scalar(select(Dataset.id).where(Dataset.name == name)) is not None
