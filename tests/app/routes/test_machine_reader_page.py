"""The results page's machine-reader card: what it says before any run, and its 'Run the
machine reader' button, which queues a fresh run for a coordinator."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.jobs import queue
from app.tables import Dataset, Job, ModelVersion
from tests.factories import api_token, login, make_user
from tests.study_factories import create_open_study, study_body, with_data


def test_the_results_page_runs_the_machine_reader(client: TestClient, db: Database) -> None:
    with_data(db)  # its GAN version has no lineage
    make_user(db, "reader", "ann")
    coordinator = make_user(db, "coordinator")
    study_id = create_open_study(client, api_token(db, coordinator), readers=["ann"])
    token = login(client, coordinator)
    page = client.get(f"/studies/{study_id}/results").text
    assert "Machine reader" in page and "Not run:" in page
    assert "Run the machine reader</button>" in page

    url = f"/studies/{study_id}/machine-reader/run"
    refused = client.post(url, data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 422, refused.text  # GAN's training data unknown: not queued
    with db.session() as session:
        gan = session.scalars(select(ModelVersion).where(ModelVersion.kind == "gan")).one()
        real = session.scalars(select(Dataset).where(Dataset.name == "real1")).one()
        gan.lineage = {"dataset": real.name, "dataset_id": real.id}
    assert client.post(url, follow_redirects=False).status_code == 403  # no CSRF token
    ran = client.post(url, data={"csrf_token": token}, follow_redirects=False)
    assert ran.status_code == 303 and ran.headers["location"] == f"/studies/{study_id}/results"
    with db.session() as session:
        (job,) = session.scalars(select(Job).where(Job.kind == "machine_reader")).all()
        assert job.params == {"study": study_id, "seed": 0} and job.status == "queued"
    page = client.get(f"/studies/{study_id}/results").text
    assert f'<a href="/jobs/{job.id}">{job.id}</a> queued' in page
    assert "A run is queued" in page and "<button" not in card(page)  # no second run offered
    # a second click (a page left open) queues nothing more: the page shows the queued run
    again = client.post(url, data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 303
    with db.session() as session:
        assert len(session.scalars(select(Job).where(Job.kind == "machine_reader")).all()) == 1
        session.get(Job, job.id).status = "running"  # type: ignore[union-attr]
    page = client.get(f"/studies/{study_id}/results").text
    assert f"{job.id}</a> running" in page and "<button" not in card(page)
    with db.session() as session:
        session.get(Job, job.id).status = "failed"  # type: ignore[union-attr]
    assert "Run the machine reader again</button>" in card(
        client.get(f"/studies/{study_id}/results").text
    )


def card(page: str) -> str:
    """The results page's machine-reader card."""
    return page.split('class="card machine-reader"')[1].split("</section>")[0]


def test_opening_from_the_page_or_the_api_queues_the_machine_reader_behind_training(
    client: TestClient, db: Database, settings: Settings
) -> None:
    with_data(db)
    with db.session() as session:
        gan = session.scalars(select(ModelVersion).where(ModelVersion.kind == "gan")).one()
        real = session.scalars(select(Dataset).where(Dataset.name == "real1")).one()
        gan.lineage = {"dataset": real.name, "dataset_id": real.id}
    make_user(db, "reader", "ann")
    coordinator = make_user(db, "coordinator")
    auth = api_token(db, coordinator)
    made = client.post("/api/v1/studies", json=study_body(readers=["ann"]), headers=auth)
    token = login(client, coordinator)
    opened = client.post(
        f"/studies/{made.json()['id']}/open", data={"csrf_token": token}, follow_redirects=False
    )
    assert opened.status_code == 303
    via_api = create_open_study(client, auth, name="vtt2", readers=["ann"])
    with db.session() as session:
        jobs = session.scalars(select(Job).where(Job.kind == "machine_reader")).all()
        assert {job.params["study"] for job in jobs} == {made.json()["id"], via_api}
    waiting = queue.queue_for(settings).huey.pending()
    assert sorted(int(task.args[0]) for task in waiting) == sorted(job.id for job in jobs)
    assert {task.priority for task in waiting} == {queue.MEASURING}
    queue.queue_for(settings).huey.flush()
