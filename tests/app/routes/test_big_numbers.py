"""Finding 7 of issue 11: integers of 2**63 and more in paths, query strings and bodies are a
4xx (404 or 422), never a 500; so is the study form without its real dataset field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.db import Database
from tests.factories import api_token, login, make_user

HUGE = 2**63
HUGER = 10**30


@pytest.mark.parametrize("number", [HUGE, HUGER, -HUGE - 1])
def test_huge_integers_in_paths_and_queries_are_4xx(
    client: TestClient, db: Database, number: int
) -> None:
    admin = api_token(db, make_user(db, "admin"))
    client.post("/api/v1/reading/intake", json={"experience_years": 5}, headers=admin)
    for method, path in [
        ("GET", f"/api/v1/studies/{number}"),
        ("GET", f"/api/v1/studies/{number}/results"),
        ("GET", f"/api/v1/studies/{number}/export.csv"),
        ("POST", f"/api/v1/studies/{number}/open"),
        ("GET", f"/api/v1/reading/next?study={number}"),
        ("GET", f"/api/v1/jobs/{number}"),
        ("POST", f"/api/v1/models/{number}/promote"),
        ("GET", f"/api/v1/datasets/{number}/export.zip"),
        ("DELETE", f"/api/v1/tokens/{number}"),
        ("GET", f"/studies/{number}"),
        ("GET", f"/reading/{number}"),
        ("GET", f"/jobs/{number}"),
        ("GET", f"/datasets/{number}"),
    ]:
        response = client.request(method, path, headers=admin)
        assert response.status_code in (404, 409, 422), (method, path, response.status_code)
        assert response.json()["detail"]
    assert client.get(f"/api/v1/jobs?limit={number}", headers=admin).status_code == 200, "clamped"


def test_huge_integers_in_bodies_are_422(client: TestClient, db: Database) -> None:
    admin = api_token(db, make_user(db, "admin"))
    study = {"name": "s", "items_per_reader": 2, "seed": HUGE}
    response = client.post("/api/v1/studies", json=study, headers=admin)
    assert response.status_code == 422 and "seed" in response.json()["detail"]
    intake = client.post("/api/v1/reading/intake", json={"experience_years": HUGE}, headers=admin)
    assert intake.status_code == 422
    job = {"kind": "generate", "params": {"gan": HUGE, "per_label": 1, "dataset": "x"}}
    assert client.post("/api/v1/jobs", json=job, headers=admin).status_code == 422
    token = {"username": "admin1", "expires_days": HUGE}
    assert client.post("/api/v1/tokens", json=token, headers=admin).status_code == 422


def test_study_form_without_real_dataset_is_a_clear_4xx(client: TestClient, db: Database) -> None:
    csrf = login(client, make_user(db, "coordinator"))
    form = {"csrf_token": csrf, "name": "no real field", "items_per_reader": "4"}
    form |= {"windows": "lung", "seed": str(HUGE)}
    page = client.post("/studies", data=form)
    assert page.status_code == 422
    assert "less than or equal to 2147483647" in page.text, "the seed's bound is named"
    del form["seed"]
    page = client.post("/studies", data=form)
    assert page.status_code == 422, page.status_code
    assert "needs a real dataset" in page.text
