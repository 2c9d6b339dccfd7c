"""The two-way (reader × item) bootstrap: its mechanics, its exact variance, and its coverage
on simulated reader studies with reader and patch random effects."""

from __future__ import annotations

import time

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss
from statsmodels.stats.proportion import proportion_confint

from models.clustered import (
    clustered_rate,
    two_way_bootstrap,
    two_way_bootstrap_moments,
    two_way_bootstrap_variance,
)


def _crossed(n_readers: int, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    return np.repeat(np.arange(n_readers), n_items), np.tile(np.arange(n_items), n_readers)


def _population_rate(mu: float, reader_sd: float, item_sd: float) -> float:
    """E over reader and item effects of sigmoid(μ + r + p), r ~ N(0, σr²), p ~ N(0, σp²):
    r + p ~ N(0, σr² + σp²), so a 1-D Gauss–Hermite integral (80 nodes) is exact to ~1e-12."""
    x, w = hermegauss(80)
    sd = np.hypot(reader_sd, item_sd)
    return float(np.sum(w / (1 + np.exp(-(mu + sd * x)))) / np.sqrt(2 * np.pi))


def test_population_rate_is_not_the_sigmoid_of_mu() -> None:
    """The quadrature agrees with a 4-million-draw Monte Carlo, and differs from sigmoid(μ)."""
    rng = np.random.default_rng(0)
    z = -0.5 + rng.normal(0, 0.5, 4_000_000) + rng.normal(0, 1.0, 4_000_000)
    truth = _population_rate(-0.5, 0.5, 1.0)
    assert truth == pytest.approx(np.mean(1 / (1 + np.exp(-z))), abs=1e-3)
    assert abs(truth - 1 / (1 + np.exp(0.5))) > 0.02


def test_rate_counts_and_determinism() -> None:
    reader, item = _crossed(4, 10)
    y = (np.arange(40) % 3 == 0).astype(int)
    result = clustered_rate(reader, item, y, n_boot=200, seed=3)
    assert (result.k, result.n, result.rate) == (14, 40, 14 / 40)
    assert (result.n_readers, result.n_items, result.n_boot, result.n_valid) == (4, 10, 200, 200)
    assert result.ci[0] <= result.rate <= result.ci[1]
    assert result == clustered_rate(reader, item, y, n_boot=200, seed=3)
    assert result != clustered_rate(reader, item, y, n_boot=200, seed=4)


def test_labels_may_be_any_values() -> None:
    reader, item = _crossed(3, 5)
    y = np.arange(15) % 2
    by_index = clustered_rate(reader, item, y, n_boot=100)
    by_name = clustered_rate(
        np.array(["ann", "bob", "cy"])[reader], np.array(list("vwxyz"))[item], y, n_boot=100
    )
    assert by_index == by_name


def test_constant_outcome_has_a_zero_width_interval() -> None:
    reader, item = _crossed(3, 8)
    result = clustered_rate(reader, item, np.ones(24), n_boot=100)
    assert result.ci == (1.0, 1.0)
    assert result.p_value == 0.0


def test_resampling_reproduces_the_exact_bootstrap_variance() -> None:
    """For a complete table the simulated bootstrap variance matches Owen's closed form."""
    rng = np.random.default_rng(5)
    table = (rng.random((5, 30)) < rng.random((5, 1)) * rng.random((1, 30)) * 2).astype(float)
    reader, item = _crossed(5, 30)
    draws = two_way_bootstrap(reader, item, table.ravel(), n_boot=20_000, seed=1)
    assert np.var(draws) == pytest.approx(float(two_way_bootstrap_variance(table)), rel=0.04)
    batched = two_way_bootstrap_variance(np.stack([table, table[::-1]]))
    assert batched.shape == (2,) and batched[0] == pytest.approx(batched[1])


def test_resampling_reproduces_the_exact_third_moment() -> None:
    """A small, strongly skewed table (3 ones in 15), where the third moment is measurable."""
    table = np.zeros((3, 5))
    table[0, :2] = table[1, 0] = 1
    reader, item = _crossed(3, 5)
    draws = two_way_bootstrap(reader, item, table.ravel(), n_boot=400_000, seed=2)
    var, third = two_way_bootstrap_moments(table)
    assert np.var(draws) == pytest.approx(float(var), rel=0.01)
    assert np.mean((draws - draws.mean()) ** 3) == pytest.approx(float(third), rel=0.05)


def test_reader_and_item_effects_each_widen_the_interval() -> None:
    """Between-reader spread alone, or between-item spread alone, is picked up."""
    reader, item = _crossed(6, 40)
    readers_differ = (np.arange(6)[reader] < 3).astype(float)  # 3 readers say yes to everything
    items_differ = (np.arange(40)[item] < 20).astype(float)  # half the items always real
    for y in (readers_differ, items_differ):
        result = clustered_rate(reader, item, y, n_boot=500)
        assert result.rate == 0.5
        lo, hi = proportion_confint(int(y.sum()), y.size, method="wilson")
        assert result.ci[1] - result.ci[0] > 1.5 * (hi - lo)


def test_strata_keep_each_replicate_s_mix() -> None:
    """Accuracy with every real item right and every generated item wrong is exactly 50% in
    every replicate when items are resampled within their source."""
    reader, item = _crossed(4, 20)
    source = np.where(item < 10, "real", "generated")
    y = (source == "real").astype(float)
    assert clustered_rate(reader, item, y, n_boot=300, strata=source).ci == (0.5, 0.5)
    free = clustered_rate(reader, item, y, n_boot=300)
    assert free.ci[0] < 0.5 < free.ci[1]


def test_incomplete_and_disjoint_designs() -> None:
    """Disjoint item sets (items nested in readers) and a reader who stopped early."""
    rng = np.random.default_rng(2)
    reader = np.repeat(np.arange(5), 12)
    item = np.arange(60)  # every item judged once
    y = rng.integers(0, 2, 60)
    result = clustered_rate(reader[:-5], item[:-5], y[:-5], n_boot=400)
    assert 0 < result.n_valid <= 400
    assert result.ci[0] <= result.rate <= result.ci[1]
    draws = two_way_bootstrap(reader, item, y, n_boot=400)
    assert np.all(np.isnan(draws) | ((draws >= 0) & (draws <= 1)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcome": np.array([0, 1, 2, 1])}, "0 or 1"),
        ({"outcome": np.array([0, 1, np.nan, 1])}, "0 or 1"),
        ({"item": np.array([0, 1, 2])}, "same length"),
        ({"strata": np.array(["a", "b", "a", "a"])}, "more than one stratum"),
        ({"strata": np.array(["a", "b"])}, "one entry per judgment"),
    ],
)
def test_invalid_inputs_are_refused(kwargs: dict[str, np.ndarray], message: str) -> None:
    args: dict[str, np.ndarray] = {
        "reader": np.array([0, 0, 1, 1]),
        "item": np.array([0, 1, 0, 1]),
        "outcome": np.array([0, 1, 1, 1]),
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        clustered_rate(**args)  # type: ignore[arg-type]


def test_clustered_interval_is_wider_than_wilson_and_covers_the_population_rate() -> None:
    """200 simulated studies, 6 readers × 60 items, logit P(judged real) = μ + r + p with
    μ = −0.5, reader SD 0.5, item SD 1.0 (population rate 0.401), 300 bootstrap replicates.

    Measured (2026-11-27, 2 shared cores): 0.3–0.4 s for the 200 studies; coverage 96.5% (this
    seed), Wilson 67.5%; mean widths 0.222 vs 0.100; the clustered interval was the wider in
    every study. Over 2000 studies (another seed) coverage was 94.9%; with a stronger reader
    effect (SD 0.8, item SD 0.8) it was 92.7% at 6 readers, 93.1% at 10 and 94.6% at 20 —
    few readers with a strong reader effect is where a percentile interval falls short."""
    mu, reader_sd, item_sd = -0.5, 0.5, 1.0
    n_readers, n_items, n_studies = 6, 60, 200
    truth = _population_rate(mu, reader_sd, item_sd)
    reader, item = _crossed(n_readers, n_items)
    rng = np.random.default_rng(2026)
    covered = wilson_covered = wider = 0
    widths = []
    start = time.perf_counter()
    for study in range(n_studies):
        r = rng.normal(0, reader_sd, n_readers)
        p = rng.normal(0, item_sd, n_items)
        prob = 1 / (1 + np.exp(-(mu + r[reader] + p[item])))
        y = (rng.random(prob.size) < prob).astype(int)
        result = clustered_rate(reader, item, y, n_boot=300, seed=study)
        lo, hi = proportion_confint(int(y.sum()), y.size, alpha=0.05, method="wilson")
        covered += result.ci[0] <= truth <= result.ci[1]
        wilson_covered += lo <= truth <= hi
        wider += (result.ci[1] - result.ci[0]) > (hi - lo)
        widths.append((result.ci[1] - result.ci[0], hi - lo))
    elapsed = time.perf_counter() - start
    mean_widths = np.mean(widths, axis=0)
    print(f"coverage {covered / n_studies:.3f}, Wilson {wilson_covered / n_studies:.3f}, ")
    print(f"widths {mean_widths[0]:.3f} vs {mean_widths[1]:.3f}, wider in {wider}, {elapsed:.1f} s")
    assert wider == n_studies
    assert covered >= 0.93 * n_studies
    assert wilson_covered < covered
