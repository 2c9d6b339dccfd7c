"""Test data builders shared by all tests."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient

from app.db import Database
from app.services.accounts import users


@dataclass
class Account:
    username: str
    password: str
    role: str


def make_user(db: Database, role: str = "reader", username: str | None = None) -> Account:
    """Create a user with a known password."""
    username = username or f"{role}1"
    password = f"pw-{username}-secret"
    with db.session() as session:
        users.add_user(session, username, password, role)
    return Account(username, password, role)


def login(client: TestClient, account: Account) -> str:
    """Log in through the form, as a browser does; return the session's CSRF token (a new
    one: login rotates it, so it is read from the page the login leads to)."""
    page = client.get("/login")
    token = csrf_from(page.text)
    response = client.post(
        "/login",
        data={
            "username": account.username,
            "password": account.password,
            "csrf_token": token,
            "next": "/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/").text)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def api_token(db: Database, account: Account) -> dict[str, str]:
    """Authorization headers with a fresh bearer token for ACCOUNT."""
    with db.session() as session:
        token = users.create_token(session, account.username)
    return {"Authorization": f"Bearer {token}"}
