"""Importing a directory into a real dataset, all of it in the caller's transaction.

``import_directory`` reads ``annotations.csv`` + DICOM, or ``patches.csv`` + pre-cut patches
(see ``docs/import.md``), and stores each new patch once: a content hash the dataset already
holds adds nothing. Nothing is committed here, so a failure leaves no half-written dataset.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import Conflict, Invalid
from app.services.accounts import audit
from app.services.datasets.labels import LabelResolver, list_labels
from app.services.ingest.annotations import ANNOTATIONS, read_annotations
from app.services.ingest.dicom import DicomImport
from app.services.ingest.patching import split_for
from app.services.ingest.precut import PATCHES, read_precut
from app.services.ingest.types import BadItem, Candidate, ImportSummary, ProgressCallback
from app.tables import Dataset, Patch, User

log = logging.getLogger(__name__)
INSERT_BATCH = 500


def import_directory(
    session: Session,
    settings: Settings,
    directory: Path,
    dataset_name: str,
    user: User | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import DIRECTORY into the real dataset DATASET_NAME (created on first use)."""
    directory = Path(directory)
    name = _checked_name(dataset_name)
    dataset = _existing_dataset(session, name, settings.patch_size)
    candidates, errors = read_candidates(session, settings, directory, on_progress)
    summary = ImportSummary(dataset=name, errors=errors)
    fresh = _new_candidates(session, dataset, candidates, summary)
    if fresh:
        dataset = dataset or _create_dataset(session, name, settings.patch_size, user)
        _insert(session, dataset, fresh)
        summary.imported = len(fresh)
    summary.errors.sort(key=_error_order)
    audit.record(session, user, "import", name, imported=summary.imported, skipped=summary.skipped)
    log.info("import into %s: %s imported, %s skipped", name, summary.imported, summary.skipped)
    return summary


def read_candidates(
    session: Session,
    settings: Settings,
    directory: Path,
    on_progress: ProgressCallback | None = None,
) -> tuple[list[Candidate], list[BadItem]]:
    """Patch candidates and bad items from whichever format DIRECTORY holds."""
    if not directory.is_dir():
        raise Invalid(f"{directory} is not a directory")
    labels = LabelResolver(list_labels(session))
    key = settings.secret("pseudonym_key")
    if (directory / ANNOTATIONS).is_file():
        findings, errors = read_annotations(directory / ANNOTATIONS, labels)
        reader = DicomImport(findings, key, settings.patch_size)
        reader.run(directory, on_progress)
        return reader.candidates, errors + reader.errors
    if (directory / PATCHES).is_file():
        return read_precut(directory, labels, key, settings.patch_size, on_progress)
    raise Invalid(f"{directory} holds neither {ANNOTATIONS} nor {PATCHES}")


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 120:
        raise Invalid("a dataset name needs 1 to 120 characters")
    return name


def _existing_dataset(session: Session, name: str, patch_size: int) -> Dataset | None:
    """The dataset to add to, if any; refuses generated ones and other patch sizes."""
    dataset = session.scalar(select(Dataset).where(Dataset.name == name))
    if dataset is None:
        return None
    if dataset.kind != "real":
        raise Conflict(f"dataset {name!r} holds {dataset.kind} patches; import into another name")
    if dataset.patch_size != patch_size:
        raise Conflict(f"dataset {name!r} has {dataset.patch_size} px patches, not {patch_size}")
    return dataset


def _create_dataset(session: Session, name: str, patch_size: int, user: User | None) -> Dataset:
    dataset = Dataset(
        name=name, kind="real", patch_size=patch_size, created_by_id=user.id if user else None
    )
    session.add(dataset)
    session.flush()
    return dataset


def _new_candidates(
    session: Session, dataset: Dataset | None, candidates: list[Candidate], summary: ImportSummary
) -> list[Candidate]:
    """Drop what the dataset holds (counted) and repeats within this import (reported)."""
    held: set[str] = set()
    if dataset is not None:
        query = select(Patch.content_hash).where(Patch.dataset_id == dataset.id)
        held = set(session.scalars(query))
    first: dict[str, str] = {}
    fresh: list[Candidate] = []
    for candidate in candidates:
        if candidate.content_hash in held:
            summary.already_present += 1
        elif candidate.content_hash in first:
            reason = f"same patch and label as {first[candidate.content_hash]}"
            summary.errors.append(BadItem(candidate.item, reason))
        else:
            first[candidate.content_hash] = candidate.item
            fresh.append(candidate)
    return fresh


def _insert(session: Session, dataset: Dataset, candidates: list[Candidate]) -> None:
    """Bulk insert in batches (one statement per batch, same transaction)."""
    rows = []
    for candidate in candidates:
        row = dict(vars(candidate))  # shallow: asdict() would deep-copy the pixel bytes
        del row["item"]
        row.update(dataset_id=dataset.id, source="real", split=split_for(candidate.patient_key))
        rows.append(row)
    for start in range(0, len(rows), INSERT_BATCH):
        session.execute(insert(Patch), rows[start : start + INSERT_BATCH])


def _error_order(error: BadItem) -> tuple[int, int, str]:
    """CSV rows by line number first, then files by path."""
    source, _, line = error.item.rpartition(":")
    if source in (ANNOTATIONS, PATCHES) and line.isdigit():
        return (0, int(line), "")
    return (1, 0, error.item)
