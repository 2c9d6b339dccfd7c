"""The landing page: each role starts where its work is."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import CurrentUser
from app.templating import render

router = APIRouter(tags=["pages"])


@router.get("/")
def home(request: Request, user: CurrentUser) -> Response:
    """The home page with links for the user's role."""
    return render(request, "pages/home.html")
