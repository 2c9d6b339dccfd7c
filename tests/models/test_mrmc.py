"""Obuchowski–Rockette–Hillis MRMC analysis: the published Van Dyke et al. (1993) results of
OR-DBM MRMC 2.51, reproduced to the printed digits, and the analysis' edge cases."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from models.mrmc import (
    FRRC,
    RRFC,
    RRRC,
    check_design,
    empirical_auc,
    jackknife_aucs,
    jackknife_covariance,
    or_analysis,
)

REPO = Path(__file__).resolve().parents[2]
VANDYKE = REPO / "tests" / "fixtures" / "vandyke1993.csv"  # kept with the tests: see its README
SHARED_VANDYKE = REPO.parent / "shared" / "fixtures" / "vandyke1993.csv"


@pytest.mark.skipif(not SHARED_VANDYKE.exists(), reason="no ../shared beside this clone")
def test_the_kept_copy_is_the_shared_reference_file() -> None:
    assert VANDYKE.read_bytes() == SHARED_VANDYKE.read_bytes()


def _vandyke() -> tuple[np.ndarray, np.ndarray]:
    """ratings [2 treatments, 5 readers, 114 cases] and truth [114] from the fixture."""
    with VANDYKE.open(newline="") as f:
        rows = [{k: int(v) for k, v in row.items()} for row in csv.DictReader(f)]
    treatments = sorted({r["treatment"] for r in rows})
    readers = sorted({r["reader"] for r in rows})
    cases = sorted({r["case"] for r in rows})
    ratings = np.full((len(treatments), len(readers), len(cases)), np.nan)
    truth = np.full(len(cases), -1)
    for r in rows:
        c = cases.index(r["case"])
        ratings[treatments.index(r["treatment"]), readers.index(r["reader"]), c] = r["rating"]
        truth[c] = r["truth"]
    return ratings, truth


@pytest.fixture(scope="module")
def vandyke() -> tuple[np.ndarray, np.ndarray]:
    return _vandyke()


def test_vandyke_design(vandyke: tuple[np.ndarray, np.ndarray]) -> None:
    ratings, truth = vandyke
    assert ratings.shape == (2, 5, 114)
    assert int(truth.sum()) == 45
    assert set(np.unique(ratings)) <= {1, 2, 3, 4, 5}


def test_vandyke_reader_aucs_and_means(vandyke: tuple[np.ndarray, np.ndarray]) -> None:
    result = or_analysis(*vandyke)
    assert [[round(a, 8) for a in row] for row in result.auc] == [
        [0.91964573, 0.85877617, 0.90386473, 0.97310789, 0.82979066],
        [0.94782609, 0.90531401, 0.92173913, 0.99935588, 0.92995169],
    ]
    assert [round(m, 8) for m in result.auc_means] == [0.89703704, 0.94083736]
    assert (result.n_treatments, result.n_readers, result.n_cases, result.n_positive) == (
        2,
        5,
        114,
        45,
    )


def test_vandyke_random_readers_random_cases(vandyke: tuple[np.ndarray, np.ndarray]) -> None:
    """OR-DBM MRMC 2.51: F = 4.46, ddf = 15.26, p = 0.0517, difference (−0.08796, 0.00036)."""
    analysis = or_analysis(*vandyke).random_readers_random_cases
    assert analysis.name == RRRC
    comparison = analysis.comparison
    assert comparison is not None
    assert round(comparison.f, 2) == 4.46
    assert comparison.ndf == 1
    assert round(comparison.ddf, 2) == 15.26
    assert round(comparison.p_value, 4) == 0.0517
    (difference,) = comparison.differences
    assert (difference.first, difference.second) == (0, 1)
    assert round(difference.estimate, 8) == round(0.89703704 - 0.94083736, 8)
    assert [round(x, 5) for x in difference.ci] == [-0.08796, 0.00036]
    assert round(difference.p_value, 4) == 0.0517  # t² = F with one numerator df


def test_vandyke_treatment_1_alone(vandyke: tuple[np.ndarray, np.ndarray]) -> None:
    """OR-DBM MRMC 2.51, single treatment 1: SE 0.03317360, df 12.74,
    interval (0.82522360, 0.96885048)."""
    single = or_analysis(*vandyke).random_readers_random_cases.single[0]
    assert single is not None
    assert single.treatment == 0
    assert round(single.auc, 8) == 0.89703704
    assert round(single.se, 8) == 0.03317360
    assert round(single.df, 2) == 12.74
    assert [round(x, 8) for x in single.ci] == [0.82522360, 0.96885048]
    assert single.p_value < 1e-6


def test_vandyke_fixed_readers_and_fixed_cases(vandyke: tuple[np.ndarray, np.ndarray]) -> None:
    """Fixed readers: χ²(1) = 5.48, p = 0.0193, difference (−0.0805, −0.0071); fixed cases:
    F(1, 4) = 8.70, p = 0.0420, difference (−0.0850, −0.0026) (as RJafroc and MRMCaov print
    for this data set)."""
    result = or_analysis(*vandyke)
    frrc = result.fixed_readers.comparison
    rrfc = result.fixed_cases.comparison
    assert frrc is not None and rrfc is not None
    assert result.fixed_readers.name == FRRC and result.fixed_cases.name == RRFC
    assert (round(frrc.f, 2), frrc.ddf, round(frrc.p_value, 4)) == (5.48, math.inf, 0.0193)
    assert [round(x, 4) for x in frrc.differences[0].ci] == [-0.0805, -0.0071]
    assert (round(rrfc.f, 2), rrfc.ddf, round(rrfc.p_value, 4)) == (8.70, 4.0, 0.0420)
    assert [round(x, 4) for x in rrfc.differences[0].ci] == [-0.0850, -0.0026]


def test_one_treatment_matches_its_slice(vandyke: tuple[np.ndarray, np.ndarray]) -> None:
    """A one-treatment design (2-D ratings) gives the same single-treatment result, no test."""
    ratings, truth = vandyke
    alone = or_analysis(ratings[0], truth)
    assert alone.random_readers_random_cases.comparison is None
    assert (
        alone.random_readers_random_cases.single[0]
        == (or_analysis(ratings, truth).random_readers_random_cases.single[0])
    )
    assert math.isnan(alone.covariances.cov1)


def test_perfect_reader_has_auc_1_and_ties_count_half() -> None:
    truth = np.array([0, 0, 0, 1, 1, 1])
    assert empirical_auc(np.array([1, 2, 3, 4, 5, 6]), truth) == 1.0
    assert empirical_auc(np.array([6, 5, 4, 3, 2, 1]), truth) == 0.0
    assert empirical_auc(np.array([1, 1, 1, 1, 1, 1]), truth) == 0.5
    # 9 pairs: positive 2 vs negatives (1, 2, 3) → 1 + ½ + 0, others win all 6
    assert empirical_auc(np.array([1, 2, 3, 2, 5, 6]), truth) == pytest.approx(7.5 / 9)


def test_jackknife_matches_leaving_each_case_out() -> None:
    rng = np.random.default_rng(1)
    truth = np.array([0, 1, 0, 1, 1, 0, 0, 1])
    ratings = rng.integers(1, 5, size=(2, 3, truth.size)).astype(float)
    jack = jackknife_aucs(ratings, truth)
    for k in range(truth.size):
        keep = np.arange(truth.size) != k
        np.testing.assert_allclose(jack[..., k], empirical_auc(ratings[..., keep], truth[keep]))
    cov = jackknife_covariance(ratings, truth)
    assert cov.shape == (6, 6)
    np.testing.assert_allclose(cov, cov.T)
    c = truth.size
    flat = jack.reshape(6, c)
    np.testing.assert_allclose(cov, np.cov(flat, bias=True) * (c - 1))


def test_perfect_readers_in_both_treatments() -> None:
    truth = np.array([0] * 5 + [1] * 5)
    ratings = np.tile(truth + np.arange(10) / 100, (2, 3, 1))
    result = or_analysis(ratings, truth)
    assert result.auc_means == (1.0, 1.0)
    comparison = result.random_readers_random_cases.comparison
    assert comparison is not None
    assert (comparison.f, comparison.p_value) == (0.0, 1.0)


def test_identical_treatments_give_f_0_and_p_1(vandyke: tuple[np.ndarray, np.ndarray]) -> None:
    ratings, truth = vandyke
    same = np.stack([ratings[0], ratings[0], ratings[0]])
    result = or_analysis(same, truth)
    for analysis in (result.random_readers_random_cases, result.fixed_readers, result.fixed_cases):
        comparison = analysis.comparison
        assert comparison is not None
        assert comparison.ndf == 2
        assert comparison.f == 0.0
        assert comparison.p_value == 1.0
        assert len(comparison.differences) == 3
        for d in comparison.differences:
            assert d.estimate == 0.0 and d.p_value == 1.0
            assert d.ci[0] <= 0.0 <= d.ci[1]


def test_p_value_falls_as_the_difference_grows(vandyke: tuple[np.ndarray, np.ndarray]) -> None:
    """Making treatment 2 ever better (more positive cases pushed to the top rating)."""
    ratings, truth = vandyke
    p_values = []
    for n in (0, 10, 20, 45):
        better = ratings.copy()
        better[1][:, np.flatnonzero(truth == 1)[:n]] = 6
        comparison = or_analysis(better, truth).random_readers_random_cases.comparison
        assert comparison is not None
        p_values.append(comparison.p_value)
    assert p_values == sorted(p_values, reverse=True)
    assert p_values[-1] < 0.01


def test_chance_readers_are_not_significant() -> None:
    rng = np.random.default_rng(7)
    truth = np.repeat([0, 1], 40)
    result = or_analysis(rng.normal(size=(1, 6, 80)), truth)
    single = result.random_readers_random_cases.single[0]
    assert single is not None
    assert single.ci[0] < 0.5 < single.ci[1]
    assert single.p_value > 0.05


@pytest.mark.parametrize(
    ("ratings", "truth", "message"),
    [
        (np.zeros((2, 3)), np.array([0, 1, 0, 1]), "one entry per case"),
        (np.zeros((2, 2, 2, 4)), np.array([0, 0, 1, 1]), r"\[treatments, readers, cases\]"),
        (np.array([[[1, np.nan, 3, 4]]]), np.array([0, 0, 1, 1]), "incomplete design"),
        (np.ones((1, 2, 4)), np.array([0, 0, 1, 2]), "0 \\(negative\\) or 1"),
        (np.ones((1, 2, 4)), np.array([0, 1, 1, 1]), "two positive and two negative"),
    ],
)
def test_incomplete_or_invalid_designs_are_refused(
    ratings: np.ndarray, truth: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_design(ratings, truth)
    with pytest.raises(ValueError, match=message):
        or_analysis(ratings, truth)


def test_random_readers_need_two_readers() -> None:
    truth = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="two readers"):
        or_analysis(np.array([[[1, 2, 3, 4]], [[1, 3, 2, 4]]]), truth)
    one = or_analysis(np.array([[1, 2, 3, 4]]), truth)
    assert one.random_readers_random_cases.single == (None,)
    assert one.fixed_readers.single[0] is not None
