"""Results: scripted readers with a known pattern; the summary JSON matches an independent
computation from the study's own exported CSV, statistic by statistic."""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import defaultdict
from itertools import combinations
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.tables import AssignmentItem, AuditEvent, Patch, StudyItem
from tests.factories import api_token, login, make_user
from tests.study_factories import create_open_study, make_dataset, with_data

COLUMNS = (
    "study,reader,item,patch_id,source,true_label,model_version,"
    "verdict,confidence,label,duration_ms,answered_at,"
    "first_duration_ms,first_answered_at,revisions"  # appended by issue 9: older ones unmoved
)
PROPORTIONS = (
    "generated_judged_real",
    "real_judged_real",
    "accuracy",
    "sensitivity",
    "specificity",
    "label_accuracy",
)


# --- the scripted readers --------------------------------------------------------------
def truth(db: Database, token: str) -> tuple[str, str]:
    with db.session() as session:
        row = session.execute(
            select(Patch.source, Patch.label_code)
            .join(StudyItem, StudyItem.patch_id == Patch.id)
            .join(AssignmentItem, AssignmentItem.study_item_id == StudyItem.id)
            .where(AssignmentItem.token == token)
        ).one()
    return row[0], row[1]


def scripted_answer(reader: int, position: int, source: str, label: str) -> dict[str, Any]:
    """Reader 0 calls everything real; 1 is right except every third item; 2 alternates."""
    other = "generated" if source == "real" else "real"
    verdict = ["real", other if position % 3 == 0 else source, ["real", "generated"][position % 2]][
        reader
    ]
    given = [label, "GGO", label if position % 2 else "NOR"][reader]
    confidence = [3, 5 if verdict == source else 2, 1 + position % 5][reader]
    return {
        "verdict": verdict,
        "confidence": confidence,
        "label": given,
        "duration_ms": 400 + 37 * position + 250 * reader,
    }


def run_readers(
    client: TestClient, db: Database, study_id: int, readers: list[dict[str, str]]
) -> None:
    for index, headers in enumerate(readers):
        while not (
            item := client.get(f"/api/v1/reading/next?study={study_id}", headers=headers).json()
        ).get("done"):
            body = scripted_answer(index, item["position"], *truth(db, item["item"]))
            assert (
                client.post(
                    f"/api/v1/reading/{item['item']}", json=body, headers=headers
                ).status_code
                == 200
            )


# --- the independent computation -------------------------------------------------------
def binomial_p(k: int, n: int) -> float:
    tail = min(
        sum(math.comb(n, i) for i in range(k + 1)), sum(math.comb(n, i) for i in range(k, n + 1))
    )
    return min(1.0, 2 * tail / 2**n)


def wilson(k: int, n: int) -> list[float]:
    z, p = 1.959963984540054, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return [max(0.0, centre - half), min(1.0, centre + half)]


def prop(rows: list[dict[str, str]], hit: Any) -> dict[str, Any]:
    k, n = sum(1 for r in rows if hit(r)), len(rows)
    return (
        {"k": k, "n": n, "rate": k / n, "ci95": wilson(k, n), "p_value": binomial_p(k, n)}
        if n
        else None
    )


def cohen(a: list[str], b: list[str]) -> float:
    n, cats = len(a), set(a) | set(b)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    expected = sum((a.count(c) / n) * (b.count(c) / n) for c in cats)
    return (observed - expected) / (1 - expected)


def fleiss(rows: list[list[str]]) -> float:
    m, cats = len(rows[0]), sorted({c for r in rows for c in r})
    p_i = [(sum(r.count(c) ** 2 for c in cats) - m) / (m * (m - 1)) for r in rows]
    p_j = [sum(r.count(c) for r in rows) / (len(rows) * m) for c in cats]
    p_bar, p_e = sum(p_i) / len(rows), sum(p * p for p in p_j)
    return (p_bar - p_e) / (1 - p_e)


def auc_by_pairs(rows: list[dict[str, str]]) -> float:
    def score(r: dict[str, str]) -> int:
        c = int(r["confidence"])
        return 5 + c if r["verdict"] == "real" else 6 - c

    pos = [score(r) for r in rows if r["source"] == "real"]
    neg = [score(r) for r in rows if r["source"] == "generated"]
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def expected_rates(rows: list[dict[str, str]]) -> dict[str, Any]:
    gen = [r for r in rows if r["source"] == "generated"]
    real = [r for r in rows if r["source"] == "real"]
    times = sorted(int(r["duration_ms"]) for r in rows)
    q1, _, q3 = statistics.quantiles(times, n=4, method="inclusive")
    return {
        "n_judgments": len(rows),
        "generated_judged_real": prop(gen, lambda r: r["verdict"] == "real"),
        "real_judged_real": prop(real, lambda r: r["verdict"] == "real"),
        "accuracy": prop(rows, lambda r: r["verdict"] == r["source"]),
        "sensitivity": prop(gen, lambda r: r["verdict"] == "generated"),
        "specificity": prop(real, lambda r: r["verdict"] == "real"),
        "label_accuracy": prop(rows, lambda r: r["label"] == r["true_label"]),
        "reading_time_ms": {"median": statistics.median(times), "q1": q1, "q3": q3},
    }


def assert_same_rates(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert actual["n_judgments"] == expected["n_judgments"]
    for key in PROPORTIONS:
        got, want = actual[key], expected[key]
        assert (got["k"], got["n"]) == (want["k"], want["n"]), key
        assert got["rate"] == pytest.approx(want["rate"]), key
        assert got["ci95"] == pytest.approx(want["ci95"], abs=1e-9), key
        assert got["p_value"] == pytest.approx(want["p_value"], rel=1e-9), key
    assert actual["reading_time_ms"] == pytest.approx(expected["reading_time_ms"])


def by(rows: list[dict[str, str]], key: str) -> dict[str, list[dict[str, str]]]:
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        groups[r[key]].append(r)
    return groups


def test_results_match_an_independent_computation_from_the_csv(
    client: TestClient, db: Database
) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    names = ["ann", "bob", "cid"]
    readers = [api_token(db, make_user(db, "reader", n)) for n in names]
    client.post("/api/v1/reading/intake", json={"experience_years": 12}, headers=readers[0])
    study_id = create_open_study(
        client, coord, readers=names, items_per_reader=12, per_label=True, practice_items=2
    )
    run_readers(client, db, study_id, readers)

    exported = client.get(f"/api/v1/studies/{study_id}/export.csv", headers=coord)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.text.splitlines()[0] == COLUMNS
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 36  # practice answers never count
    results = client.get(f"/api/v1/studies/{study_id}/results", headers=coord).json()

    assert_same_rates(results, expected_rates(rows))
    per_reader = {r["reader"]: r for r in results["per_reader"]}
    for reader, mine in by(rows, "reader").items():
        assert_same_rates(per_reader[reader], expected_rates(mine))
        assert per_reader[reader]["auc"] == pytest.approx(auc_by_pairs(mine))
    per_label = {r["label"]: r for r in results["per_label"]}
    for label, mine in by(rows, "true_label").items():
        assert_same_rates(per_label[label], expected_rates(mine))

    verdicts = {
        item: {r["reader"]: r["verdict"] for r in group} for item, group in by(rows, "item").items()
    }
    assert results["fleiss_kappa"] == pytest.approx(
        fleiss([list(v.values()) for v in verdicts.values()])
    )
    for pair in results["pairwise_kappa"]:
        a, b = pair["readers"]
        assert pair["kappa"] == pytest.approx(
            cohen([v[a] for v in verdicts.values()], [v[b] for v in verdicts.values()])
        )
    assert [p["readers"] for p in results["pairwise_kappa"]] == [
        list(p) for p in combinations(names, 2)
    ]
    assert results["label_kappa"] == pytest.approx(
        cohen([r["true_label"] for r in rows], [r["label"] for r in rows])
    )

    # The known pattern, stated plainly: ann calls every patch real.
    assert per_reader["ann"]["generated_judged_real"]["rate"] == 1.0
    assert per_reader["ann"]["label_accuracy"]["rate"] == 1.0 and per_reader["bob"]["auc"] > 0.5
    groups = {g["experience_group"]: g["n_judgments"] for g in results["per_experience_group"]}
    assert groups == {"over 10 years": 12, "not stated": 24}
    assert {r["model_version"] for r in rows if r["source"] == "generated"} == {"1"}

    # Beside the naive figures: the MRMC AUC (the readers' own AUCs, averaged) and the
    # judged-real rate with a reader × item interval around the same k / n.
    pooled = results["mrmc"]["pooled"]
    assert pooled["available"] and pooled["readers"] == names and pooled["n_cases"] == 12
    for reader in names:
        assert pooled["reader_auc"][reader] == pytest.approx(per_reader[reader]["auc"])
    assert [v["model_version"] for v in results["mrmc"]["per_model_version"]] == ["1"]
    naive, clustered = results["generated_judged_real"], results["clustered"]
    assert clustered["generated_judged_real"]["k"] == naive["k"]
    assert clustered["generated_judged_real"]["n"] == naive["n"]


def test_exports_are_audit_logged_and_figures_render(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    reader = api_token(db, make_user(db, "reader", "ann"))
    study_id = create_open_study(client, coord, readers=["ann"])
    run_readers(client, db, study_id, [reader])
    client.get(f"/api/v1/studies/{study_id}/export.csv", headers=coord)
    client.get(f"/api/v1/studies/{study_id}/results", headers=coord)
    for name in ("judged_real_by_label", "reader_roc", "label_confusion"):
        svg = client.get(f"/api/v1/studies/{study_id}/figures/{name}.svg", headers=coord)
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
        png = client.get(f"/api/v1/studies/{study_id}/figures/{name}.png", headers=coord)
        assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert (
        client.get(f"/api/v1/studies/{study_id}/figures/nope.svg", headers=coord).status_code == 404
    )
    with db.session() as session:
        actions = [e.action for e in session.query(AuditEvent)]
    assert actions.count("study_export_csv") == 1 and actions.count("study_export_summary") == 1
    assert actions.count("study_export_figure") == 6


def test_results_page_leads_with_the_judged_real_rate(client: TestClient, db: Database) -> None:
    with_data(db)
    coord_account = make_user(db, "coordinator")
    coord = api_token(db, coord_account)
    reader = api_token(db, make_user(db, "reader", "ann"))
    study_id = create_open_study(client, coord, readers=["ann"])
    run_readers(client, db, study_id, [reader])
    login(client, coord_account)
    page = client.get(f"/studies/{study_id}/results").text
    assert page.index("Generated patches judged real") < page.index("Accuracy")
    assert "Per reader" in page and "Per experience group" in page and "export.csv" in page
    # one reader: the page says why there is no MRMC analysis instead of a number
    assert "Can readers tell generated from real? (MRMC)" in page
    assert "not available: needs 2 or more readers who read the same items" in page
    assert "treating readers and patches as samples" in page


def test_two_gan_versions_are_compared_in_the_json_and_on_the_page(
    client: TestClient, db: Database
) -> None:
    """A study of real patches and two GAN versions' patches, read by three scripted
    readers: the results compare version 1 with version 2 (judged-real rate and AUC, each
    version's value equal to its own per-version figure), and the page shows the comparison."""
    with_data(db)
    make_dataset(db, "gen2", "generated", gan_version=2)
    coord_account = make_user(db, "coordinator")
    coord = api_token(db, coord_account)
    names = ["ann", "bob", "cy"]
    readers = [api_token(db, make_user(db, "reader", name)) for name in names]
    study_id = create_open_study(
        client, coord, readers=names, items_per_reader=16, generated={"datasets": ["gen1", "gen2"]}
    )
    run_readers(client, db, study_id, readers)
    results = client.get(f"/api/v1/studies/{study_id}/results", headers=coord).json()
    per_version = {v["model_version"]: v for v in results["per_model_version"]}
    assert set(per_version) == {"1", "2"}
    (diff,) = results["mrmc"]["version_differences"]
    assert diff["available"] and diff["versions"] == ["1", "2"] and diff["readers"] == 3
    judged = diff["generated_judged_real"]
    assert judged["first"] == per_version["1"]["generated_judged_real"]["rate"]
    assert judged["second"] == per_version["2"]["generated_judged_real"]["rate"]
    assert judged["ci95"][0] <= judged["difference"] <= judged["ci95"][1]
    mrmc_versions = {v["model_version"]: v for v in results["mrmc"]["per_model_version"]}
    assert diff["auc"]["first"] == pytest.approx(mrmc_versions["1"]["auc"])
    assert diff["auc"]["second"] == pytest.approx(mrmc_versions["2"]["auc"])
    login(client, coord_account)
    page = client.get(f"/studies/{study_id}/results").text
    assert "GAN versions compared" in page and "GAN v1 − v2" in page
