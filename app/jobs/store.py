"""What the jobs share: patch sets from the database, model versions, checkpoint paths under
``data_dir/models`` and what makes a run repeatable. Torch loads only where a checkpoint does
(the web process checks job parameters through here without it)."""

from __future__ import annotations

import hashlib
import platform
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import REPO_ROOT, Settings
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
    import torch

    return torch.load(path, map_location="cpu", weights_only=False)


def record_version(
    session: Session,
    settings: Settings,
    kind: str,
    checkpoint: Path,
    config: dict[str, Any],
    metrics: dict[str, Any],
    lineage: dict[str, Any],
    job_id: int | None = None,
) -> ModelVersion:
    """A new ModelVersion row; its checkpoint is copied to ``models/<kind>-v<N>.pt`` (the
    caller removes its own copy after commit, so a crash before then can still resume)."""
    version = next_version(session, kind)
    final = models_dir(settings) / f"{kind}-v{version}.pt"
    shutil.copyfile(checkpoint, final)
    row = ModelVersion(
        kind=kind,
        version=version,
        config=config,
        metrics=metrics,
        lineage=lineage,
        checkpoint_path=str(final.resolve()),
        job_id=job_id,
    )
    session.add(row)
    session.flush()
    return row


def dataset_exists(session: Session, name: str) -> bool:
    return session.scalar(select(Dataset.id).where(Dataset.name == name)) is not None


def run_info(seed: int, snapshot_hash: str, device: str) -> dict[str, Any]:
    """What makes a run repeatable: seeds, data snapshot, code, torch, device."""
    import torch

    from models.devices import pick_device

    return {
        "seed": seed,
        "snapshot": snapshot_hash,
        "code_version": code_version(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": str(pick_device(device)),
    }


def code_version() -> str:
    """The package version, with the git commit when running from a checkout."""
    from importlib.metadata import version

    head = REPO_ROOT / ".git" / "HEAD"
    commit = ""
    if head.exists():
        ref = head.read_text().strip()
        target = REPO_ROOT / ".git" / ref[5:] if ref.startswith("ref: ") else None
        if target is None:
            commit = ref[:12]  # a detached HEAD holds the commit itself
        elif target.exists():
            commit = target.read_text().strip()[:12]
    return f"{version('lungsign')}+{commit}" if commit else version("lungsign")
