"""The reading loop: the reader's next item and answers.

Readers only ever see an item's random token. ``next_item`` returns the first unanswered
item in the reader's order, so any device resumes at the right place; it only reads (GET
must not change state): the first answer to an item stamps its ``shown_at`` and the
assignment's ``started_at`` (and ``finished_at`` with the last item), and only the item
``next_item`` shows (every earlier one answered) can take a first answer. ``submit`` stores
one judgment per item: an identical resubmission (double click, retry, second tab) gets the
stored judgment back; a different answer is refused with 409 unless the study allows
changes, in which case it replaces the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from app.errors import Conflict, Invalid, NotFound
from app.tables import (
    Assignment,
    AssignmentItem,
    Judgment,
    Label,
    Patch,
    Study,
    StudyItem,
    User,
    utcnow,
)


@dataclass(frozen=True)
class Answer:
    verdict: str
    confidence: int | None = None
    label: str | None = None
    duration_ms: int | None = None


@dataclass(frozen=True)
class ItemView:
    """What the reader is shown: the same fields for every item, whatever its source."""

    token: str
    position: int  # 1-based
    total: int
    practice: bool
    windows: list[str]
    previous: str | None  # token of the item before, when answers may be changed
    size: tuple[int, int]  # (height, width): one size for every item of a study


@dataclass(frozen=True)
class Submitted:
    judgment: Judgment
    created: bool
    feedback: dict[str, str] | None  # practice items only: the true source and label


def next_item(session: Session, reader: User, study_id: int) -> ItemView | None:
    """The first unanswered item of READER's assignment in the study, or None when done."""
    assignment = _assignment(session, reader, study_id)
    total = (
        select(func.count()).where(AssignmentItem.assignment_id == assignment.id).scalar_subquery()
    )
    row = session.execute(
        select(AssignmentItem.token, AssignmentItem.position, StudyItem.is_practice, total)
        .add_columns(Patch.height, Patch.width)
        .join(StudyItem, StudyItem.id == AssignmentItem.study_item_id)
        .join(Patch, Patch.id == StudyItem.patch_id)
        .outerjoin(Judgment, Judgment.assignment_item_id == AssignmentItem.id)
        .where(AssignmentItem.assignment_id == assignment.id, Judgment.id.is_(None))
        .order_by(AssignmentItem.position)
        .limit(1)
    ).first()
    if row is None:
        return None
    token, position, practice, n_items, height, width = row
    previous = _previous(session, assignment.id, position) if assignment.allow_changes else None
    size = (height, width)
    return ItemView(token, position + 1, n_items, practice, assignment.windows, previous, size)


def revisit(session: Session, reader: User, token: str) -> tuple[ItemView, Judgment | None]:
    """An item already shown, to change its answer (only when the study allows it)."""
    ctx = _context(session, reader, token, None)
    if not ctx.allow_changes or ctx.shown_at is None:
        raise Conflict("answers in this study are final")
    total = session.scalar(
        select(func.count()).where(AssignmentItem.assignment_id == ctx.assignment_id)
    )
    previous = _previous(session, ctx.assignment_id, ctx.position)
    size = (ctx.height, ctx.width)
    view = ItemView(token, ctx.position + 1, total or 0, ctx.practice, ctx.windows, previous, size)
    return view, ctx.judgment


def submit(session: Session, reader: User, token: str, answer: Answer) -> Submitted:
    """Store ANSWER for the item; see the module docstring for repeated submissions."""
    ctx = _context(session, reader, token, answer.label)
    if ctx.status != "open":
        raise Conflict("the study is not open")
    if ctx.shown_at is None and not _is_next(session, ctx.assignment_id, ctx.position):
        raise Conflict("this item has not been shown yet")
    _validate(ctx, answer)
    feedback = {"source": ctx.source, "label": ctx.true_label} if ctx.practice else None
    judgment = ctx.judgment
    if judgment is None:
        judgment = _insert_new(session, ctx.item_id, answer)
        if judgment is not None:
            _stamp_progress(session, ctx.assignment_id, ctx.item_id)
            return Submitted(judgment, True, feedback)
        judgment = session.scalar(
            select(Judgment).where(Judgment.assignment_item_id == ctx.item_id)
        )
        assert judgment is not None  # another request stored it first
    if _same(judgment, answer):
        return Submitted(judgment, False, feedback)
    if not ctx.allow_changes:
        raise Conflict("this item is already answered and answers are final")
    _apply(judgment, answer)
    judgment.revisions += 1
    return Submitted(judgment, False, feedback)


def _assignment(session: Session, reader: User, study_id: int) -> Any:
    """(id, started_at, windows, allow_changes) of READER's assignment in an open study."""
    row = session.execute(
        select(Assignment.id, Assignment.started_at, Study.windows, Study.allow_changes)
        .add_columns(Study.status)
        .join(Study, Study.id == Assignment.study_id)
        .where(Assignment.study_id == study_id, Assignment.reader_id == reader.id)
    ).first()
    if row is None or row.status == "draft":
        raise NotFound("no such study among your assignments")
    if row.status != "open":
        raise Conflict("the study is closed")
    return row


def _context(session: Session, reader: User, token: str, label: str | None) -> Any:
    """Everything about one of READER's items that answering it needs, in one query."""
    answered = aliased(Judgment, name="judgment")
    row = session.execute(
        select(AssignmentItem.id.label("item_id"), AssignmentItem.assignment_id)
        .add_columns(AssignmentItem.position, AssignmentItem.shown_at, Study.status)
        .add_columns(Study.allow_changes, Study.ask_confidence, Study.ask_label, Study.windows)
        .add_columns(Patch.source, Patch.label_code.label("true_label"), Patch.height, Patch.width)
        .add_columns(StudyItem.is_practice.label("practice"), Label.code.label("known_label"))
        .add_columns(answered)
        .join(Assignment, Assignment.id == AssignmentItem.assignment_id)
        .join(Study, Study.id == Assignment.study_id)
        .join(StudyItem, StudyItem.id == AssignmentItem.study_item_id)
        .join(Patch, Patch.id == StudyItem.patch_id)
        .outerjoin(answered, answered.assignment_item_id == AssignmentItem.id)
        .outerjoin(Label, Label.code == label)
        .where(AssignmentItem.token == token, Assignment.reader_id == reader.id)
    ).first()
    if row is None:
        raise NotFound("no such item")
    return row


def _previous(session: Session, assignment_id: int, position: int) -> str | None:
    return session.scalar(
        select(AssignmentItem.token).where(
            AssignmentItem.assignment_id == assignment_id,
            AssignmentItem.position == position - 1,
        )
    )


def _is_next(session: Session, assignment_id: int, position: int) -> bool:
    """Whether every item before POSITION is answered: the item ``next_item`` shows."""
    earlier_open = (
        select(AssignmentItem.id)
        .outerjoin(Judgment, Judgment.assignment_item_id == AssignmentItem.id)
        .where(
            AssignmentItem.assignment_id == assignment_id,
            AssignmentItem.position < position,
            Judgment.id.is_(None),
        )
        .limit(1)
    )
    return session.scalar(earlier_open) is None


def _stamp_progress(session: Session, assignment_id: int, item_id: int) -> None:
    """After a first answer: the item's ``shown_at``, the assignment's ``started_at`` and,
    with its last item, ``finished_at`` (stamped here, so that GET /reading/next only reads)."""
    _stamp_once(session, AssignmentItem, AssignmentItem.shown_at, item_id)
    _stamp_once(session, Assignment, Assignment.started_at, assignment_id)
    if _is_next(session, assignment_id, 2**31 - 1):
        _stamp_once(session, Assignment, Assignment.finished_at, assignment_id)


def _stamp_once(session: Session, table: Any, column: Any, row_id: int) -> None:
    """Set a timestamp column to now unless it is set already."""
    session.execute(
        update(table).where(table.id == row_id, column.is_(None)).values({column: utcnow()})
    )


def _validate(ctx: Any, answer: Answer) -> None:
    if answer.verdict not in ("real", "generated"):
        raise Invalid("verdict must be 'real' or 'generated'")
    if ctx.ask_confidence and answer.confidence not in (1, 2, 3, 4, 5):
        raise Invalid("confidence must be 1 to 5")
    if not ctx.ask_confidence and answer.confidence is not None:
        raise Invalid("this study does not ask for a confidence")
    if ctx.ask_label and (answer.label is None or ctx.known_label is None):
        raise Invalid("label must be one of the installation's label codes")
    if not ctx.ask_label and answer.label is not None:
        raise Invalid("this study does not ask for a label")
    if answer.duration_ms is not None and not 0 <= answer.duration_ms <= 86_400_000:
        raise Invalid("duration_ms must be between 0 and 86400000")


def _insert_new(session: Session, item_id: int, answer: Answer) -> Judgment | None:
    """Insert the item's judgment unless one exists (then None): one statement, no race."""
    judgment = Judgment(assignment_item_id=item_id, revisions=0)
    _apply(judgment, answer)
    judgment.first_duration_ms = judgment.duration_ms  # kept when the answer is changed
    judgment.first_answered_at = judgment.answered_at
    values = {c.key: getattr(judgment, c.key) for c in Judgment.__table__.columns if c.key != "id"}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Judgment)
        .values(values)
        .on_conflict_do_nothing(index_elements=[Judgment.assignment_item_id])
        .returning(Judgment.id)
    )
    new_id = session.scalar(statement)
    if new_id is None:
        return None
    judgment.id = new_id
    return judgment


def _apply(judgment: Judgment, answer: Answer) -> None:
    judgment.verdict = answer.verdict
    judgment.confidence = answer.confidence
    judgment.label_code = answer.label
    judgment.duration_ms = answer.duration_ms
    judgment.answered_at = utcnow()


def _same(judgment: Judgment, answer: Answer) -> bool:
    return (judgment.verdict, judgment.confidence, judgment.label_code) == (
        answer.verdict,
        answer.confidence,
        answer.label,
    )
