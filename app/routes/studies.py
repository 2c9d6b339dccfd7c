"""Study pages for coordinators: list and create, detail with live progress, results."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.deps import CoordinatorUser, SessionDep, SettingsDep
from app.errors import Invalid, LungsignError, NotFound
from app.jobs import queue
from app.routes.study_sharing import sharing_context
from app.services.accounts.users import list_users
from app.services.datasets import catalog as datasets
from app.services.studies import access, planning
from app.services.studies import lifecycle as studies
from app.services.studies import results as study_results
from app.services.studies import results_page as results_view
from app.services.studies.figures import FORMATS
from app.services.studies.progress import reader_progress, study_summaries, unfinished
from app.services.studies.spec import StudySpec
from app.tables import Job, User
from app.templating import is_htmx, render

router = APIRouter(tags=["studies"])


def spec_from_form(form: Any) -> StudySpec:
    """A StudySpec from the create form's fields."""
    real = {"dataset": form.get("real_dataset", ""), "split": form.get("real_split") or None}
    return StudySpec.model_validate(
        {
            "name": form.get("name", ""),
            "real": real if form.get("real_dataset") else None,
            "generated": {"datasets": form.getlist("generated")},
            "items_per_reader": form.get("items_per_reader") or 0,
            "real_fraction": form.get("real_fraction") or 0.5,
            "per_label": "per_label" in form,
            "shared_items": form.get("shared_items", "shared") == "shared",
            "ask_confidence": "ask_confidence" in form,
            "ask_label": "ask_label" in form,
            "allow_changes": "allow_changes" in form,
            "practice_items": form.get("practice_items") or 0,
            "windows": form.getlist("windows"),
            "instructions": form.get("instructions", ""),
            "end_text": form.get("end_text", ""),
            # Ticking "unblinded reader" for someone assigns them too.
            "readers": list(dict.fromkeys([*form.getlist("readers"), *form.getlist("unblinded")])),
            "unblinded": form.getlist("unblinded"),
            "seed": form.get("seed") or 0,
        }
    )


FORM_TEXT = (
    *("name", "real_dataset", "real_split", "items_per_reader", "real_fraction"),
    *("practice_items", "seed", "instructions", "end_text"),
)
FORM_LISTS = ("generated", "windows", "readers", "unblinded")
FORM_CHECKBOXES = ("per_label", "ask_confidence", "ask_label", "allow_changes")


def form_values(form: Any | None) -> dict[str, Any]:
    """What the create form shows: its defaults, or what was submitted (after an error)."""
    if form is None:
        return {
            "name": "",
            "real_dataset": "",
            "real_split": "test",
            "generated": [],
            "items_per_reader": "50",
            "real_fraction": "0.5",
            "per_label": False,
            "shared_items": "shared",
            "practice_items": "0",
            "seed": "0",
            "ask_confidence": True,
            "ask_label": True,
            "allow_changes": False,
            "windows": ["lung", "mediastinal"],
            "instructions": "",
            "end_text": "",
            "readers": [],
            "unblinded": [],
        }
    values: dict[str, Any] = {key: str(form.get(key) or "") for key in FORM_TEXT}
    values |= {key: [str(v) for v in form.getlist(key)] for key in FORM_LISTS}
    values |= {key: key in form for key in FORM_CHECKBOXES}
    values["shared_items"] = form.get("shared_items", "shared")
    return values


def values_of(spec: StudySpec) -> dict[str, Any]:
    """What the form shows for an existing design (a draft being edited)."""
    values = form_values(None)
    values |= {key: str(getattr(spec, key)) for key in FORM_TEXT if hasattr(spec, key)}
    values |= {key: bool(getattr(spec, key)) for key in FORM_CHECKBOXES}
    values |= {
        "real_dataset": spec.real.dataset if spec.real else "",
        "real_split": (spec.real.split or "") if spec.real else "",
        "generated": list(spec.generated.datasets),
        "windows": list(spec.windows),
        "readers": list(spec.readers),
        "unblinded": list(spec.unblinded),
        "shared_items": "shared" if spec.shared_items else "disjoint",
    }
    return values


def _list_page(
    request: Request, session: Session, error: str | None = None, form: Any | None = None
) -> Response:
    listed = studies.list_studies(session, request.state.user)
    ctx = {
        "studies": listed,
        "summaries": study_summaries(session, listed),
        "datasets": datasets.list_datasets(session),
        "readers": list_users(session),
        "error": error,
        "values": form_values(form),
        "plan_values": plan_values(form_values(form)),
    }
    return render(request, "pages/studies.html", ctx, status_code=422 if error else 200)


def _detail_page(
    request: Request,
    session: Session,
    study_id: int,
    error: str | None = None,
    confirm_close: bool = False,
) -> Response:
    study = studies.get_study(session, study_id)
    progress = reader_progress(session, study.id)
    ctx = {
        "study": study,
        "progress": progress,
        "confirm_close": confirm_close and study.status == "open",
        "unfinished": unfinished(progress),
        "assigned": {u.username for u in studies.readers_of(session, study.id)},
        "design": studies.spec_of(study, session),
        "gans": datasets.generating_versions(session),
        "users": list_users(session),
        "error": error,
        **sharing_context(session, study, request.state.user),
    }
    return render(request, "pages/study.html", ctx, status_code=409 if error else 200)


@router.get("/studies")
def studies_page(request: Request, session: SessionDep, user: CoordinatorUser) -> Response:
    """Studies and the form to create one."""
    return _list_page(request, session)


@router.post("/studies")
async def create_form(request: Request, session: SessionDep, user: CoordinatorUser) -> Response:
    """Create a draft study from the form."""
    form = await request.form()
    try:
        study = studies.create_study(session, spec_from_form(form), user)
    except ValidationError as exc:
        return _list_page(request, session, "; ".join(e["msg"] for e in exc.errors()), form)
    except LungsignError as exc:
        session.rollback()
        return _list_page(request, session, str(exc), form)
    return RedirectResponse(f"/studies/{study.id}", status_code=303)


def plan_values(values: dict[str, Any]) -> dict[str, Any]:
    """The planner's starting values: the study form's items and real fraction, six readers
    (a typical reader study) and the planner's default effects."""
    return {
        "readers": 6,
        "items": values["items_per_reader"],
        "real_fraction": values["real_fraction"],
        "alternative": planning.DEFAULT_ALTERNATIVE,
        "auc": planning.DEFAULT_AUC,
    }


def _number(params: Any, key: str, kind: type[int] | type[float], default: Any) -> Any:
    raw = str(params.get(key) or "").strip()
    if not raw:
        if default is None:
            raise Invalid(f"{key.replace('_', ' ')} is missing")
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        word = "a whole number" if kind is int else "a number"
        raise Invalid(f"{key.replace('_', ' ')} must be {word}") from exc


@router.get("/studies/plan")
def plan_fragment(request: Request, session: SessionDep, user: CoordinatorUser) -> Response:
    """The sample-size planner's figures for the design in the query (readers, items,
    real_fraction, alternative, auc, pilot); the study form asks for it as the coordinator
    types. Errors are shown in the fragment."""
    q = request.query_params
    try:
        if q.get("pilot"):  # another's study neither lends its variances nor shows it exists
            access.find_visible_study(session, user, str(q.get("pilot")))
        figures = planning.plan(
            session,
            _number(q, "readers", int, None),
            _number(q, "items", int, None),
            _number(q, "real_fraction", float, 0.5),
            _number(q, "alternative", float, planning.DEFAULT_ALTERNATIVE),
            _number(q, "auc", float, planning.DEFAULT_AUC),
            q.get("pilot") or None,
        )
    except LungsignError as exc:
        return render(request, "studies/_plan.html", {"error": str(exc)})
    return render(request, "studies/_plan.html", {"plan": figures})


@router.get("/studies/{study_id}")
def study_page(
    request: Request, session: SessionDep, user: CoordinatorUser, study_id: int
) -> Response:
    """A study's design, readers and live progress."""
    return _detail_page(request, session, study_id)


@router.get("/studies/{study_id}/progress")
def progress_fragment(
    request: Request, session: SessionDep, user: CoordinatorUser, study_id: int
) -> Response:
    """The progress table alone; the study page polls it."""
    study = studies.get_study(session, study_id)
    ctx = {"study": study, "progress": reader_progress(session, study.id)}
    return render(request, "studies/_progress.html", ctx)


@router.get("/studies/{study_id}/close")
def close_confirm(
    request: Request, session: SessionDep, user: CoordinatorUser, study_id: int
) -> Response:
    """Asks before closing and names the readers who have not finished: the fragment for
    htmx, else the study page with the question shown. Closing is its POST."""
    if request.headers.get("HX-Request") != "true":
        return _detail_page(request, session, study_id, confirm_close=True)
    study = studies.get_study(session, study_id)
    if study.status != "open":
        return render(request, "studies/_close_confirm_none.html", {"study": study})
    ctx = {"study": study, "unfinished": unfinished(reader_progress(session, study.id))}
    return render(request, "studies/_close_confirm.html", ctx)


def _edit_page(
    request: Request, session: Session, study_id: int, values: dict[str, Any], error: str | None
) -> Response:
    ctx = {
        "study": studies.get_study(session, study_id),
        "datasets": datasets.list_datasets(session),
        "readers": list_users(session),
        "values": values,
        "error": error,
    }
    return render(request, "pages/study_edit.html", ctx, status_code=422 if error else 200)


@router.get("/studies/{study_id}/edit")
def edit_page(
    request: Request, session: SessionDep, user: CoordinatorUser, study_id: int
) -> Response:
    """A draft's design in the study form; an opened study's design is fixed (409)."""
    study = studies.get_study(session, study_id)
    if study.status != "draft":
        return _detail_page(
            request,
            session,
            study_id,
            f"study {study.name!r} has been opened: copy it to change its design",
        )
    values = values_of(studies.spec_of(study, session))
    return _edit_page(request, session, study_id, values, None)


@router.post("/studies/{study_id}/edit")
async def edit_form(
    request: Request, session: SessionDep, user: CoordinatorUser, study_id: int
) -> Response:
    """Save a draft's new design."""
    form = await request.form()
    try:
        studies.update_draft(session, study_id, spec_from_form(form), user)
    except ValidationError as exc:
        error = "; ".join(e["msg"] for e in exc.errors())
        return _edit_page(request, session, study_id, form_values(form), error)
    except LungsignError as exc:
        session.rollback()
        if studies.get_study(session, study_id).status != "draft":
            return _detail_page(request, session, study_id, str(exc))
        return _edit_page(request, session, study_id, form_values(form), str(exc))
    return RedirectResponse(f"/studies/{study_id}", status_code=303)


@router.post("/studies/{study_id}/copy")
async def copy_form(
    request: Request, session: SessionDep, user: CoordinatorUser, study_id: int
) -> Response:
    """Copy the study's design and readers to a new draft under the name given."""
    form = await request.form()
    try:
        copy = studies.copy_study(session, study_id, str(form.get("name") or ""), user)
    except ValidationError as exc:
        return _detail_page(request, session, study_id, "; ".join(e["msg"] for e in exc.errors()))
    except LungsignError as exc:
        session.rollback()
        return _detail_page(request, session, study_id, str(exc))
    return RedirectResponse(f"/studies/{copy.id}", status_code=303)


@router.post("/studies/{study_id}/delete")
async def delete_form(
    request: Request, session: SessionDep, user: CoordinatorUser, study_id: int
) -> Response:
    """Delete a draft once its box is ticked; back to the studies list."""
    if (await request.form()).get("confirm") != "yes":
        return _detail_page(
            request, session, study_id, "tick the box beside Delete to delete this draft"
        )
    try:
        studies.delete_draft(session, study_id, user)
    except LungsignError as exc:
        session.rollback()
        return _detail_page(request, session, study_id, str(exc))
    return RedirectResponse("/studies", status_code=303)


@router.post("/studies/{study_id}/{action}")
async def study_action(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CoordinatorUser,
    study_id: int,
    action: str,
    background: BackgroundTasks,
) -> Response:
    """Open, close, or assign readers from the study page."""
    try:
        queued = await _apply_action(request, session, user, study_id, action)
    except LungsignError as exc:
        session.rollback()
        return _detail_page(request, session, study_id, str(exc))
    if queued is not None:  # the machine reader, sent once the row is committed
        background.add_task(queue.enqueue, settings, queued.id, queue.priority_of(queued.kind))
    return RedirectResponse(f"/studies/{study_id}", status_code=303)


async def _apply_action(
    request: Request, session: Session, user: User, study_id: int, action: str
) -> Job | None:
    """The action's effect; the job a first opening queues, if any."""
    if action == "open":
        return studies.open_study_queued(session, study_id, user)[1]
    if action == "close":
        studies.close_study(session, study_id, user)
    elif action == "readers":
        form = await request.form()
        unblinded = [str(n) for n in form.getlist("unblinded")]
        names = list(dict.fromkeys([*(str(n) for n in form.getlist("readers")), *unblinded]))
        study = studies.get_study(session, study_id)
        studies.assign_readers(session, study, names, user, unblinded)
    else:
        raise NotFound(f"no study action {action!r}")
    return None


@router.get("/studies/{study_id}/results")
def results_page(
    request: Request,
    session: SessionDep,
    user: CoordinatorUser,
    study_id: int,
    gan: str = "",
    label: str = "",
) -> Response:
    """Every statistic of the study, explained; figures, downloads and the patch gallery
    (kept to GAN version GAN and true label LABEL when given)."""
    ctx = {"study_id": study_id, **results_view.results_page(session, study_id, gan, label)}
    return render(request, "pages/study_results.html", ctx)


@router.get("/studies/{study_id}/results/figures/{name}.svg")
def results_figure(
    session: SessionDep, user: CoordinatorUser, study_id: int, name: str
) -> Response:
    """A figure shown inside the results page: part of viewing it, so not audited as an export
    (the SVG and PNG download links go to the API's audited ``figures`` route)."""
    return Response(study_results.page_figure(session, study_id, name), media_type=FORMATS["svg"])


@router.get("/studies/{study_id}/results/gallery")
def results_gallery(
    request: Request,
    session: SessionDep,
    user: CoordinatorUser,
    study_id: int,
    gan: str = "",
    label: str = "",
) -> Response:
    """The results' patch gallery under its filters: the fragment for htmx; a page load (a
    pushed URL reloaded) goes to the results page with the same filters."""
    if not is_htmx(request):
        query = urlencode({"gan": gan, "label": label})
        return RedirectResponse(f"/studies/{study_id}/results?{query}#gallery", status_code=303)
    ctx = {"study_id": study_id, **results_view.study_gallery(session, study_id, gan, label)}
    return render(request, "studies/_item_gallery.html", ctx)
