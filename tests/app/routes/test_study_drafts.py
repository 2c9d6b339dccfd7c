"""Coordinator study pages (issue 9): the studies list's progress, pool sizes and checkbox
lists in the form, a confirmation before closing, no reader assignment on a closed study,
and drafts that can be edited, copied and deleted (API and page)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.db import Database
from app.tables import AuditEvent, Study
from tests.factories import api_token, login, make_user
from tests.study_factories import (
    answer,
    create_open_study,
    make_dataset,
    study_body,
    with_data,
)


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def _row(html: str, marker: str) -> str:
    """The table row (or list item) holding MARKER."""
    start = html.index(marker)
    return html[html.rfind("<tr", 0, start) : html.index("</tr>", start)]


def _answer_some(client: TestClient, study_id: int, reader: dict[str, str], n: int) -> None:
    for _ in range(n):
        item = client.get(f"/api/v1/reading/next?study={study_id}", headers=reader).json()
        posted = client.post(f"/api/v1/reading/{item['item']}", json=answer(), headers=reader)
        assert posted.status_code == 200, posted.text


def _audit(db: Database) -> list[str]:
    with db.session() as session:
        return [e.action for e in session.query(AuditEvent).order_by(AuditEvent.id)]


def test_a_closed_study_offers_no_reader_assignment(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = make_user(db, "coordinator")
    headers = api_token(db, coord)
    for name in ("ann", "bob"):
        make_user(db, "reader", name)
    study_id = create_open_study(client, headers, readers=["ann"])
    token = login(client, coord)
    assert "Assign readers" in client.get(f"/studies/{study_id}").text  # open, shared
    client.post(f"/api/v1/studies/{study_id}/close", headers=headers)
    page = client.get(f"/studies/{study_id}")
    assert "Assign readers" not in page.text and 'action="/studies/1/readers"' not in page.text
    refused = client.post(
        f"/studies/{study_id}/readers", data={"readers": "bob", "csrf_token": token}
    )
    assert refused.status_code == 409 and "closed" in refused.text
    api = client.post(
        f"/api/v1/studies/{study_id}/readers", json={"readers": ["bob"]}, headers=headers
    )
    assert api.status_code == 409 and "reopen" in api.json()["detail"]
    reopened = client.post(f"/api/v1/studies/{study_id}/open", headers=headers)
    assert (
        reopened.status_code == 200 and "Assign readers" in client.get(f"/studies/{study_id}").text
    )


def test_closing_asks_first_and_names_who_has_not_finished(
    client: TestClient, db: Database
) -> None:
    with_data(db)
    coord = make_user(db, "coordinator")
    headers = api_token(db, coord)
    readers = {name: api_token(db, make_user(db, "reader", name)) for name in ("ann", "bob", "cid")}
    study_id = create_open_study(client, headers, readers=list(readers))
    _answer_some(client, study_id, readers["ann"], 8)  # finished
    _answer_some(client, study_id, readers["bob"], 3)
    token = login(client, coord)
    page = client.get(f"/studies/{study_id}")
    assert f'hx-get="/studies/{study_id}/close"' in page.text
    assert f'<form method="post" action="/studies/{study_id}/close"' not in page.text
    fragment = client.get(f"/studies/{study_id}/close", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "2 readers have not finished" in fragment.text
    assert "bob — 3 of 8 answered" in fragment.text and "cid — 0 of 8 answered" in fragment.text
    assert 'data-reader="ann"' not in fragment.text
    assert f'action="/studies/{study_id}/close"' in fragment.text
    without_js = client.get(f"/studies/{study_id}/close")  # the link, followed without htmx
    assert "<html" in without_js.text and "bob — 3 of 8 answered" in without_js.text
    with db.session() as session:
        assert session.get(Study, study_id).status == "open"  # asking closed nothing
    closed = client.post(
        f"/studies/{study_id}/close", data={"csrf_token": token}, follow_redirects=False
    )
    assert closed.status_code == 303
    with db.session() as session:
        assert session.get(Study, study_id).status == "closed"


def test_studies_list_shows_progress_readers_status_and_owner(
    client: TestClient, db: Database
) -> None:
    with_data(db)
    coord = make_user(db, "coordinator")
    headers = api_token(db, coord)
    readers = {name: api_token(db, make_user(db, "reader", name)) for name in ("ann", "bob")}
    study_id = create_open_study(client, headers, name="running", readers=list(readers))
    _answer_some(client, study_id, readers["ann"], 8)
    _answer_some(client, study_id, readers["bob"], 2)
    client.post(
        "/api/v1/studies", json=study_body(name="planned", readers=["ann"]), headers=headers
    )
    login(client, coord)
    page = client.get("/studies").text
    running = _row(page, 'data-study="running"')
    assert ">open<" in running and ">coordinator1<" in running
    assert 'class="num readers">2<' in running and 'class="num finished">1<' in running
    assert "10 / 16" in running  # judgments so far of those expected
    planned = _row(page, 'data-study="planned"')
    assert ">draft<" in planned and 'class="num readers">1<' in planned and "0 / 8" in planned


def test_study_form_shows_pool_sizes_and_checkbox_lists(client: TestClient, db: Database) -> None:
    with_data(db)
    make_dataset(db, "gen2", "generated", per_label=2, labels=("GGO", "NOR"), gan_version=2)
    make_user(db, "reader", "ann")
    make_user(db, "coordinator", "carol")
    login(client, make_user(db, "coordinator"))
    page = client.get("/studies").text
    assert '<select name="generated"' not in page and '<select name="readers"' not in page
    assert 'type="checkbox" name="generated" value="gen1"' in page
    assert 'type="checkbox" name="generated" value="gen2"' in page
    assert 'type="checkbox" name="readers" value="ann"' in page
    assert 'name="readers" value="carol"' not in page  # staff: only as unblinded readers
    real = _row(page, 'data-pool="real1/GGO"')
    assert re.findall(r'class="num">(\d+)<', real) == ["0", "0", "6", "6"]  # train val test all
    gen2 = page[page.index('data-pool="gen2"') :].split("</span>")[0]
    assert "GGO 2 · NOR 2" in gen2
    assert "CAL 6 · GGO 6 · NOR 6" in page[page.index('data-pool="gen1"') :].split("</span>")[0]


def test_drafts_are_edited_copied_and_deleted_by_api(client: TestClient, db: Database) -> None:
    with_data(db)
    headers = api_token(db, make_user(db, "coordinator"))
    make_user(db, "reader", "ann")
    make_user(db, "reader", "bob")
    draft = client.post("/api/v1/studies", json=study_body(readers=["ann"]), headers=headers)
    study_id = draft.json()["id"]
    edited = client.put(
        f"/api/v1/studies/{study_id}",
        json=study_body(name="renamed", items_per_reader=6, readers=["bob"]),
        headers=headers,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["name"] == "renamed" and edited.json()["items_per_reader"] == 6
    assert [r["reader"] for r in edited.json()["readers"]] == ["bob"]
    too_big = client.put(
        f"/api/v1/studies/{study_id}", json=study_body(name="renamed", items_per_reader=500),
        headers=headers,
    )  # fmt: skip
    assert too_big.status_code == 422 and "not enough" in too_big.json()["detail"]
    assert (
        client.get(f"/api/v1/studies/{study_id}", headers=headers).json()["items_per_reader"] == 6
    )
    copy = client.post(f"/api/v1/studies/{study_id}/copy", json={"name": "again"}, headers=headers)
    assert copy.status_code == 201 and copy.json()["status"] == "draft"
    assert copy.json()["items_per_reader"] == 6 and copy.json()["readers"][0]["reader"] == "bob"
    taken = client.post(f"/api/v1/studies/{study_id}/copy", json={"name": "again"}, headers=headers)
    assert taken.status_code == 409
    assert client.delete(f"/api/v1/studies/{copy.json()['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/studies/{copy.json()['id']}", headers=headers).status_code == 404
    client.post(f"/api/v1/studies/{study_id}/open", headers=headers)
    fixed = client.put(f"/api/v1/studies/{study_id}", json=study_body(name="x"), headers=headers)
    assert fixed.status_code == 409 and "opened" in fixed.json()["detail"]
    kept = client.delete(f"/api/v1/studies/{study_id}", headers=headers)
    assert kept.status_code == 409
    assert client.get(f"/api/v1/studies/{study_id}", headers=headers).json()["status"] == "open"
    opened_copy = client.post(
        f"/api/v1/studies/{study_id}/copy", json={"name": "rerun"}, headers=headers
    )
    assert opened_copy.status_code == 201 and opened_copy.json()["status"] == "draft"
    actions = [a for a in _audit(db) if a in ("study_edit", "study_copy", "study_delete")]
    assert actions == ["study_edit", "study_copy", "study_delete", "study_copy"]  # none refused


def test_draft_page_edits_copies_and_deletes(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = make_user(db, "coordinator")
    headers = api_token(db, coord)
    make_user(db, "reader", "ann")
    study_id = client.post(
        "/api/v1/studies", json=study_body(readers=["ann"], instructions="look closely"),
        headers=headers,
    ).json()["id"]  # fmt: skip
    token = login(client, coord)
    page = client.get(f"/studies/{study_id}").text
    assert f'href="/studies/{study_id}/edit"' in page and "Delete" in page and "Copy" in page
    form = client.get(f"/studies/{study_id}/edit").text
    assert 'value="vtt1"' in form and "look closely" in form
    assert 'name="readers" value="ann" checked' in form
    assert 'name="generated" value="gen1" checked' in form
    fields = {
        "name": "vtt1-edited", "real_dataset": "real1", "real_split": "test", "generated": "gen1",
        "items_per_reader": "4", "real_fraction": "0.5", "shared_items": "shared",
        "windows": "lung", "readers": "ann", "seed": "3", "csrf_token": token,
    }  # fmt: skip
    bad = client.post(f"/studies/{study_id}/edit", data={**fields, "items_per_reader": "900"})
    assert bad.status_code == 422 and "not enough" in bad.text and 'value="vtt1-edited"' in bad.text
    saved = client.post(f"/studies/{study_id}/edit", data=fields, follow_redirects=False)
    assert saved.status_code == 303
    detail = client.get(f"/studies/{study_id}").text
    assert "vtt1-edited" in detail and "4, real fraction" in detail
    copied = client.post(
        f"/studies/{study_id}/copy", data={"name": "twin", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert copied.status_code == 303
    twin = client.get(copied.headers["location"]).text
    assert "twin" in twin and "4, real fraction" in twin and 'data-reader="ann"' in twin
    twin_path = copied.headers["location"]
    unticked = client.post(f"{twin_path}/delete", data={"csrf_token": token})
    assert unticked.status_code == 409 and "tick the box beside Delete" in unticked.text
    assert client.get(twin_path).status_code == 200
    deleted = client.post(
        f"{twin_path}/delete", data={"confirm": "yes", "csrf_token": token}, follow_redirects=False
    )
    assert deleted.status_code == 303 and deleted.headers["location"] == "/studies"
    assert client.get(twin_path).status_code == 404
    assert "twin" not in client.get("/studies").text
    client.post(f"/studies/{study_id}/open", data={"csrf_token": token})
    opened = client.get(f"/studies/{study_id}").text
    assert f'href="/studies/{study_id}/edit"' not in opened and "/delete" not in opened
    assert f'action="/studies/{study_id}/copy"' in opened
    refused = client.post(
        f"/studies/{study_id}/delete", data={"confirm": "yes", "csrf_token": token}
    )
    assert refused.status_code == 409 and "copy it" in refused.text
    with db.session() as session:
        assert session.get(Study, study_id) is not None


def test_another_coordinator_cannot_edit_copy_or_delete_a_draft(
    client: TestClient, db: Database
) -> None:
    with_data(db)
    owner = api_token(db, make_user(db, "coordinator", "carol"))
    other = api_token(db, make_user(db, "coordinator", "dave"))
    study_id = client.post("/api/v1/studies", json=study_body(), headers=owner).json()["id"]
    for method, path, body in [
        ("PUT", f"/api/v1/studies/{study_id}", study_body(name="mine")),
        ("POST", f"/api/v1/studies/{study_id}/copy", {"name": "mine"}),
        ("DELETE", f"/api/v1/studies/{study_id}", None),
    ]:
        response = client.request(method, path, json=body, headers=other)
        assert response.status_code == 404 and response.json()["detail"] == f"no study {study_id}"
    kept = client.get(f"/api/v1/studies/{study_id}", headers=owner).json()
    assert kept["name"] == "vtt1"
    assert [s["name"] for s in client.get("/api/v1/studies", headers=owner).json()] == ["vtt1"]
