"""Study statistics against published worked examples and hand-checkable cases."""

from __future__ import annotations

import pytest

from app.services.studies.records import JudgmentRecord, ReaderProfile
from app.services.studies.stats import (
    auc,
    experience_group,
    fleiss_kappa_of,
    pairwise_kappa,
    proportion,
    realness,
    summarize,
)

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories.
WIKIPEDIA_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]
# Fleiss (1971), 30 patients, 6 psychiatrists, 5 diagnoses (as in R irr's `diagnoses`).
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]  # fmt: skip


def record(reader: str, item: int, source: str, verdict: str, **kw: object) -> JudgmentRecord:
    fields: dict[str, object] = {
        "study": "s", "reader": reader, "item": item, "patch_id": item, "source": source,
        "true_label": "GGO", "model_version": "1" if source == "generated" else "",
        "verdict": verdict, "confidence": 3, "label": None, "duration_ms": 1000,
        "answered_at": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip
    fields.update(kw)
    return JudgmentRecord(**fields)  # type: ignore[arg-type]


def test_fleiss_kappa_wikipedia_example() -> None:
    rows = [[c for c, n in enumerate(counts) for _ in range(n)] for counts in WIKIPEDIA_TABLE]
    assert fleiss_kappa_of(rows) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_kappa_fleiss_1971_example() -> None:
    assert fleiss_kappa_of(FLEISS_1971) == pytest.approx(0.430, abs=5e-4)


def test_cohen_kappa_wikipedia_example() -> None:
    # 50 proposals: both yes 20, A yes B no 5, A no B yes 10, both no 15 → κ = 0.4.
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    records = [
        record("A", i, "real", "real" if a == "y" else "generated")
        for i, (a, _) in enumerate(pairs)
    ]
    records += [
        record("B", i, "real", "real" if b == "y" else "generated")
        for i, (_, b) in enumerate(pairs)
    ]
    (pair,) = pairwise_kappa(records)
    assert pair["readers"] == ["A", "B"] and pair["n"] == 50
    assert pair["kappa"] == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_newcombe_1998(k: int, n: int, low: float, high: float) -> None:
    ci = proportion(k, n)["ci95"]
    assert ci[0] == pytest.approx(low, abs=5e-5) and ci[1] == pytest.approx(high, abs=5e-5)


def test_exact_binomial_p_value() -> None:
    # P(X ≥ 7 or X ≤ 3 | n=10, p=½) = 2·(120+45+10+1)/1024.
    assert proportion(7, 10)["p_value"] == pytest.approx(352 / 1024)
    assert proportion(5, 10)["p_value"] == pytest.approx(1.0)
    assert proportion(0, 0) == {"k": 0, "n": 0, "rate": None, "ci95": None, "p_value": None}


def test_realness_scale_orders_confidence() -> None:
    scale = [realness("generated", c) for c in (5, 4, 3, 2, 1)] + [
        realness("real", c) for c in (1, 2, 3, 4, 5)
    ]
    assert scale == list(range(1, 11))


def test_auc_is_mann_whitney_probability() -> None:
    # Real items scored 10, 6, 4; generated 5, 1: pairs won 2+2+1 (of 6) → 5/6.
    records = [
        record("A", 1, "real", "real", confidence=5),
        record("A", 2, "real", "real", confidence=1),
        record("A", 3, "real", "generated", confidence=2),
        record("A", 4, "generated", "generated", confidence=1),
        record("A", 5, "generated", "generated", confidence=5),
    ]
    assert auc(records) == pytest.approx(5 / 6)
    assert auc(records[:3]) is None


def test_summary_headline_and_groups() -> None:
    records = [record("A", i, "generated", "real" if i < 3 else "generated") for i in range(4)]
    records += [record("B", i, "generated", "real") for i in range(4)]
    profiles = {"A": ReaderProfile(3, "thoracic"), "B": ReaderProfile(None, None)}
    summary = summarize(records, profiles)
    assert summary["generated_judged_real"]["k"] == 7 and summary["generated_judged_real"]["n"] == 8
    assert summary["real_judged_real"]["n"] == 0 and summary["real_judged_real"]["rate"] is None
    groups = {g["experience_group"]: g["n_judgments"] for g in summary["per_experience_group"]}
    assert groups == {"0-4 years": 4, "not stated": 4}
    assert [r["reader"] for r in summary["per_reader"]] == ["A", "B"]
    assert summary["per_reader"][0]["experience_years"] == 3


def test_experience_groups_cover_every_year() -> None:
    names = {experience_group(ReaderProfile(y, None)) for y in range(0, 71)}
    assert names == {"0-4 years", "5-10 years", "over 10 years"}


@pytest.mark.parametrize(
    ("years", "group"),
    [
        (0, "0-4 years"),
        (4, "0-4 years"),
        (5, "5-10 years"),
        (10, "5-10 years"),
        (11, "over 10 years"),
        (70, "over 10 years"),
        (None, "not stated"),
    ],
)
def test_experience_group_boundaries(years: int | None, group: str) -> None:
    assert experience_group(ReaderProfile(years, None)) == group
    assert experience_group(None) == "not stated"
