"""Login, logout, sessions, CSRF and bearer tokens."""

import re

from fastapi.testclient import TestClient

from app.db import Database
from app.security import new_api_token, new_csrf_token, new_password, same_token
from tests.factories import api_token, csrf_from, login, make_user

SESSION_COOKIE = "lungsign_session"


def test_login_page_then_home(client: TestClient, db: Database) -> None:
    account = make_user(db, "coordinator")
    assert (
        client.get("/", headers={"accept": "text/html"}, follow_redirects=False).status_code == 303
    )
    login(client, account)
    page = client.get("/")
    assert page.status_code == 200
    assert account.username in page.text


def test_wrong_password_is_refused(client: TestClient, db: Database) -> None:
    account = make_user(db, "reader")
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"username": account.username, "password": "nope-nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert client.get("/").status_code == 401


def test_login_form_without_csrf_is_rejected(client: TestClient, db: Database) -> None:
    account = make_user(db, "reader")
    client.get("/login")
    response = client.post(
        "/login", data={"username": account.username, "password": account.password}
    )
    assert response.status_code == 403


def test_session_cookie_is_httponly_and_samesite(client: TestClient, db: Database) -> None:
    account = make_user(db, "reader")
    client.get("/login")
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": account.username, "password": account.password, "csrf_token": token},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_logout_ends_session(client: TestClient, db: Database) -> None:
    """A copy of the cookie taken before logout (another tab, a stolen cookie) stops working:
    the test client alone would simply drop the cookie, so it is replayed explicitly."""
    account = make_user(db, "reader")
    token = login(client, account)
    saved = client.cookies.get(SESSION_COOKIE)
    assert saved and client.get("/api/v1/reading/studies").status_code == 200
    logout = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert logout.status_code == 303
    client.cookies.set(SESSION_COOKIE, saved)
    assert client.get("/api/v1/reading/studies").status_code == 401
    page = client.get("/", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_open_redirect_is_not_followed(client: TestClient, db: Database) -> None:
    account = make_user(db, "reader")
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "username": account.username,
            "password": account.password,
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_bearer_token_authenticates_api(client: TestClient, db: Database) -> None:
    account = make_user(db, "admin")
    headers = api_token(db, account)
    assert client.get("/", headers=headers).status_code == 200
    assert client.get("/", headers={"Authorization": "Bearer lsk_wrong"}).status_code == 401


def test_api_login_returns_csrf_for_cookie_writes(client: TestClient, db: Database) -> None:
    account = make_user(db, "reader")
    response = client.post(
        "/api/v1/auth/login", json={"username": account.username, "password": account.password}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "reader" and body["csrf_token"]
    assert (
        client.post("/api/v1/auth/login", json={"username": "x", "password": "y"}).status_code
        == 401
    )


def test_passwords_are_stored_as_argon2(db: Database) -> None:
    from sqlalchemy import select

    from app.tables import User

    account = make_user(db, "reader")
    with db.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == account.username))
    assert stored and stored.startswith("$argon2") and account.password not in stored


def test_a_wrong_csrf_token_is_rejected(client: TestClient, db: Database) -> None:
    """Any token is not enough: it must be this session's (form field or htmx header)."""
    account = make_user(db, "reader")
    token = login(client, account)
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.post("/logout", data={"csrf_token": wrong}).status_code == 403
    intake = {"experience_years": 3}
    refused = client.post("/api/v1/reading/intake", json=intake, headers={"X-CSRF-Token": wrong})
    assert refused.status_code == 403
    assert client.get("/api/v1/reading/studies").status_code == 200, "still logged in"
    accepted = client.post("/api/v1/reading/intake", json=intake, headers={"X-CSRF-Token": token})
    assert accepted.status_code == 204


def test_secrets_have_their_documented_strength() -> None:
    """API tokens and CSRF tokens carry 256 random bits, generated passwords 96."""
    api = [new_api_token() for _ in range(3)]
    assert all(re.fullmatch(r"lsk_[A-Za-z0-9_-]{43}", t) for t in api) and len(set(api)) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", new_csrf_token()) for _ in range(3))
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16}", new_password()) for _ in range(3))
    assert not same_token(None, None) and not same_token("", "") and same_token("x", "x")
