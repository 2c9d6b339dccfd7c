"""Flags: a reader marks one of their items unreadable and/or leaves a comment for the
coordinator. A flag changes nothing else: the item still needs an answer and the statistics
count it like any other (docs/reader_study.md, "Flags")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.services.studies.records import as_utc
from app.tables import (
    Assignment,
    AssignmentItem,
    ItemFlag,
    Judgment,
    Patch,
    Study,
    StudyItem,
    User,
    utcnow,
)

MAX_COMMENT = 500  # characters


@dataclass(frozen=True)
class Flag:
    unreadable: bool
    comment: str

    @property
    def flagged(self) -> bool:
        return self.unreadable or bool(self.comment)


def set_flag(session: Session, reader: User, token: str, flag: Flag) -> Flag:
    """Store READER's flag on one of their items shown so far, replacing an earlier one; a
    flag with neither mark nor comment takes it away."""
    row = session.execute(
        select(AssignmentItem.id, AssignmentItem.assignment_id, AssignmentItem.position)
        .add_columns(Study.status)
        .join(Assignment, Assignment.id == AssignmentItem.assignment_id)
        .join(Study, Study.id == Assignment.study_id)
        .where(AssignmentItem.token == token, Assignment.reader_id == reader.id)
    ).first()
    if row is None:
        raise NotFound("no such item")
    if row.status != "open":
        raise Conflict("the study is not open")
    if not _shown(session, row.assignment_id, row.position):
        raise Conflict("this item has not been shown yet")
    flag = Flag(flag.unreadable, flag.comment.strip())
    if not flag.flagged:
        session.execute(delete(ItemFlag).where(ItemFlag.assignment_item_id == row.id))
        return flag
    values = {"unreadable": flag.unreadable, "comment": flag.comment, "flagged_at": utcnow()}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(ItemFlag)
        .values(assignment_item_id=row.id, **values)
        .on_conflict_do_update(index_elements=[ItemFlag.assignment_item_id], set_=values)
    )
    return flag


def _shown(session: Session, assignment_id: int, position: int) -> bool:
    """Whether the item at POSITION is answered or the one being shown (the first open)."""
    first_open = session.scalar(
        select(func.min(AssignmentItem.position))
        .outerjoin(Judgment, Judgment.assignment_item_id == AssignmentItem.id)
        .where(AssignmentItem.assignment_id == assignment_id, Judgment.id.is_(None))
    )
    return first_open is None or position <= first_open


def study_flags(session: Session, study_id: int) -> list[dict[str, Any]]:
    """Every flag in the study, for its coordinators: the item (study item id, as in the
    judgments CSV), its patch, source and label, the reader, the mark and the comment."""
    rows = session.execute(
        select(StudyItem.id, StudyItem.is_practice, Patch.id, Patch.source, Patch.label_code)
        .add_columns(User.username, ItemFlag.unreadable, ItemFlag.comment, ItemFlag.flagged_at)
        .join(AssignmentItem, AssignmentItem.id == ItemFlag.assignment_item_id)
        .join(Assignment, Assignment.id == AssignmentItem.assignment_id)
        .join(User, User.id == Assignment.reader_id)
        .join(StudyItem, StudyItem.id == AssignmentItem.study_item_id)
        .join(Patch, Patch.id == StudyItem.patch_id)
        .where(Assignment.study_id == study_id)
        .order_by(StudyItem.id, User.username)
    )
    return [
        {
            "item": item,
            "practice": practice,
            "patch_id": patch_id,
            "source": source,
            "true_label": label,
            "reader": reader,
            "unreadable": unreadable,
            "comment": comment,
            "flagged_at": as_utc(at).isoformat(),
        }
        for item, practice, patch_id, source, label, reader, unreadable, comment, at in rows
    ]
