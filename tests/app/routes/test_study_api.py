"""Study API and coordinator pages: roles, creation, validation, readers, open/close."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.db import Database
from app.tables import AuditEvent, ItemImage
from tests.factories import api_token, login, make_user
from tests.study_factories import create_open_study, study_body, with_data

HTML = {"accept": "text/html"}
COORDINATOR_ROUTES = [
    ("GET", "/api/v1/studies"),
    ("POST", "/api/v1/studies"),
    ("GET", "/api/v1/studies/1"),
    ("POST", "/api/v1/studies/1/readers"),
    ("POST", "/api/v1/studies/1/open"),
    ("POST", "/api/v1/studies/1/close"),
    ("GET", "/api/v1/studies/1/results"),
    ("GET", "/api/v1/studies/1/export.csv"),
    ("GET", "/api/v1/studies/1/figures/reader_roc.svg"),
    ("GET", "/studies"),
    ("POST", "/studies"),
    ("GET", "/studies/1"),
    ("GET", "/studies/1/progress"),
    ("POST", "/studies/1/open"),
    ("GET", "/studies/1/results"),
]
READER_ROUTES = [
    ("GET", "/api/v1/reading/studies"),
    ("POST", "/api/v1/reading/intake"),
    ("GET", "/api/v1/reading/next?study=1"),
    ("GET", "/api/v1/reading/abc"),
    ("POST", "/api/v1/reading/abc"),
    ("GET", "/api/v1/reading/abc/lung.png"),
    ("GET", "/reading"),
    ("GET", "/reading/intake"),
    ("GET", "/reading/1"),
]


def test_every_route_needs_login_and_the_right_role(client: TestClient, db: Database) -> None:
    for method, path in COORDINATOR_ROUTES + READER_ROUTES:
        assert client.request(method, path).status_code == 401, path
    reader = api_token(db, make_user(db, "reader"))
    for method, path in COORDINATOR_ROUTES:
        assert client.request(method, path, headers=reader).status_code == 403, path


def test_create_via_api_returns_the_design(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    make_user(db, "reader", "ann")
    response = client.post("/api/v1/studies", json=study_body(readers=["ann"]), headers=coord)
    assert response.status_code == 201, response.text
    study = response.json()
    assert study["status"] == "draft" and study["real"] == {"dataset": "real1", "split": "test"}
    assert study["generated"] == {"datasets": ["gen1"]} and study["allow_changes"] is False
    assert [r["reader"] for r in study["readers"]] == ["ann"]
    again = client.post("/api/v1/studies", json=study_body(), headers=coord)
    assert again.status_code == 409


def test_bad_designs_are_refused_with_reasons(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    cases = [
        (study_body(items_per_reader=500), 422, "not enough"),
        (study_body(generated={"datasets": ["real1"]}), 422, "is real, not generated"),
        (study_body(real={"dataset": "nope"}), 404, "no dataset"),
        (study_body(readers=["ghost"]), 404, "ghost"),
        (study_body(typo=1), 422, "typo"),
        (study_body(real=None), 422, "needs a real dataset"),
    ]
    for body, status, reason in cases:
        response = client.post("/api/v1/studies", json=body, headers=coord)
        assert response.status_code == status and reason in response.json()["detail"], body


def test_open_needs_readers_then_draws_and_renders(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    study_id = client.post("/api/v1/studies", json=study_body(), headers=coord).json()["id"]
    refused = client.post(f"/api/v1/studies/{study_id}/open", headers=coord)
    assert refused.status_code == 422 and "reader" in refused.json()["detail"]
    make_user(db, "reader", "ann")
    client.post(f"/api/v1/studies/{study_id}/readers", json={"readers": ["ann"]}, headers=coord)
    opened = client.post(f"/api/v1/studies/{study_id}/open", headers=coord).json()
    assert opened["status"] == "open" and opened["readers"][0]["total"] == 8
    with db.session() as session:
        assert session.query(ItemImage).count() == 16  # 8 items × 2 windows
    closed = client.post(f"/api/v1/studies/{study_id}/close", headers=coord).json()
    assert closed["status"] == "closed"
    reopened = client.post(f"/api/v1/studies/{study_id}/open", headers=coord).json()
    assert reopened["status"] == "open" and reopened["readers"][0]["total"] == 8
    with db.session() as session:
        actions = [e.action for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions[-4:] == ["study_assign", "study_open", "study_close", "study_open"]


def test_readers_join_open_shared_studies_but_not_disjoint_ones(
    client: TestClient, db: Database
) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    for name in ("ann", "bob", "cid"):
        make_user(db, "reader", name)
    shared = create_open_study(client, coord, readers=["ann"])
    late = client.post(
        f"/api/v1/studies/{shared}/readers", json={"readers": ["bob"]}, headers=coord
    )
    assert {r["reader"]: r["total"] for r in late.json()["readers"]} == {"ann": 8, "bob": 8}
    disjoint = create_open_study(client, coord, name="d", shared_items=False, readers=["ann"])
    refused = client.post(
        f"/api/v1/studies/{disjoint}/readers", json={"readers": ["cid"]}, headers=coord
    )
    assert refused.status_code == 409


def test_coordinator_pages(client: TestClient, db: Database) -> None:
    with_data(db)
    make_user(db, "reader", "ann")
    login(client, make_user(db, "coordinator"))
    page = client.get("/studies")
    assert page.status_code == 200 and "New study" in page.text and "gen1" in page.text
    form = {
        "name": "formstudy", "real_dataset": "real1", "real_split": "test", "generated": "gen1",
        "items_per_reader": "6", "real_fraction": "0.5", "shared_items": "shared",
        "ask_confidence": "on", "windows": "lung", "readers": "ann", "seed": "3",
    }  # fmt: skip
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    created = client.post("/studies", data={**form, "csrf_token": token}, follow_redirects=False)
    assert created.status_code == 303, created.text
    detail = client.get(created.headers["location"])
    assert "formstudy" in detail.text and "ann" in detail.text and "confidence" in detail.text
    bad = client.post("/studies", data={**form, "csrf_token": token})
    assert bad.status_code == 422 and "already exists" in bad.text
    study_path = created.headers["location"]
    opened = client.post(f"{study_path}/open", data={"csrf_token": token}, follow_redirects=False)
    assert opened.status_code == 303
    fragment = client.get(f"{study_path}/progress", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 5s"' in fragment.text and "<html" not in fragment.text
