"""The reader intake is asked once: of racing answers (two tabs, a double submit) exactly one
is stored, and the others get 409 — a real race of concurrent requests."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.tables import User
from tests.factories import api_token, make_user

RACERS = 6


def test_racing_intakes_store_exactly_one(client: TestClient, db: Database) -> None:
    reader = api_token(db, make_user(db, "reader", "ann"))
    start = threading.Barrier(RACERS)

    def post(years: int) -> int:
        start.wait()
        body = {"experience_years": years, "subspecialty": f"answer {years}"}
        return client.post("/api/v1/reading/intake", json=body, headers=reader).status_code

    with ThreadPoolExecutor(RACERS) as pool:
        statuses = list(pool.map(post, range(1, RACERS + 1)))
    assert sorted(statuses) == [204] + [409] * (RACERS - 1), statuses
    with db.session() as session:
        ann = session.scalars(select(User).where(User.username == "ann")).one()
    winner = statuses.index(204) + 1
    assert (ann.experience_years, ann.subspecialty) == (winner, f"answer {winner}")
