"""The landing page: each role starts where its work is."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.deps import CurrentUser, SessionDep
from app.services.studies.progress import only_open_study
from app.templating import render

router = APIRouter(tags=["pages"])


@router.get("/")
def home(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """The home page with links for the user's role; a reader goes to their studies, or
    straight into the one open study they have left to read."""
    if user.role == "reader":
        study_id = only_open_study(session, user)
        target = "/reading" if study_id is None else f"/reading/{study_id}"
        return RedirectResponse(target, status_code=303)
    return render(request, "pages/home.html")
