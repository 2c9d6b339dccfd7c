"""Every route × every principal (anonymous; reader, coordinator, admin by cookie and by API
token), generated from the app's own route table: a new route is covered without editing
this test, and a route that checks no role fails it unless it is listed as public here.

The role a route needs is read from its dependencies (``CurrentUser``: any account;
``ReaderUser`` / ``CoordinatorUser`` / ``AdminUser``: that role or a higher one). Expected:
anonymous → 401 (an HTML page may instead redirect to the login page), a lower role → 403, a
sufficient role → neither (the made-up ids give 404s and the empty bodies 422s, which is
fine: nothing is created or deleted), and no principal ever gets a 5xx.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import Database
from app.deps import current_user
from app.main import create_app
from app.routes import ROUTERS
from tests.factories import api_token, login, make_user

ROLES = ("reader", "coordinator", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}
# Routes anyone may call, each for a reason.
PUBLIC = {
    ("GET", "/healthz"): "liveness probe",
    ("GET", "/login"): "the login form",
    ("POST", "/login"): "logging in",
    ("POST", "/api/v1/auth/login"): "logging in (API)",
    ("POST", "/logout"): "ends the caller's session, if any (CSRF-checked)",
    ("POST", "/api/v1/auth/logout"): "ends the caller's session, if any",
}
# The least role each part of the site needs (DESIGN.md, "Users"): (path pattern, to read,
# to write). A route may ask for more than its part's policy, never less; a route in no part
# fails the test until its part is added here.
POLICY = [
    (r"^/(api/v1/)?reading(/|$)", "reader", "reader"),
    (r"^/(api/v1/)?(studies|datasets)(/|$)|^/patches/", "coordinator", "coordinator"),
    (r"^/(api/v1/)?(jobs|models)(/|$)", "coordinator", "admin"),  # coordinators: read-only
    (r"^/(api/v1/users|admin)(/|$)", "admin", "admin"),
    (r"^/api/v1/(tokens|auth/password)(/|$)", "any", "any"),  # one's own tokens and password
    (r"^/(docs|openapi\.json)?$", "any", "any"),
]
# Routes that end the caller's own session run last, so the others see a live session.
ENDS_SESSION = re.compile(r"logout")


@dataclass(frozen=True)
class Principal:
    name: str
    role: str | None  # None: anonymous
    headers: dict[str, str]
    client: TestClient


def required_role(route: APIRoute) -> str | None:
    """'any', a role name, or None when no dependency checks the caller."""
    found: set[str] = set()

    def walk(dependant: Dependant) -> None:
        for dep in dependant.dependencies:
            call = dep.call
            if call is current_user:
                found.add("any")
            elif call is not None and getattr(call, "__name__", "") == "check":
                role = inspect.getclosurevars(call).nonlocals.get("role")
                if role in RANK:
                    found.add(role)
            walk(dep)

    walk(route.dependant)
    roles = [r for r in found if r in RANK]
    if roles:
        return max(roles, key=RANK.__getitem__)
    return "any" if found else None


def policy(method: str, path: str) -> str | None:
    for pattern, read, write in POLICY:
        if re.search(pattern, path):
            return read if method == "GET" else write
    return None


def at_least(declared: str | None, wanted: str) -> bool:
    if declared is None:
        return False
    if wanted == "any" or declared == wanted:
        return True
    return declared != "any" and RANK[declared] >= RANK[wanted]


def concrete(path: str) -> str:
    """The path with made-up values for its parameters (ids that exist nowhere)."""
    return re.sub(r"\{[^}:]+(:[^}]+)?\}", "987654", path)


def routes(app: FastAPI) -> Iterator[tuple[str, str, str | None]]:
    """Every (method, path, role) the app serves: its routers' routes (``ROUTERS``, which
    ``create_app`` includes) and any route added to the app itself."""
    own = [route for router in ROUTERS for route in router.routes]
    table = {
        (method, route.path, required_role(route))
        for route in [*own, *app.routes]
        if isinstance(route, APIRoute)
        for method in (route.methods or set()) - {"HEAD"}
    }
    yield from sorted(table, key=lambda row: (bool(ENDS_SESSION.search(row[1])), row[1], row[0]))


@pytest.fixture
def principals(settings: Settings, db: Database) -> Iterator[list[Principal]]:
    out = [Principal("anonymous", None, {}, TestClient(create_app(settings, db)))]
    for role in ROLES:
        account = make_user(db, role, f"matrix-{role}")
        by_token = TestClient(create_app(settings, db))
        out.append(Principal(f"{role} (token)", role, api_token(db, account), by_token))
        by_cookie = TestClient(create_app(settings, db))
        csrf = login(by_cookie, account)
        out.append(Principal(f"{role} (cookie)", role, {"X-CSRF-Token": csrf}, by_cookie))
    yield out
    for principal in out:
        principal.client.close()


def test_every_route_checks_its_role(
    settings: Settings, db: Database, principals: list[Principal]
) -> None:
    table = list(routes(create_app(settings, db)))
    assert len(table) > 40  # the whole API and every page, not a handful
    unguarded = [
        (method, path)
        for method, path, role in table
        if role is None and (method, path) not in PUBLIC
    ]
    assert not unguarded, (
        f"routes with no role check (add one, or list them in PUBLIC): {unguarded}"
    )
    for method, path, role in table:
        if (method, path) in PUBLIC:
            continue
        wanted = policy(method, path)
        assert wanted is not None, f"{method} {path}: no access policy covers it; add its part"
        assert at_least(role, wanted), f"{method} {path} asks for {role}, its part needs {wanted}"

    wrong = []
    for method, path, role in table:
        url = concrete(path)
        for who in principals:
            body = {} if method in {"POST", "PUT", "PATCH"} else None
            response = who.client.request(
                method, url, headers=who.headers, follow_redirects=False, json=body
            )
            status = response.status_code
            location = response.headers.get("location", "")
            to_login = status in (302, 303, 307) and "/login" in location
            if status >= 500:
                wrong.append(f"{method} {path} as {who.name}: {status}")
            elif role is None:
                continue
            elif who.role is None:
                if status != 401 and not to_login:
                    wrong.append(f"{method} {path} as anonymous: {status}, expected 401")
            elif role != "any" and RANK[who.role] < RANK[role]:
                if status != 403:
                    wrong.append(f"{method} {path} as {who.name}: {status}, expected 403")
            elif status in (401, 403):
                wrong.append(f"{method} {path} as {who.name}: {status}, expected access")
    assert not wrong, "\n".join(wrong)
