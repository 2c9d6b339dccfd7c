"""Exports for other tools (issue 10, item 6): the iMRMC input file parses back to the
study's judgments (realness 1-10, truth 1 = real, one modality per GAN version), and the MRMC
results come as JSON; both coordinator-only, audit-logged and never cached."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from app.db import Database
from app.tables import AuditEvent
from models.mrmc import or_analysis
from tests.factories import Account, api_token, login, make_user
from tests.study_factories import create_open_study, make_dataset, read_everything, with_data

READERS = ("ann", "bob", "cy")


def two_version_study(client: TestClient, db: Database) -> tuple[int, dict[str, str]]:
    """Real patches and generated ones of GAN versions 1 and 2, read by three readers."""
    with_data(db)  # real1, gen1 (GAN version 1)
    make_dataset(db, "gen2", "generated", gan_version=2)
    coord = api_token(db, make_user(db, "coordinator", "cora"))
    readers = [api_token(db, make_user(db, "reader", name)) for name in READERS]
    study_id = create_open_study(
        client,
        coord,
        generated={"datasets": ["gen1", "gen2"]},
        items_per_reader=16,
        readers=list(READERS),
    )
    read_everything(client, db, study_id, readers)
    return study_id, coord


def parse_imrmc(text: str) -> dict[str, Any]:
    """An independent reader of the iMRMC input format: sizes and names from the header,
    truth rows (readerID -1) and score rows after BEGIN DATA:."""
    head, _, body = text.partition("BEGIN DATA:\n")
    sizes = {k: int(v) for k, v in re.findall(r"^(NR|N0|N1|NM): *(\d+)$", head, re.M)}
    readers = dict(re.findall(r"^reader (\d+) = (\S+)$", head, re.M))
    truth: dict[int, int] = {}
    scores: dict[tuple[str, int, int], float] = {}
    for line in body.splitlines():
        reader, case, modality, score = line.split(",")
        if reader == "-1":
            assert case not in truth, "one truth row per case"
            truth[int(case)] = int(score)
        else:
            key = (readers[reader], int(case), int(modality))
            assert key not in scores, "one score per reader, case and modality"
            scores[key] = float(score)
    return {"sizes": sizes, "truth": truth, "scores": scores, "head": head}


def realness(row: dict[str, str]) -> int:
    confidence = int(row["confidence"])
    return 5 + confidence if row["verdict"] == "real" else 6 - confidence


def test_imrmc_file_parses_back_to_the_judgments_one_modality_per_gan_version(
    client: TestClient, db: Database
) -> None:
    study_id, coord = two_version_study(client, db)
    exported = client.get(f"/api/v1/studies/{study_id}/export.imrmc", headers=coord)
    assert exported.status_code == 200
    assert exported.headers["cache-control"] == "no-store"
    assert f'filename="study-{study_id}.imrmc"' in exported.headers["content-disposition"]
    parsed = parse_imrmc(exported.text)
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/api/v1/studies/{study_id}/export.csv", headers=coord).text)
        )
    )
    assert len(rows) == 3 * 16

    source = {int(r["item"]): r["source"] for r in rows}
    version = {int(r["item"]): int(r["model_version"]) for r in rows if r["source"] == "generated"}
    assert parsed["truth"] == {item: int(s == "real") for item, s in source.items()}
    assert set(version.values()) == {1, 2}
    n_real = sum(s == "real" for s in source.values())
    assert parsed["sizes"] == {"NR": 3, "N0": len(source) - n_real, "N1": n_real, "NM": 2}
    assert "modality 1 = GAN version 1" in parsed["head"]
    assert "modality 2 = GAN version 2" in parsed["head"]

    # every judgment once per modality it belongs to: a generated patch under its own GAN
    # version only, a real patch under every version; the score is its realness
    expected = {}
    for r in rows:
        item = int(r["item"])
        for modality in [version[item]] if r["source"] == "generated" else [1, 2]:
            expected[r["reader"], item, modality] = float(realness(r))
    assert parsed["scores"] == expected


def test_the_imrmc_file_reruns_the_per_version_mrmc_analysis_of_mrmc_json(
    client: TestClient, db: Database
) -> None:
    study_id, coord = two_version_study(client, db)
    parsed = parse_imrmc(client.get(f"/api/v1/studies/{study_id}/export.imrmc", headers=coord).text)
    response = client.get(f"/api/v1/studies/{study_id}/mrmc.json", headers=coord)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    results = client.get(f"/api/v1/studies/{study_id}/results", headers=coord).json()
    assert document["mrmc"] == results["mrmc"]
    assert document["study"] == "vtt1" and document["n_judgments"] == 3 * 16

    per_version = {v["model_version"]: v for v in document["mrmc"]["per_model_version"]}
    assert set(per_version) == {"1", "2"}
    for modality in (1, 2):
        cases = sorted({c for (_, c, m) in parsed["scores"] if m == modality})
        ratings = np.array(
            [[parsed["scores"][name, c, modality] for c in cases] for name in READERS]
        )
        truth = np.array([parsed["truth"][c] for c in cases])
        rerun = or_analysis(ratings, truth)
        reported = per_version[str(modality)]
        assert reported["available"] and reported["n_cases"] == len(cases)
        assert reported["auc"] == rerun.auc_means[0]
        assert list(reported["reader_auc"].values()) == list(rerun.auc[0])


def test_tool_exports_are_for_coordinators_and_audited(client: TestClient, db: Database) -> None:
    study_id, coord = two_version_study(client, db)
    reader = api_token(db, make_user(db, "reader", "dee"))
    for path in ("export.imrmc", "mrmc.json"):
        assert client.get(f"/api/v1/studies/{study_id}/{path}", headers=reader).status_code == 403
        assert client.get(f"/api/v1/studies/{study_id}/{path}").status_code == 401
        assert client.get(f"/api/v1/studies/999/{path}", headers=coord).status_code == 404
        assert client.get(f"/api/v1/studies/{study_id}/{path}", headers=coord).status_code == 200
    with db.session() as session:
        actions = [e.action for e in session.query(AuditEvent)]
    assert actions.count("study_export_imrmc") == 1 and actions.count("study_export_mrmc") == 1


def test_the_results_page_links_both(client: TestClient, db: Database) -> None:
    study_id, _ = two_version_study(client, db)
    login(client, Account("cora", "pw-cora-secret", "coordinator"))  # the study's owner
    page = client.get(f"/studies/{study_id}/results")
    assert f'href="/api/v1/studies/{study_id}/export.imrmc"' in page.text
    assert f'href="/api/v1/studies/{study_id}/mrmc.json"' in page.text
