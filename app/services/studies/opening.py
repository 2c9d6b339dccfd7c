"""Opening a study: candidate pools, item draw, pre-rendered images, reader assignments."""

from __future__ import annotations

import secrets

from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.services.studies import images as study_images
from app.services.studies.sampling import (
    Candidate,
    Draw,
    DrawPlan,
    draw_items,
    reader_order,
    reader_seed,
)
from app.tables import Assignment, AssignmentItem, Patch, Study, StudyItem, User

TOKEN_BYTES = 16  # 22 URL-safe characters, 128 random bits


def check_feasible(session: Session, study: Study) -> Draw:
    """Draw once to prove the pools can serve the design (raises Invalid when they can't)."""
    real, generated = _pools(session, study)
    n_readers = session.scalar(
        select(func.count()).select_from(Assignment).where(Assignment.study_id == study.id)
    )
    plan = DrawPlan(
        items_per_reader=study.items_per_reader,
        real_fraction=study.real_fraction,
        per_label=study.per_label,
        shared_items=study.shared_items,
        n_readers=n_readers or 1,
        practice_items=study.practice_items,
        seed=study.seed,
    )
    return draw_items(real, generated, plan)


def draw_and_render(session: Session, study: Study) -> None:
    """Create the study's items, their images, and every assignment's ordered items."""
    assignments = list(
        session.scalars(
            select(Assignment).where(Assignment.study_id == study.id).order_by(Assignment.id)
        )
    )
    if not assignments:
        raise Invalid("assign at least one reader before opening the study")
    draw = check_feasible(session, study)
    practice = _add_items(session, study, draw.practice, practice=True)
    sets = [_add_items(session, study, ids, practice=False) for ids in draw.sets]
    study_images.render_items(session, study)
    for index, assignment in enumerate(assignments):
        items = sets[0] if study.shared_items else sets[index]
        add_assignment_items(session, assignment, items, practice)


def new_assignment(session: Session, study: Study, reader: User) -> Assignment:
    """An assignment for READER; in an open shared study it gets the shared items at once."""
    assignment = Assignment(
        study_id=study.id, reader=reader, seed=reader_seed(study.seed, reader.id)
    )
    session.add(assignment)
    session.flush()
    if study.status != "draft":
        rows = session.execute(
            select(StudyItem.id, StudyItem.is_practice).where(StudyItem.study_id == study.id)
        ).all()
        main = [i for i, is_practice in rows if not is_practice]
        add_assignment_items(session, assignment, main, [i for i, p in rows if p])
    return assignment


def add_assignment_items(
    session: Session, assignment: Assignment, items: list[int], practice: list[int]
) -> None:
    """Practice first, then the counted items, each part in the reader's seeded order."""
    order = reader_order(practice, assignment.seed) + reader_order(items, assignment.seed + 1)
    rows = [
        {
            "assignment_id": assignment.id,
            "study_item_id": item_id,
            "position": position,
            "token": secrets.token_urlsafe(TOKEN_BYTES),
        }
        for position, item_id in enumerate(order)
    ]
    if rows:
        session.execute(insert(AssignmentItem), rows)


def _add_items(session: Session, study: Study, patch_ids: list[int], practice: bool) -> list[int]:
    """Study items for PATCH_IDS; their ids in the same order."""
    if not patch_ids:
        return []
    rows = [{"study_id": study.id, "patch_id": p, "is_practice": practice} for p in patch_ids]
    session.execute(insert(StudyItem), rows)
    query = select(StudyItem.patch_id, StudyItem.id).where(
        StudyItem.study_id == study.id, StudyItem.patch_id.in_(patch_ids)
    )
    ids = {patch_id: item_id for patch_id, item_id in session.execute(query)}
    return [ids[p] for p in patch_ids]


def _pools(session: Session, study: Study) -> tuple[list[Candidate], list[Candidate]]:
    """(real, generated) candidates; every patch must have the same size (blinding)."""
    real_where = [Patch.dataset_id == study.real_dataset_id, Patch.source == "real"]
    if study.real_split:
        real_where.append(Patch.split == study.real_split)
    gen_ids = [d.id for d in study.generated_datasets]
    gen_where = [Patch.dataset_id.in_(gen_ids), Patch.source == "generated"]
    real = _candidates(session, real_where) if study.real_dataset_id else []
    generated = _candidates(session, gen_where) if gen_ids else []
    sizes = set()
    for where in ([real_where] if real else []) + ([gen_where] if generated else []):
        sizes |= set(session.execute(select(Patch.height, Patch.width).where(*where).distinct()))
    if len(sizes) > 1:
        raise Invalid(f"patches differ in size ({sorted(sizes)}); a blinded study needs one size")
    return real, generated


def _candidates(session: Session, where: list[ColumnElement[bool]]) -> list[Candidate]:
    rows = session.execute(select(Patch.id, Patch.label_code).where(*where))
    return [Candidate(patch_id, label) for patch_id, label in rows]
