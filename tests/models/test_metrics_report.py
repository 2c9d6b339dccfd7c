"""classification_report and paired_difference on a hand-checked case: every value, count and
key a reader of a model report sees, and seeded intervals that repeat exactly."""

from __future__ import annotations

import numpy as np
import pytest

from models.metrics import (
    Predictions,
    accuracy,
    bootstrap_ci,
    classification_report,
    macro_f1,
    paired_difference,
    sensitivity_of,
    specificity_of,
)

CODES = ["S1", "S2", "NOR"]
Y_TRUE = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
Y_PRED = [0, 0, 1, 1, 1, 2, 2, 2, 2, 0]
PATIENTS = ["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"]


def predictions(
    y_pred: list[int], codes: list[str] = CODES, y_true: list[int] = Y_TRUE
) -> Predictions:
    proba = np.zeros((len(y_pred), len(codes)))
    proba[np.arange(len(y_pred)), y_pred] = 1
    return Predictions(np.array(y_true), proba, np.array(PATIENTS[: len(y_true)]), codes)


def values(report: dict) -> dict:
    """The report with every {value, ci95} reduced to its value."""
    if isinstance(report, dict):
        if set(report) == {"value", "ci95"}:
            return report["value"]
        return {k: values(v) for k, v in report.items()}
    return report


def test_report_values_by_hand() -> None:
    # Confusion (rows true): S1 [2 1 0], S2 [0 2 1], NOR [1 0 3].
    report = classification_report(predictions(Y_PRED), n_boot=50)
    assert values(report) == {
        "n": 10,
        "n_patients": 5,
        "accuracy": 0.7,
        "macro_f1": 0.6944,  # F1 per class 2/3, 2/3, 3/4
        "per_class": {
            "S1": {"n": 3, "sensitivity": 0.6667, "specificity": 0.8571},
            "S2": {"n": 3, "sensitivity": 0.6667, "specificity": 0.8571},
            "NOR": {"n": 4, "sensitivity": 0.75, "specificity": 0.8333},
        },
        "confusion_matrix": {"labels": CODES, "counts": [[2, 1, 0], [0, 2, 1], [1, 0, 3]]},
        "binary_vs_normal": {  # each sign against NOR, on patches that are one of the two
            "S1": {"n": 7, "accuracy": 0.7143, "sensitivity": 0.6667, "specificity": 0.75},
            "S2": {"n": 7, "accuracy": 0.8571, "sensitivity": 0.6667, "specificity": 1.0},
            "pooled": {"n": 14, "accuracy": 0.7857, "sensitivity": 0.6667, "specificity": 0.875},
        },
    }


def test_seeded_intervals_repeat_and_differ_by_seed() -> None:
    pred = predictions(Y_PRED)
    first, again = (classification_report(pred, n_boot=100, seed=3) for _ in range(2))
    assert first == again
    other = classification_report(pred, n_boot=100, seed=4)
    assert values(other) == values(first) and other != first
    assert classification_report(pred, n_boot=100) == classification_report(pred, "NOR", 100, 0)
    for part in (first["accuracy"], first["binary_vs_normal"]["pooled"]["specificity"]):
        lo, hi = part["ci95"]
        assert 0 <= lo <= part["value"] <= hi <= 1


def test_interval_is_the_2_5th_to_97_5th_percentile_of_patient_resamples() -> None:
    # 40 one-patch patients, half right: a resample's accuracy is Binomial(40, ½) / 40, whose
    # 2.5% and 97.5% quantiles are 14/40 and 26/40.
    t, p = np.ones(40, int), np.array([1, 0] * 20)
    ci = bootstrap_ci(accuracy, t, p, np.arange(40).astype(str), n_boot=4000)
    assert ci == {"value": 0.5, "ci95": [0.35, 0.65]}
    # Pinned: the seeded interval of a published report must not move (seed 0, 200 resamples).
    report = classification_report(predictions(Y_PRED), n_boot=200, seed=0)
    assert report["macro_f1"]["ci95"] == [0.4127, 0.8889]
    assert report["binary_vs_normal"]["pooled"]["accuracy"]["ci95"] == [0.5833, 0.9375]


def test_absent_classes_and_codes() -> None:
    # No NOR patch or prediction: the matrix is still 3×3; specificity against NOR is unknown.
    pred = predictions([0, 1, 1], y_true=[0, 1, 0])
    report = classification_report(pred, n_boot=5)
    assert report["confusion_matrix"]["counts"] == [[1, 1, 0], [0, 1, 0], [0, 0, 0]]
    assert report["binary_vs_normal"]["pooled"]["specificity"]["value"] is None
    assert "binary_vs_normal" not in classification_report(pred, normal_code="XYZ", n_boot=5)
    assert "binary_vs_normal" in classification_report(predictions(Y_PRED), n_boot=5)
    # A sign without patches is left out, the signs after it are not.
    four = predictions([0, 2, 3, 3], ["A", "B", "C", "NOR"], y_true=[0, 2, 3, 2])
    assert set(classification_report(four, n_boot=5)["binary_vs_normal"]) == {"A", "C", "pooled"}


def test_statistics_at_their_edges() -> None:
    everyone_k = np.array([1, 1, 1])
    assert sensitivity_of(1)(everyone_k, np.array([1, 0, 1])) == pytest.approx(2 / 3)
    assert specificity_of(0)(everyone_k, np.array([1, 0, 1])) == pytest.approx(2 / 3)
    # Macro-F1 over the true classes only: a predicted class nobody has does not count.
    assert macro_f1(np.array([0, 0, 1]), np.array([0, 2, 1])) == pytest.approx((2 / 3 + 1) / 2)
    assert bootstrap_ci(accuracy, everyone_k, everyone_k, np.array(list("abc")), n_boot=0) == {
        "value": 1.0,
        "ci95": [None, None],
    }


def test_paired_difference_by_hand() -> None:
    a, b = predictions(Y_TRUE), predictions(Y_PRED)  # a is always right; b wrong 3 times
    diff = paired_difference(a, b, n_boot=50, seed=2)
    assert diff["accuracy_difference"]["value"] == 0.3
    assert (diff["only_a_correct"], diff["only_b_correct"]) == (3, 0)
    assert diff["mcnemar_p"] == 0.25  # exact two-sided: 2 · ½³
    assert diff == paired_difference(a, b, n_boot=50, seed=2) != paired_difference(a, b, 50, 3)
    lo, hi = diff["accuracy_difference"]["ci95"]
    assert 0 <= lo <= 0.3 <= hi
    mixed = predictions([1, 0, 0, 1, 1, 1, 2, 2, 2, 2])  # wrong once, where b is right
    swapped = paired_difference(b, mixed, n_boot=10)
    assert (swapped["only_a_correct"], swapped["only_b_correct"]) == (1, 3)
    assert swapped["mcnemar_p"] == 0.625  # 2 · P(X ≤ 1 | 4, ½) = 2 · 5/16
    assert paired_difference(a, a, n_boot=10)["mcnemar_p"] == 1.0
    other_patients = Predictions(a.y_true, a.proba, a.patients[::-1], CODES)
    other_truth = Predictions(a.y_true[::-1], a.proba, a.patients, CODES)
    for wrong in (other_patients, other_truth):
        with pytest.raises(ValueError, match="same patches in order"):
            paired_difference(a, wrong, n_boot=10)
