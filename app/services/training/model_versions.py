"""The model registry: versions with config, metrics and lineage; one current per kind;
deletion refused while an open study shows the version's patches."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.tables import Dataset, ModelVersion, Study, StudyGeneratedDataset


def list_versions(session: Session, kind: str | None = None) -> list[ModelVersion]:
    query = select(ModelVersion).order_by(ModelVersion.kind, ModelVersion.version.desc())
    if kind:
        query = query.where(ModelVersion.kind == kind)
    return list(session.scalars(query))


def get_version(session: Session, model_id: int) -> ModelVersion:
    row = session.get(ModelVersion, model_id)
    if row is None:
        raise NotFound(f"no model version with id {model_id}")
    return row


def promote(session: Session, model_id: int) -> ModelVersion:
    """Make the version current for its kind (the previous current one is no longer)."""
    row = get_version(session, model_id)
    session.execute(
        update(ModelVersion)
        .where(ModelVersion.kind == row.kind, ModelVersion.id != row.id)
        .values(is_current=False)
        .execution_options(synchronize_session=False)
    )
    row.is_current = True
    session.flush()
    return row


def open_studies_using(session: Session, model_id: int) -> list[str]:
    """Names of open studies that draw generated patches of this version."""
    return list(
        session.scalars(
            select(Study.name)
            .join(StudyGeneratedDataset, StudyGeneratedDataset.study_id == Study.id)
            .join(Dataset, Dataset.id == StudyGeneratedDataset.dataset_id)
            .where(Dataset.model_version_id == model_id, Study.status == "open")
            .distinct()
        )
    )


def delete(session: Session, model_id: int) -> None:
    """Delete a version and its checkpoint, unless an open study uses it."""
    row = get_version(session, model_id)
    using = open_studies_using(session, model_id)
    if using:
        raise Conflict(
            f"{row.kind} version {row.version} is used by open studies: {', '.join(using)}"
        )
    path = Path(row.checkpoint_path)
    session.delete(row)
    session.flush()
    path.unlink(missing_ok=True)
    path.with_suffix(".png").unlink(missing_ok=True)


def checkpoint_file(session: Session, model_id: int) -> Path:
    row = get_version(session, model_id)
    path = Path(row.checkpoint_path)
    if not path.is_file():
        raise NotFound(f"the checkpoint of {row.kind} version {row.version} is missing")
    return path
