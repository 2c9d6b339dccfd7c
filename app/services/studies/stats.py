"""Reader-study statistics, computed from judgment records alone (pure, no database).

Proportions carry a Wilson 95% interval (statsmodels) and an exact two-sided binomial test
against 50% (scipy). AUC uses a 10-step realness scale: generated with confidence 5 → 1 …
generated 1 → 5, real 1 → 6 … real 5 → 10 (positive class: real). Agreement: Fleiss' kappa
over items every reader judged, Cohen's kappa per reader pair, both on verdicts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from itertools import combinations
from typing import Any

import numpy as np
from scipy.stats import binomtest
from sklearn.metrics import cohen_kappa_score, roc_auc_score
from statsmodels.stats.inter_rater import fleiss_kappa
from statsmodels.stats.proportion import proportion_confint

from app.services.studies.records import JudgmentRecord, ReaderProfile

Records = Sequence[JudgmentRecord]
EXPERIENCE_GROUPS = ((0, 4, "0-4 years"), (5, 10, "5-10 years"), (11, 200, "over 10 years"))


def proportion(k: int, n: int) -> dict[str, Any]:
    """``{k, n, rate, ci95, p_value}``; rate, interval and p are None when n is 0."""
    if n == 0:
        return {"k": 0, "n": 0, "rate": None, "ci95": None, "p_value": None}
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    p_value = binomtest(k, n, 0.5, alternative="two-sided").pvalue
    return {
        "k": k,
        "n": n,
        "rate": k / n,
        "ci95": [float(low), float(high)],
        "p_value": float(p_value),
    }


def realness(verdict: str, confidence: int | None) -> int:
    """The combined verdict-and-confidence scale (1 = surely generated, 10 = surely real)."""
    c = confidence or 1
    return 5 + c if verdict == "real" else 6 - c


def rates(records: Records) -> dict[str, Any]:
    """The headline proportions and reading time of RECORDS."""
    gen = [r for r in records if r.source == "generated"]
    real = [r for r in records if r.source == "real"]
    labelled = [r for r in records if r.label]
    return {
        "n_judgments": len(records),
        "generated_judged_real": _count(gen, lambda r: r.verdict == "real"),
        "real_judged_real": _count(real, lambda r: r.verdict == "real"),
        "accuracy": _count(records, lambda r: r.verdict == r.source),
        "sensitivity": _count(gen, lambda r: r.verdict == "generated"),
        "specificity": _count(real, lambda r: r.verdict == "real"),
        "label_accuracy": _count(labelled, lambda r: r.label == r.true_label),
        "label_kappa": _kappa([r.true_label for r in labelled], [r.label for r in labelled]),
        "reading_time_ms": reading_time(records),
    }


def reading_time(records: Records) -> dict[str, float | None]:
    times = [r.duration_ms for r in records if r.duration_ms is not None]
    if not times:
        return {"median": None, "q1": None, "q3": None}
    q1, median, q3 = np.percentile(times, [25, 50, 75])
    return {"median": float(median), "q1": float(q1), "q3": float(q3)}


def auc(records: Records) -> float | None:
    """AUC of the realness scale for telling real (positive) from generated items."""
    truth = [r.source == "real" for r in records]
    if len(set(truth)) < 2:
        return None
    scores = [realness(r.verdict, r.confidence) for r in records]
    return float(roc_auc_score(truth, scores))


def fleiss_kappa_of(ratings: Sequence[Sequence[Hashable]]) -> float | None:
    """Fleiss' kappa for subjects each rated by the same number of raters."""
    if not ratings:
        return None
    categories = sorted({c for row in ratings for c in row}, key=str)
    table = np.array([[list(row).count(c) for c in categories] for row in ratings])
    with np.errstate(divide="ignore", invalid="ignore"):
        return _finite(fleiss_kappa(table, method="fleiss"))


def summarize(records: Records, profiles: dict[str, ReaderProfile] | None = None) -> dict[str, Any]:
    """Everything the results page and ``/results`` show, overall and broken down."""
    summary = rates(records)
    summary["fleiss_kappa"] = verdict_fleiss(records)
    summary["pairwise_kappa"] = pairwise_kappa(records)
    summary["per_reader"] = per_reader(records, profiles or {})
    summary["per_label"] = _groups(records, "label", lambda r: r.true_label)
    summary["per_model_version"] = _groups(
        [r for r in records if r.source == "generated"], "model_version", lambda r: r.model_version
    )
    summary["per_experience_group"] = _groups(
        records, "experience_group", lambda r: experience_group((profiles or {}).get(r.reader))
    )
    summary["label_confusion"] = label_confusion(records)
    return summary


def per_reader(records: Records, profiles: dict[str, ReaderProfile]) -> list[dict[str, Any]]:
    out = []
    for reader, group in _grouped(records, lambda r: r.reader).items():
        profile = profiles.get(reader, ReaderProfile(None, None))
        row = {"reader": reader, **rates(group), "auc": auc(group)}
        row.update(experience_years=profile.experience_years, subspecialty=profile.subspecialty)
        row["unblinded"] = profile.unblinded
        out.append(row)
    return out


def verdict_fleiss(records: Records) -> float | None:
    """Fleiss' kappa on verdicts over the items judged by every reader (two or more)."""
    by_item = _verdicts_by_item(records)
    readers = {r.reader for r in records}
    if len(readers) < 2:
        return None
    rows = [list(v.values()) for v in by_item.values() if set(v) == readers]
    return fleiss_kappa_of(rows)


def pairwise_kappa(records: Records) -> list[dict[str, Any]]:
    """Cohen's kappa on verdicts for each reader pair, over the items both judged."""
    by_item = _verdicts_by_item(records)
    out = []
    for a, b in combinations(sorted({r.reader for r in records}), 2):
        common = [v for v in by_item.values() if a in v and b in v]
        kappa = _kappa([v[a] for v in common], [v[b] for v in common]) if common else None
        out.append({"readers": [a, b], "n": len(common), "kappa": kappa})
    return out


def label_confusion(records: Records) -> dict[str, Any]:
    """Counts of given label (columns) by true label (rows)."""
    labelled = [r for r in records if r.label]
    labels = sorted({r.true_label for r in labelled} | {str(r.label) for r in labelled})
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for r in labelled:
        matrix[index[r.true_label]][index[str(r.label)]] += 1
    return {"labels": labels, "matrix": matrix}


def experience_group(profile: ReaderProfile | None) -> str:
    years = profile.experience_years if profile else None
    if years is None:
        return "not stated"
    return next(name for low, high, name in EXPERIENCE_GROUPS if low <= years <= high)


def _count(records: Records, hit: Callable[[JudgmentRecord], bool]) -> dict[str, Any]:
    return proportion(sum(1 for r in records if hit(r)), len(records))


def _kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    if len(a) < 2 or len(set(a) | set(b)) < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        return _finite(cohen_kappa_score(a, b))


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _grouped(
    records: Records, key: Callable[[JudgmentRecord], str]
) -> dict[str, list[JudgmentRecord]]:
    groups: dict[str, list[JudgmentRecord]] = defaultdict(list)
    for r in records:
        groups[key(r)].append(r)
    return dict(sorted(groups.items()))


def _groups(
    records: Records, name: str, key: Callable[[JudgmentRecord], str]
) -> list[dict[str, Any]]:
    return [{name: value, **rates(group)} for value, group in _grouped(records, key).items()]


def _verdicts_by_item(records: Records) -> dict[int, dict[str, str]]:
    by_item: dict[int, dict[str, str]] = defaultdict(dict)
    for r in records:
        by_item[r.item][r.reader] = r.verdict
    return by_item
