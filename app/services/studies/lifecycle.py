"""Studies: create from a spec, look up, assign readers, open and close."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.services.accounts import audit, users
from app.services.studies import access as study_access
from app.services.studies import machine
from app.services.studies import opening as study_opening
from app.services.studies.spec import StudySpec
from app.tables import Assignment, Dataset, Job, Study, StudyCollaborator, User, utcnow


def create_study(session: Session, spec: StudySpec, user: User | None) -> Study:
    """A draft study from SPEC, with its readers assigned."""
    if session.scalar(select(Study.id).where(Study.name == spec.name)):
        raise Conflict(f"study {spec.name!r} already exists")
    if spec.real_fraction > 0 and spec.real is None:
        raise Invalid("real_fraction > 0 needs a real dataset")
    if spec.real_fraction < 1 and not spec.generated.datasets:
        raise Invalid("real_fraction < 1 needs at least one generated dataset")
    fields = spec.model_dump(exclude={"real", "generated", "readers", "unblinded"})
    creator = user.id if user else None
    study = Study(**fields, created_by_id=creator, owner_id=creator)  # the creator owns it
    if spec.real is not None:
        study.real_dataset_id = _dataset(session, spec.real.dataset, "real").id
        study.real_split = spec.real.split
    study.generated_datasets = [_dataset(session, n, "generated") for n in spec.generated.datasets]
    session.add(study)
    session.flush()
    assign_readers(session, study, spec.readers, user, spec.unblinded)
    study_opening.check_feasible(session, study)
    audit.record(session, user, "study_create", study.name, study_id=study.id)
    return study


def get_study(session: Session, study_id: int) -> Study:
    study = session.get(Study, study_id)
    if study is None:
        raise NotFound(f"no study {study_id}")
    return study


def find_study(session: Session, ref: str) -> Study:
    """A study by name, or by id when REF is a number."""
    study = session.scalar(select(Study).where(Study.name == ref))
    if study is None and ref.isdigit():
        study = session.get(Study, int(ref))
    if study is None:
        raise NotFound(f"no study {ref!r}")
    return study


def list_studies(session: Session, user: User | None) -> list[Study]:
    """The studies USER sees (owned or shared; an admin's, or the CLI's: all), newest first."""
    return study_access.visible_studies(session, user)


def readers_of(session: Session, study_id: int) -> list[User]:
    query = (
        select(User)
        .join(Assignment, Assignment.reader_id == User.id)
        .where(Assignment.study_id == study_id)
        .order_by(User.username)
    )
    return list(session.scalars(query))


def assign_readers(
    session: Session,
    study: Study,
    usernames: list[str],
    user: User | None,
    unblinded: Collection[str] = (),
) -> list[Assignment]:
    """Give each named user an assignment (users already assigned are left as they are).
    Accounts that can see galleries or results (coordinators, admins) are not blinded: they
    are assigned only when also named in UNBLINDED, and their assignment says so."""
    if study.status == "closed":
        raise Conflict("the study is closed: reopen it to assign readers")
    if study.status != "draft" and not study.shared_items:
        raise Conflict("readers join a disjoint study only while it is a draft")
    if stray := sorted(set(unblinded) - set(usernames)):
        raise Invalid(f"marked unblinded but not assigned as readers: {', '.join(stray)}")
    have = {r.username for r in readers_of(session, study.id)}
    added = []
    for name in dict.fromkeys(usernames):
        if name in have:
            continue
        reader = users.get_user(session, name)
        if users.has_role(reader, "coordinator") and name not in unblinded:
            raise Invalid(
                f"{name!r} is {'an' if reader.role == 'admin' else 'a'} {reader.role} and can"
                " see galleries and results, so is not blinded: tick 'unblinded reader' for"
                " them to assign them anyway"
            )
        assignment = study_opening.new_assignment(session, study, reader)
        assignment.unblinded = name in unblinded
        added.append(assignment)
    if added:
        names = [a.reader.username for a in added]
        marked = [a.reader.username for a in added if a.unblinded]
        audit.record(session, user, "study_assign", study.name, readers=names, unblinded=marked)
    return added


def open_study(session: Session, study_id: int, user: User | None) -> Study:
    """Draw items and render images on first opening; reopen a closed study as it was."""
    return open_study_queued(session, study_id, user)[0]


def open_study_queued(
    session: Session, study_id: int, user: User | None
) -> tuple[Study, Job | None]:
    """``open_study``, and the machine-reader job a first opening queues (None: none queued;
    the caller enqueues it after commit, else a worker's recovery pass sends it)."""
    study = get_study(session, study_id)
    if study.status == "open":
        return study, None
    job = None
    if study.status == "draft":
        study_opening.draw_and_render(session, study)
        study.opened_at = utcnow()
        session.flush()
        job = machine.queue_at_open(session, study, user)
    study.status = "open"
    audit.record(session, user, "study_open", study.name, study_id=study.id)
    return study, job


def close_study(session: Session, study_id: int, user: User | None) -> Study:
    """Stop reading; judgments stay, and the study can be reopened."""
    study = get_study(session, study_id)
    if study.status == "draft":
        raise Conflict("a draft study has not been opened")
    if study.status == "open":
        study.status = "closed"
        study.closed_at = utcnow()
        audit.record(session, user, "study_close", study.name, study_id=study.id)
    return study


def spec_of(study: Study, session: Session) -> StudySpec:
    """The design STUDY was made from (its readers and unblinded marks included)."""
    assignments = session.scalars(
        select(Assignment).where(Assignment.study_id == study.id).order_by(Assignment.id)
    ).all()
    fields = {name: getattr(study, name) for name in StudySpec.model_fields if hasattr(study, name)}
    real = None
    if study.real_dataset is not None:
        real = {"dataset": study.real_dataset.name, "split": study.real_split}
    return StudySpec.model_validate(
        fields
        | {
            "real": real,
            "generated": {"datasets": [d.name for d in study.generated_datasets]},
            "readers": [a.reader.username for a in assignments],
            "unblinded": [a.reader.username for a in assignments if a.unblinded],
        }
    )


def _draft(session: Session, study_id: int, doing: str) -> Study:
    study = get_study(session, study_id)
    if study.status != "draft":
        raise Conflict(
            f"study {study.name!r} has been opened: its design is fixed and it cannot be"
            f" {doing} (copy it to a new draft instead)"
        )
    return study


def update_draft(session: Session, study_id: int, spec: StudySpec, user: User | None) -> Study:
    """Replace a draft's design (name, patches, questions, readers) with SPEC."""
    study = _draft(session, study_id, "edited")
    taken = session.scalar(select(Study.id).where(Study.name == spec.name, Study.id != study.id))
    if taken:
        raise Conflict(f"study {spec.name!r} already exists")
    if spec.real_fraction > 0 and spec.real is None:
        raise Invalid("real_fraction > 0 needs a real dataset")
    if spec.real_fraction < 1 and not spec.generated.datasets:
        raise Invalid("real_fraction < 1 needs at least one generated dataset")
    for name, value in spec.model_dump(
        exclude={"real", "generated", "readers", "unblinded"}
    ).items():
        setattr(study, name, value)
    study.real_dataset_id, study.real_split = None, None
    if spec.real is not None:
        study.real_dataset_id = _dataset(session, spec.real.dataset, "real").id
        study.real_split = spec.real.split
    study.generated_datasets = [_dataset(session, n, "generated") for n in spec.generated.datasets]
    for assignment in session.scalars(select(Assignment).where(Assignment.study_id == study.id)):
        session.delete(assignment)  # a draft's assignments hold no items yet
    session.flush()
    session.expire(study, ["real_dataset"])
    assign_readers(session, study, spec.readers, user, spec.unblinded)
    study_opening.check_feasible(session, study)
    audit.record(session, user, "study_edit", study.name, study_id=study.id)
    return study


def copy_study(session: Session, study_id: int, name: str, user: User | None) -> Study:
    """A new draft with STUDY's design and readers under NAME, owned by USER (any study,
    opened or not, can be copied)."""
    source = get_study(session, study_id)
    spec = spec_of(source, session).model_copy(update={"name": name})
    spec = StudySpec.model_validate(spec.model_dump())  # the name's rules apply
    study = create_study(session, spec, user)
    audit.record(session, user, "study_copy", study.name, study_id=study.id, source=source.name)
    return study


def delete_draft(session: Session, study_id: int, user: User | None) -> str:
    """Delete a draft (its readers' assignments go with it); the name it freed."""
    study = _draft(session, study_id, "deleted")
    name = study.name
    for assignment in session.scalars(select(Assignment).where(Assignment.study_id == study.id)):
        session.delete(assignment)
    for shared in session.scalars(
        select(StudyCollaborator).where(StudyCollaborator.study_id == study.id)
    ):
        session.delete(shared)
    study.generated_datasets = []
    session.flush()
    session.delete(study)
    session.flush()
    audit.record(session, user, "study_delete", name, study_id=study_id)
    return name


def _dataset(session: Session, name: str, kind: str) -> Dataset:
    dataset = session.scalar(select(Dataset).where(Dataset.name == name))
    if dataset is None:
        raise NotFound(f"no dataset {name!r}")
    if dataset.kind != kind:
        raise Invalid(f"dataset {name!r} is {dataset.kind}, not {kind}")
    return dataset
