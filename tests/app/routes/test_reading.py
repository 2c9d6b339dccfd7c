"""The reading loop: next item, answers, double submits, resume, final answers, practice."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.services.datasets.labels import list_labels
from app.services.reading.keys import RESERVED, label_keys
from app.tables import Assignment, AssignmentItem, Judgment, User
from tests.factories import Account, api_token, login, make_user
from tests.study_factories import answer, create_open_study, with_data

ANN = Account("ann", "pw-ann-secret", "reader")
BOB = Account("bob", "pw-bob-secret", "reader")


def study_owner(db: Database) -> dict[str, str]:
    """A token of the coordinator who created setup_study's study: its owner, who sees it."""
    return api_token(db, Account("coordinator1", "pw-coordinator1-secret", "coordinator"))


def setup_study(
    client: TestClient, db: Database, **overrides: object
) -> tuple[int, dict[str, str]]:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    reader = make_user(db, "reader", "ann")
    make_user(db, "reader", "bob")
    study_id = create_open_study(client, coord, readers=["ann", "bob"], **overrides)
    return study_id, api_token(db, reader)


def next_of(client: TestClient, study_id: int, headers: dict[str, str]) -> dict:
    response = client.get(f"/api/v1/reading/next?study={study_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_reader_answers_every_item_then_is_done(client: TestClient, db: Database) -> None:
    study_id, ann = setup_study(client, db)
    seen = []
    for position in range(1, 9):
        item = next_of(client, study_id, ann)
        assert item["position"] == position and item["total"] == 8
        seen.append(item["item"])
        saved = client.post(f"/api/v1/reading/{item['item']}", json=answer(), headers=ann)
        assert saved.status_code == 200 and saved.json()["created"] is True
        assert "feedback" not in saved.json()
    assert next_of(client, study_id, ann) == {"done": True}
    assert len(set(seen)) == 8
    studies = client.get("/api/v1/reading/studies", headers=ann).json()
    assert studies[0]["answered"] == 8 and studies[0]["total"] == 8


def test_next_is_stable_until_answered_so_any_device_resumes(
    client: TestClient, db: Database
) -> None:
    study_id, ann = setup_study(client, db)
    first = next_of(client, study_id, ann)
    assert next_of(client, study_id, ann) == first
    client.post(f"/api/v1/reading/{first['item']}", json=answer(), headers=ann)
    # The same reader on another device: a client of its own and a token of its own.
    with TestClient(client.app) as phone:
        phone_token = api_token(db, ANN)
        assert phone_token != ann
        second = next_of(phone, study_id, phone_token)
        assert second["position"] == 2 and second["item"] != first["item"]
        assert next_of(client, study_id, ann) == second, "both devices are at the same item"
        saved = phone.post(f"/api/v1/reading/{second['item']}", json=answer(), headers=phone_token)
        assert saved.status_code == 200
    third = next_of(client, study_id, ann)
    assert third["position"] == 3 and third["item"] not in (first["item"], second["item"])


def test_double_submit_makes_one_judgment(client: TestClient, db: Database) -> None:
    study_id, ann = setup_study(client, db)
    item = next_of(client, study_id, ann)["item"]
    first = client.post(f"/api/v1/reading/{item}", json=answer(), headers=ann)
    again = client.post(f"/api/v1/reading/{item}", json=answer(ms=5000), headers=ann)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["answered_at"] == first.json()["answered_at"]
    assert again.json()["duration_ms"] == 900
    with db.session() as session:
        assert session.query(Judgment).count() == 1


def test_answers_are_final_by_default(client: TestClient, db: Database) -> None:
    study_id, ann = setup_study(client, db)
    item = next_of(client, study_id, ann)
    client.post(f"/api/v1/reading/{item['item']}", json=answer("real"), headers=ann)
    changed = client.post(f"/api/v1/reading/{item['item']}", json=answer("generated"), headers=ann)
    assert changed.status_code == 409 and "final" in changed.json()["detail"]
    assert item["previous"] is None and next_of(client, study_id, ann)["previous"] is None
    assert client.get(f"/api/v1/reading/{item['item']}", headers=ann).status_code == 409


def test_answers_may_change_when_the_study_allows(client: TestClient, db: Database) -> None:
    study_id, ann = setup_study(client, db, allow_changes=True)
    first = next_of(client, study_id, ann)
    client.post(f"/api/v1/reading/{first['item']}", json=answer("real"), headers=ann)
    second = next_of(client, study_id, ann)
    assert second["previous"] == first["item"]
    back = client.get(f"/api/v1/reading/{first['item']}", headers=ann).json()
    assert back["judgment"]["verdict"] == "real" and back["position"] == 1
    changed = client.post(f"/api/v1/reading/{first['item']}", json=answer("generated"), headers=ann)
    assert changed.status_code == 200 and changed.json()["verdict"] == "generated"
    with db.session() as session:
        assert session.scalar(select(Judgment.revisions)) == 1


def test_readers_reach_only_their_own_items(client: TestClient, db: Database) -> None:
    study_id, ann = setup_study(client, db)
    item = next_of(client, study_id, ann)
    bob = api_token(db, BOB)
    assert (
        client.post(f"/api/v1/reading/{item['item']}", json=answer(), headers=bob).status_code
        == 404
    )
    assert client.get(item["image_url"], headers=bob).status_code == 404
    assert client.get(f"/api/v1/reading/{item['item']}", headers=bob).status_code == 404
    stranger = api_token(db, make_user(db, "reader", "eve"))
    assert client.get(f"/api/v1/reading/next?study={study_id}", headers=stranger).status_code == 404


def test_answers_are_validated_against_the_questions(client: TestClient, db: Database) -> None:
    study_id, ann = setup_study(client, db, ask_label=False)
    item = next_of(client, study_id, ann)["item"]
    for bad in (
        answer("maybe"),
        answer(confidence=6),
        answer(confidence=None),
        answer(label="GGO"),
    ):
        response = client.post(f"/api/v1/reading/{item}", json=bad, headers=ann)
        assert response.status_code == 422, bad
    ok = client.post(f"/api/v1/reading/{item}", json=answer(label=None), headers=ann)
    assert ok.status_code == 200


def test_unshown_items_and_closed_studies_take_no_answers(client: TestClient, db: Database) -> None:
    study_id, ann = setup_study(client, db)
    next_of(client, study_id, ann)  # position 1 is shown; ann's last item is not
    with db.session() as session:
        unshown = session.scalar(
            select(AssignmentItem.token)
            .join(Assignment)
            .join(User)
            .where(User.username == "ann")
            .order_by(AssignmentItem.position.desc())
        )
    refused = client.post(f"/api/v1/reading/{unshown}", json=answer(), headers=ann)
    assert refused.status_code == 409 and "not been shown" in refused.json()["detail"]
    coord = study_owner(db)
    item = next_of(client, study_id, ann)["item"]
    client.post(f"/api/v1/studies/{study_id}/close", headers=coord)
    assert client.post(f"/api/v1/reading/{item}", json=answer(), headers=ann).status_code == 409
    assert client.get(f"/api/v1/reading/next?study={study_id}", headers=ann).status_code == 409


def test_practice_items_come_first_give_feedback_and_never_count(
    client: TestClient, db: Database
) -> None:
    study_id, ann = setup_study(client, db, practice_items=2)
    for _ in range(2):
        item = next_of(client, study_id, ann)
        assert item["practice"] is True and item["total"] == 10
        saved = client.post(f"/api/v1/reading/{item['item']}", json=answer(), headers=ann).json()
        assert saved["feedback"]["source"] in ("real", "generated")
    assert next_of(client, study_id, ann)["practice"] is False
    coord = study_owner(db)
    assert (
        client.get(f"/api/v1/studies/{study_id}/results", headers=coord).json()["n_judgments"] == 0
    )
    progress = client.get(f"/api/v1/studies/{study_id}", headers=coord).json()["readers"]
    assert progress[0]["answered"] == 0 and progress[0]["total"] == 8


def test_intake_is_asked_once_before_reading(client: TestClient, db: Database) -> None:
    study_id, _ = setup_study(client, db)
    login(client, BOB)
    first = client.get(f"/reading/{study_id}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith("/reading/intake")
    token = client.get("/reading/intake").text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {
        "experience_years": "12",
        "subspecialty": "thoracic",
        "csrf_token": token,
        "next": f"/reading/{study_id}",
    }
    assert client.post("/reading/intake", data=form, follow_redirects=False).status_code == 303
    page = client.get(f"/reading/{study_id}")
    assert page.status_code == 200 and "/static/js/reading.js" in page.text
    assert 'data-label="GGO"' in page.text and "<kbd>R</kbd>" in page.text
    again = client.post(
        "/api/v1/reading/intake", json={"experience_years": 3}, headers={"X-CSRF-Token": token}
    )
    assert again.status_code == 409
    with db.session() as session:
        bob = session.scalar(select(User).where(User.username == "bob"))
        assert bob is not None and bob.experience_years == 12
    assert "vtt1" in client.get("/reading").text


def test_label_keys_are_distinct_and_avoid_reserved_keys(db: Database) -> None:
    with db.session() as session:
        keys = label_keys(list_labels(session))
    assert len(keys) == 10 and len(set(keys.values())) == 10
    assert not set(keys.values()) & RESERVED


def test_label_keys_are_initials_a_reader_can_guess(db: Database) -> None:
    """The code's first letter; where that is taken (G is "generated", C went to CAL), a word
    of the name: O for ground-glass Opacity, V for cavity and Vacuolus, A for Air bronchogram."""
    with db.session() as session:
        keys = label_keys(list_labels(session))
    assert keys == {
        **{code: code[0] for code in ("LOB", "CAL", "SPI", "PLI", "AIB", "BRE", "NOR")},
        **{"GGO": "O", "CAV": "V", "OBP": "T"},
    }
