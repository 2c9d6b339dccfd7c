"""Reading: the reader's home, intake and reading page, and the reading JSON API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.deps import ReaderUser, SessionDep
from app.schemas import AnswerBody, IntakeBody
from app.services.datasets.labels import list_labels
from app.services.datasets.rendering import WINDOWS
from app.services.reading import access as reading_access
from app.services.reading import loop as reading
from app.services.reading.flags import MAX_COMMENT
from app.services.reading.keys import (
    CONFIDENCE_KEYS,
    FULL_SCREEN_KEY,
    VERDICT_KEYS,
    WINDOW_KEY,
    label_keys,
)
from app.services.studies.progress import reader_studies
from app.services.studies.records import as_utc
from app.templating import render

router = APIRouter(tags=["reading"])
api = APIRouter(prefix="/api/v1/reading", tags=["reading"])

# The same headers for every item image: no ETag or Last-Modified that could differ.
IMAGE_HEADERS = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}


def item_json(view: reading.ItemView) -> dict[str, Any]:
    """The reader-facing item: identical keys and shapes for real and generated items."""
    images = {w: f"/api/v1/reading/{view.token}/{w}.png" for w in view.windows}
    height, width = view.size
    return {
        "item": view.token,
        "image_url": images[view.windows[0]],
        "images": images,
        "hu": {"url": f"/api/v1/reading/{view.token}/hu", "height": height, "width": width},
        "position": view.position,
        "total": view.total,
        "practice": view.practice,
        "previous": view.previous,
    }


def judgment_json(judgment: Any) -> dict[str, Any]:
    return {
        "verdict": judgment.verdict,
        "confidence": judgment.confidence,
        "label": judgment.label_code,
        "duration_ms": judgment.duration_ms,
        "answered_at": as_utc(judgment.answered_at).isoformat(),
    }


@router.get("/reading")
def reader_home(request: Request, session: SessionDep, user: ReaderUser) -> Response:
    """The studies assigned to the reader, with progress."""
    ctx = {"studies": reader_studies(session, user), "needs_intake": user.experience_years is None}
    return render(request, "pages/reader_home.html", ctx)


@router.get("/reading/intake")
def intake_page(request: Request, user: ReaderUser, next: str = "/reading") -> Response:
    """Years of experience and subspecialty, asked once."""
    target = next if next.startswith("/reading") else "/reading"
    return render(request, "pages/reader_intake.html", {"next": target, "error": None})


@router.post("/reading/intake")
def intake_form(
    request: Request,
    session: SessionDep,
    user: ReaderUser,
    experience_years: Annotated[int, Form()],
    subspecialty: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/reading",
) -> Response:
    """Store the intake and go on to the reading page."""
    reading_access.save_intake(session, user, experience_years, subspecialty)
    return RedirectResponse(next if next.startswith("/reading") else "/reading", status_code=303)


@router.get("/reading/{study_id}")
def reading_page(
    request: Request, session: SessionDep, user: ReaderUser, study_id: int
) -> Response:
    """The reading page; the item loop runs in ``static/js/reading.js``."""
    if user.experience_years is None:
        return RedirectResponse(f"/reading/intake?next=/reading/{study_id}", status_code=303)
    study = reading_access.reader_study(session, user, study_id)
    labels = list_labels(session)
    ctx = {
        "study": study,
        "labels": labels,
        "label_keys": label_keys(labels),
        "label_names": {label.code: label.name for label in labels},
        "verdict_keys": VERDICT_KEYS,
        "confidence_keys": CONFIDENCE_KEYS,
        "window_key": WINDOW_KEY,
        "max_flag_comment": MAX_COMMENT,
        "full_screen_key": FULL_SCREEN_KEY,
        "window_presets": {
            w: {"width": WINDOWS[w][0], "level": WINDOWS[w][1]} for w in study.windows
        },
    }
    return render(request, "pages/reading.html", ctx)


@api.get("/studies")
def my_studies(session: SessionDep, user: ReaderUser) -> list[dict[str, Any]]:
    """The caller's opened studies with items answered and total."""
    return [
        {
            "study": p.study_id,
            "name": p.name,
            "status": p.status,
            "answered": p.answered,
            "total": p.total,
        }
        for p in reader_studies(session, user)
    ]


@api.post("/intake", status_code=204)
def intake(session: SessionDep, user: ReaderUser, body: IntakeBody) -> Response:
    """Record the caller's years of experience and subspecialty (once)."""
    reading_access.save_intake(session, user, body.experience_years, body.subspecialty)
    return Response(status_code=204)


@api.get("/next")
def next_item(session: SessionDep, user: ReaderUser, study: int) -> dict[str, Any]:
    """The caller's next unanswered item, or ``{"done": true}``."""
    view = reading.next_item(session, user, study)
    session.commit()  # releases SQLite's write lock before the response needs another thread
    return {"done": True} if view is None else item_json(view)


@api.get("/{token}/{window}.png")
def item_image(session: SessionDep, user: ReaderUser, token: str, window: str) -> Response:
    """An item's pre-rendered PNG in a window preset."""
    png = reading_access.item_image(session, user, token, window)
    return Response(png, media_type="image/png", headers=IMAGE_HEADERS)


@api.get("/{token}/hu")
def item_hu(session: SessionDep, user: ReaderUser, token: str) -> Response:
    """An item's pixels as little-endian int16 HU, row by row (size in the item JSON), for
    the page's viewer to window itself; the same length and headers for every item."""
    hu = reading_access.item_hu(session, user, token)
    return Response(hu, media_type="application/octet-stream", headers=IMAGE_HEADERS)


@api.get("/{token}")
def revisit(session: SessionDep, user: ReaderUser, token: str) -> dict[str, Any]:
    """An item already shown, with its answer, to change it (only where the study allows)."""
    view, judgment = reading.revisit(session, user, token)
    return {**item_json(view), "judgment": judgment_json(judgment) if judgment else None}


@api.post("/{token}")
def submit(session: SessionDep, user: ReaderUser, token: str, body: AnswerBody) -> dict[str, Any]:
    """Answer an item; a repeated identical answer returns the stored judgment (200)."""
    answer = reading.Answer(body.verdict, body.confidence, body.label, body.duration_ms)
    result = reading.submit(session, user, token, answer)
    session.commit()  # releases SQLite's write lock before the response needs another thread
    out = {"item": token, "created": result.created, **judgment_json(result.judgment)}
    if result.feedback is not None:
        out["feedback"] = result.feedback
    return out
