"""Study ownership (issue 11, finding 13): a study is seen by its owner, the coordinators it
is shared with, and admins. To any other coordinator it does not exist: every study route
(enumerated from the app's route table, so a new one is covered) answers exactly as for an
id no study has, and nothing it asks for happens."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.routes import ROUTERS
from app.services.studies import lifecycle as studies
from app.services.studies.spec import StudySpec
from app.tables import AuditEvent, Job, Study
from tests.factories import Account, api_token, csrf_from, login, make_user
from tests.study_factories import answer, create_open_study, study_body, with_data

STUDY_PATH = re.compile(r"^(/api/v1)?/studies/\{study_id\}")
FILL = {"name": "judged_real_by_label", "fmt": "svg", "action": "close", "username": "nobody"}


def study_routes() -> list[tuple[str, str]]:
    """Every (method, path) of a study's own routes, pages and API."""
    found = {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and STUDY_PATH.match(route.path)
        for method in (route.methods or set()) - {"HEAD"}
    }
    return sorted(found)


def url(path: str, study_id: int) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(study_id) if m[1] == "study_id" else FILL[m[1]], path)


@pytest.fixture
def team(client: TestClient, db: Database) -> Iterator[dict[str, dict[str, str]]]:
    """Coordinators ann (owner) and bob, admin root, reader rea (assigned): token headers."""
    with_data(db)
    accounts = {
        "ann": make_user(db, "coordinator", "ann"),
        "bob": make_user(db, "coordinator", "bob"),
        "root": make_user(db, "admin", "root"),
        "rea": make_user(db, "reader", "rea"),
    }
    yield {name: api_token(db, account) for name, account in accounts.items()}


def detail(response: object) -> str:
    return str(response.json().get("detail"))  # type: ignore[attr-defined]


def status_of(db: Database, study_id: int) -> str:
    with db.session() as session:
        study = session.get(Study, study_id)
        assert study is not None
        return study.status


def test_other_coordinator_cannot_see_open_export_or_learn_of_a_study(
    client: TestClient, db: Database, team: dict[str, dict[str, str]]
) -> None:
    ann, bob = team["ann"], team["bob"]
    study_id = create_open_study(client, ann, readers=["rea"])
    item = client.get(f"/api/v1/reading/next?study={study_id}", headers=team["rea"]).json()
    assert client.post(f"/api/v1/reading/{item['item']}", json=answer(), headers=team["rea"])
    routes = study_routes()
    assert len(routes) >= 17, routes  # pages, API, exports, figures, machine reader, sharing
    missing = 987654
    for method, path in routes:
        body = {} if method == "POST" else None
        theirs = client.request(method, url(path, study_id), headers=bob, json=body)
        nobody = client.request(method, url(path, missing), headers=bob, json=body)
        # the same answer as for a study that does not exist: nothing tells them it does
        assert theirs.status_code == nobody.status_code, (method, path, theirs.text)
        assert detail(theirs) == detail(nobody).replace(str(missing), str(study_id)), path
        if detail(theirs) != "this needs the admin role":  # an admin's route: 403 for any id
            assert theirs.status_code == 404, (method, path, theirs.status_code, theirs.text)
            assert detail(theirs) == f"no study {study_id}"
    assert status_of(db, study_id) == "open"  # bob's close did nothing
    listed = client.get("/api/v1/studies", headers=bob).json()
    assert listed == []
    page = client.get("/studies", headers=bob)
    assert page.status_code == 200 and "vtt1" not in page.text
    # the owner, and an admin, still see every GET route (never 'no study')
    for method, path in routes:
        if method == "GET":
            for who in ("ann", "root"):
                seen = client.get(url(path, study_id), headers=team[who])
                assert seen.status_code < 500, (who, path, seen.text)
                assert seen.status_code != 404 or "no study" not in seen.text, (who, path)
    # and the reader still reads: /reading is by assignment, not ownership
    assert client.get(f"/reading/{study_id}", headers=team["rea"]).status_code == 200
    next_item = client.get(f"/api/v1/reading/next?study={study_id}", headers=team["rea"])
    assert next_item.status_code == 200 and "item" in next_item.json()


def test_sharing_gives_access_and_unsharing_takes_it_back_at_once(
    client: TestClient, db: Database, team: dict[str, dict[str, str]]
) -> None:
    ann, bob = team["ann"], team["bob"]
    study_id = create_open_study(client, ann, readers=["rea"])
    base = f"/api/v1/studies/{study_id}"
    assert client.get(base, headers=bob).status_code == 404
    shared = client.post(f"{base}/collaborators", json={"username": "bob"}, headers=ann)
    assert shared.status_code == 201, shared.text
    assert shared.json()["owner"] == "ann"
    assert [(c["username"], c["added_by"]) for c in shared.json()["collaborators"]] == [
        ("bob", "ann")
    ]
    # bob now sees it, in the list too, and manages it: close, export, results
    assert client.get(base, headers=bob).status_code == 200
    assert [s["id"] for s in client.get("/api/v1/studies", headers=bob).json()] == [study_id]
    assert client.post(f"{base}/close", headers=bob).status_code == 200
    assert status_of(db, study_id) == "closed"
    assert client.get(f"{base}/export.csv", headers=bob).status_code == 200
    assert client.get(f"{base}/collaborators", headers=bob).status_code == 200
    # ... but cannot pass it on: sharing is the owner's or an admin's decision
    make_user(db, "coordinator", "cid")
    passed = client.post(f"{base}/collaborators", json={"username": "cid"}, headers=bob)
    assert passed.status_code == 403 and "owner" in detail(passed)
    removed = client.delete(f"{base}/collaborators/bob", headers=ann)
    assert removed.status_code == 200 and removed.json()["collaborators"] == []
    assert client.get(base, headers=bob).status_code == 404  # the very next request
    assert client.get("/api/v1/studies", headers=bob).json() == []
    with db.session() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("study_%share"))
        ).all()
        assert actions == ["study_share", "study_unshare"]


def test_admin_sees_and_shares_every_study_and_lists_hold_the_callers_studies(
    client: TestClient, db: Database, team: dict[str, dict[str, str]]
) -> None:
    ann, bob, root = team["ann"], team["bob"], team["root"]
    anns = create_open_study(client, ann, name="anns", readers=["rea"])
    bobs = create_open_study(client, bob, name="bobs", readers=["rea"])
    assert [s["name"] for s in client.get("/api/v1/studies", headers=ann).json()] == ["anns"]
    assert [s["name"] for s in client.get("/api/v1/studies", headers=bob).json()] == ["bobs"]
    everything = {s["name"] for s in client.get("/api/v1/studies", headers=root).json()}
    assert everything == {"anns", "bobs"}
    assert client.get(f"/api/v1/studies/{bobs}/results", headers=root).status_code == 200
    shared = client.post(
        f"/api/v1/studies/{bobs}/collaborators", json={"username": "ann"}, headers=root
    )
    assert shared.status_code == 201, shared.text
    names = [s["name"] for s in client.get("/api/v1/studies", headers=ann).json()]
    assert sorted(names) == ["anns", "bobs"]
    assert client.get(f"/api/v1/studies/{anns}", headers=root).status_code == 200


def test_sharing_refusals_name_the_account_and_the_reason(
    client: TestClient, db: Database, team: dict[str, dict[str, str]]
) -> None:
    ann = team["ann"]
    study_id = create_open_study(client, ann, readers=["rea"])
    base = f"/api/v1/studies/{study_id}/collaborators"
    reader = client.post(base, json={"username": "rea"}, headers=ann)
    assert reader.status_code == 422
    assert "'rea' is a reader" in detail(reader) and "coordinators and admins" in detail(reader)
    unknown = client.post(base, json={"username": "ghost"}, headers=ann)
    assert unknown.status_code == 422 and "no account 'ghost'" in detail(unknown)
    not_shared = client.delete(f"{base}/bob", headers=ann)
    assert not_shared.status_code == 404 and "not shared with 'bob'" in detail(not_shared)
    again = [client.post(base, json={"username": "bob"}, headers=ann) for _ in range(2)]
    assert [r.status_code for r in again] == [201, 201]
    assert len(again[1].json()["collaborators"]) == 1  # sharing twice changes nothing
    owner = client.post(base, json={"username": "ann"}, headers=ann)
    assert owner.status_code == 201 and len(owner.json()["collaborators"]) == 1


def test_study_page_shows_owner_and_collaborators_and_shares_with_htmx(
    client: TestClient, db: Database, team: dict[str, dict[str, str]]
) -> None:
    study_id = create_open_study(client, team["ann"], readers=["rea"])
    login(client, make_user(db, "coordinator", "carl"))
    assert client.get(f"/studies/{study_id}").status_code == 404  # carl: not his
    client.cookies.clear()
    csrf = login(client, Account("ann", "pw-ann-secret", "coordinator"))
    page = client.get(f"/studies/{study_id}")
    assert page.status_code == 200
    assert re.search(r'data-testid="owner">ann<', page.text)
    hx = {"HX-Request": "true", "X-CSRF-Token": csrf}
    card = client.post(f"/studies/{study_id}/collaborators", data={"username": "carl"}, headers=hx)
    assert card.status_code == 200 and '<td class="row-head">carl</td>' in card.text
    refused = client.post(
        f"/studies/{study_id}/collaborators", data={"username": "rea"}, headers=hx
    )
    assert refused.status_code == 200 and "&#39;rea&#39; is a reader" in refused.text
    page = client.get(f"/studies/{study_id}")
    assert '<td class="row-head">carl</td>' in page.text and csrf_from(page.text)
    removed = client.post(f"/studies/{study_id}/collaborators/carl/remove", headers=hx)
    assert removed.status_code == 200 and 'row-head">carl<' not in removed.text
    assert "Not shared" in removed.text


def test_a_study_without_an_owner_is_for_admins_until_one_is_given(
    client: TestClient, db: Database, team: dict[str, dict[str, str]]
) -> None:
    spec = StudySpec.model_validate(study_body(name="cli-made"))
    with db.session() as session:  # as 'lungsign study create' does: no user, no owner
        study_id = studies.create_study(session, spec, None).id
    assert client.get(f"/api/v1/studies/{study_id}", headers=team["ann"]).status_code == 404
    assert client.get(f"/api/v1/studies/{study_id}", headers=team["root"]).status_code == 200
    shared = client.get(f"/api/v1/studies/{study_id}/collaborators", headers=team["root"])
    assert shared.json()["owner"] is None


def test_a_studys_machine_reader_job_is_hidden_from_other_coordinators(
    client: TestClient, db: Database, team: dict[str, dict[str, str]]
) -> None:
    study_id = create_open_study(client, team["ann"], readers=["rea"])
    with db.session() as session:  # as opening queues it, with scores in its result
        job = Job(kind="machine_reader", params={"study": study_id}, result={"auc": 0.61})
        other = Job(kind="generate", params={"gan": 1})
        session.add_all([job, other])
        session.flush()
        job_id, other_id = job.id, other.id
    for who, sees in (("bob", False), ("ann", True), ("root", True)):
        listed = {j["id"] for j in client.get("/api/v1/jobs", headers=team[who]).json()}
        assert (job_id in listed) is sees and other_id in listed, who
        page = client.get("/jobs", headers=team[who])
        assert (f'href="/jobs/{job_id}"' in page.text) is sees, who
        assert f'href="/jobs/{other_id}"' in page.text, who
        for path in (f"/api/v1/jobs/{job_id}", f"/jobs/{job_id}"):
            shown = client.get(path, headers=team[who])
            assert (shown.status_code == 200) is sees, (who, path, shown.status_code)
            if not sees:
                assert detail(shown) == f"no job {job_id}"


def test_an_admin_gives_an_ownerless_study_an_owner(
    client: TestClient, db: Database, team: dict[str, dict[str, str]]
) -> None:
    spec = StudySpec.model_validate(study_body(name="cli-made"))
    with db.session() as session:
        study_id = studies.create_study(session, spec, None).id
    owner = f"/api/v1/studies/{study_id}/owner"
    refused = client.put(owner, json={"username": "ann"}, headers=team["ann"])
    assert refused.status_code == 403  # an admin's route: 403 for any id, seen or not
    assert detail(refused) == detail(
        client.put("/api/v1/studies/987654/owner", json={"username": "ann"}, headers=team["ann"])
    )
    reader = client.put(owner, json={"username": "rea"}, headers=team["root"])
    assert reader.status_code == 422 and "'rea' is a reader" in detail(reader)
    given = client.put(owner, json={"username": "ann"}, headers=team["root"])
    assert given.status_code == 200 and given.json()["owner"] == "ann"
    assert client.get(f"/api/v1/studies/{study_id}", headers=team["ann"]).status_code == 200
    # ann owns it now, but only an admin hands a study over
    handover = client.put(owner, json={"username": "bob"}, headers=team["ann"])
    assert handover.status_code == 403
    # by the page's form, the previous owner staying as a collaborator
    csrf = login(client, Account("root", "pw-root-secret", "admin"))
    hx = {"HX-Request": "true", "X-CSRF-Token": csrf}
    card = client.post(f"/studies/{study_id}/owner", data={"username": "bob"}, headers=hx)
    assert card.status_code == 200 and re.search(r'data-testid="owner">bob<', card.text)
    assert '<td class="row-head">ann</td>' in card.text
    assert client.get(f"/api/v1/studies/{study_id}", headers=team["bob"]).status_code == 200
    with db.session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "study_owner").order_by(AuditEvent.id)
        ).all()
        assert [(e.detail["owner"], e.detail["previous"]) for e in events] == [
            ("ann", None),
            ("bob", "ann"),
        ]


def test_the_planner_takes_no_pilot_from_another_coordinators_study(
    client: TestClient, db: Database, team: dict[str, dict[str, str]]
) -> None:
    study_id = create_open_study(client, team["ann"], name="anns-pilot", readers=["rea"])
    client.headers.update(team["bob"])
    design = {"readers": 6, "items": 60}
    for ref in ("anns-pilot", str(study_id)):
        theirs = client.get("/studies/plan", params={**design, "pilot": ref})
        assert f"no study &#39;{ref}&#39;" in theirs.text  # as for a name no study has
        assert "anns-pilot" not in theirs.text.replace(f"&#39;{ref}&#39;", "")
    client.headers.update(team["ann"])
    own = client.get("/studies/plan", params={**design, "pilot": "anns-pilot"})
    assert "no study" not in own.text  # found: unread yet, so it lends no variances
    assert "pilot study &#39;anns-pilot&#39; has no judgments" in own.text
