"""Admin pages of jobs and model versions: the jobs list, a job's live page, the form that
starts a job, and the versions side by side. Admins start, cancel and promote; coordinators
read. Each live part is a fragment (``templates/jobs/_*.html``) that an htmx request gets
alone and that polls itself while its job is active."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from app.deps import AdminUser, CoordinatorUser, SessionDep, SettingsDep
from app.errors import LungsignError
from app.jobs import queue, submit
from app.services.studies import access
from app.services.training import job_forms, job_views
from app.templating import is_htmx, render

router = APIRouter(tags=["jobs"])
JobKind = Annotated[str, Query(max_length=40)]


def _page(request: Request, page: str, fragment: str, ctx: dict[str, Any]) -> Response:
    return render(request, fragment if is_htmx(request) else page, ctx)


@router.get("/jobs")
def jobs_page(request: Request, session: SessionDep, user: CoordinatorUser) -> Response:
    """The newest jobs first; the list refreshes itself while a job is queued or running."""
    jobs, active = job_views.list_jobs(session)
    ctx = {
        "jobs": access.visible_jobs(session, user, jobs),
        "active": active,
        "kinds": job_forms.FORM_KINDS,
    }
    return _page(request, "jobs/list.html", "jobs/_list.html", ctx)


@router.get("/jobs/new")
def new_job_page(
    request: Request, session: SessionDep, user: AdminUser, kind: JobKind = "train_gan"
) -> Response:
    """The form that starts a job of KIND, filled with sensible defaults."""
    ctx = {"form": job_forms.job_form(session, kind), "kinds": job_forms.FORM_KINDS}
    return _page(request, "jobs/new.html", "jobs/_form.html", ctx)


@router.post("/jobs/new")
async def start_job(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AdminUser,
    background: BackgroundTasks,
    kind: JobKind = "train_gan",
) -> Response:
    """Start a job from the form and go to its page; a refusal shows its reason above the
    form, with the values as typed."""
    values = job_forms.typed_values(kind, await request.form())
    try:
        submitted = submit.create(
            session, settings, kind, job_forms.params_from(kind, values), user
        )
    except LungsignError as exc:
        session.rollback()
        form = job_forms.job_form(session, kind, values, str(exc))
        ctx = {"form": form, "kinds": job_forms.FORM_KINDS}
        if is_htmx(request):  # htmx swaps 2xx answers only
            return render(request, "jobs/_form.html", ctx)
        return render(request, "jobs/new.html", ctx, status_code=exc.status_code)
    if submitted.created:  # sent to the workers once the row is committed
        background.add_task(queue.enqueue, settings, submitted.job.id)
    target = f"/jobs/{submitted.job.id}" + ("" if submitted.created else "?same=1")
    if is_htmx(request):
        return Response(headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.get("/jobs/{job_id:int}")
def job_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: CoordinatorUser, job_id: int
) -> Response:
    """A job's live status: progress, loss curves, sample grid, log tail and result."""
    ctx = {
        "view": job_views.job_view(session, settings, job_id),
        "same": "same" in request.query_params,
    }
    return _page(request, "jobs/job.html", "jobs/_status.html", ctx)


@router.post("/jobs/{job_id:int}/cancel")
def cancel_job(
    request: Request, session: SessionDep, settings: SettingsDep, user: AdminUser, job_id: int
) -> Response:
    """Cancel a queued job, or ask a running one to stop at its next step."""
    view = job_views.cancel(session, settings, job_id)
    if is_htmx(request):
        return render(request, "jobs/_status.html", {"view": view})
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/jobs/{job_id:int}/samples.png")
def job_samples(
    session: SessionDep, settings: SettingsDep, user: CoordinatorUser, job_id: int
) -> FileResponse:
    """The sample grid a training GAN last drew (its URL changes with each new grid)."""
    path = job_views.live_samples_file(session, settings, job_id)
    return FileResponse(
        path, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get("/models")
def models_page(request: Request, session: SessionDep, user: CoordinatorUser) -> Response:
    """Model versions of each kind side by side, with their metrics, lineage and promote."""
    ctx = {"cards": job_views.model_cards(session)}
    return _page(request, "jobs/models.html", "jobs/_models.html", ctx)


@router.post("/models/{model_id:int}/promote")
def promote_model(
    request: Request, session: SessionDep, user: AdminUser, model_id: int
) -> Response:
    """Make a version the current one of its kind."""
    cards = job_views.promote(session, model_id)
    if is_htmx(request):
        return render(request, "jobs/_models.html", {"cards": cards})
    return RedirectResponse("/models", status_code=303)


@router.get("/models/{model_id:int}/sheet.png")
def model_sheet(session: SessionDep, user: CoordinatorUser, model_id: int) -> FileResponse:
    """A GAN version's sample sheet: real patches beside generated ones, per label."""
    path = job_views.sample_sheet_file(session, model_id)
    return FileResponse(
        path, media_type="image/png", headers={"Cache-Control": "private, no-cache"}
    )
