"""Progress: per reader for coordinators, per study for the reader's home page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.tables import Assignment, AssignmentItem, Judgment, Study, StudyItem, User


@dataclass(frozen=True)
class Progress:
    name: str  # the reader (coordinator view) or the study (reader view)
    study_id: int
    status: str
    answered: int
    total: int
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 0


def reader_progress(session: Session, study_id: int) -> list[Progress]:
    """Counted items answered per reader of the study (practice items left out)."""
    query = _counts(User.username, counted_only=True).where(Assignment.study_id == study_id)
    return [Progress(*row) for row in session.execute(query.order_by(User.username))]


@dataclass(frozen=True)
class StudySummary:
    """A study's line in the studies list: readers, finished readers, judgments so far of
    those expected (a draft expects items per reader for each reader), and its owner."""

    readers: int
    finished: int
    judged: int
    expected: int
    owner: str | None

    @property
    def percent(self) -> int:
        return round(100 * self.judged / self.expected) if self.expected else 0


def study_summaries(session: Session, studies: list[Study]) -> dict[int, StudySummary]:
    """Each study's summary, by id, from one count query."""
    ids = [s.id for s in studies]
    rows: dict[int, list[Progress]] = {i: [] for i in ids}
    query = _counts(User.username, counted_only=True).where(Assignment.study_id.in_(ids))
    for row in session.execute(query):
        rows[row[1]].append(Progress(*row))
    owner_ids = {s.owner_id for s in studies if s.owner_id is not None}
    owners = {
        row.id: row.username
        for row in session.execute(select(User.id, User.username).where(User.id.in_(owner_ids)))
    }
    summaries = {}
    for study in studies:
        readers = rows[study.id]
        opened = study.status != "draft"
        summaries[study.id] = StudySummary(
            readers=len(readers),
            finished=sum(1 for p in readers if opened and p.total and p.answered >= p.total),
            judged=sum(p.answered for p in readers),
            expected=sum(p.total for p in readers)
            if opened
            else len(readers) * study.items_per_reader,
            owner=owners.get(study.owner_id) if study.owner_id is not None else None,
        )
    return summaries


def unfinished(progress: list[Progress]) -> list[Progress]:
    """The readers who have not answered every counted item."""
    return [p for p in progress if p.answered < p.total or not p.total]


def reader_studies(session: Session, reader: User) -> list[Progress]:
    """The reader's open and closed studies, counted as the coordinator counts them (practice
    items left out: the reading page shows them apart)."""
    query = _counts(Study.name, counted_only=True).where(
        Assignment.reader_id == reader.id, Study.status != "draft"
    )
    return [Progress(*row) for row in session.execute(query.order_by(Study.created_at.desc()))]


def only_open_study(session: Session, reader: User) -> int | None:
    """The id of the reader's one open study with items left to answer, if there is exactly
    one: where the reader lands after logging in."""
    studies = reader_studies(session, reader)
    left = [p for p in studies if p.status == "open" and p.finished_at is None]
    return left[0].study_id if len(left) == 1 else None


def _counts(
    name_column: InstrumentedAttribute[str], counted_only: bool
) -> Select[str, int, str, int, int, datetime | None, datetime | None]:
    item_join = and_(
        StudyItem.id == AssignmentItem.study_item_id,
        StudyItem.is_practice.is_(False) if counted_only else true(),
    )
    return (
        select(
            name_column,
            Study.id,
            Study.status,
            func.count(Judgment.id),
            func.count(StudyItem.id),
            Assignment.started_at,
            Assignment.finished_at,
        )
        .select_from(Assignment)
        .join(Study, Study.id == Assignment.study_id)
        .join(User, User.id == Assignment.reader_id)
        .outerjoin(AssignmentItem, AssignmentItem.assignment_id == Assignment.id)
        .outerjoin(StudyItem, item_join)
        .outerjoin(
            Judgment,
            and_(Judgment.assignment_item_id == AssignmentItem.id, StudyItem.id.is_not(None)),
        )
        .group_by(Assignment.id, name_column, Study.id, Study.status)
    )
