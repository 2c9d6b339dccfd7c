"""The reading loop: the reader's next item, answers, images, and the intake.

Readers only ever see an item's random token. ``next_item`` returns the first unanswered
item in the reader's order, so any device resumes at the right place. ``submit`` stores
one judgment per item: an identical resubmission (double click, retry, second tab) gets the
stored judgment back; a different answer is refused with 409 unless the study allows
changes, in which case it replaces the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.tables import (
    Assignment,
    AssignmentItem,
    ItemImage,
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


@dataclass(frozen=True)
class Submitted:
    judgment: Judgment
    created: bool
    feedback: dict[str, str] | None  # practice items only: the true source and label


def next_item(session: Session, reader: User, study_id: int) -> ItemView | None:
    """The first unanswered item of READER's assignment in the study, or None when done."""
    assignment, study = _assignment(session, reader, study_id)
    row = session.execute(
        select(AssignmentItem, StudyItem.is_practice)
        .join(StudyItem, StudyItem.id == AssignmentItem.study_item_id)
        .outerjoin(Judgment, Judgment.assignment_item_id == AssignmentItem.id)
        .where(AssignmentItem.assignment_id == assignment.id, Judgment.id.is_(None))
        .order_by(AssignmentItem.position)
        .limit(1)
    ).first()
    now = utcnow()
    if row is None:
        if assignment.finished_at is None:
            assignment.finished_at = now
        return None
    item, practice = row
    if item.shown_at is None:
        item.shown_at = now
    if assignment.started_at is None:
        assignment.started_at = now
    return _view(session, study, assignment, item, practice)


def revisit(session: Session, reader: User, token: str) -> tuple[ItemView, Judgment | None]:
    """An item already shown, to change its answer (only when the study allows it)."""
    item, assignment, study, _patch, practice = _owned_item(session, reader, token)
    if not study.allow_changes or item.shown_at is None:
        raise Conflict("answers in this study are final")
    judgment = session.scalar(select(Judgment).where(Judgment.assignment_item_id == item.id))
    return _view(session, study, assignment, item, practice), judgment


def submit(session: Session, reader: User, token: str, answer: Answer) -> Submitted:
    """Store ANSWER for the item; see the module docstring for repeated submissions."""
    item, _assignment, study, patch, practice = _owned_item(session, reader, token)
    if study.status != "open":
        raise Conflict("the study is not open")
    if item.shown_at is None:
        raise Conflict("this item has not been shown yet")
    _validate(session, study, answer)
    feedback = {"source": patch.source, "label": patch.label_code} if practice else None
    judgment = session.scalar(select(Judgment).where(Judgment.assignment_item_id == item.id))
    if judgment is None:
        judgment, created = _insert(session, item.id, answer)
        if created:
            return Submitted(judgment, True, feedback)
    if _same(judgment, answer):
        return Submitted(judgment, False, feedback)
    if not study.allow_changes:
        raise Conflict("this item is already answered and answers are final")
    _apply(judgment, answer)
    judgment.revisions += 1
    return Submitted(judgment, False, feedback)


def item_image(session: Session, reader: User, token: str, window: str) -> bytes:
    """The pre-rendered PNG of one of READER's items."""
    png = session.scalar(
        select(ItemImage.png)
        .join(AssignmentItem, AssignmentItem.study_item_id == ItemImage.study_item_id)
        .join(Assignment, Assignment.id == AssignmentItem.assignment_id)
        .where(
            AssignmentItem.token == token,
            Assignment.reader_id == reader.id,
            ItemImage.window == window,
        )
    )
    if png is None:
        raise NotFound("no such item")
    return png


def reader_study(session: Session, reader: User, study_id: int) -> Study:
    """A study READER is assigned to and that has been opened."""
    study = session.scalar(
        select(Study)
        .join(Assignment, Assignment.study_id == Study.id)
        .where(Study.id == study_id, Assignment.reader_id == reader.id, Study.status != "draft")
    )
    if study is None:
        raise NotFound("no such study among your assignments")
    return study


def save_intake(session: Session, reader: User, years: int, subspecialty: str) -> None:
    """Record the reader's experience, once."""
    if reader.experience_years is not None:
        raise Conflict("the reader intake has already been answered")
    if not 0 <= years <= 70:
        raise Invalid("years of experience must be between 0 and 70")
    reader.experience_years = years
    reader.subspecialty = subspecialty.strip()[:120]


def _assignment(session: Session, reader: User, study_id: int) -> tuple[Assignment, Study]:
    row = session.execute(
        select(Assignment, Study)
        .join(Study, Study.id == Assignment.study_id)
        .where(Assignment.study_id == study_id, Assignment.reader_id == reader.id)
    ).first()
    if row is None or row[1].status == "draft":
        raise NotFound("no such study among your assignments")
    if row[1].status != "open":
        raise Conflict("the study is closed")
    return row[0], row[1]


def _owned_item(
    session: Session, reader: User, token: str
) -> tuple[AssignmentItem, Assignment, Study, Patch, bool]:
    row = session.execute(
        select(AssignmentItem, Assignment, Study, Patch, StudyItem.is_practice)
        .join(Assignment, Assignment.id == AssignmentItem.assignment_id)
        .join(Study, Study.id == Assignment.study_id)
        .join(StudyItem, StudyItem.id == AssignmentItem.study_item_id)
        .join(Patch, Patch.id == StudyItem.patch_id)
        .where(AssignmentItem.token == token, Assignment.reader_id == reader.id)
    ).first()
    if row is None:
        raise NotFound("no such item")
    return row[0], row[1], row[2], row[3], row[4]


def _view(
    session: Session, study: Study, assignment: Assignment, item: AssignmentItem, practice: bool
) -> ItemView:
    total = session.scalar(
        select(func.count()).where(AssignmentItem.assignment_id == assignment.id)
    )
    previous = None
    if study.allow_changes and item.position > 0:
        previous = session.scalar(
            select(AssignmentItem.token).where(
                AssignmentItem.assignment_id == assignment.id,
                AssignmentItem.position == item.position - 1,
            )
        )
    return ItemView(item.token, item.position + 1, total or 0, practice, study.windows, previous)


def _validate(session: Session, study: Study, answer: Answer) -> None:
    if answer.verdict not in ("real", "generated"):
        raise Invalid("verdict must be 'real' or 'generated'")
    if study.ask_confidence and answer.confidence not in (1, 2, 3, 4, 5):
        raise Invalid("confidence must be 1 to 5")
    if not study.ask_confidence and answer.confidence is not None:
        raise Invalid("this study does not ask for a confidence")
    if study.ask_label and (answer.label is None or session.get(Label, answer.label) is None):
        raise Invalid("label must be one of the installation's label codes")
    if not study.ask_label and answer.label is not None:
        raise Invalid("this study does not ask for a label")
    if answer.duration_ms is not None and not 0 <= answer.duration_ms <= 86_400_000:
        raise Invalid("duration_ms must be between 0 and 86400000")


def _insert(session: Session, item_id: int, answer: Answer) -> tuple[Judgment, bool]:
    """Insert the judgment; when another request won the race, return theirs."""
    judgment = Judgment(assignment_item_id=item_id)
    _apply(judgment, answer)
    try:
        with session.begin_nested():
            session.add(judgment)
    except IntegrityError:
        existing = session.scalar(select(Judgment).where(Judgment.assignment_item_id == item_id))
        assert existing is not None
        return existing, False
    return judgment, True


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
