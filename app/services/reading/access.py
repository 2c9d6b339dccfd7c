"""What a reader may open besides the loop: their studies, item images; the intake."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.services.studies.images import reader_hu
from app.tables import Assignment, AssignmentItem, ItemImage, Patch, Study, StudyItem, User
from app.text_rules import problem


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


def item_hu(session: Session, reader: User, token: str) -> bytes:
    """One of READER's items as little-endian int16 HU, row by row, clipped like its images."""
    pixels = session.scalar(
        select(Patch.pixels)
        .join(StudyItem, StudyItem.patch_id == Patch.id)
        .join(AssignmentItem, AssignmentItem.study_item_id == StudyItem.id)
        .join(Assignment, Assignment.id == AssignmentItem.assignment_id)
        .where(AssignmentItem.token == token, Assignment.reader_id == reader.id)
    )
    if pixels is None:
        raise NotFound("no such item")
    return reader_hu(pixels).tobytes()


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
    """Record the reader's experience, once: of two racing answers only the first is stored."""
    if not 0 <= years <= 70:
        raise Invalid("years of experience must be between 0 and 70")
    if reason := problem(subspecialty):
        raise Invalid(f"the subspecialty {reason}")
    stored = session.execute(
        update(User)
        .where(User.id == reader.id, User.experience_years.is_(None))
        .values(experience_years=years, subspecialty=subspecialty.strip()[:120])
        .execution_options(synchronize_session="fetch")
    )
    if stored.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict("the reader intake has already been answered")
