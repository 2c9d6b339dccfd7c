"""Intervals for reader-study rates that treat readers *and* patches as random: the two-way
(reader × item) bootstrap.

A judged-real rate pools judgments that are not independent: one reader's judgments share
that reader's leniency, and one patch's judgments share how convincing that patch is. A
Wilson interval counts every judgment as independent and is too narrow whenever either effect
exists; resampling readers only, or patches only, misses the other effect. The two-way
bootstrap resamples readers with replacement and, independently, items with replacement, and
recomputes the rate over the crossed subset (every judgment of a drawn reader on a drawn item,
counted as often as its reader times its item was drawn). Its percentile interval generalises
to any study population of readers and patches like the ones sampled.

Why this rather than a logistic mixed model (logit P(y) = μ + reader + item):
- it estimates the rate the coordinator reports, the population-averaged share of judgments
  that come out "real"; a mixed model's μ is the rate of a *median* reader on a *median* patch
  (sigmoid(μ), not E[sigmoid(μ + r + p)]), which differs whenever the effects are large, and
  turning it back into a population rate needs the normality it assumed;
- it assumes no distribution for reader or patch effects and no link function, and it handles
  incomplete designs (disjoint item sets, readers who stopped early) with no change;
- it cannot fail to converge, and it needs nothing beyond numpy (Python has no maintained
  frequentist crossed-random-effects GLMM; statsmodels' BinomialBayesMixedGLM is variational
  Bayes);
- costs: it is somewhat conservative — for a complete R × I design its variance is
  (1 − 1/R)·σ²_reader/R + (1 − 1/I)·σ²_item/I + ≈3·σ²_residual/(R·I), i.e. the residual
  term is counted about three times (Owen 2007) — and with very few readers (under 5) any
  interval for a reader-random rate is unreliable because the reader variance rests on a few
  values. A rate of exactly 0 or 1 gives a zero-width interval.

Sources: Owen AB. The pigeonhole bootstrap. Ann Appl Stat 2007;1:386–411 (the two-way
resampling scheme and its variance); Efron B, Tibshirani RJ. An Introduction to the
Bootstrap. Chapman & Hall 1993, ch. 13 (percentile intervals); Brennan RL, Harris DJ, Hanson
BA. The bootstrap and other procedures for examining the variability of estimated variance
components. ACT 1987 (bootstrapping both facets of a persons × items design).

The same function gives accuracy (outcome: verdict = source, strata: the item's source, so
every replicate keeps the study's real fraction) and label accuracy (outcome: given label =
true label, over judgments with a label).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

N_BOOT = 2000

# replicates per chunk are bounded so that a chunk's [replicates, readers or items] weight
# arrays stay near this many floats
_CHUNK_FLOATS = 2_000_000


@dataclass(frozen=True)
class ClusteredRate:
    """A rate ``k``/``n`` over judgments, with a two-way bootstrap interval.

    ``ci``: percentile interval at ``level``; ``se``: the bootstrap standard deviation;
    ``p_value``: two-sided bootstrap test of rate = ``null`` (2 × the smaller share of
    replicates on either side of ``null``, ties counted half; ``p_value`` < 1 − ``level``
    matches ``null`` outside ``ci``). ``n_valid`` replicates of ``n_boot`` had at least one
    judgment in their crossed subset (fewer only in sparse designs; the others are dropped)."""

    k: int
    n: int
    rate: float
    ci: tuple[float, float]
    se: float
    p_value: float
    null: float
    level: float
    n_readers: int
    n_items: int
    n_boot: int
    n_valid: int


def two_way_bootstrap(
    reader: np.ndarray,
    item: np.ndarray,
    outcome: np.ndarray,
    n_boot: int = N_BOOT,
    seed: int = 0,
    strata: np.ndarray | None = None,
) -> np.ndarray:
    """``n_boot`` bootstrap rates: readers resampled with replacement, items independently
    with replacement (within each stratum when ``strata`` is given), each judgment weighted by
    (times its reader was drawn) × (times its item was drawn). NaN where a replicate's crossed
    subset is empty. One row per judgment in ``reader``, ``item``, ``outcome`` (0/1, or any
    number: the result is then the weighted mean); ``strata``: per judgment, the item's
    stratum (constant per item)."""
    sums, counts, item_strata = _tables(reader, item, outcome, strata)
    n_r, n_i = counts.shape
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    chunk = max(1, _CHUNK_FLOATS // max(n_r, n_i))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        w = rng.multinomial(n_r, np.full(n_r, 1 / n_r), size=b).astype(float)
        v = _item_weights(rng, item_strata, b)
        num = ((w @ sums) * v).sum(axis=1)
        den = ((w @ counts) * v).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + b] = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return out


def clustered_rate(
    reader: np.ndarray,
    item: np.ndarray,
    outcome: np.ndarray,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = 0.95,
    null: float = 0.5,
    strata: np.ndarray | None = None,
) -> ClusteredRate:
    """The rate of ``outcome`` (0/1 per judgment) with a two-way reader × item bootstrap
    percentile interval (see the module docstring for the scheme and why it was chosen).

    ``reader`` and ``item`` are any labels (one per judgment); the design may be incomplete
    (not every reader judged every item). ``strata`` (optional, per judgment): items are
    resampled within their stratum, e.g. the source for accuracy, so each replicate keeps the
    study's real/generated mix."""
    y = np.asarray(outcome, dtype=float)
    if y.size and not np.all((y == 0) | (y == 1)):
        raise ValueError("outcome must be 0 or 1 for every judgment")
    draws = two_way_bootstrap(reader, item, y, n_boot, seed, strata)
    valid = draws[~np.isnan(draws)]
    if valid.size == 0:
        raise ValueError("no bootstrap replicate had a judgment; is the design empty?")
    alpha = 1 - level
    lo, hi = np.quantile(valid, [alpha / 2, 1 - alpha / 2])
    below = float(np.mean(valid < null) + 0.5 * np.mean(valid == null))
    return ClusteredRate(
        k=int(y.sum()),
        n=int(y.size),
        rate=float(y.mean()),
        ci=(float(lo), float(hi)),
        se=float(valid.std(ddof=1)) if valid.size > 1 else math.nan,
        p_value=min(1.0, 2 * min(below, 1 - below)),
        null=null,
        level=level,
        n_readers=int(np.unique(np.asarray(reader)).size),
        n_items=int(np.unique(np.asarray(item)).size),
        n_boot=n_boot,
        n_valid=int(valid.size),
    )


def two_way_bootstrap_variance(table: np.ndarray) -> np.ndarray:
    """The exact variance of the two-way bootstrap mean of a *complete* reader × item table
    ``table`` [..., readers, items] (batched over leading axes), without resampling.

    With the table's two-way ANOVA decomposition y_ri = m + a_r + b_i + g_ri (effects summing
    to 0), and multinomial draw counts for readers and items (Owen 2007, section 3):
    Var* = Σ_r a_r²/R² + Σ_i b_i²/I² + Σ_ri g_ri²/(R·I)². What ``two_way_bootstrap`` estimates by
    simulation for such a table; the sample-size planner uses it as its normal approximation."""
    return two_way_bootstrap_moments(table)[0]


def two_way_bootstrap_moments(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact variance and third central moment of the two-way bootstrap mean of a
    complete table [..., readers, items] (batched).

    The bootstrap mean is m + A + B + G with A = mean of R reader effects a drawn with
    replacement, B likewise for items, G = (1/RI) Σ_kl g over the drawn pairs. Every term
    whose reader (or item) index appears once has mean 0 (effects sum to 0 over each index),
    which leaves, with ⟨·⟩ the mean over the table:
    Var* = ⟨a²⟩/R + ⟨b²⟩/I + ⟨g²⟩/(RI);
    E*[(ȳ* − m)³] = ⟨a³⟩/R² + ⟨b³⟩/I² + ⟨g³⟩/(RI)² + 3⟨a g²⟩/(R²I) + 3⟨b g²⟩/(RI²)
                    + 6⟨a b g⟩/(RI).
    The planner uses both (a normal approximation with a Cornish–Fisher skewness term) in
    place of resampling; ``tests/models/test_clustered.py`` checks them against resampling."""
    y = np.asarray(table, dtype=float)
    n_r, n_i = y.shape[-2], y.shape[-1]
    m = y.mean(axis=(-2, -1), keepdims=True)
    a = y.mean(axis=-1, keepdims=True) - m
    b = y.mean(axis=-2, keepdims=True) - m
    g = y - m - a - b

    def mean(x: np.ndarray) -> np.ndarray:
        out: np.ndarray = x.mean(axis=(-2, -1))
        return out

    g2 = g**2
    var = mean(a**2) / n_r + mean(b**2) / n_i + mean(g2) / (n_r * n_i)
    third = (
        mean(a**3) / n_r**2
        + mean(b**3) / n_i**2
        + mean(g2 * g) / (n_r * n_i) ** 2
        + 3 * mean(a * g2) / (n_r**2 * n_i)
        + 3 * mean(b * g2) / (n_r * n_i**2)
        + 6 * mean(a * b * g) / (n_r * n_i)
    )
    return var, third


def _tables(
    reader: np.ndarray, item: np.ndarray, outcome: np.ndarray, strata: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reader × item sums and counts of the outcome, and each item's stratum code."""
    r_lab, i_lab, y = np.asarray(reader), np.asarray(item), np.asarray(outcome, dtype=float)
    if not (r_lab.ndim == i_lab.ndim == y.ndim == 1) or not (r_lab.size == i_lab.size == y.size):
        raise ValueError("reader, item and outcome must be 1-D arrays of the same length")
    if y.size == 0:
        raise ValueError("no judgments")
    if not np.all(np.isfinite(y)):
        raise ValueError("outcome has missing (NaN) values: drop those judgments first")
    _, r = np.unique(r_lab, return_inverse=True)
    _, i = np.unique(i_lab, return_inverse=True)
    n_r, n_i = int(r.max()) + 1, int(i.max()) + 1
    cell = r * n_i + i
    sums = np.bincount(cell, weights=y, minlength=n_r * n_i).reshape(n_r, n_i)
    counts = np.bincount(cell, minlength=n_r * n_i).astype(float).reshape(n_r, n_i)
    if strata is None:
        item_strata = np.zeros(n_i, dtype=int)
    else:
        s_lab = np.asarray(strata)
        if s_lab.shape != y.shape:
            raise ValueError("strata must have one entry per judgment")
        _, s = np.unique(s_lab, return_inverse=True)
        item_strata = np.full(n_i, -1)
        item_strata[i] = s
        if np.any(item_strata[i] != s):
            raise ValueError("an item appears in more than one stratum")
    return sums, counts, item_strata


def _item_weights(rng: np.random.Generator, item_strata: np.ndarray, b: int) -> np.ndarray:
    """[b, items] multinomial draw counts, items drawn within their strata."""
    v = np.zeros((b, item_strata.size))
    for s in np.unique(item_strata):
        members = np.flatnonzero(item_strata == s)
        m = members.size
        v[:, members] = rng.multinomial(m, np.full(m, 1 / m), size=b)
    return v
