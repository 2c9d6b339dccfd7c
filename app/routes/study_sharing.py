"""Study sharing: the owner (or an admin) shares a study with other coordinators.

Registered before ``app.routes.studies`` so that its ``/studies/{id}/collaborators`` is not
taken for one of the study page's ``/studies/{id}/{action}`` buttons.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.deps import AdminUser, CoordinatorUser, SessionDep
from app.errors import LungsignError
from app.schemas import CollaboratorBody, CollaboratorPublic, StudySharingPublic
from app.services.accounts.users import has_role, list_users
from app.services.studies import access
from app.tables import Study, User
from app.templating import is_htmx, render

router = APIRouter(tags=["studies"])
api = APIRouter(prefix="/api/v1/studies", tags=["studies"])


def sharing_public(session: Session, study: Study) -> StudySharingPublic:
    owner = access.owner_of(session, study)
    links = access.collaborators(session, study)
    added_by = {u.id: u.username for u in list_users(session)}
    return StudySharingPublic(
        study=study.name,
        owner=owner.username if owner else None,
        collaborators=[
            CollaboratorPublic(
                username=link.user.username,
                role=link.user.role,
                added_at=link.added_at,
                added_by=added_by.get(link.added_by_id) if link.added_by_id else None,
            )
            for link in links
        ],
    )


@api.get("/{study_id}/collaborators")
def list_collaborators(
    session: SessionDep, user: CoordinatorUser, study_id: int
) -> StudySharingPublic:
    """The study's owner and the accounts it is shared with."""
    return sharing_public(session, access.visible_study(session, user, study_id))


@api.post("/{study_id}/collaborators", status_code=201)
def add_collaborator(
    session: SessionDep, user: CoordinatorUser, study_id: int, body: CollaboratorBody
) -> StudySharingPublic:
    """Share the study with a coordinator or admin (owner or admin only); sharing it again
    changes nothing."""
    study = access.visible_study(session, user, study_id)
    access.add_collaborator(session, study, body.username, user)
    return sharing_public(session, study)


@api.delete("/{study_id}/collaborators/{username}")
def remove_collaborator(
    session: SessionDep, user: CoordinatorUser, study_id: int, username: str
) -> StudySharingPublic:
    """Stop sharing the study with USERNAME (owner or admin only); effective at once."""
    study = access.visible_study(session, user, study_id)
    access.remove_collaborator(session, study, username, user)
    return sharing_public(session, study)


@api.put("/{study_id}/owner")
def set_owner(
    session: SessionDep, user: AdminUser, study_id: int, body: CollaboratorBody
) -> StudySharingPublic:
    """Give the study a new owner (admins only; a study without one is for admins only); the
    previous owner stays as a collaborator."""
    study = access.visible_study(session, user, study_id)
    access.set_owner(session, study, body.username, user)
    return sharing_public(session, study)


def sharing_context(session: Session, study: Study, user: User) -> dict[str, Any]:
    """What the study page's sharing card shows."""
    shared = sharing_public(session, study)
    taken = {shared.owner, *(c.username for c in shared.collaborators)}
    candidates = [
        u.username
        for u in list_users(session)
        if u.active and has_role(u, "coordinator") and u.username not in taken
    ]
    return {
        "sharing": shared,
        "can_share": access.can_share(user, study),
        "can_set_owner": has_role(user, "admin"),
        "candidates": candidates,
        "owner_candidates": [
            u.username
            for u in list_users(session)
            if u.active and has_role(u, "coordinator") and u.username != shared.owner
        ],
    }


def _card(
    request: Request, session: Session, study: Study, user: User, error: str | None = None
) -> Response:
    ctx = {"study": study, "sharing_error": error, **sharing_context(session, study, user)}
    # htmx swaps only 2xx answers: the refusal is shown in the card, as for the planner
    status = 422 if error and not is_htmx(request) else 200
    return render(request, "studies/_sharing.html", ctx, status_code=status)


@router.post("/studies/{study_id}/collaborators")
async def add_collaborator_form(
    request: Request, session: SessionDep, user: CoordinatorUser, study_id: int
) -> Response:
    """The sharing card's add form (htmx): the card again, with the refusal if any."""
    study = access.visible_study(session, user, study_id)
    username = str((await request.form()).get("username") or "")
    try:
        access.add_collaborator(session, study, username, user)
    except LungsignError as exc:
        return _card(request, session, study, user, str(exc))
    return _card(request, session, study, user)


@router.post("/studies/{study_id}/owner")
async def set_owner_form(
    request: Request, session: SessionDep, user: AdminUser, study_id: int
) -> Response:
    """The sharing card's owner form (htmx; admins)."""
    study = access.visible_study(session, user, study_id)
    username = str((await request.form()).get("username") or "")
    try:
        access.set_owner(session, study, username, user)
    except LungsignError as exc:
        return _card(request, session, study, user, str(exc))
    return _card(request, session, study, user)


@router.post("/studies/{study_id}/collaborators/{username}/remove")
def remove_collaborator_form(
    request: Request, session: SessionDep, user: CoordinatorUser, study_id: int, username: str
) -> Response:
    """The sharing card's remove button (htmx)."""
    study = access.visible_study(session, user, study_id)
    try:
        access.remove_collaborator(session, study, username, user)
    except LungsignError as exc:
        return _card(request, session, study, user, str(exc))
    return _card(request, session, study, user)
