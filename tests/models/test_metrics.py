import numpy as np
import pytest

from models.metrics import (
    Predictions,
    accuracy,
    bootstrap_ci,
    classification_report,
    paired_difference,
)


def _predictions(correct: list[bool]) -> Predictions:
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    proba = np.zeros((8, 3))
    for i, ok in enumerate(correct):
        proba[i, y[i] if ok else (y[i] + 1) % 3] = 1
    patients = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])
    return Predictions(y, proba, patients, ["S1", "S2", "NOR"])


def test_report_values() -> None:
    pred = _predictions([True] * 6 + [False] * 2)
    report = classification_report(pred, normal_code="NOR", n_boot=50)
    assert report["accuracy"]["value"] == 0.75
    lo, hi = report["accuracy"]["ci95"]
    assert lo <= 0.75 <= hi
    assert report["per_class"]["S1"]["sensitivity"]["value"] == pytest.approx(2 / 3, abs=1e-4)
    assert np.sum(report["confusion_matrix"]["counts"]) == 8
    binary = report["binary_vs_normal"]
    assert set(binary) == {"S1", "S2", "pooled"}


def test_normal_code_is_a_parameter() -> None:
    report = classification_report(_predictions([True] * 8), normal_code="S1", n_boot=10)
    assert set(report["binary_vs_normal"]) == {"S2", "NOR", "pooled"}
    assert "binary_vs_normal" not in classification_report(_predictions([True] * 8), None, 10)


def test_bootstrap_resamples_patients() -> None:
    """Two patients × ten patches, one patient all right, one all wrong: a patient resample
    is 0, ½ or 1, so the interval is [0, 1]; resampling patches would give about [0.3, 0.7]."""
    t = np.ones(20, dtype=int)
    p = np.array([1] * 10 + [0] * 10)
    patients = np.array(["a"] * 10 + ["b"] * 10)
    ci = bootstrap_ci(accuracy, t, p, patients, n_boot=200)
    assert ci["value"] == 0.5
    assert ci["ci95"] == [0.0, 1.0]


def test_paired_difference() -> None:
    a, b = _predictions([True] * 8), _predictions([True] * 6 + [False] * 2)
    diff = paired_difference(a, b, n_boot=50)
    assert diff["accuracy_difference"]["value"] == 0.25
    assert diff["only_a_correct"] == 2 and diff["only_b_correct"] == 0
