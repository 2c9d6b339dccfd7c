"""Who sees a study: its owner, the coordinators it is shared with, and admins.

Every study route checks ``visible_study`` (``app.deps.study_access`` runs it for each route
with a ``{study_id}`` in its path), and the lists use ``visible_studies``. To anyone else a
study does not exist: the same 404, with the same message, as an id no study has. Readers
are not concerned: they reach their assigned studies through ``/reading`` only, and the
study routes refuse them by role.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from app.errors import Forbidden, Invalid, NotFound
from app.services.accounts import audit, users
from app.tables import Job, Study, StudyCollaborator, User


def _visible_to(user: User) -> ColumnElement[bool]:
    shared = select(StudyCollaborator.study_id).where(StudyCollaborator.user_id == user.id)
    return or_(Study.owner_id == user.id, Study.id.in_(shared))


def can_see(session: Session, user: User | None, study: Study) -> bool:
    """Admins (and the CLI, user None) see every study; a coordinator its own and shared ones."""
    if user is None or users.has_role(user, "admin"):
        return True
    if not users.has_role(user, "coordinator"):
        return False
    if study.owner_id == user.id:
        return True
    found = session.scalar(
        select(StudyCollaborator.user_id).where(
            StudyCollaborator.study_id == study.id, StudyCollaborator.user_id == user.id
        )
    )
    return found is not None


def visible_study(session: Session, user: User | None, study_id: int) -> Study:
    """The study, or NotFound when there is none or USER may not see it (same message)."""
    study = session.get(Study, study_id)
    if study is None or not can_see(session, user, study):
        raise NotFound(f"no study {study_id}")
    return study


def find_visible_study(session: Session, user: User | None, ref: str) -> Study:
    """``lifecycle.find_study`` (by name, or id) for USER: one they may not see is
    ``no study REF`` too, the message of a study that does not exist."""
    from app.services.studies.lifecycle import find_study  # lifecycle imports this module

    study = find_study(session, ref)
    if not can_see(session, user, study):
        raise NotFound(f"no study {ref!r}")
    return study


def visible_studies(session: Session, user: User | None) -> list[Study]:
    """The studies USER sees (owned or shared; admins all), newest first."""
    query = select(Study).order_by(Study.created_at.desc(), Study.id.desc())
    if user is not None and not users.has_role(user, "admin"):
        query = query.where(_visible_to(user))
    return list(session.scalars(query))


def job_study(job: Job) -> int | None:
    """The study a job works for (the machine reader's), else None."""
    study_id = (job.params or {}).get("study") if job.kind == "machine_reader" else None
    return int(study_id) if isinstance(study_id, int) else None


def can_see_job(session: Session, user: User | None, job: Job) -> bool:
    """A study's job (its params, scores and log) is for those who see the study."""
    study_id = job_study(job)
    if study_id is None:
        return True
    study = session.get(Study, study_id)
    return study is None or can_see(session, user, study)


def visible_job(session: Session, user: User | None, job_id: int) -> None:
    """NotFound, with the message of a job that does not exist, for another's study's job."""
    job = session.get(Job, job_id)
    if job is not None and not can_see_job(session, user, job):
        raise NotFound(f"no job {job_id}")


def visible_jobs(session: Session, user: User | None, jobs: list[Job]) -> list[Job]:
    return [job for job in jobs if can_see_job(session, user, job)]


def collaborators(session: Session, study: Study) -> list[StudyCollaborator]:
    query = (
        select(StudyCollaborator)
        .join(User, User.id == StudyCollaborator.user_id)
        .where(StudyCollaborator.study_id == study.id)
        .order_by(User.username)
    )
    return list(session.scalars(query))


def owner_of(session: Session, study: Study) -> User | None:
    return session.get(User, study.owner_id) if study.owner_id is not None else None


def can_share(user: User | None, study: Study) -> bool:
    """Sharing is the owner's (or an admin's) decision; collaborators cannot pass it on."""
    return user is None or users.has_role(user, "admin") or study.owner_id == user.id


def _check_sharer(user: User | None, study: Study) -> None:
    if not can_share(user, study):
        raise Forbidden(f"only the owner of study {study.name!r} or an admin can share it")


def _check_partner(account: User) -> None:
    if not users.has_role(account, "coordinator"):
        raise Invalid(
            f"{account.username!r} is a {account.role}: a study is shared with coordinators"
            " and admins only (readers reach their studies through their assignments)"
        )


def add_collaborator(
    session: Session, study: Study, username: str, user: User | None
) -> StudyCollaborator | None:
    """Share STUDY with USERNAME (a coordinator or admin); None when nothing changed (the
    account owns the study or already shares it)."""
    _check_sharer(user, study)
    account = _account(session, username)
    _check_partner(account)
    if account.id == study.owner_id:
        return None
    if session.get(StudyCollaborator, (study.id, account.id)) is not None:
        return None
    link = StudyCollaborator(
        study_id=study.id, user_id=account.id, added_by_id=user.id if user else None
    )
    session.add(link)
    session.flush()
    audit.record(session, user, "study_share", study.name, study_id=study.id, account=username)
    return link


def remove_collaborator(session: Session, study: Study, username: str, user: User | None) -> None:
    """Stop sharing STUDY with USERNAME: their next request no longer finds it."""
    _check_sharer(user, study)
    account = _account(session, username)
    link = session.get(StudyCollaborator, (study.id, account.id))
    if link is None:
        raise NotFound(f"study {study.name!r} is not shared with {username!r}")
    session.delete(link)
    session.flush()
    audit.record(session, user, "study_unshare", study.name, study_id=study.id, account=username)


def set_owner(session: Session, study: Study, username: str, user: User | None) -> None:
    """Make USERNAME the owner (an admin's or the CLI's decision). The previous owner keeps
    access as a collaborator, so that nobody loses a study they were running unawares."""
    if user is not None and not users.has_role(user, "admin"):
        raise Forbidden("only an admin can change a study's owner")
    account = _account(session, username)
    _check_partner(account)
    previous = owner_of(session, study)
    if previous is not None and previous.id == account.id:
        return
    link = session.get(StudyCollaborator, (study.id, account.id))
    if link is not None:
        session.delete(link)
    study.owner_id = account.id
    if previous is not None and session.get(StudyCollaborator, (study.id, previous.id)) is None:
        session.add(
            StudyCollaborator(
                study_id=study.id, user_id=previous.id, added_by_id=user.id if user else None
            )
        )
    session.flush()
    audit.record(
        session,
        user,
        "study_owner",
        study.name,
        study_id=study.id,
        owner=username,
        previous=previous.username if previous else None,
    )


def _account(session: Session, username: str) -> User:
    try:
        return users.get_user(session, username)
    except NotFound:
        raise Invalid(f"there is no account {username!r}") from None
