"""Finding 5 of issue 11: logins are throttled per account and per address, with back-off,
and API logins are audited, successes and failures alike."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.db import Database
from app.services.accounts import throttle
from app.tables import AuditEvent, LoginThrottle, utcnow
from tests.factories import csrf_from, make_user


def _api_login(client: TestClient, username: str, password: str) -> int:
    body = {"username": username, "password": password}
    return client.post("/api/v1/auth/login", json=body).status_code


def _unlock_all(db: Database) -> None:
    """As if the back-off had elapsed (without sleeping through it)."""
    with db.session() as session:
        session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))


def test_fifty_wrong_passwords_then_the_right_one_is_refused_with_429(
    client: TestClient, db: Database
) -> None:
    account = make_user(db, "admin")
    statuses = [_api_login(client, account.username, f"wrong-{i}") for i in range(50)]
    assert statuses[: throttle.FREE_FAILURES] == [401] * throttle.FREE_FAILURES
    assert statuses[-1] == 429
    right = client.post(
        "/api/v1/auth/login", json={"username": account.username, "password": account.password}
    )
    assert right.status_code == 429, "the right password is refused while locked"
    assert int(right.headers["Retry-After"]) >= 1
    assert "too many failed logins" in right.json()["detail"]
    assert "lungsign_session" not in right.cookies
    with db.session() as session:
        failed = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "login_failed")
        ).all()
    assert len(failed) >= throttle.FREE_FAILURES
    assert all(e.target == account.username and e.detail["via"] == "api" for e in failed)


def test_back_off_doubles_and_a_success_starts_over(client: TestClient, db: Database) -> None:
    account = make_user(db, "reader")
    for i in range(throttle.FREE_FAILURES):
        assert _api_login(client, account.username, f"wrong-{i}") == 401
    locks = []
    for i in range(3):
        _unlock_all(db)
        assert _api_login(client, account.username, f"again-{i}") == 401
        with db.session() as session:
            row = session.get(LoginThrottle, throttle.account_key(account.username))
            assert row and row.locked_until and row.last_failure_at
            locks.append((row.locked_until - row.last_failure_at).total_seconds())
        assert _api_login(client, account.username, account.password) == 429
    assert locks == [1.0, 2.0, 4.0]
    _unlock_all(db)
    assert _api_login(client, account.username, account.password) == 200
    assert _api_login(client, account.username, "wrong-after") == 401, "counting starts over"
    with db.session() as session:
        logins = session.scalars(select(AuditEvent).where(AuditEvent.action == "login")).all()
    assert [(e.target, e.detail["via"]) for e in logins] == [(account.username, "api")]


def test_one_address_spraying_many_accounts_is_throttled(client: TestClient, db: Database) -> None:
    """Each account stays under its own limit; the address does not."""
    victim = make_user(db, "coordinator")
    statuses = [
        _api_login(client, f"user{i}", "password1")
        for i in range(throttle.FREE_FAILURES_PER_ADDRESS + 1)
    ]
    assert statuses[:-1] == [401] * throttle.FREE_FAILURES_PER_ADDRESS
    assert _api_login(client, victim.username, victim.password) == 429


def test_the_login_form_is_throttled_too(client: TestClient, db: Database) -> None:
    account = make_user(db, "reader")
    for i in range(throttle.FREE_FAILURES + 1):
        token = csrf_from(client.get("/login").text)
        form = {"username": account.username, "password": f"nope-{i}", "csrf_token": token}
        client.post("/login", data=form)
    token = csrf_from(client.get("/login").text)
    form = {"username": account.username, "password": account.password, "csrf_token": token}
    page = client.post("/login", data=form, follow_redirects=False)
    assert page.status_code == 429 and "Retry-After" in page.headers
    assert "Too many failed logins" in page.text
