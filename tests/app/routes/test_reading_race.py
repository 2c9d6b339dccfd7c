"""Concurrent identical answers (double click, two tabs, a retry racing the original) store
one judgment, and every request gets that judgment back: a real race, on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db import Database
from app.tables import AssignmentItem, Judgment
from tests.conftest import PG_URL
from tests.factories import api_token, make_user
from tests.study_factories import answer, create_open_study, with_data

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="a real race needs concurrent writers: SQLite serialises them; "
    "set LUNGSIGN_TEST_DATABASE_URL to run it on PostgreSQL",
)
RACERS = 8


def race(client: TestClient, token: str, headers: dict[str, str]) -> list[Any]:
    """RACERS identical POSTs of one answer, released together."""
    start = threading.Barrier(RACERS)

    def post(_: int) -> Any:
        start.wait()
        return client.post(f"/api/v1/reading/{token}", json=answer("generated"), headers=headers)

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(post, range(RACERS)))


def test_racing_identical_answers_store_one_judgment(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    reader = api_token(db, make_user(db, "reader", "ann"))
    study_id = create_open_study(client, coord, readers=["ann"])
    for _ in range(8):
        item = client.get(f"/api/v1/reading/next?study={study_id}", headers=reader).json()
        replies = race(client, item["item"], reader)
        assert [r.status_code for r in replies] == [200] * RACERS, [r.text for r in replies]
        bodies = [r.json() for r in replies]
        assert sum(b.pop("created") for b in bodies) == 1, "exactly one request stored it"
        assert all(b == bodies[0] for b in bodies), "every request gets the stored judgment"
        with db.session() as session:
            stored = session.scalars(
                select(Judgment).join(AssignmentItem).where(AssignmentItem.token == item["item"])
            ).all()
        assert len(stored) == 1 and stored[0].verdict == bodies[0]["verdict"] == "generated"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Judgment)) == 8
