"""What a reader is told when an answer does not fit the study's questions, and what going
back to an earlier item shows (studies that allow changes)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.db import Database
from tests.app.routes.test_reading import BOB, next_of, setup_study
from tests.factories import api_token
from tests.study_factories import answer


def post(client: TestClient, token: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(f"/api/v1/reading/{token}", json=body, headers=headers)


def test_invalid_answers_are_refused_with_the_reason(client: TestClient, db: Database) -> None:
    study_id, ann = setup_study(client, db)
    item = next_of(client, study_id, ann)["item"]
    refused = {
        "verdict must be 'real' or 'generated'": [answer("maybe")],
        "confidence must be 1 to 5": [answer(confidence=c) for c in (0, 6, None)],
        "label must be one of the installation's label codes": [
            answer(label="XYZ"),
            answer(label=None),
        ],
        "duration_ms must be between 0 and 86400000": [answer(ms=86_400_001)],
    }
    for reason, bodies in refused.items():
        for body in bodies:
            response = post(client, item, body, ann)
            assert (response.status_code, response.json()) == (422, {"detail": reason}), body
    assert post(client, item, answer(ms=86_400_000), ann).status_code == 200


def test_every_confidence_and_duration_in_range_is_taken(client: TestClient, db: Database) -> None:
    study_id, ann = setup_study(client, db)
    for confidence, ms in ((1, 0), (2, 1), (3, None), (4, 86_399_999), (5, 86_400_000)):
        item = next_of(client, study_id, ann)["item"]
        body = answer(confidence=confidence) | {"duration_ms": ms}
        saved = post(client, item, body, ann)
        assert saved.status_code == 200, (confidence, ms, saved.text)
        assert (saved.json()["confidence"], saved.json()["duration_ms"]) == (confidence, ms)


def test_questions_a_study_does_not_ask_must_stay_empty(client: TestClient, db: Database) -> None:
    study_id, ann = setup_study(client, db, ask_confidence=False, ask_label=False)
    item = next_of(client, study_id, ann)["item"]
    for body, reason in (
        (answer(confidence=3, label=None), "this study does not ask for a confidence"),
        (answer(confidence=None, label="GGO"), "this study does not ask for a label"),
    ):
        response = post(client, item, body, ann)
        assert (response.status_code, response.json()) == (422, {"detail": reason})
    assert post(client, item, answer(confidence=None, label=None), ann).status_code == 200
    back = client.get(f"/api/v1/reading/{item}", headers=ann)
    assert (back.status_code, back.json()) == (409, {"detail": "answers in this study are final"})


def test_going_back_shows_the_item_as_it_was(client: TestClient, db: Database) -> None:
    study_id, ann = setup_study(client, db, allow_changes=True)
    tokens = []
    for _ in range(3):
        item = next_of(client, study_id, ann)
        tokens.append(item["item"])
        post(client, item["item"], answer(), ann)
    back = client.get(f"/api/v1/reading/{tokens[1]}", headers=ann).json()
    assert {k: back[k] for k in ("item", "position", "total", "practice", "previous")} == {
        "item": tokens[1],
        "position": 2,
        "total": 8,
        "practice": False,
        "previous": tokens[0],
    }
    assert back["images"] and back["judgment"]["verdict"] == "real"
    first = client.get(f"/api/v1/reading/{tokens[0]}", headers=ann).json()
    assert first["previous"] is None and first["position"] == 1
    assert next_of(client, study_id, ann)["previous"] == tokens[2]
    # Bob reads the same items in his own order: his "previous" is his own item, never Ann's.
    bob = api_token(db, BOB)
    bobs = []
    for _ in range(2):
        item = next_of(client, study_id, bob)
        bobs.append(item["item"])
        post(client, item["item"], answer(), bob)
    assert client.get(f"/api/v1/reading/{bobs[1]}", headers=bob).json()["previous"] == bobs[0]
    assert next_of(client, study_id, bob)["previous"] == bobs[1]
