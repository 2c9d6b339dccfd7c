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
from app.services.ingest.types import (
    BadItem,
    Candidate,
    CandidateSink,
    ImportSummary,
    ProgressCallback,
)
from app.tables import Dataset, Patch, User
from app.text_rules import problem

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
    summary = ImportSummary(dataset=name)
    store = _Store(session, name, settings.patch_size, user, dataset, summary)
    summary.errors = read_candidates(session, settings, directory, store.add, on_progress)
    store.flush()
    summary.errors.extend(store.errors)
    summary.errors.sort(key=_error_order)
    summary.keep_first_errors()
    audit.record(session, user, "import", name, imported=summary.imported, skipped=summary.skipped)
    log.info("import into %s: %s imported, %s skipped", name, summary.imported, summary.skipped)
    return summary


def read_candidates(
    session: Session,
    settings: Settings,
    directory: Path,
    emit: CandidateSink,
    on_progress: ProgressCallback | None = None,
) -> list[BadItem]:
    """Hand each patch candidate of DIRECTORY (either format) to EMIT as it is cut; the bad
    items."""
    if not directory.is_dir():
        raise Invalid(f"{directory} is not a directory")
    labels = LabelResolver(list_labels(session))
    key = settings.secret("pseudonym_key")
    if (directory / ANNOTATIONS).is_file():
        findings, errors = read_annotations(
            directory / ANNOTATIONS, labels, settings.max_import_rows
        )
        reader = DicomImport(findings, key, settings.patch_size, emit)
        reader.run(directory, on_progress)
        return errors + reader.errors
    if (directory / PATCHES).is_file():
        return read_precut(
            directory, labels, key, settings.patch_size, settings.max_import_rows, emit, on_progress
        )
    raise Invalid(f"{directory} holds neither {ANNOTATIONS} nor {PATCHES}")


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 120:
        raise Invalid("a dataset name needs 1 to 120 characters")
    reason = problem(name)
    if reason:
        raise Invalid(f"a dataset name {reason}")
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


class _Store:
    """Candidates into the dataset as they come, in batches of ``INSERT_BATCH`` (one
    statement each, all in the caller's transaction): memory holds one batch of pixels, not
    the whole import. What the dataset holds is counted; repeats within the import are bad
    items. The dataset row is created with the first batch, so only when a patch is new."""

    def __init__(
        self,
        session: Session,
        name: str,
        patch_size: int,
        user: User | None,
        dataset: Dataset | None,
        summary: ImportSummary,
    ) -> None:
        self.session, self.name, self.patch_size, self.user = session, name, patch_size, user
        self.dataset, self.summary = dataset, summary
        self.held: set[str] = set()
        if dataset is not None:
            query = select(Patch.content_hash).where(Patch.dataset_id == dataset.id)
            self.held = set(session.scalars(query))
        self.first: dict[str, str] = {}  # content hash → the item that gave it first
        self.batch: list[Candidate] = []
        self.errors: list[BadItem] = []

    def add(self, candidate: Candidate) -> None:
        if candidate.content_hash in self.held:
            self.summary.already_present += 1
        elif candidate.content_hash in self.first:
            reason = f"same patch and label as {self.first[candidate.content_hash]}"
            self.errors.append(BadItem(candidate.item, reason))
        else:
            self.first[candidate.content_hash] = candidate.item
            self.batch.append(candidate)
            if len(self.batch) >= INSERT_BATCH:
                self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        if self.dataset is None:
            self.dataset = _create_dataset(self.session, self.name, self.patch_size, self.user)
        _insert(self.session, self.dataset, self.batch)
        self.summary.imported += len(self.batch)
        self.batch = []


def _insert(session: Session, dataset: Dataset, candidates: list[Candidate]) -> None:
    """One bulk INSERT statement for CANDIDATES."""
    rows = []
    for candidate in candidates:
        row = dict(vars(candidate))  # shallow: asdict() would deep-copy the pixel bytes
        del row["item"]
        row.update(dataset_id=dataset.id, source="real", split=split_for(candidate.patient_key))
        rows.append(row)
    session.execute(insert(Patch), rows)


def _error_order(error: BadItem) -> tuple[int, int, str]:
    """CSV rows by line number first, then files by path."""
    source, _, line = error.item.rpartition(":")
    if source in (ANNOTATIONS, PATCHES) and line.isdigit():
        return (0, int(line), "")
    return (1, 0, error.item)
