"""The study page shows its whole design (issue 9): every field a coordinator sets (the
StudySpec) is on the page, with its value."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.db import Database
from app.services.studies.spec import StudySpec
from tests.factories import api_token, login, make_user
from tests.study_factories import study_body, with_data


def test_every_setting_of_the_design_is_shown(client: TestClient, db: Database) -> None:
    with_data(db)
    cora = make_user(db, "coordinator", "cora")
    make_user(db, "reader", "ann")
    body = study_body(
        name="whole-design",
        real={"dataset": "real1", "split": None},
        items_per_reader=6,
        real_fraction=0.25,
        per_label=True,
        shared_items=False,
        ask_confidence=False,
        ask_label=True,
        allow_changes=True,
        practice_items=2,
        windows=["mediastinal"],
        instructions="Look at the margins.\nTake your time.",
        end_text="Thank you, colleague.",
        readers=["ann", "cora"],
        unblinded=["cora"],
        seed=4242,
    )
    created = client.post("/api/v1/studies", json=body, headers=api_token(db, cora))
    assert created.status_code == 201, created.text
    login(client, cora)
    html = client.get(f"/studies/{created.json()['id']}").text
    design = html.split('<dl class="facts design">')[1].split("</dl>")[0]
    shown = {
        name for names in re.findall(r'data-settings="([^"]+)"', design) for name in names.split()
    }
    assert shown == set(StudySpec.model_fields)  # a new field must be shown too
    words = " ".join(re.sub(r"<[^>]+>", " ", design).split())
    for value in (
        "whole-design",
        "real1, every split",
        "gen1 ( GAN v1 )",
        "6, real fraction 0.25, stratified per label",
        "disjoint; 2 practice items",
        "real/generated, label; answers may be changed",
        "Windows mediastinal",
        "ann, cora unblinded",
        "Seed 4242",
        "Look at the margins. Take your time.",
        "Thank you, colleague.",
    ):
        assert value in words, value
