"""Unblinded readers: coordinators and admins can see galleries and results, so they read a
study only when the coordinator says so ("unblinded"), and the results mark them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.tables import Assignment, AuditEvent, User
from tests.factories import api_token, login, make_user
from tests.study_factories import create_open_study, read_everything, study_body, with_data


def test_a_coordinator_without_the_box_is_refused_by_name(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator", "cora"))
    make_user(db, "reader", "ann")
    refused = client.post(
        "/api/v1/studies", json=study_body(readers=["ann", "cora"]), headers=coord
    )
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert "'cora'" in detail and "coordinator" in detail and "not blinded" in detail
    assert client.get("/api/v1/studies", headers=coord).json() == []  # nothing created

    study_id = create_open_study(client, coord, readers=["ann"])
    make_user(db, "admin", "root")
    late = client.post(
        f"/api/v1/studies/{study_id}/readers", json={"readers": ["root"]}, headers=coord
    )
    assert late.status_code == 422 and "'root' is an admin" in late.json()["detail"]
    readers = client.get(f"/api/v1/studies/{study_id}", headers=coord).json()["readers"]
    assert [r["reader"] for r in readers] == ["ann"]


def test_a_box_for_someone_not_assigned_is_refused(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator", "cora"))
    body = study_body(readers=[], unblinded=["cora"])
    refused = client.post("/api/v1/studies", json=body, headers=coord)
    assert refused.status_code == 422 and "cora" in refused.json()["detail"]


def test_with_the_box_they_read_and_the_results_mark_them(client: TestClient, db: Database) -> None:
    with_data(db)
    cora = make_user(db, "coordinator", "cora")
    coord = api_token(db, cora)
    ann = api_token(db, make_user(db, "reader", "ann"))
    body = {"readers": ["ann", "cora"], "unblinded": ["cora"]}
    study_id = create_open_study(client, coord, **body)
    with db.session() as session:
        marked = dict(
            session.execute(
                select(User.username, Assignment.unblinded).join(
                    Assignment, Assignment.reader_id == User.id
                )
            ).all()
        )
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "study_assign")).one()
    assert marked == {"ann": False, "cora": True}
    assert event.detail == {"readers": ["ann", "cora"], "unblinded": ["cora"]}

    read_everything(client, db, study_id, [ann, coord])
    results = client.get(f"/api/v1/studies/{study_id}/results", headers=coord).json()
    assert {r["reader"]: r["unblinded"] for r in results["per_reader"]} == {
        "ann": False,
        "cora": True,
    }
    login(client, cora)
    page = client.get(f"/studies/{study_id}/results").text
    row = page.split('<td class="row-head">cora')[1].split("</tr>")[0]
    assert 'class="badge unblinded"' in row
    ann_row = page.split('<td class="row-head">ann')[1].split("</tr>")[0]
    assert 'class="badge unblinded"' not in ann_row


def test_the_study_form_box_assigns_and_marks(client: TestClient, db: Database) -> None:
    with_data(db)
    cora = make_user(db, "coordinator", "cora")
    make_user(db, "reader", "ann")
    csrf = login(client, cora)
    form = {
        "csrf_token": csrf,
        "name": "formvtt",
        "real_dataset": "real1",
        "real_split": "test",
        "generated": "gen1",
        "items_per_reader": "8",
        "real_fraction": "0.5",
        "shared_items": "shared",
        "windows": "lung",
        "seed": "0",
    }
    page = client.get("/studies").text
    assert 'name="unblinded" value="cora"' in page and 'name="unblinded" value="ann"' not in page
    refused = client.post("/studies", data={**form, "readers": ["ann", "cora"]})
    assert refused.status_code == 422 and "&#39;cora&#39; is a coordinator" in refused.text
    created = client.post(
        "/studies", data={**form, "readers": ["ann"], "unblinded": ["cora"]}, follow_redirects=False
    )
    assert created.status_code == 303, created.text
    with db.session() as session:
        marked = dict(
            session.execute(
                select(User.username, Assignment.unblinded).join(
                    Assignment, Assignment.reader_id == User.id
                )
            ).all()
        )
    assert marked == {"ann": False, "cora": True}
