"""The MRMC and clustered analyses of a study's judgments, as the results JSON carries them."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score
from statsmodels.stats.proportion import proportion_confint

from app.services.studies.reader_analysis import clustered, mrmc
from app.services.studies.records import JudgmentRecord
from app.services.studies.stats import realness
from tests.app.services.studies.test_stats import record


def _study(readers: int, items: int, seed: int = 0, shared: bool = True) -> list[JudgmentRecord]:
    """Readers who see generated items as real at their own rate (a reader effect), items
    alternating real/generated, versions 1 and 2 for the generated ones."""
    rng = np.random.default_rng(seed)
    out = []
    for j in range(readers):
        lenient = rng.uniform(0.2, 0.9)
        for i in range(items):
            item = i if shared else j * items + i
            source = "real" if i % 2 == 0 else "generated"
            p_real = 0.75 if source == "real" else lenient
            verdict = "real" if rng.random() < p_real else "generated"
            version = str(1 + (i // 2) % 2) if source == "generated" else ""
            conf = int(rng.integers(1, 6))
            out.append(
                record(f"r{j}", item, source, verdict, confidence=conf, model_version=version)
            )
    return out


def test_mrmc_pooled_and_per_version_on_a_shared_study() -> None:
    records = _study(4, 40)
    result = mrmc(records)
    pooled = result["pooled"]
    assert pooled["available"] and pooled["readers"] == ["r0", "r1", "r2", "r3"]
    assert (pooled["n_cases"], pooled["n_real"], pooled["n_generated"]) == (40, 20, 20)
    for reader, value in pooled["reader_auc"].items():  # each reader's AUC, recomputed
        mine = [r for r in records if r.reader == reader]
        truth = [r.source == "real" for r in mine]
        scores = [realness(r.verdict, r.confidence) for r in mine]
        assert value == roc_auc_score(truth, scores)
    assert pooled["auc"] == np.mean(list(pooled["reader_auc"].values()))
    rrrc = pooled["random_readers_random_cases"]
    assert rrrc["ci95"][0] < pooled["auc"] < rrrc["ci95"][1] and 0 <= rrrc["p_value"] <= 1
    versions = result["per_model_version"]
    assert [v["model_version"] for v in versions] == ["1", "2"]
    assert all(v["n_real"] == 20 and v["n_generated"] == 10 for v in versions)


def test_mrmc_leaves_out_a_reader_who_read_less_and_says_when_it_cannot_run() -> None:
    late = [
        record("late", r.item, r.source, r.verdict, confidence=r.confidence)
        for r in _study(1, 6, seed=9)
    ]
    records = _study(3, 40) + late
    pooled = mrmc(records)["pooled"]
    assert pooled["available"] and pooled["excluded_readers"] == ["late"]
    assert pooled["n_cases"] == 40

    disjoint = mrmc(_study(3, 20, shared=False))["pooled"]
    assert disjoint == {"available": False, "reason": disjoint["reason"]}
    assert "read the same items" in disjoint["reason"]


def test_clustered_interval_sits_beside_wilson_and_is_wider_with_reader_effects() -> None:
    records = _study(6, 60, seed=3)
    result = clustered(records)["generated_judged_real"]
    gen = [r for r in records if r.source == "generated"]
    k = sum(r.verdict == "real" for r in gen)
    assert (result["k"], result["n"], result["rate"]) == (k, len(gen), k / len(gen))
    wilson = proportion_confint(k, len(gen), method="wilson")
    assert result["ci95"][0] < wilson[0] and result["ci95"][1] > wilson[1]
    assert (result["readers"], result["items"]) == (6, 30)
    assert clustered(records)["label_accuracy"] is None  # no labels asked


def test_two_gan_versions_compared_with_the_shared_real_items() -> None:
    """Version 2's patches fool readers far more often than version 1's: the difference
    (1 − 2) is the plain difference of the two judged-real rates and of the reader-averaged
    AUCs, and its interval excludes 0; a study with one version has no comparison."""
    rng = np.random.default_rng(7)
    records = []
    for j in range(6):
        for item in range(60):
            source = "real" if item % 3 == 0 else "generated"
            version = "" if source == "real" else ("1" if item % 3 == 1 else "2")
            p_real = {"": 0.8, "1": 0.15, "2": 0.7}[version]
            verdict = "real" if rng.random() < p_real else "generated"
            conf = int(rng.integers(1, 6))
            records.append(
                record(f"r{j}", item, source, verdict, confidence=conf, model_version=version)
            )
    (diff,) = mrmc(records)["version_differences"]
    assert diff["available"] and diff["versions"] == ["1", "2"]
    assert (diff["readers"], diff["n_real"], diff["n_first"], diff["n_second"]) == (6, 20, 20, 20)
    rates = {
        v: np.mean([r.verdict == "real" for r in records if r.model_version == v]) for v in "12"
    }
    judged = diff["generated_judged_real"]
    assert (judged["first"], judged["second"]) == (rates["1"], rates["2"])
    assert judged["difference"] == rates["1"] - rates["2"]
    assert judged["ci95"][1] < 0 and judged["p_value"] < 0.01
    per_version = {v["model_version"]: v for v in mrmc(records)["per_model_version"]}
    auc = diff["auc"]
    for side, version in (("first", "1"), ("second", "2")):
        assert auc[side] == per_version[version]["auc"]  # complete study: the same readers
    assert auc["ci95"][0] > 0 and auc["p_value"] < 0.01  # version 1 is easier to tell apart

    one_version = [r for r in records if r.model_version != "2"]
    assert mrmc(one_version)["version_differences"] == []
