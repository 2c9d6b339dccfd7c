"""Finding 10 of issue 11: bounded study texts, no control or direction characters in names,
GET /reading/next changes nothing (the first answer records the progress instead)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.errors import Invalid
from app.services.ingest.directory import import_directory
from app.tables import Assignment, AssignmentItem, Judgment
from app.text_rules import MAX_STUDY_TEXT
from tests.factories import api_token, make_user
from tests.study_factories import answer, create_open_study, study_body, with_data
from tests.upload_factories import small_zip


def _state(db: Database) -> dict[str, Any]:
    """Everything a GET could have written: assignment stamps, items shown, judgments."""
    with db.session() as session:
        return {
            "assignments": session.execute(
                select(Assignment.id, Assignment.started_at, Assignment.finished_at)
            ).all(),
            "shown": session.execute(select(AssignmentItem.id, AssignmentItem.shown_at)).all(),
            "judgments": session.scalar(select(Judgment.id).limit(1)),
        }


def test_get_next_changes_nothing_and_answers_record_progress(
    client: TestClient, db: Database
) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    ann = api_token(db, make_user(db, "reader", "ann"))
    study_id = create_open_study(client, coord, readers=["ann"], items_per_reader=3)
    before = _state(db)
    for _ in range(3):
        item = client.get(f"/api/v1/reading/next?study={study_id}", headers=ann).json()
    assert _state(db) == before, "GET /reading/next wrote to the database"
    progress = client.get(f"/api/v1/studies/{study_id}", headers=coord).json()["readers"][0]
    assert progress["started_at"] is None
    client.post(f"/api/v1/reading/{item['item']}", json=answer(), headers=ann)
    progress = client.get(f"/api/v1/studies/{study_id}", headers=coord).json()["readers"][0]
    assert progress["started_at"] and progress["finished_at"] is None
    while not (
        item := client.get(f"/api/v1/reading/next?study={study_id}", headers=ann).json()
    ).get("done"):
        client.post(f"/api/v1/reading/{item['item']}", json=answer(), headers=ann)
    progress = client.get(f"/api/v1/studies/{study_id}", headers=coord).json()["readers"][0]
    assert progress["answered"] == 3 and progress["finished_at"]
    with db.session() as session:
        assert None not in session.scalars(select(AssignmentItem.shown_at)).all()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "study\x00one"),
        ("name", "invoice\u202egpj.exe"),
        ("name", "a\u2066b"),
        ("instructions", "x" * (MAX_STUDY_TEXT + 1)),
        ("instructions", "read\x00carefully"),
        ("end_text", "thanks\u202e"),
        ("end_text", "y" * (MAX_STUDY_TEXT + 1)),
    ],
)
def test_study_texts_are_bounded_and_clean(
    client: TestClient, db: Database, field: str, value: str
) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    response = client.post("/api/v1/studies", json=study_body(**{field: value}), headers=coord)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]


def test_ordinary_texts_pass(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    body = study_body(
        name="Étude 2 — رادیولوژی",
        instructions="Line one.\nLine two,\tindented.",
        end_text="z" * MAX_STUDY_TEXT,
    )
    assert client.post("/api/v1/studies", json=body, headers=coord).status_code == 201


def test_dataset_names_refuse_control_and_direction_characters(
    client: TestClient, db: Database
) -> None:
    admin = api_token(db, make_user(db, "admin"))
    files = {"file": ("c.zip", small_zip({"annotations.csv": "x"}), "application/zip")}
    upload = client.post(
        "/api/v1/datasets", data={"name": "scans\u202eexe.zip"}, files=files, headers=admin
    )
    assert upload.status_code == 422, upload.text
    assert "direction control" in upload.json()["detail"]
    job = {"kind": "generate", "params": {"gan": 1, "per_label": 1, "dataset": "gen\x00one"}}
    refused = client.post("/api/v1/jobs", json=job, headers=admin)
    assert refused.status_code == 422 and "control character" in refused.json()["detail"]


def test_cli_import_refuses_a_direction_control_in_the_dataset_name(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    with db.session() as session, pytest.raises(Invalid, match="direction control"):
        import_directory(session, settings, tmp_path, "scans\u202eexe", None)


def test_the_subspecialty_refuses_direction_characters(client: TestClient, db: Database) -> None:
    ann = api_token(db, make_user(db, "reader", "ann"))
    body = {"experience_years": 4, "subspecialty": "thoracic\u202e"}
    refused = client.post("/api/v1/reading/intake", json=body, headers=ann)
    assert refused.status_code == 422 and "direction control" in refused.json()["detail"]
    body["subspecialty"] = "thoracic"
    assert client.post("/api/v1/reading/intake", json=body, headers=ann).status_code == 204
