"""The admin's users page: add (one-time password shown once), role changes, deactivation,
password resets and token revocation, each audit-logged, with the guards an admin relies on
(no self-demotion or self-deactivation; the last active admin stays)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.errors import Conflict
from app.main import create_app
from app.services.accounts import users
from app.tables import Assignment, AuditEvent, User
from tests.factories import Account, api_token, login, make_user
from tests.study_factories import create_open_study, with_data

HTMX = {"HX-Request": "true"}


@pytest.fixture
def other(settings: Settings, db: Database) -> Iterator[TestClient]:
    """A second browser: the managed user's own session."""
    with TestClient(create_app(settings, db)) as second:
        yield second


@pytest.fixture
def admin(client: TestClient, db: Database) -> dict[str, str]:
    """The client logged in as admin 'root'; the CSRF header its pages' forms send."""
    return {"X-CSRF-Token": login(client, make_user(db, "admin", "root"))}


def events(db: Database, action: str) -> list[tuple[str | None, str, dict[str, object]]]:
    with db.session() as session:
        rows = session.execute(
            select(User.username, AuditEvent.target, AuditEvent.detail)
            .outerjoin(User, User.id == AuditEvent.user_id)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def one_time_password(html: str) -> str:
    match = re.search(r'<code id="one-time-password"[^>]*>([^<]+)</code>', html)
    assert match, "no one-time password on the page"
    return match.group(1)


def row(html: str, username: str) -> str:
    return html.split(f'data-user="{username}"')[1].split("</tr>")[0]


def test_the_page_lists_accounts_and_only_admins_reach_it(
    client: TestClient, other: TestClient, db: Database, admin: dict[str, str]
) -> None:
    ann = make_user(db, "reader", "ann")
    api_token(db, ann)
    api_token(db, ann)
    login(other, ann)
    home = client.get("/").text
    assert '<a href="/admin/users">Users</a>' in home  # top bar and the admin section
    for target in ("/jobs", "/models", "/datasets", "/studies"):
        assert f'href="{target}"' in home.split("Administration")[1]
    page = client.get("/admin/users")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    ann_row = row(page.text, "ann")
    assert "<option selected>reader</option>" in ann_row and ">yes<" in ann_row
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", ann_row)  # last login
    assert re.search(r'class="num tokens"><a [^>]+>2<', ann_row)
    assert "UTC" in row(page.text, "root")  # just logged in
    assert "you cannot demote or deactivate yourself" in row(page.text, "root")
    assert 'name="role"' not in row(page.text, "root")

    assert other.get("/admin/users").status_code == 403
    assert 'href="/admin/users"' not in other.get("/").text
    cora = make_user(db, "coordinator", "cora")
    login(other, cora)
    assert other.get("/admin/users").status_code == 403


def test_add_shows_a_one_time_password_once_that_logs_in(
    client: TestClient, other: TestClient, db: Database, admin: dict[str, str]
) -> None:
    added = client.post(
        "/admin/users", data={"username": "newbie", "role": "reader"}, headers={**HTMX, **admin}
    )
    assert added.status_code == 200 and "<html" not in added.text  # the block alone
    assert added.headers["cache-control"] == "no-store"
    password = one_time_password(added.text)
    assert len(password) >= 12
    assert 'id="one-time-password"' not in client.get("/admin/users").text  # shown once
    with db.session() as session:
        stored = session.scalar(select(User).where(User.username == "newbie"))
        assert stored is not None and stored.role == "reader"
        assert password not in stored.password_hash
    assert events(db, "user_added") == [("root", "newbie", {"role": "reader"})]
    assert password not in str(events(db, "user_added"))
    login(other, Account("newbie", password, "reader"))
    assert other.get("/reading").status_code == 200

    again = client.post(
        "/admin/users", data={"username": "newbie", "role": "reader"}, headers=admin
    )
    assert again.status_code == 409 and "already exists" in again.text  # whole page
    bad = client.post(
        "/admin/users", data={"username": "Bad Name", "role": "reader"}, headers={**HTMX, **admin}
    )
    assert bad.status_code == 200 and "lower-case ASCII" in bad.text
    no_csrf = TestClient(client.app, cookies=client.cookies)
    refused = no_csrf.post("/admin/users", data={"username": "sneaky", "role": "admin"})
    assert refused.status_code == 403
    with db.session() as session:
        assert session.scalar(select(User).where(User.username == "sneaky")) is None


def test_deactivate_ends_the_session_at_once_and_reactivate(
    client: TestClient, other: TestClient, db: Database, admin: dict[str, str]
) -> None:
    ann = make_user(db, "reader", "ann")
    token = api_token(db, ann)
    login(other, ann)
    assert other.get("/reading").status_code == 200
    done = client.post("/admin/users/ann/deactivate", headers={**HTMX, **admin})
    assert "ann deactivated" in done.text and ">deactivated<" in row(done.text, "ann")
    assert other.get("/api/v1/reading/studies").status_code == 401  # the open session
    assert other.get("/api/v1/reading/studies", headers=token).status_code == 401
    assert other.post(
        "/api/v1/auth/login", json={"username": "ann", "password": ann.password}
    ).status_code in (401, 403)
    again = client.post("/admin/users/ann/activate", headers={**HTMX, **admin})
    assert ">yes<" in row(again.text, "ann")
    login(other, ann)
    assert other.get("/api/v1/reading/studies", headers=token).status_code == 401  # stays revoked
    assert [e[:2] for e in events(db, "user_deactivated")] == [("root", "ann")]
    assert [e[:2] for e in events(db, "user_activated")] == [("root", "ann")]


def test_reset_password_shows_a_new_one_and_ends_access(
    client: TestClient, other: TestClient, db: Database, admin: dict[str, str]
) -> None:
    ann = make_user(db, "reader", "ann")
    token = api_token(db, ann)
    login(other, ann)
    reset = client.post("/admin/users/ann/password", headers={**HTMX, **admin})
    password = one_time_password(reset.text)
    assert reset.headers["cache-control"] == "no-store"
    assert other.get("/api/v1/reading/studies").status_code == 401
    assert other.get("/api/v1/reading/studies", headers=token).status_code == 401
    old = other.post("/api/v1/auth/login", json={"username": "ann", "password": ann.password})
    assert old.status_code == 401
    login(other, Account("ann", password, "reader"))
    assert events(db, "password_reset") == [("root", "ann", {})]


def test_role_change_applies_at_once_and_marks_open_assignments_unblinded(
    client: TestClient, other: TestClient, db: Database, admin: dict[str, str]
) -> None:
    with_data(db)
    ann = make_user(db, "reader", "ann")
    coord = api_token(db, make_user(db, "coordinator", "cora"))
    create_open_study(client, coord, readers=["ann"])
    login(other, ann)
    assert other.get("/studies").status_code == 403
    changed = client.post(
        "/admin/users/ann/role", data={"role": "coordinator"}, headers={**HTMX, **admin}
    )
    assert "ann is now coordinator" in changed.text
    assert "<option selected>coordinator</option>" in row(changed.text, "ann")
    assert other.get("/studies").status_code == 200  # the same session, the new role
    with db.session() as session:
        assert session.scalars(select(Assignment.unblinded)).all() == [True]
    assert events(db, "role_changed") == [("root", "ann", {"old": "reader", "new": "coordinator"})]
    bad = client.post("/admin/users/ann/role", data={"role": "owner"}, headers={**HTMX, **admin})
    assert "not one of reader, coordinator, admin" in bad.text


def test_an_admin_cannot_demote_or_deactivate_themself_nor_the_last_admin(
    client: TestClient, db: Database, admin: dict[str, str]
) -> None:
    make_user(db, "admin", "second")  # so only the self-guard can refuse
    demote = client.post("/admin/users/root/role", data={"role": "reader"}, headers=admin)
    assert demote.status_code == 409 and "cannot lower your own role" in demote.text
    off = client.post("/admin/users/root/deactivate", headers={**HTMX, **admin})
    assert off.status_code == 200 and "cannot deactivate your own account" in off.text
    assert (
        "second is now reader"
        in client.post(
            "/admin/users/second/role", data={"role": "reader"}, headers={**HTMX, **admin}
        ).text
    )
    assert events(db, "role_changed") == [("root", "second", {"old": "admin", "new": "reader"})]
    with db.session() as session:
        root = users.get_user(session, "root")
        assert root.role == "admin" and root.active
        for attempt in (  # root is the last active admin now; the CLI passes no "by"
            lambda: users.set_role(session, "root", "coordinator"),
            lambda: users.set_active(session, "root", False),
        ):
            with pytest.raises(Conflict, match="last active admin"):
                attempt()


def test_a_users_tokens_are_listed_and_revoked(
    client: TestClient, other: TestClient, db: Database, admin: dict[str, str]
) -> None:
    ann, bob = make_user(db, "reader", "ann"), make_user(db, "reader", "bob")
    kept, gone = api_token(db, ann), api_token(db, ann)
    api_token(db, bob)
    with db.session() as session:
        ids = {t.user.username: t.id for t in users.list_tokens(session)}
        ann_ids = [t.id for t in users.list_tokens(session, users.get_user(session, "ann"))]
    page = client.get("/admin/users/ann/tokens").text
    assert all(f'data-token="{i}"' in page for i in ann_ids)
    assert f'data-token="{ids["bob"]}"' not in page
    newest = max(ann_ids)  # api_token(gone) was issued last
    revoked = client.post(f"/admin/users/ann/tokens/{newest}/revoke", headers={**HTMX, **admin})
    assert f"token {newest} revoked" in revoked.text
    assert other.get("/api/v1/reading/studies", headers=gone).status_code == 401
    assert other.get("/api/v1/reading/studies", headers=kept).status_code == 200
    wrong = client.post(f"/admin/users/ann/tokens/{ids['bob']}/revoke", headers=admin)
    assert wrong.status_code == 404
    assert events(db, "token_revoked") == [("root", "ann", {"token_id": newest})]
    listing = client.get("/admin/users").text
    assert re.search(r'class="num tokens"><a [^>]+>1 <span class="muted">of 2', row(listing, "ann"))


def test_the_json_api_lists_adds_and_changes_roles(client: TestClient, db: Database) -> None:
    root = api_token(db, make_user(db, "admin", "root"))
    added = client.post("/api/v1/users", json={"username": "dana", "role": "reader"}, headers=root)
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["username"] == "dana" and body["role"] == "reader" and body["active"] is True
    login_ok = client.post(
        "/api/v1/auth/login", json={"username": "dana", "password": body["password"]}
    )
    assert login_ok.status_code == 200, login_ok.text
    listed = {u["username"]: u for u in client.get("/api/v1/users", headers=root).json()}
    assert listed["dana"]["last_login"] is not None and listed["dana"]["api_tokens"] == 0
    assert listed["root"]["api_tokens"] == 1 and listed["root"]["api_tokens_total"] == 1

    promoted = client.post("/api/v1/users/dana/role", json={"role": "admin"}, headers=root)
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    dana = api_token(db, Account("dana", "", "admin"))
    own = client.post("/api/v1/users/dana/role", json={"role": "reader"}, headers=dana)
    assert own.status_code == 409 and "your own role" in own.json()["detail"]
    down = client.post("/api/v1/users/root/role", json={"role": "reader"}, headers=dana)
    assert down.status_code == 200  # another admin may; dana is now the last one
    last = client.post("/api/v1/users/dana/deactivate", headers=dana)
    assert last.status_code == 409 and "your own account" in last.json()["detail"]
    assert [e[1:] for e in events(db, "role_changed")] == [
        ("dana", {"old": "reader", "new": "admin"}),
        ("root", {"old": "admin", "new": "reader"}),
    ]
    assert client.get("/api/v1/users", headers=root).status_code == 403  # no longer an admin
