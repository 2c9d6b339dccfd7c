"""Login, logout, sessions, CSRF and bearer tokens."""

from fastapi.testclient import TestClient

from app.db import Database
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
