"""Request dependencies: database session, current user, role checks and CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from app import transactions
from app.config import Settings
from app.security import same_token
from app.services.accounts import users
from app.services.studies import access as study_access_rules
from app.tables import User

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One database session per request, committed before the response starts
    (``app.transactions``); rolled back when the route or a dependency raises."""
    with request.app.state.db.sessions() as session:
        transactions.register(request.scope, session)
        try:
            yield session
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def current_user(request: Request, session: SessionDep) -> User:
    """The caller, from a bearer token or the session cookie (whose unsafe requests need CSRF)."""
    auth = request.headers.get("Authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    user_id = request.session.get("user_id")
    user = await run_in_threadpool(_lookup_user, session, token, user_id)
    if token is None and user is not None and user.session_version != request.session.get("sv"):
        user = None  # a cookie from before a logout
    if user is None or not user.active:
        raise HTTPException(
            401, "not logged in" if token is None else "invalid or revoked API token"
        )
    if token is None and request.method in UNSAFE_METHODS:
        await check_csrf(request)
    request.state.user = user
    return user


def _lookup_user(session: Session, token: str | None, user_id: int | None) -> User | None:
    """Find the caller, then end the transaction (releasing its pooled connection).

    Runs in the threadpool, and holds no connection across the hops between dependencies:
    a request waiting for a thread while holding a connection, with every thread waiting
    for a connection, would deadlock under load (found by bench/bench_reading.py).
    """
    if token is not None:
        user = users.user_for_token(session, token)
    else:
        user = session.get(User, user_id) if user_id else None
    session.commit()
    return user


async def check_csrf(request: Request) -> None:
    """Reject a cookie-authenticated unsafe request without the session's CSRF token."""
    sent = request.headers.get(CSRF_HEADER)
    if not sent and "form" in request.headers.get("content-type", ""):
        sent = str((await request.form()).get(CSRF_FIELD) or "")
    if not same_token(sent, request.session.get("csrf")):
        raise HTTPException(403, "missing or wrong CSRF token")


CurrentUser = Annotated[User, Depends(current_user)]


STUDY_ROUTE = re.compile(r"^(/api/v1)?/studies/\{study_id\}")
JOB_ROUTE = re.compile(r"^(/api/v1)?/jobs/\{job_id(:int)?\}")


async def study_access(request: Request, session: SessionDep) -> None:
    """Added to every router (``app.main``): a study's route (``/studies/{study_id}…``, page
    or API) answers a coordinator who neither owns the study nor shares it with 404, as for a
    study that does not exist (``app.services.studies.access``). Other callers pass on to the
    route's own role check (anonymous: 401; readers, and coordinators on an admin's route:
    403, whatever the id); other routes are not concerned.
    A job's route (``/jobs/{job_id}``, page or API) does the same for a study's job (the
    machine reader's: its result holds the study's scores)."""
    route = getattr(request.scope.get("route"), "path", "")
    check: Callable[[Session, User, int], object]
    if STUDY_ROUTE.match(route):  # not /reading/{study_id}: a reader's, by assignment
        check, raw = study_access_rules.visible_study, request.path_params.get("study_id")
    elif JOB_ROUTE.match(route):  # a study's machine-reader job: its scores, its study id
        check, raw = study_access_rules.visible_job, request.path_params.get("job_id")
    else:
        return
    if raw is None or not str(raw).isdigit():
        return  # an id the route itself refuses (422)
    user = await current_user(request, session)
    needed = ["coordinator", *_roles(request.scope.get("route"))]
    if all(users.has_role(user, role) for role in needed):  # else the route's 403, for any id
        await run_in_threadpool(_check, check, session, user, int(raw))


def _roles(route: object) -> list[str]:
    """The roles the route's own dependencies ask for (``require_role``)."""
    found, stack = [], [getattr(route, "dependant", None)]
    while stack:
        dependant = stack.pop()
        for dep in dependant.dependencies if dependant is not None else ():
            if role := getattr(dep.call, "role", None):
                found.append(str(role))
            stack.append(dep)
    return found


def _check(
    check: Callable[[Session, User, int], object], session: Session, user: User, id_: int
) -> None:
    """As ``_lookup_user``: the transaction ends before the next dependency's hop."""
    try:
        check(session, user, id_)
    finally:
        session.commit()


def require_role(role: str) -> Callable[[User], User]:
    """A dependency that lets through users with ROLE or a higher one."""

    def check(user: CurrentUser) -> User:
        if not users.has_role(user, role):
            raise HTTPException(403, f"this needs the {role} role")
        return user

    check.role = role  # type: ignore[attr-defined]  # read by study_access
    return check


ReaderUser = Annotated[User, Depends(require_role("reader"))]
CoordinatorUser = Annotated[User, Depends(require_role("coordinator"))]
AdminUser = Annotated[User, Depends(require_role("admin"))]
