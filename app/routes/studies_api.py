"""Study JSON API for coordinators: design, readers, open/close, progress, results, exports."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, BackgroundTasks
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.deps import CoordinatorUser, SessionDep, SettingsDep
from app.jobs import queue
from app.schemas import ReaderProgressPublic, ReadersBody, StudyCopyBody, StudyPublic
from app.services.reading.flags import study_flags
from app.services.studies import exports as study_exports
from app.services.studies import lifecycle as studies
from app.services.studies import results as study_results
from app.services.studies.figures import FORMATS
from app.services.studies.progress import reader_progress
from app.services.studies.spec import StudySpec
from app.tables import Study

api = APIRouter(prefix="/api/v1/studies", tags=["studies"])


def study_public(session: Session, study: Study) -> StudyPublic:
    """The study as the API returns it, with per-reader progress."""
    real = None
    if study.real_dataset is not None:
        real = {"dataset": study.real_dataset.name, "split": study.real_split}
    progress = [
        ReaderProgressPublic(
            reader=p.name,
            answered=p.answered,
            total=p.total,
            started_at=p.started_at,
            finished_at=p.finished_at,
        )
        for p in reader_progress(session, study.id)
    ]
    fields = {c: getattr(study, c) for c in StudyPublic.model_fields if hasattr(study, c)}
    fields.update(
        real=real,
        generated={"datasets": [d.name for d in study.generated_datasets]},
        readers=progress,
    )
    return StudyPublic(**fields)


@api.post("", status_code=201)
def create_study(session: SessionDep, user: CoordinatorUser, body: StudySpec) -> StudyPublic:
    """Create a draft study and assign its readers."""
    return study_public(session, studies.create_study(session, body, user))


@api.get("")
def list_studies(session: SessionDep, user: CoordinatorUser) -> list[StudyPublic]:
    """The caller's studies (owned or shared with them; an admin's: every study), newest
    first."""
    return [study_public(session, s) for s in studies.list_studies(session, user)]


@api.get("/{study_id}")
def get_study(session: SessionDep, user: CoordinatorUser, study_id: int) -> StudyPublic:
    """A study's design, status and per-reader progress."""
    return study_public(session, studies.get_study(session, study_id))


@api.put("/{study_id}")
def update_draft(
    session: SessionDep, user: CoordinatorUser, study_id: int, body: StudySpec
) -> StudyPublic:
    """Replace a draft's design and readers (409 once the study has been opened)."""
    return study_public(session, studies.update_draft(session, study_id, body, user))


@api.post("/{study_id}/copy", status_code=201)
def copy_study(
    session: SessionDep, user: CoordinatorUser, study_id: int, body: StudyCopyBody
) -> StudyPublic:
    """A new draft with the study's design and readers under a new name, owned by the
    caller (any study can be copied, opened or not)."""
    return study_public(session, studies.copy_study(session, study_id, body.name, user))


@api.delete("/{study_id}", status_code=204)
def delete_draft(session: SessionDep, user: CoordinatorUser, study_id: int) -> Response:
    """Delete a draft (409 once the study has been opened: its judgments are kept)."""
    studies.delete_draft(session, study_id, user)
    return Response(status_code=204)


@api.post("/{study_id}/readers")
def assign_readers(
    session: SessionDep, user: CoordinatorUser, study_id: int, body: ReadersBody
) -> StudyPublic:
    """Assign more readers (any time for shared studies, before opening for disjoint ones)."""
    study = studies.get_study(session, study_id)
    studies.assign_readers(session, study, body.readers, user, body.unblinded)
    return study_public(session, study)


@api.post("/{study_id}/open")
def open_study(
    session: SessionDep,
    settings: SettingsDep,
    user: CoordinatorUser,
    study_id: int,
    background: BackgroundTasks,
) -> StudyPublic:
    """Open for reading: draws the items and pre-renders their images on first opening, and
    queues the machine reader."""
    study, job = studies.open_study_queued(session, study_id, user)
    if job is not None:  # queued once the row is committed (the response has started)
        background.add_task(queue.enqueue, settings, job.id, queue.priority_of(job.kind))
    return study_public(session, study)


@api.post("/{study_id}/close")
def close_study(session: SessionDep, user: CoordinatorUser, study_id: int) -> StudyPublic:
    """Stop reading; the study can be reopened."""
    return study_public(session, studies.close_study(session, study_id, user))


@api.get("/{study_id}/results")
def results(session: SessionDep, user: CoordinatorUser, study_id: int) -> dict[str, Any]:
    """Summary statistics: judged-real rates, accuracy, kappas, AUC, per reader/label/group;
    ``flags``: the items readers flagged (unreadable, comment), which the statistics count
    like any other."""
    summary = study_results.export_summary(session, study_id, user)
    return {**summary, "flags": study_flags(session, study_id)}


@api.get("/{study_id}/export.csv")
def export_csv(session: SessionDep, user: CoordinatorUser, study_id: int) -> Response:
    """Judgments in long format, one row per judgment."""
    body = study_results.export_csv(session, study_id, user)
    disposition = f'attachment; filename="study-{study_id}-judgments.csv"'
    return Response(body, media_type="text/csv", headers={"Content-Disposition": disposition})


@api.get("/{study_id}/figures/{name}.{fmt}")
def figure(
    session: SessionDep, user: CoordinatorUser, study_id: int, name: str, fmt: str
) -> Response:
    """A figure (judged_real_by_label, reader_roc, label_confusion) as SVG or PNG."""
    body = study_results.export_figure(session, study_id, name, fmt, user)
    return Response(body, media_type=FORMATS[fmt])


@api.get("/{study_id}/export.imrmc")
def export_imrmc(session: SessionDep, user: CoordinatorUser, study_id: int) -> Response:
    """The judgments as an iMRMC input file (truth 1 = real, realness 1-10, one modality per
    GAN version), to rerun the MRMC analysis in the FDA's iMRMC."""
    body = study_exports.export_imrmc(session, study_id, user)
    disposition = f'attachment; filename="study-{study_id}.imrmc"'
    return Response(body, media_type="text/plain", headers={"Content-Disposition": disposition})


@api.get("/{study_id}/mrmc.json")
def export_mrmc(session: SessionDep, user: CoordinatorUser, study_id: int) -> Response:
    """The MRMC analysis (Obuchowski-Rockette/Hillis, pooled and per GAN version) as JSON."""
    body = json.dumps(study_exports.export_mrmc(session, study_id, user), indent=2)
    disposition = f'attachment; filename="study-{study_id}-mrmc.json"'
    return Response(
        body, media_type="application/json", headers={"Content-Disposition": disposition}
    )
