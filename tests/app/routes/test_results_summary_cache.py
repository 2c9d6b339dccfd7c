"""The study's statistics are computed once per content (``summary_cache``): one view of the
results page with its three figures computes them once, a second view not at all, and a new
or changed judgment or a reader's intake shows at once (never a stale value). Figures inside
the page are part of viewing it; only downloads are audited as exports."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.services.studies import summary_cache
from app.tables import AuditEvent
from tests.factories import Account, api_token, login, make_user
from tests.study_factories import answer, create_open_study, study_with_two_gans, with_data


@pytest.fixture
def computations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Spy on the real ``summary_cache.compute``: one entry per call, cache emptied first."""
    summary_cache.clear()
    calls: list[int] = []
    real = summary_cache.compute

    def counted(*args: Any) -> dict[str, Any]:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(summary_cache, "compute", counted)
    return calls


def audit_actions(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent.action)))


def view_page(client: TestClient, study_id: int) -> list[str]:
    """The results page and every image on it, as a browser loads them; the image URLs."""
    page = client.get(f"/studies/{study_id}/results")
    assert page.status_code == 200
    figures = re.findall(r'<img src="([^"]+\.svg)"', page.text)
    for src in figures:
        image = client.get(src)
        assert image.status_code == 200 and image.headers["content-type"] == "image/svg+xml"
        assert image.text.lstrip().startswith(("<?xml", "<svg"))
    return figures


def test_a_page_view_computes_the_statistics_once(
    client: TestClient, db: Database, computations: list[int]
) -> None:
    study_id = study_with_two_gans(client, db)
    login(client, Account("cora", "pw-cora-secret", "coordinator"))
    figures = view_page(client, study_id)
    assert len(figures) == 3
    assert len(computations) == 1, "the page and its figures recomputed the statistics"
    view_page(client, study_id)
    client.get(f"/api/v1/studies/{study_id}/results")
    assert len(computations) == 1
    # Figures seen on the page are not exports; a download still is.
    assert "study_export_figure" not in audit_actions(db)
    download = client.get(f"/api/v1/studies/{study_id}/figures/reader_roc.png")
    assert download.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert audit_actions(db).count("study_export_figure") == 1


def test_results_follow_every_new_or_changed_answer(
    client: TestClient, db: Database, computations: list[int]
) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    ann = api_token(db, make_user(db, "reader", "ann"))
    study_id = create_open_study(client, coord, readers=["ann"], allow_changes=True)

    def results() -> dict[str, Any]:
        return dict(client.get(f"/api/v1/studies/{study_id}/results", headers=coord).json())

    def judged_real() -> tuple[int, int]:
        """(k, n) of real verdicts over every judgment, real and generated patches."""
        body = results()
        both = (body["real_judged_real"], body["generated_judged_real"])
        return sum(b["k"] for b in both), sum(b["n"] for b in both)

    tokens = []
    for _ in range(2):
        token = client.get(f"/api/v1/reading/next?study={study_id}", headers=ann).json()["item"]
        client.post(f"/api/v1/reading/{token}", json=answer("real"), headers=ann)
        tokens.append(token)
    assert judged_real() == (2, 2) and judged_real() == (2, 2)
    assert len(computations) == 1  # asked twice, computed once

    token = client.get(f"/api/v1/reading/next?study={study_id}", headers=ann).json()["item"]
    client.post(f"/api/v1/reading/{token}", json=answer("generated"), headers=ann)
    assert judged_real() == (2, 3)  # a new judgment

    changed = client.post(f"/api/v1/reading/{tokens[0]}", json=answer("generated"), headers=ann)
    assert changed.status_code == 200
    assert judged_real() == (1, 3)  # a changed one

    groups = {g["experience_group"] for g in results()["per_experience_group"]}
    client.post("/api/v1/reading/intake", json={"experience_years": 12}, headers=ann)
    after = {g["experience_group"] for g in results()["per_experience_group"]}
    assert groups == {"not stated"} and after == {"over 10 years"}  # a reader's profile
    assert len(computations) == 4
