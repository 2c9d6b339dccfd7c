"""Jobs and model versions in the JSON API: admins start and cancel, coordinators read."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Response
from fastapi.responses import FileResponse

from app.deps import AdminUser, CoordinatorUser, SessionDep, SettingsDep
from app.jobs import queue, submit
from app.schemas import JobCreate, JobDetail, JobPublic, ModelVersionPublic
from app.services.studies import access
from app.services.training import model_versions

api = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
models_api = APIRouter(prefix="/api/v1/models", tags=["models"])


@api.post("", status_code=201)
def create_job(
    body: JobCreate,
    session: SessionDep,
    settings: SettingsDep,
    user: AdminUser,
    response: Response,
    background: BackgroundTasks,
) -> JobPublic:
    """Start a job (201), or return the same job (200) if it was asked for before."""
    submitted = submit.create(session, settings, body.kind, body.params, user)
    if submitted.created:  # queued once the row is committed (the response has started)
        background.add_task(queue.enqueue, settings, submitted.job.id)
    else:
        response.status_code = 200
    return JobPublic.of(submitted.job)


@api.get("")
def list_jobs(session: SessionDep, user: CoordinatorUser, limit: int = 50) -> list[JobPublic]:
    """The newest jobs first."""
    jobs = submit.list_jobs(session, min(max(limit, 1), 500))
    return [JobPublic.of(job) for job in access.visible_jobs(session, user, jobs)]


@api.get("/{job_id}")
def get_job(session: SessionDep, user: CoordinatorUser, job_id: int) -> JobDetail:
    """A job's status, progress, metrics, result and log tail."""
    return JobDetail.of(submit.get(session, job_id))


@api.post("/{job_id}/cancel")
def cancel_job(session: SessionDep, user: AdminUser, job_id: int) -> JobPublic:
    """Cancel a queued job, or ask a running one to stop at its next step."""
    return JobPublic.of(submit.cancel(session, job_id))


@models_api.get("")
def list_models(
    session: SessionDep, user: CoordinatorUser, kind: str | None = None
) -> list[ModelVersionPublic]:
    """Model versions with config, metrics, lineage and whether each is current."""
    return [ModelVersionPublic.of(row) for row in model_versions.list_versions(session, kind)]


@models_api.post("/{model_id}/promote")
def promote_model(session: SessionDep, user: AdminUser, model_id: int) -> ModelVersionPublic:
    """Make this version the current one of its kind."""
    return ModelVersionPublic.of(model_versions.promote(session, model_id))


@models_api.delete("/{model_id}", status_code=204)
def delete_model(session: SessionDep, user: AdminUser, model_id: int) -> Response:
    """Delete a version and its checkpoint (refused while an open study uses it)."""
    model_versions.delete(session, model_id)
    return Response(status_code=204)


@models_api.get("/{model_id}/checkpoint")
def download_checkpoint(session: SessionDep, user: AdminUser, model_id: int) -> FileResponse:
    """The version's self-describing PyTorch checkpoint."""
    path = model_versions.checkpoint_file(session, model_id)
    return FileResponse(path, media_type="application/octet-stream", filename=path.name)
