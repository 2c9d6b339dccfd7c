"""The reader's own summary of a study: what they answered and how long it took. Practice
items, whose truth the page already showed, are scored; counted items never are (no answer
key, no score: nothing here differs by a counted item's source)."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from app.services.reading.access import reader_study
from app.tables import Assignment, AssignmentItem, ItemFlag, Judgment, Patch, StudyItem, User


@dataclass(frozen=True)
class ReaderSummary:
    answered: int  # counted items answered
    total: int  # counted items
    reading_ms: int  # the answers' reading times, summed (counted items)
    median_ms: float | None  # per counted item
    practice_answered: int
    practice_right: int  # practice verdicts that matched the patch's source
    flagged: int  # items the reader flagged


def reader_summary(session: Session, reader: User, study_id: int) -> ReaderSummary:
    """READER's summary of a study they are assigned to (open or closed)."""
    reader_study(session, reader, study_id)
    practice_source = case((StudyItem.is_practice, Patch.source), else_=None)
    rows = session.execute(
        select(StudyItem.is_practice.label("practice"), practice_source.label("source"))
        .add_columns(Judgment.verdict, Judgment.duration_ms)
        .add_columns(ItemFlag.assignment_item_id.is_not(None).label("flagged"))
        .select_from(AssignmentItem)
        .join(Assignment, Assignment.id == AssignmentItem.assignment_id)
        .join(StudyItem, StudyItem.id == AssignmentItem.study_item_id)
        .join(Patch, Patch.id == StudyItem.patch_id)
        .outerjoin(Judgment, Judgment.assignment_item_id == AssignmentItem.id)
        .outerjoin(ItemFlag, ItemFlag.assignment_item_id == AssignmentItem.id)
        .where(Assignment.study_id == study_id, Assignment.reader_id == reader.id)
    ).all()
    counted = [r for r in rows if not r.practice]
    answered = [r for r in counted if r.verdict is not None]
    practice = [r for r in rows if r.practice and r.verdict is not None]
    times = [r.duration_ms for r in answered if r.duration_ms is not None]
    return ReaderSummary(
        answered=len(answered),
        total=len(counted),
        reading_ms=sum(times),
        median_ms=median(times) if times else None,
        practice_answered=len(practice),
        practice_right=sum(1 for r in practice if r.verdict == r.source),
        flagged=sum(1 for r in rows if r.flagged),
    )
