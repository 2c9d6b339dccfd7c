"""Datasets: the overview page, the patch gallery, patch images and the JSON API.

An uploaded zip is imported by a worker, not here: the upload routes keep the zip and queue
an ``import`` job (``app.services.datasets.import_jobs``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from app.bodies import takes_upload
from app.config import Settings
from app.deps import CoordinatorUser, SessionDep, SettingsDep
from app.errors import LungsignError
from app.jobs import queue
from app.schemas import DatasetPublic, JobPublic
from app.services.datasets import catalog as datasets
from app.services.datasets import export as dataset_export
from app.services.datasets import import_jobs
from app.services.datasets.labels import list_labels
from app.tables import SPLITS, Job, User
from app.templating import is_htmx, render

router = APIRouter(tags=["datasets"])
api = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])

Window = Annotated[str, Query(pattern="^(lung|mediastinal)$")]
UPLOAD_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["name", "file"],
                    "properties": {
                        "name": {"type": "string"},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            }
        }
    }
}


async def _start_import(
    request: Request,
    session: Session,
    settings: Settings,
    user: User,
    background: BackgroundTasks,
) -> Job:
    """Keep the form's zip and create its import job, sent to the workers after the commit."""
    form = await request.form(max_files=1, max_fields=20)
    upload, name = form.get("file"), form.get("name")
    if not isinstance(upload, UploadFile) or not isinstance(name, str) or not name.strip():
        raise HTTPException(422, "send a zip file as 'file' and the dataset name as 'name'")
    submitted = await run_in_threadpool(
        import_jobs.start_import, session, settings, upload.file, name, user
    )
    if submitted.created:
        background.add_task(queue.enqueue, settings, submitted.job.id)
    return submitted.job


@router.get("/datasets")
def datasets_page(request: Request, session: SessionDep, user: CoordinatorUser) -> Response:
    """Datasets with their patch counts per label and split."""
    return render(request, "pages/datasets.html", _page_context(session))


@router.post("/datasets")
@takes_upload  # the body may be as large as the upload limit (app.bodies)
async def upload_form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CoordinatorUser,
    background: BackgroundTasks,
) -> Response:
    """Start an import job from the page's form; answers with the job's live fragment (a
    refusal with its reason: htmx swaps 2xx answers only)."""
    try:
        job = await _start_import(request, session, settings, user, background)
    except LungsignError as exc:
        return render(request, "datasets/_import_job.html", {"job": None, "error": str(exc)})
    return render(request, "datasets/_import_job.html", _job_context(job))


@router.get("/datasets/imports/{job_id:int}")
def import_status(
    request: Request, session: SessionDep, user: CoordinatorUser, job_id: int
) -> Response:
    """An import job's live fragment: progress while it runs, then its summary or its error;
    a page load goes to the job's page."""
    if not is_htmx(request):
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)
    job = import_jobs.get_import(session, job_id)
    return render(request, "datasets/_import_job.html", _job_context(job))


@router.get("/datasets/{dataset_id}/gallery")
def gallery(
    request: Request,
    session: SessionDep,
    user: CoordinatorUser,
    dataset_id: int,
    window: Window = "lung",
    label: str | None = None,
    split: str | None = None,
    page: int = 1,
) -> Response:
    """The patch gallery; htmx requests get only the ``_gallery.html`` fragment."""
    result = datasets.gallery_page(session, dataset_id, label or None, split or None, page)
    context = {
        "gallery": result,
        "window": window,
        "label": label or "",
        "split": split or "",
        "labels": list_labels(session),
        "splits": SPLITS,
        "gan": datasets.generating_versions(session).get(dataset_id),
    }
    template = "datasets/_gallery.html" if is_htmx(request) else "pages/gallery.html"
    return render(request, template, context)


@router.get("/patches/{patch_id}.png")
def patch_image(
    session: SessionDep, user: CoordinatorUser, patch_id: int, window: Window = "lung"
) -> Response:
    """One patch as an 8-bit PNG in the lung (W1500/L−600) or mediastinal (W350/L40) window."""
    png = datasets.patch_png(session, patch_id, window)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@api.get("")
def list_datasets(session: SessionDep, user: CoordinatorUser) -> list[DatasetPublic]:
    """Datasets with patch counts per label and split."""
    return [DatasetPublic(**vars(d), total=d.total) for d in datasets.list_datasets(session)]


@api.post("", status_code=202, openapi_extra=UPLOAD_BODY)
@takes_upload
async def upload_dataset(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CoordinatorUser,
    background: BackgroundTasks,
) -> JobPublic:
    """Queue the import of a zip (multipart ``file`` + ``name``) into a real dataset (202):
    the import summary becomes the job's ``result`` (``GET /api/v1/jobs/{id}``)."""
    return JobPublic.of(await _start_import(request, session, settings, user, background))


@api.get("/{dataset_id}/export.zip")
def export_dataset(
    session: SessionDep, settings: SettingsDep, user: CoordinatorUser, dataset_id: int
) -> FileResponse:
    """A generated dataset as a zip: ``patches.npy`` (int16 HU) and ``manifest.csv``."""
    path, name = dataset_export.export_generated_zip(
        session, dataset_id, settings.data_dir / "exports"
    )
    return FileResponse(
        path, media_type="application/zip", filename=name, background=BackgroundTask(path.unlink)
    )


def _job_context(job: Job) -> dict[str, Any]:
    return {"job": job, "active": import_jobs.is_active(job), "error": None}


def _page_context(session: Session) -> dict[str, Any]:
    return {
        "datasets": datasets.list_datasets(session),
        "gans": datasets.generating_versions(session),
        "labels": list_labels(session),
        "splits": SPLITS,
    }
