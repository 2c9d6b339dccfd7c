"""The whole study summary on a hand-checked set of judgments: every headline rate, reading
time, label agreement and breakdown the results page and export show."""

from __future__ import annotations

from typing import Any

import pytest

from app.services.studies.records import ReaderProfile
from app.services.studies.stats import fleiss_kappa_of, pairwise_kappa, realness, summarize
from tests.app.services.studies.test_stats import record

# (reader, item, source, true label, verdict, confidence, given label, duration ms)
ROWS = [
    ("A", 1, "generated", "GGO", "real", 4, "GGO", 1000),
    ("A", 2, "generated", "GGO", "generated", 2, "CAL", 2000),
    ("A", 3, "real", "NOR", "real", 5, "NOR", 3000),
    ("A", 4, "real", "CAL", "generated", 1, None, None),
    ("B", 1, "generated", "GGO", "generated", 3, "GGO", 4000),
    ("B", 2, "generated", "GGO", "generated", 5, "GGO", 5000),
    ("B", 3, "real", "NOR", "real", 2, "NOR", 6000),
    ("B", 4, "real", "CAL", "real", 4, "CAL", 7000),
]
RECORDS = [
    record(
        reader, item, source, verdict, true_label=true, confidence=conf, label=label,
        duration_ms=ms, model_version=str(item) if source == "generated" else "",
    )
    for reader, item, source, true, verdict, conf, label, ms in ROWS
]  # fmt: skip
PROFILES = {"A": ReaderProfile(4, "thoracic"), "B": ReaderProfile(11, None)}
HEADLINES = (
    "generated_judged_real",
    "real_judged_real",
    "accuracy",
    "sensitivity",
    "specificity",
    "label_accuracy",
)


def counts(rates: dict[str, Any]) -> dict[str, Any]:
    """(k, n) of each headline proportion, plus the other rate fields as they are."""
    out: dict[str, Any] = {key: (rates[key]["k"], rates[key]["n"]) for key in HEADLINES}
    out["n"] = rates["n_judgments"]
    out["label_kappa"] = rates["label_kappa"]
    out["time"] = rates["reading_time_ms"]
    return out


def test_overall_rates_by_hand() -> None:
    summary = summarize(RECORDS, PROFILES)
    assert counts(summary) == {
        "generated_judged_real": (1, 4),
        "real_judged_real": (3, 4),
        "accuracy": (6, 8),
        "sensitivity": (3, 4),
        "specificity": (3, 4),
        "label_accuracy": (6, 7),
        "n": 8,
        "label_kappa": pytest.approx(24 / 31),  # po 6/7, pe 18/49
        "time": {"median": 4000.0, "q1": 2500.0, "q3": 5500.0},  # A's 4th answer has none
    }
    headline = summary["real_judged_real"]
    assert headline["rate"] == 0.75 and headline["p_value"] == pytest.approx(0.625)
    assert headline["ci95"] == pytest.approx([0.3006, 0.9544], abs=1e-4)  # Wilson
    assert summary["label_confusion"] == {
        "labels": ["CAL", "GGO", "NOR"],
        "matrix": [[1, 0, 0], [1, 3, 0], [0, 0, 2]],  # rows: true label; columns: given
    }


def test_agreement_by_hand() -> None:
    summary = summarize(RECORDS, PROFILES)
    # A and B agree on items 2 and 3 only, each says "real" twice: Cohen's and Fleiss' κ = 0.
    assert summary["pairwise_kappa"] == [{"readers": ["A", "B"], "n": 4, "kappa": 0.0}]
    assert summary["fleiss_kappa"] == pytest.approx(0.0)
    assert summarize(RECORDS[:4])["fleiss_kappa"] is None  # one reader: no agreement
    assert fleiss_kappa_of([["real", "real"], ["real", "real"]]) is None  # undefined, not NaN
    two = [record(r, i, "real", v) for r in "AB" for i, v in ((1, "real"), (2, "generated"))]
    assert pairwise_kappa(two) == [{"readers": ["A", "B"], "n": 2, "kappa": 1.0}]
    assert realness("real", None) == 6 and realness("generated", None) == 5


def test_per_reader_by_hand() -> None:
    a, b = summarize(RECORDS, PROFILES)["per_reader"]
    assert (a["reader"], a["experience_years"], a["subspecialty"]) == ("A", 4, "thoracic")
    assert (b["reader"], b["experience_years"], b["subspecialty"]) == ("B", 11, None)
    assert counts(a) == {
        "generated_judged_real": (1, 2),
        "real_judged_real": (1, 2),
        "accuracy": (2, 4),
        "sensitivity": (1, 2),
        "specificity": (1, 2),
        "label_accuracy": (2, 3),
        "n": 4,
        "label_kappa": pytest.approx(0.5),
        "time": {"median": 2000.0, "q1": 1500.0, "q3": 2500.0},
    }
    assert a["auc"] == 0.75  # realness: real 10 and 5 against generated 9 and 4
    assert counts(b)["accuracy"] == (4, 4) and b["label_kappa"] == 1.0 and b["auc"] == 1.0
    assert counts(b)["time"] == {"median": 5500.0, "q1": 4750.0, "q3": 6250.0}


def test_breakdowns_by_hand() -> None:
    summary = summarize(RECORDS, PROFILES)

    def split(name: str) -> dict[str, Any]:
        return {
            g[name]: (g["n_judgments"], g["generated_judged_real"]["k"], g["accuracy"]["k"])
            for g in summary[f"per_{name}"]
        }

    assert split("label") == {"CAL": (2, 0, 1), "GGO": (4, 1, 3), "NOR": (2, 0, 2)}
    assert split("model_version") == {"1": (2, 1, 1), "2": (2, 0, 2)}
    assert split("experience_group") == {"0-4 years": (4, 1, 2), "over 10 years": (4, 0, 4)}
    no_times = summarize([record("A", 1, "real", "real", duration_ms=None)])
    assert no_times["reading_time_ms"] == {"median": None, "q1": None, "q3": None}


def test_pairwise_kappa_uses_only_items_both_readers_judged() -> None:
    records = [record("A", i, "real", v) for i, v in ((1, "real"), (2, "generated"), (3, "real"))]
    records += [record("B", i, "real", v) for i, v in ((2, "generated"), (3, "real"))]
    assert pairwise_kappa(records) == [{"readers": ["A", "B"], "n": 2, "kappa": 1.0}]
    one = [record("A", 1, "real", "real"), record("B", 1, "real", "generated")]
    assert pairwise_kappa(one) == [{"readers": ["A", "B"], "n": 1, "kappa": None}]
