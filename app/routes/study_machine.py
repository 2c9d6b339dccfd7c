"""A study's machine reader, (re)run by a coordinator: from the results page and the API."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Response
from fastapi.responses import RedirectResponse

from app.deps import CoordinatorUser, SessionDep, SettingsDep
from app.jobs import queue
from app.schemas import JobPublic, MachineReaderRun
from app.services.studies import machine

router = APIRouter(tags=["studies"])
api = APIRouter(prefix="/api/v1/studies", tags=["studies"])


@api.post("/{study_id}/machine-reader", status_code=201)
def run_machine_reader(
    session: SessionDep,
    settings: SettingsDep,
    user: CoordinatorUser,
    study_id: int,
    response: Response,
    background: BackgroundTasks,
    body: MachineReaderRun | None = None,
) -> JobPublic:
    """Queue the machine reader (201); a seed asked before, with nothing changed since,
    returns that job (200)."""
    seed = body.seed if body is not None else None
    submitted = machine.request_run(session, settings, study_id, user, seed)
    if submitted.created:  # queued once the row is committed (the response has started)
        background.add_task(queue.enqueue, settings, submitted.job.id)
    else:
        response.status_code = 200
    return JobPublic.of(submitted.job)


@router.post("/studies/{study_id}/machine-reader/run")
def run_machine_reader_page(
    session: SessionDep,
    settings: SettingsDep,
    user: CoordinatorUser,
    study_id: int,
    background: BackgroundTasks,
) -> RedirectResponse:
    """The results page's 'Run the machine reader again' button: a fresh run, unless one is
    still queued or running (a second click, or a page left open): the page then shows it."""
    if machine.active_job(session, study_id) is None:
        submitted = machine.request_run(session, settings, study_id, user, None)
        if submitted.created:
            background.add_task(queue.enqueue, settings, submitted.job.id)
    return RedirectResponse(f"/studies/{study_id}/results", status_code=303, background=background)
