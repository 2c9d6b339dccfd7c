"""The study analyses that treat readers and patches as samples: the MRMC analysis of "can
readers tell generated from real" (``models.mrmc``) and the clustered intervals of the
headline rates (``models.clustered``), built from judgment records (pure, no database).

MRMC: truth is the item's source (positive: real, as in ``stats.auc``), the rating the 10-step
realness scale. The Obuchowski–Rockette analysis needs every reader to have rated every case:
it runs on the largest block of readers and items that is complete (readers who read fewer
items are left out, and named, until the remaining readers share enough items), once pooled
and once per GAN version (that version's generated items with the shared real ones).
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Any

import numpy as np

from app.services.studies.records import gan_versions
from app.services.studies.stats import Records, realness
from models.clustered import ClusteredRate, clustered_rate
from models.mrmc import SingleTreatment, or_analysis
from models.version_difference import PairedDifference, version_difference

MIN_READERS = 2
MIN_PER_CLASS = 2  # real and generated cases each in the complete block


def clustered(records: Records) -> dict[str, Any]:
    """Judged-real rate, accuracy and label accuracy with a two-way reader × item bootstrap
    interval (the Wilson intervals beside them in the summary count every judgment as
    independent)."""
    gen = [r for r in records if r.source == "generated"]
    labelled = [r for r in records if r.label]
    return {
        "method": "two-way reader × item bootstrap, 2000 replicates, percentile 95% interval",
        "generated_judged_real": _rate(gen, [r.verdict == "real" for r in gen]),
        "accuracy": _rate(
            records, [r.verdict == r.source for r in records], [r.source for r in records]
        ),
        "label_accuracy": _rate(labelled, [r.label == r.true_label for r in labelled]),
    }


def mrmc(records: Records) -> dict[str, Any]:
    """The OR analysis pooled and per GAN version (see the module docstring)."""
    versions = gan_versions(records)
    real = [r for r in records if r.source == "real"]
    return {
        "method": "Obuchowski–Rockette with Hillis ddf; empirical AUC, jackknife covariances",
        "positive": "real",
        "rating": "realness 1-10",
        "pooled": _analysis(records),
        "per_model_version": [
            {
                "model_version": version,
                **_analysis(real + [r for r in records if r.model_version == version]),
            }
            for version in versions
        ],
        "version_differences": [
            _version_difference(records, first, second)
            for first, second in combinations(versions, 2)
        ],
    }


def _version_difference(records: Records, first: str, second: str) -> dict[str, Any]:
    """Version FIRST minus version SECOND: judged-real rate and reader-averaged AUC, with a
    paired two-way bootstrap (readers drawn once for both, items within real / FIRST / SECOND;
    ``models.version_difference``)."""
    group = {"": 0, first: 1, second: 2}
    version: dict[int, str] = {}  # an item's version, as its first judgment names it
    for r in records:
        version.setdefault(r.item, "" if r.source == "real" else r.model_version or "?")
    kept = [r for r in records if version[r.item] in group]
    base: dict[str, Any] = {"versions": [first, second]}
    if not any(r.source == "real" for r in kept):
        base["available"] = False
        base["reason"] = "needs real items in the study (the versions are compared against them)"
        return base
    result = version_difference(
        np.array([r.reader for r in kept]),
        np.array([r.item for r in kept]),
        np.array([group[version[r.item]] for r in kept]),
        np.array([realness(r.verdict, r.confidence) for r in kept], dtype=float),
        np.array([r.verdict == "real" for r in kept], dtype=float),
    )
    return {
        **base,
        "available": True,
        "method": "paired two-way reader × item bootstrap, 2000 replicates, percentile 95%",
        "readers": result.n_readers,
        "auc_readers": result.n_auc_readers,
        "n_real": result.n_real,
        "n_first": result.n_a,
        "n_second": result.n_b,
        "generated_judged_real": _paired(result.judged_real),
        "auc": _paired(result.auc) if result.auc is not None else None,
    }


def _paired(d: PairedDifference) -> dict[str, Any]:
    return {
        "first": d.a,
        "second": d.b,
        "difference": d.estimate,
        "ci95": list(d.ci),
        "p_value": d.p_value,
    }


def _rate(
    records: Records, outcome: list[bool], strata: list[str] | None = None
) -> dict[str, Any] | None:
    if not records:
        return None
    result: ClusteredRate = clustered_rate(
        np.array([r.reader for r in records]),
        np.array([r.item for r in records]),
        np.array(outcome, dtype=float),
        strata=np.array(strata) if strata is not None else None,
    )
    return {
        "k": result.k,
        "n": result.n,
        "rate": result.rate,
        "ci95": list(result.ci),
        "p_value": result.p_value,
        "readers": result.n_readers,
        "items": result.n_items,
    }


def _analysis(records: Records) -> dict[str, Any]:
    readers, items, excluded = _complete_block(records)
    if readers is None:
        return {"available": False, "reason": items}
    score = {(r.reader, r.item): realness(r.verdict, r.confidence) for r in records}
    source = {r.item: r.source for r in records}
    ratings = np.array([[[score[reader, item] for item in items] for reader in readers]])
    truth = np.array([source[item] == "real" for item in items], dtype=int)
    result = or_analysis(ratings, truth)
    return {
        "available": True,
        "readers": readers,
        "excluded_readers": excluded,
        "n_cases": len(items),
        "n_real": int(truth.sum()),
        "n_generated": int(len(items) - truth.sum()),
        "reader_auc": dict(zip(readers, result.auc[0], strict=True)),
        "auc": result.auc_means[0],
        "random_readers_random_cases": _single(result.random_readers_random_cases.single[0]),
        "fixed_readers": _single(result.fixed_readers.single[0]),
        "fixed_cases": _single(result.fixed_cases.single[0]),
    }


def _single(single: SingleTreatment | None) -> dict[str, Any] | None:
    if single is None:
        return None
    return {
        "se": single.se,
        "df": single.df if np.isfinite(single.df) else None,
        "ci95": list(single.ci),
        "p_value": single.p_value,
    }


def _complete_block(records: Records) -> tuple[Any, Any, list[str]]:
    """(readers, items, excluded readers) of the largest complete block (most judgments), or
    (None, reason, []): readers are dropped fewest-items first, and of the blocks that hold
    enough real and generated items, the one with most readers × items wins."""
    read: dict[str, set[int]] = defaultdict(set)
    source: dict[int, str] = {}
    for r in records:
        read[r.reader].add(r.item)
        source[r.item] = r.source
    order = sorted(read, key=lambda name: (-len(read[name]), name))
    best: tuple[int, list[str], set[int]] | None = None
    for n in range(len(order), MIN_READERS - 1, -1):
        common = set.intersection(*(read[name] for name in order[:n]))
        kinds = [source[item] for item in common]
        if min(kinds.count("real"), kinds.count("generated")) < MIN_PER_CLASS:
            continue
        if best is None or n * len(common) > best[0]:
            best = (n * len(common), order[:n], common)
    if best is not None:
        _, readers, common = best
        return sorted(readers), sorted(common), sorted(set(order) - set(readers))
    return (
        None,
        f"needs {MIN_READERS} or more readers who read the same items, at least "
        f"{MIN_PER_CLASS} real and {MIN_PER_CLASS} generated (a study with shared items)",
        [],
    )
