"""Judgment records: the long-format rows every result and export is computed from."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.tables import (
    Assignment,
    AssignmentItem,
    Dataset,
    Judgment,
    ModelVersion,
    Patch,
    Study,
    StudyItem,
    User,
)
from app.text_rules import from_spreadsheet_cell, spreadsheet_cell


@dataclass(frozen=True)
class JudgmentRecord:
    """One counted judgment; ``item`` is the study item id, the same for every reader."""

    study: str
    reader: str
    item: int
    patch_id: int
    source: str
    true_label: str
    model_version: str  # the generating GAN's version; empty for real patches
    verdict: str
    confidence: int | None
    label: str | None
    duration_ms: int | None
    answered_at: str
    # Appended (older columns keep their place): the first answer's reading time and moment,
    # and how often the answer was changed. Empty first_* cells: not known (stored before
    # they were kept, then changed).
    first_duration_ms: int | None = None
    first_answered_at: str = ""
    revisions: int = 0


@dataclass(frozen=True)
class ReaderProfile:
    experience_years: int | None
    subspecialty: str | None
    unblinded: bool = False  # assigned through the "unblinded reader" box


CSV_COLUMNS = tuple(f.name for f in fields(JudgmentRecord))


def load_records(session: Session, study_id: int) -> list[JudgmentRecord]:
    """Every counted (non-practice) judgment of the study, by reader and position."""
    version_id = func.coalesce(Patch.model_version_id, Dataset.model_version_id)
    query = (
        select(Study.name, User.username, StudyItem.id, Patch.id, Patch.source, Patch.label_code)
        .add_columns(ModelVersion.version, Judgment)
        .join(Assignment, Assignment.study_id == Study.id)
        .join(User, User.id == Assignment.reader_id)
        .join(AssignmentItem, AssignmentItem.assignment_id == Assignment.id)
        .join(Judgment, Judgment.assignment_item_id == AssignmentItem.id)
        .join(StudyItem, StudyItem.id == AssignmentItem.study_item_id)
        .join(Patch, Patch.id == StudyItem.patch_id)
        .join(Dataset, Dataset.id == Patch.dataset_id)
        .outerjoin(ModelVersion, ModelVersion.id == version_id)
        .where(Study.id == study_id, StudyItem.is_practice.is_(False))
        .order_by(User.username, AssignmentItem.position)
    )
    return [_record(row) for row in session.execute(query)]


def reader_profiles(session: Session, study_id: int) -> dict[str, ReaderProfile]:
    """Experience, subspecialty and blinding of the study's readers, by username."""
    query = (
        select(User.username, User.experience_years, User.subspecialty, Assignment.unblinded)
        .join(Assignment, Assignment.reader_id == User.id)
        .where(Assignment.study_id == study_id)
    )
    return {
        name: ReaderProfile(years, sub, bool(unblinded))
        for name, years, sub, unblinded in session.execute(query)
    }


def write_csv(records: Iterable[JudgmentRecord], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow(["" if v is None else spreadsheet_cell(v) for v in astuple(record)])


def read_csv(source: IO[str]) -> list[JudgmentRecord]:
    """Records back from ``write_csv``'s output."""
    return [_from_csv_row(row) for row in csv.DictReader(source)]


def _record(row: Any) -> JudgmentRecord:
    study, reader, item, patch_id, source, true_label, version, judgment = row
    return JudgmentRecord(
        study=study,
        reader=reader,
        item=item,
        patch_id=patch_id,
        source=source,
        true_label=true_label,
        model_version="" if source == "real" or version is None else str(version),
        verdict=judgment.verdict,
        confidence=judgment.confidence,
        label=judgment.label_code,
        duration_ms=judgment.duration_ms,
        answered_at=as_utc(judgment.answered_at).isoformat(),
        first_duration_ms=judgment.first_duration_ms,
        first_answered_at=(
            as_utc(judgment.first_answered_at).isoformat() if judgment.first_answered_at else ""
        ),
        revisions=judgment.revisions,
    )


def version_order(version: str) -> tuple[int, str]:
    """Sort key of GAN versions as records hold them (strings): numerically, others last."""
    return (int(version), version) if version.isdigit() else (1 << 30, version)


def gan_versions(records: Iterable[JudgmentRecord]) -> list[str]:
    """The GAN versions whose generated patches RECORDS judge, in version order."""
    return sorted({r.model_version for r in records if r.source == "generated"}, key=version_order)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _from_csv_row(cells: dict[str, str]) -> JudgmentRecord:
    row = {key: from_spreadsheet_cell(value) for key, value in cells.items()}

    def optional_int(key: str) -> int | None:
        return int(row[key]) if row.get(key) else None  # columns added later may be absent

    return JudgmentRecord(
        study=row["study"],
        reader=row["reader"],
        item=int(row["item"]),
        patch_id=int(row["patch_id"]),
        source=row["source"],
        true_label=row["true_label"],
        model_version=row["model_version"],
        verdict=row["verdict"],
        confidence=optional_int("confidence"),
        label=row["label"] or None,
        duration_ms=optional_int("duration_ms"),
        answered_at=row["answered_at"],
        first_duration_ms=optional_int("first_duration_ms"),
        first_answered_at=row.get("first_answered_at", ""),
        revisions=optional_int("revisions") or 0,
    )
