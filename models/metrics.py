"""Classification metrics with patient-level bootstrap 95% intervals.

Patches of one patient are correlated, so intervals resample *patients* (cluster bootstrap),
not patches. The binary setting of the reference paper (each sign against normal tissue) is
read off the multi-class model: among patches whose true label is the sign or the normal code,
predict the sign when p(sign) > p(normal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score

N_BOOT = 1000


@dataclass(frozen=True)
class Predictions:
    """Out-of-fold predictions: ``y_true`` (N,), ``proba`` (N, K), ``patients`` (N,)."""

    y_true: np.ndarray
    proba: np.ndarray
    patients: np.ndarray
    label_codes: Sequence[str]

    @property
    def y_pred(self) -> np.ndarray:
        return self.proba.argmax(axis=1)


Statistic = Callable[[np.ndarray, np.ndarray], float]  # y_true, y_pred → value


def bootstrap_ci(
    stat: Statistic,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    patients: np.ndarray,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> dict[str, Any]:
    """``{value, ci95: [lo, hi]}`` with patients resampled with replacement."""
    value = stat(y_true, y_pred)
    groups = _group_rows(patients)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        rows = np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))])
        draws.append(stat(y_true[rows], y_pred[rows]))
    lo, hi = np.nanpercentile(draws, [2.5, 97.5]) if draws else (np.nan, np.nan)
    return {"value": _num(value), "ci95": [_num(lo), _num(hi)]}


def _group_rows(patients: np.ndarray) -> list[np.ndarray]:
    _, inverse = np.unique(patients, return_inverse=True)
    return [np.flatnonzero(inverse == g) for g in range(inverse.max() + 1)] if len(patients) else []


def _num(x: float) -> float | None:
    return None if x is None or np.isnan(x) else round(float(x), 4)


def accuracy(t: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(t == p)) if len(t) else np.nan


def sensitivity_of(k: int) -> Statistic:
    return lambda t, p: float(np.mean(p[t == k] == k)) if np.any(t == k) else np.nan


def specificity_of(k: int) -> Statistic:
    return lambda t, p: float(np.mean(p[t != k] != k)) if np.any(t != k) else np.nan


def macro_f1(t: np.ndarray, p: np.ndarray) -> float:
    return float(f1_score(t, p, average="macro", labels=np.unique(t))) if len(t) else np.nan


def classification_report(
    pred: Predictions, normal_code: str | None = "NOR", n_boot: int = N_BOOT, seed: int = 0
) -> dict[str, Any]:
    """Accuracy, per-class sensitivity/specificity, macro-F1, confusion matrix and the binary
    sign-vs-normal setting, each with a patient-bootstrap 95% interval."""
    t, p, pts, codes = pred.y_true, pred.y_pred, pred.patients, list(pred.label_codes)
    ci = lambda stat: bootstrap_ci(stat, t, p, pts, n_boot, seed)  # noqa: E731
    report: dict[str, Any] = {
        "n": len(t),
        "n_patients": len(set(pts.tolist())),
        "accuracy": ci(accuracy),
        "macro_f1": ci(macro_f1),
        "per_class": {
            code: {
                "n": int(np.sum(t == k)),
                "sensitivity": ci(sensitivity_of(k)),
                "specificity": ci(specificity_of(k)),
            }
            for k, code in enumerate(codes)
        },
        "confusion_matrix": {
            "labels": codes,
            "counts": confusion_matrix(t, p, labels=range(len(codes))).tolist(),
        },
    }
    if normal_code is not None and normal_code in codes:
        report["binary_vs_normal"] = _binary_vs_normal(pred, codes.index(normal_code), n_boot, seed)
    return report


def _binary_vs_normal(pred: Predictions, normal: int, n_boot: int, seed: int) -> dict[str, Any]:
    """Per sign, and pooled over signs: accuracy, sensitivity (sign found), specificity."""
    codes = list(pred.label_codes)
    out: dict[str, Any] = {}
    pooled_t, pooled_p, pooled_pts = [], [], []
    for k, code in enumerate(codes):
        if k == normal:
            continue
        rows = np.isin(pred.y_true, [k, normal])
        if not np.any(pred.y_true == k):
            continue
        t = (pred.y_true[rows] == k).astype(int)
        p = (pred.proba[rows, k] > pred.proba[rows, normal]).astype(int)
        pts = pred.patients[rows]
        out[code] = _binary_stats(t, p, pts, n_boot, seed)
        pooled_t.append(t)
        pooled_p.append(p)
        pooled_pts.append(pts)
    if pooled_t:
        out["pooled"] = _binary_stats(
            np.concatenate(pooled_t),
            np.concatenate(pooled_p),
            np.concatenate(pooled_pts),
            n_boot,
            seed,
        )
    return out


def _binary_stats(
    t: np.ndarray, p: np.ndarray, pts: np.ndarray, n_boot: int, seed: int
) -> dict[str, Any]:
    return {
        "n": len(t),
        "accuracy": bootstrap_ci(accuracy, t, p, pts, n_boot, seed),
        "sensitivity": bootstrap_ci(sensitivity_of(1), t, p, pts, n_boot, seed),
        "specificity": bootstrap_ci(specificity_of(1), t, p, pts, n_boot, seed),
    }


def paired_difference(
    a: Predictions, b: Predictions, n_boot: int = N_BOOT, seed: int = 0
) -> dict[str, Any]:
    """Accuracy of ``a`` minus ``b`` on the same patches (same folds), patient-bootstrap CI.

    Also McNemar's exact test on discordant patches (ignores patient clustering; indicative)."""
    from scipy.stats import binomtest

    if not np.array_equal(a.y_true, b.y_true) or not np.array_equal(a.patients, b.patients):
        raise ValueError("paired comparison needs predictions for the same patches in order")
    ok_a, ok_b = a.y_pred == a.y_true, b.y_pred == b.y_true
    diff = ok_a.astype(float) - ok_b.astype(float)
    stat: Statistic = lambda d, _: float(np.mean(d)) if len(d) else np.nan  # noqa: E731
    result = bootstrap_ci(stat, diff, diff, a.patients, n_boot, seed)
    only_a, only_b = int(np.sum(ok_a & ~ok_b)), int(np.sum(ok_b & ~ok_a))
    p_value = binomtest(only_a, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return {
        "accuracy_difference": result,
        "only_a_correct": only_a,
        "only_b_correct": only_b,
        "mcnemar_p": round(float(p_value), 4),
    }
