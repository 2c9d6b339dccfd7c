"""Finding 6 of issue 11: tokens expire and can be revoked; a password change, an admin's
reset and deactivation end every session and revoke every token at once; login rotates the
CSRF token."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.db import Database
from app.tables import ApiToken, utcnow
from tests.factories import api_token, csrf_from, login, make_user

SESSION_COOKIE = "lungsign_session"
STUDIES = "/api/v1/reading/studies"


def test_a_revoked_token_stops_working_at_once(client: TestClient, db: Database) -> None:
    admin = api_token(db, make_user(db, "admin"))
    made = client.post(
        "/api/v1/tokens", json={"username": "admin1", "name": "nightly export"}, headers=admin
    )
    assert made.status_code == 201, made.text
    script = {"Authorization": f"Bearer {made.json()['token']}"}
    assert client.get(STUDIES, headers=script).status_code == 200
    listed = client.get("/api/v1/tokens", headers=script).json()
    assert any(t["name"] == "nightly export" and t["revoked_at"] is None for t in listed)
    assert "token" not in listed[0], "a listing never shows a token"
    revoked = client.delete(f"/api/v1/tokens/{made.json()['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = client.get(STUDIES, headers=script)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_a_token_expires(client: TestClient, db: Database) -> None:
    headers = api_token(db, make_user(db, "reader"))
    assert client.get(STUDIES, headers=headers).status_code == 200
    with db.session() as session:
        expiry = session.query(ApiToken.expires_at).scalar()
        assert expiry is not None, "tokens expire by default"
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(STUDIES, headers=headers).status_code == 401


def test_a_reader_revokes_their_own_token_but_not_anothers(
    client: TestClient, db: Database
) -> None:
    ann = api_token(db, make_user(db, "reader", "ann"))
    bob = api_token(db, make_user(db, "reader", "bob"))
    mine = client.get("/api/v1/tokens", headers=ann).json()
    theirs = client.get("/api/v1/tokens", headers=bob).json()
    assert [t["username"] for t in mine] == ["ann"]
    assert client.delete(f"/api/v1/tokens/{theirs[0]['id']}", headers=ann).status_code == 404
    assert client.get(STUDIES, headers=bob).status_code == 200
    assert client.post("/api/v1/tokens", json={"username": "ann"}, headers=ann).status_code == 403
    assert client.delete(f"/api/v1/tokens/{mine[0]['id']}", headers=ann).status_code == 200
    assert client.get(STUDIES, headers=ann).status_code == 401


def test_changing_your_password_ends_other_sessions_and_revokes_tokens(
    client: TestClient, db: Database
) -> None:
    account = make_user(db, "reader")
    token = api_token(db, account)
    other = TestClient(client.app)
    login(other, account)
    csrf = login(client, account)
    body = {"current_password": "not-it-at-all", "new_password": "a-brand-new-secret"}
    wrong = client.post("/api/v1/auth/password", json=body, headers={"X-CSRF-Token": csrf})
    assert wrong.status_code == 403
    body["current_password"] = account.password
    changed = client.post("/api/v1/auth/password", json=body, headers={"X-CSRF-Token": csrf})
    assert changed.status_code == 200, changed.text
    assert client.get(STUDIES).status_code == 200, "the session that changed it goes on"
    assert other.get(STUDIES).status_code == 401, "every other session ended"
    assert client.get(STUDIES, headers=token).status_code == 401, "tokens revoked"
    old = {"username": account.username, "password": account.password}
    assert other.post("/api/v1/auth/login", json=old).status_code == 401
    new = {"username": account.username, "password": "a-brand-new-secret"}
    assert other.post("/api/v1/auth/login", json=new).status_code == 200


def test_a_weak_new_password_is_refused(client: TestClient, db: Database) -> None:
    account = make_user(db, "reader")
    headers = api_token(db, account)
    for weak in (" " * 12, "short"):
        body = {"current_password": account.password, "new_password": weak}
        refused = client.post("/api/v1/auth/password", json=body, headers=headers)
        assert refused.status_code == 422 and "at least 8 characters" in refused.json()["detail"]
    assert client.get(STUDIES, headers=headers).status_code == 200, "nothing changed"


def test_an_admin_reset_ends_the_users_sessions(client: TestClient, db: Database) -> None:
    admin = api_token(db, make_user(db, "admin"))
    reader = make_user(db, "reader")
    login(client, reader)
    token = api_token(db, reader)
    reset = client.post(
        "/api/v1/users/reader1/password", json={"new_password": "reset-by-admin-1"}, headers=admin
    )
    assert reset.status_code == 200
    assert client.get(STUDIES).status_code == 401
    assert client.get(STUDIES, headers=token).status_code == 401
    new = {"username": "reader1", "password": "reset-by-admin-1"}
    assert client.post("/api/v1/auth/login", json=new).status_code == 200


def test_deactivation_ends_access_at_once_and_refuses_login(
    client: TestClient, db: Database
) -> None:
    admin = api_token(db, make_user(db, "admin"))
    reader = make_user(db, "reader")
    login(client, reader)
    token = api_token(db, reader)
    assert client.post("/api/v1/users/reader1/deactivate", headers=admin).json()["active"] is False
    assert client.get(STUDIES).status_code == 401, "the open cookie session"
    assert client.get(STUDIES, headers=token).status_code == 401, "the token"
    creds = {"username": reader.username, "password": reader.password}
    assert client.post("/api/v1/auth/login", json=creds).status_code == 401
    assert client.post("/api/v1/users/admin1/deactivate", headers=admin).status_code == 409
    assert client.post("/api/v1/users/reader1/activate", headers=admin).status_code == 200
    assert client.post("/api/v1/auth/login", json=creds).status_code == 200
    assert client.get(STUDIES, headers=token).status_code == 401, "old tokens stay revoked"


def test_login_rotates_the_csrf_token(client: TestClient, db: Database) -> None:
    """A token read (or planted) before login is worthless after it."""
    account = make_user(db, "reader")
    before = csrf_from(client.get("/login").text)
    client.post(
        "/login",
        data={"username": account.username, "password": account.password, "csrf_token": before},
    )
    after = csrf_from(client.get("/").text)
    assert after != before
    intake = {"experience_years": 3}
    stale = client.post("/api/v1/reading/intake", json=intake, headers={"X-CSRF-Token": before})
    assert stale.status_code == 403
    fresh = client.post("/api/v1/reading/intake", json=intake, headers={"X-CSRF-Token": after})
    assert fresh.status_code == 204
