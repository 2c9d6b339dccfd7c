"""Where a reader lands after login, flags on items, and the reader's own summary."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.tables import Assignment, AssignmentItem, User
from tests.factories import Account, api_token, csrf_from, make_user
from tests.study_factories import answer, create_open_study, source_of, with_data


def next_item(client: TestClient, study_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"/api/v1/reading/next?study={study_id}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def form_login(client: TestClient, account: Account) -> str:
    """Log in through the form with the default target; where the login sends the browser,
    followed through '/'."""
    token = csrf_from(client.get("/login").text)
    data = {"username": account.username, "password": account.password, "csrf_token": token}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    landing = client.get("/", follow_redirects=False)
    return landing.headers["location"] if landing.status_code == 303 else "/"


def test_a_reader_lands_in_their_only_open_study_else_on_the_list(
    client: TestClient, db: Database
) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    reader = make_user(db, "reader", "ann")
    assert form_login(client, reader) == "/reading", "no study yet: the (empty) list"
    first = create_open_study(client, coord, readers=["ann"], items_per_reader=4)
    assert form_login(client, reader) == f"/reading/{first}"
    second = create_open_study(client, coord, name="vtt2", readers=["ann"], items_per_reader=4)
    assert form_login(client, reader) == "/reading"
    ann = api_token(db, reader)
    while not (item := next_item(client, second, ann)).get("done"):
        client.post(f"/api/v1/reading/{item['item']}", json=answer(), headers=ann)
    assert form_login(client, reader) == f"/reading/{first}", "the one left to read"
    assert client.post(f"/api/v1/studies/{first}/close", headers=coord).status_code == 200
    assert form_login(client, reader) == "/reading", "nothing open left: the list"
    assert form_login(client, make_user(db, "coordinator", "cora")) == "/", "others: home"


def flag(
    client: TestClient, token: str, headers: dict[str, str], **body: Any
) -> tuple[int, dict[str, Any]]:
    response = client.post(f"/api/v1/reading/items/{token}/flag", json=body, headers=headers)
    return response.status_code, response.json()


def test_a_reader_flags_shown_items_and_the_coordinator_sees_the_flags(
    client: TestClient, db: Database
) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    ann, bob = (api_token(db, make_user(db, "reader", name)) for name in ("ann", "bob"))
    study_id = create_open_study(client, coord, readers=["ann", "bob"], items_per_reader=4)
    first = next_item(client, study_id, ann)["item"]
    status, body = flag(client, first, ann, unreadable=True, comment="  motion blur  ")
    assert status == 200
    assert body == {"item": first, "flagged": True, "unreadable": True, "comment": "motion blur"}
    assert flag(client, first, bob, unreadable=True)[0] == 404, "only the reader's own items"
    status, body = flag(client, first, ann, comment="x" * 501)
    assert status == 422 and "comment" in body["detail"] and "500" in body["detail"]
    assert flag(client, first, ann, comment="bad\x00")[0] == 422
    assert next_item(client, study_id, ann)["item"] == first, "a flag is not an answer"
    client.post(f"/api/v1/reading/{first}", json=answer(), headers=ann)
    second = next_item(client, study_id, ann)["item"]
    later = [t for t in all_tokens(db, "ann") if t not in (first, second)]
    assert flag(client, later[0], ann, unreadable=True)[0] == 409, "not shown yet"
    assert flag(client, second, ann, comment="edge of the lung")[0] == 200
    assert flag(client, second, ann)[1]["flagged"] is False, "neither: the flag is gone"
    assert flag(client, first, ann, unreadable=False, comment="blurred")[0] == 200, "replaced"

    results = client.get(f"/api/v1/studies/{study_id}/results", headers=coord).json()
    (only,) = results["flags"]
    assert only["reader"] == "ann" and only["comment"] == "blurred" and not only["unreadable"]
    assert only["source"] == source_of(db, first) and only["practice"] is False
    assert results["n_judgments"] == 1, "the flagged item counts like any other"
    assert client.post(f"/api/v1/studies/{study_id}/close", headers=coord).status_code == 200
    assert flag(client, first, ann, unreadable=True)[0] == 409, "a closed study takes no flags"


def all_tokens(db: Database, reader: str) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(AssignmentItem.token)
                .join(Assignment, Assignment.id == AssignmentItem.assignment_id)
                .join(User, User.id == Assignment.reader_id)
                .where(User.username == reader)
                .order_by(AssignmentItem.position)
            )
        )


def test_a_cookie_flag_needs_the_csrf_token(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    reader = make_user(db, "reader", "ann")
    study_id = create_open_study(client, coord, readers=["ann"], items_per_reader=4)
    token = next_item(client, study_id, api_token(db, reader))["item"]
    csrf = csrf_from(client.get("/login").text)
    data = {"username": reader.username, "password": reader.password, "csrf_token": csrf}
    client.post("/login", data=data)
    csrf = csrf_from(client.get("/reading").text)
    url = f"/api/v1/reading/items/{token}/flag"
    assert client.post(url, json={"unreadable": True}).status_code == 403
    sent = client.post(url, json={"unreadable": True}, headers={"X-CSRF-Token": csrf})
    assert sent.status_code == 200


def read_all(
    client: TestClient, db: Database, study_id: int, headers: dict[str, str], right: bool
) -> None:
    """Answer every item, each in 1000 ms plus 100 ms per position; RIGHT: the true source."""
    position = 0
    while not (item := next_item(client, study_id, headers)).get("done"):
        position += 1
        truth = source_of(db, item["item"])
        verdict = truth if right else ("real" if truth == "generated" else "generated")
        body = answer(verdict=verdict, ms=1000 + 100 * position)
        assert client.post(f"/api/v1/reading/{item['item']}", json=body, headers=headers).is_success


def test_the_summary_scores_practice_but_never_counted_items(
    client: TestClient, db: Database
) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    ann, bob = (api_token(db, make_user(db, "reader", name)) for name in ("ann", "bob"))
    study_id = create_open_study(
        client, coord, readers=["ann", "bob"], items_per_reader=4, practice_items=2
    )
    url = f"/api/v1/reading/studies/{study_id}/summary"
    before = client.get(url, headers=ann).json()
    assert before["answered"] == 0 and before["total"] == 4 and before["median_ms"] is None
    read_all(client, db, study_id, ann, right=True)
    read_all(client, db, study_id, bob, right=False)
    mine, theirs = client.get(url, headers=ann).json(), client.get(url, headers=bob).json()
    counted_ms = [1000 + 100 * p for p in range(3, 7)]  # positions 1-2 are practice
    assert mine == {
        "answered": 4,
        "total": 4,
        "reading_ms": sum(counted_ms),
        "median_ms": (1400 + 1500) / 2,
        "practice_answered": 2,
        "practice_right": 2,
        "flagged": 0,
    }
    assert theirs == {**mine, "practice_right": 0}, "all right or all wrong: the same summary"
    assert client.post(f"/api/v1/studies/{study_id}/close", headers=coord).status_code == 200
    assert client.get(url, headers=ann).json() == mine, "still there once closed"
    stranger = api_token(db, make_user(db, "reader", "cid"))
    assert client.get(url, headers=stranger).status_code == 404
