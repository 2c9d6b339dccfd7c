"""Sample-size planning: the judged-real planner against brute-force studies analysed with the
actual two-way bootstrap, the MRMC planner's size and power, the inverse search, and the
pilot variance estimator."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss
from scipy import optimize

from models.clustered import clustered_rate
from models.mrmc import empirical_auc
from models.study_power import (
    DEFAULT_ITEM_VAR,
    DEFAULT_READER_VAR,
    Design,
    LogitComponents,
    RoeMetz,
    approximate_interval,
    estimate_components,
    items_for_power,
    judged_real_power,
    logit_normal_mean,
    mrmc_power,
    mu_for_rate,
    probability_components,
    readers_for_power,
    simulate_ratings,
)


def _population_rate(mu: float, var: float) -> float:
    """Independent of the module: 100-node quadrature of E[sigmoid(μ + Z)], Z ~ N(0, var)."""
    x, w = hermegauss(100)
    return float(np.sum(w / (1 + np.exp(-(mu + math.sqrt(var) * x)))) / math.sqrt(2 * math.pi))


def _brute_force_power(
    design: Design, rate: float, n_studies: int, seed: int
) -> tuple[float, float]:
    """Full studies with reader and item effects (own simulation code), each analysed with
    the actual clustered_rate bootstrap (2000 replicates); rejection = 0.5 outside the 95%
    interval. Returns (power, seconds)."""
    var = DEFAULT_READER_VAR + DEFAULT_ITEM_VAR
    mu = optimize.brentq(lambda m: _population_rate(m, var) - rate, -20, 20)
    n_r, n_g = design.n_readers, design.n_generated
    reader, item = np.repeat(np.arange(n_r), n_g), np.tile(np.arange(n_g), n_r)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    rejections = 0
    for study in range(n_studies):
        r = rng.normal(0, math.sqrt(DEFAULT_READER_VAR), n_r)
        p = rng.normal(0, math.sqrt(DEFAULT_ITEM_VAR), n_g)
        prob = 1 / (1 + np.exp(-(mu + r[reader] + p[item])))
        y = (rng.random(prob.size) < prob).astype(int)
        lo, hi = clustered_rate(reader, item, y, n_boot=2000, seed=study).ci
        rejections += not lo <= 0.5 <= hi
    return rejections / n_studies, time.perf_counter() - start


@pytest.mark.parametrize(
    ("design", "rate", "n_studies"),
    [(Design(6, 60), 0.30, 1500), (Design(8, 30), 0.68, 1000)],
    ids=["6x60-rate0.30", "8x30-rate0.68"],
)
def test_planner_matches_brute_force_bootstrap_studies(
    design: Design, rate: float, n_studies: int
) -> None:
    """Within ±3 points. Measured 2026-11-27 (2 shared cores, load average 5): 6 readers × 60
    items (30 generated), rate 0.30: planner 0.817 (20 000 simulated studies, 0.3 s), brute
    force 0.817 (1500 studies, 8.6 s); 8 × 30 (15 generated), rate 0.68: planner 0.543, brute
    force 0.534 (1000 studies, 4.2 s). Over a dozen designs (2–10 readers, rates 0.15–0.38)
    the gap was within ±1.5 points (the brute force's own Monte Carlo SE is about 1.1) except
    2–3 readers at rates ≤ 0.2, +2.5 points; without the skewness and continuity corrections
    the planner was 2–5 points high."""
    planner = judged_real_power(design, rate, n_sim=20_000, seed=1)
    brute, seconds = _brute_force_power(design, rate, n_studies, seed=11)
    print(f"{design}: planner {planner.power:.3f}, brute force {brute:.3f} ({seconds:.1f} s)")
    assert abs(planner.power - brute) <= 0.03


def test_logit_normal_mean_and_its_inverse() -> None:
    assert logit_normal_mean(0.0, 1.7) == pytest.approx(0.5, abs=1e-12)
    assert logit_normal_mean(-0.5, 1.25) == pytest.approx(_population_rate(-0.5, 1.25), abs=1e-9)
    mu = mu_for_rate(0.3, 1.25)
    assert logit_normal_mean(mu, 1.25) == pytest.approx(0.3, abs=1e-9)
    assert mu < math.log(0.3 / 0.7)  # the effects pull the population rate toward 50%
    with pytest.raises(ValueError, match="strictly between"):
        mu_for_rate(1.0, 1.0)


def test_design_counts_round_halves_up_like_a_study() -> None:
    assert (Design(5, 41).n_real, Design(5, 41).n_generated) == (21, 20)
    assert (Design(5, 40, 0.25).n_real, Design(5, 40, 0.25).n_generated) == (10, 30)
    with pytest.raises(ValueError, match="no generated items"):
        judged_real_power(Design(5, 10, 1.0), 0.3)


def test_the_approximate_interval_tracks_the_bootstrap() -> None:
    """For one moderately skewed study the approximated percentile ends are within 0.005 of
    the resampled ones (100 000 replicates)."""
    rng = np.random.default_rng(4)
    table = (rng.random((5, 25)) < rng.uniform(0.1, 0.4, (5, 1))).astype(float)
    reader, item = np.repeat(np.arange(5), 25), np.tile(np.arange(25), 5)
    lo, hi = clustered_rate(reader, item, table.ravel(), n_boot=100_000).ci
    approx_lo, approx_hi = approximate_interval(table)
    assert float(approx_lo) == pytest.approx(lo, abs=0.005)
    assert float(approx_hi) == pytest.approx(hi, abs=0.005)


def test_judged_real_power_grows_with_effect_readers_and_items() -> None:
    base = Design(6, 40)
    at_null = judged_real_power(base, 0.5, n_sim=4000).power
    assert at_null <= 0.06  # the bootstrap test is, if anything, conservative
    powers = [judged_real_power(base, rate).power for rate in (0.45, 0.4, 0.3)]
    assert at_null < powers[0] < powers[1] < powers[2]
    assert judged_real_power(replace(base, n_readers=12), 0.4).power > powers[1]
    assert judged_real_power(replace(base, n_items=120), 0.4).power > powers[1]
    small_effects = LogitComponents(reader_var=0.05, item_var=0.2)
    assert judged_real_power(base, 0.4, components=small_effects).power > powers[1]


def test_smallest_number_of_readers_and_items_for_80_percent() -> None:
    def power_of(design: Design) -> float:
        return judged_real_power(design, 0.35, n_sim=2000).power

    readers = readers_for_power(
        lambda d: judged_real_power(d, 0.35, n_sim=2000), Design(2, 60), max_readers=60
    )
    assert readers.reached and readers.target == 0.8
    n = readers.design.n_readers
    assert readers.power.power >= 0.8 > power_of(Design(n - 1, 60))
    assert readers.design == Design(n, 60)

    items = items_for_power(
        lambda d: judged_real_power(d, 0.35, n_sim=2000), Design(12, 2), max_items=400
    )
    assert items.reached
    m = items.design.n_items
    assert items.power.power >= 0.8 > power_of(Design(12, m - 1))

    short = readers_for_power(
        lambda d: judged_real_power(d, 0.45, n_sim=500), Design(2, 10), max_readers=8
    )
    assert not short.reached and short.design.n_readers == 8


def test_simulated_ratings_have_the_population_auc() -> None:
    rng = np.random.default_rng(0)
    design = Design(5, 60)
    aucs = []
    for _ in range(400):
        ratings, truth = simulate_ratings(design, 0.75, RoeMetz(), rng)
        assert ratings.shape == (5, 60) and int(truth.sum()) == 30
        aucs.append(empirical_auc(ratings, truth).mean())
    assert np.mean(aucs) == pytest.approx(0.75, abs=0.01)


def test_mrmc_power_holds_its_size_and_grows() -> None:
    """OR–Hillis, random readers and cases, AUC = 0.5 rejected in about 5% of studies."""
    design = Design(5, 60)
    size = mrmc_power(design, 0.5, n_sim=1000, seed=3)
    assert size.power <= 0.05 + 2.5 * size.mc_se
    assert size.power >= 0.01
    powers = [mrmc_power(design, auc).power for auc in (0.6, 0.7, 0.8)]
    assert powers == sorted(powers) and powers[-1] > 0.95
    assert mrmc_power(Design(10, 60), 0.6).power > powers[0]
    with pytest.raises(ValueError, match="two readers"):
        mrmc_power(Design(1, 60), 0.7)


def test_mrmc_readers_for_power() -> None:
    found = readers_for_power(
        lambda d: mrmc_power(d, 0.62, n_sim=200), Design(2, 100), max_readers=40
    )
    assert found.reached
    n = found.design.n_readers
    assert mrmc_power(Design(n - 1, 100), 0.62, n_sim=200).power < 0.8 <= found.power.power


def _pilot(
    n_readers: int, n_items: int, mu: float, comps: LogitComponents, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    reader, item = np.repeat(np.arange(n_readers), n_items), np.tile(np.arange(n_items), n_readers)
    a = rng.normal(0, math.sqrt(comps.reader_var), n_readers)
    b = rng.normal(0, math.sqrt(comps.item_var), n_items)
    y = (rng.random(reader.size) < 1 / (1 + np.exp(-(mu + a[reader] + b[item])))).astype(int)
    return reader, item, y


def test_pilot_moments_are_unbiased_on_the_probability_scale() -> None:
    """Averaged over 1000 small pilots (6 readers × 30 items), the pairwise moment estimates
    match the model's probability-scale components (2-D quadrature) within 3 standard errors
    (measured: −0.7 and −0.8 SE for the reader and item components; over 20 000 pilots with
    another seed, −0.6 and +1.0)."""
    truth_comps = LogitComponents(0.4, 1.0)
    mean, v_r, v_i = probability_components(-0.4, truth_comps)
    estimates = np.array(
        [
            (e.rate, e.reader_var_prob, e.item_var_prob)
            for e in (
                estimate_components(*_pilot(6, 30, -0.4, truth_comps, seed)) for seed in range(1000)
            )
        ]
    )
    se = estimates.std(axis=0) / math.sqrt(1000)
    assert np.all(np.abs(estimates.mean(axis=0) - [mean, v_r, v_i]) < 3 * se)


def test_pilot_estimate_recovers_the_logit_components() -> None:
    comps = LogitComponents(0.25, 1.0)
    est = estimate_components(*_pilot(150, 300, -0.3, comps, seed=1))
    assert est.components.reader_var == pytest.approx(0.25, rel=0.3)
    assert est.components.item_var == pytest.approx(1.0, rel=0.2)
    assert est.mu == pytest.approx(-0.3, abs=0.2)
    assert (est.n_readers, est.n_items, est.n_judgments) == (150, 300, 45_000)
    # the fitted model reproduces the estimated probability-scale moments exactly
    fitted = probability_components(est.mu, est.components)
    assert fitted == pytest.approx((est.rate, est.reader_var_prob, est.item_var_prob), abs=1e-6)


def test_pilot_estimate_handles_incomplete_designs_and_refuses_disjoint_ones() -> None:
    reader, item, y = _pilot(10, 40, 0.0, LogitComponents(), seed=2)
    keep = np.random.default_rng(3).random(reader.size) < 0.7
    est = estimate_components(reader[keep], item[keep], y[keep])
    assert est.n_judgments == int(keep.sum())
    assert est.components.item_var > 0
    with pytest.raises(ValueError, match="no item was judged by two readers"):
        estimate_components(np.repeat(np.arange(4), 5), np.arange(20), np.arange(20) % 2)
    with pytest.raises(ValueError, match="0 or 1"):
        estimate_components(reader, item, y * 2)
