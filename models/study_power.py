"""Sample-size planning for a reader study (visual Turing test), by simulation.

Two questions, each for a design (readers, items per reader, real fraction; every reader
judges the same items, as in a study with ``shared_items``):

1. **Judged-real rate** (:func:`judged_real_power`): the power to tell a judged-real rate of
   generated patches of 50% from an alternative rate, with the two-way reader × item
   bootstrap of :mod:`models.clustered` as the test. Judgments follow a logit-normal crossed
   model, logit P(judged real | reader r, patch i) = μ + a_r + b_i, a_r ~ N(0, σ²_reader),
   b_i ~ N(0, σ²_item), μ set so that the *population* rate E[sigmoid(μ + a + b)] equals the
   alternative. Each simulated study is tested with an approximation of the bootstrap
   percentile interval instead of a bootstrap inside the simulation
   (:func:`approximate_interval`): the normal interval rate ± z·√Var*, with a Cornish–Fisher
   skewness term, rate + √Var*·(±z + γ(z² − 1)/6), γ = E*[(ȳ* − ȳ)³]/Var*^1.5, Var* and the
   third moment being the bootstrap's exact moments for a complete table
   (:func:`models.clustered.two_way_bootstrap_moments`), and a continuity correction of half
   the bootstrap mean's lattice step. The plain normal interval overstated the bootstrap
   test's power by 2–5 points (the bootstrap distribution of a rate away from 50% is skewed,
   and it has an atom at 50%); with both corrections the planner agrees with full studies
   analysed with the actual bootstrap within Monte Carlo error (``tests/models/
   test_study_power.py``).
2. **Realness AUC** (:func:`mrmc_power`): the power of the Obuchowski–Rockette–Hillis test of
   AUC = 0.5 (random readers and cases, :func:`models.mrmc.or_analysis`) for a given
   population AUC, with ratings simulated from a Roe–Metz-like model (:class:`RoeMetz`).

:func:`readers_for_power` and :func:`items_for_power` search the smallest number of readers
or items reaching a target power (80% by default). :func:`estimate_components` estimates the
logit-scale reader and item variances from pilot judgments so the planner can use them
instead of the defaults.

Sources: Owen AB, The pigeonhole bootstrap, Ann Appl Stat 2007 (bootstrap variance); Roe CA,
Metz CE, Dorfman-Berbaum-Metz method for statistical analysis of multireader, multimodality
ROC data: validation with computer simulation, Acad Radiol 1997;4:298–303 (the simulation
model); Hillis SL, Obuchowski NA, Berbaum KS, Power estimation for multireader ROC methods,
Acad Radiol 2011;18:129–142 (power by the OR model); Searle SR, Casella G, McCulloch CE,
Variance Components, Wiley 1992, ch. 4–5 (moment estimators in crossed designs).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import optimize, special, stats

from models.clustered import two_way_bootstrap_moments

# Logit-scale defaults of the judged-real model, used until a pilot gives better ones. No
# published values exist for visual Turing tests of generated CT patches; these are moderate:
# a reader one SD above average says "real" about 12 points more often near 50%, and one SD
# of patch realism moves it about 23 points.
DEFAULT_READER_VAR = 0.25  # reader SD 0.5
DEFAULT_ITEM_VAR = 1.0  # item (patch) SD 1.0

# Roe–Metz-like model defaults for the realness AUC, loosely matched to Van Dyke et al. 1993
# (reader AUCs' SD about 0.05; correlation of two readers' AUCs over cases, Cov2/Var, 0.43).
DEFAULT_AUC_READER_SD = 0.3
DEFAULT_CASE_SHARE = 0.5

# Squared AUC deviations below this are floating-point noise (as in models.mrmc).
_AUC_NOISE = 1e-24

N_SIM_RATE = 4000
N_SIM_AUC = 300

_NODES, _WEIGHTS = hermegauss(60)
_WEIGHTS = _WEIGHTS / math.sqrt(2 * math.pi)  # E[f(Z)] ≈ Σ w f(x), Z ~ N(0, 1)


@dataclass(frozen=True)
class Design:
    """A study design as the planner sees it: ``n_readers`` readers each judge the same
    ``n_items`` items, ``round(n_items × real_fraction)`` of them real (halves round up, as
    in a study), the rest generated."""

    n_readers: int
    n_items: int
    real_fraction: float = 0.5

    @property
    def n_real(self) -> int:
        return math.floor(self.n_items * self.real_fraction + 0.5)

    @property
    def n_generated(self) -> int:
        return self.n_items - self.n_real


@dataclass(frozen=True)
class LogitComponents:
    """Variances of the reader and item (patch) effects on the logit scale."""

    reader_var: float = DEFAULT_READER_VAR
    item_var: float = DEFAULT_ITEM_VAR


@dataclass(frozen=True)
class RoeMetz:
    """Roe–Metz-like model of realness ratings (latent, continuous): for reader j and case k,
    rating = truth_k·(μ + d_j) + c_k + e_jk with d_j ~ N(0, ``reader_sd``²) (reader skill),
    c_k ~ N(0, ``case_share``) shared by all readers (case difficulty) and e_jk ~ N(0,
    1 − ``case_share``). Reader j's AUC over infinitely many cases is Φ((μ + d_j)/√2); the
    population AUC is Φ(μ/√(2 + reader_sd²)). Roe & Metz (1997) add a reader effect to every
    case, which leaves AUCs unchanged; the reader-specific separation d_j replaces it so that
    readers differ in AUC."""

    reader_sd: float = DEFAULT_AUC_READER_SD
    case_share: float = DEFAULT_CASE_SHARE


@dataclass(frozen=True)
class PowerResult:
    """Estimated ``power`` (share of ``n_sim`` simulated studies whose test rejected at
    ``alpha``) and its Monte Carlo standard error ``mc_se``, for ``design``."""

    power: float
    mc_se: float
    n_sim: int
    alpha: float
    design: Design


@dataclass(frozen=True)
class SampleSize:
    """The smallest design found with ``power`` ≥ ``target`` (``reached`` False: even the
    largest design tried, returned in ``design``, fell short)."""

    design: Design
    power: PowerResult
    target: float
    reached: bool


@dataclass(frozen=True)
class PilotEstimate:
    """Variance components estimated from pilot judgments.

    ``rate``: the observed rate; ``reader_var_prob``, ``item_var_prob``: probability-scale
    components (variance of readers' and of items' expected rates; unbiased pairwise moment
    estimators, may be negative by chance); ``mu`` and ``components``: the logit-normal model
    with the same mean and probability-scale components (negative estimates count as 0)."""

    rate: float
    reader_var_prob: float
    item_var_prob: float
    mu: float
    components: LogitComponents
    n_judgments: int
    n_readers: int
    n_items: int


def logit_normal_mean(mu: float, var: float) -> float:
    """E[sigmoid(μ + Z)], Z ~ N(0, var), by 60-node Gauss–Hermite quadrature."""
    return float(np.sum(_WEIGHTS * _sigmoid(mu + math.sqrt(max(var, 0.0)) * _NODES)))


def mu_for_rate(rate: float, var: float) -> float:
    """The μ whose population rate E[sigmoid(μ + Z)], Z ~ N(0, var), is ``rate``."""
    if not 0 < rate < 1:
        raise ValueError("the rate must lie strictly between 0 and 1")
    return float(optimize.brentq(lambda m: logit_normal_mean(m, var) - rate, -50, 50, xtol=1e-12))


def simulate_judgments(
    design: Design,
    rate: float,
    components: LogitComponents,
    n_sim: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """0/1 judged-real tables [n_sim, readers, generated items] of simulated studies whose
    population judged-real rate is ``rate``."""
    mu = mu_for_rate(rate, components.reader_var + components.item_var)
    n_r, n_g = design.n_readers, design.n_generated
    a = rng.normal(0, math.sqrt(components.reader_var), (n_sim, n_r, 1))
    b = rng.normal(0, math.sqrt(components.item_var), (n_sim, 1, n_g))
    table: np.ndarray = (rng.random((n_sim, n_r, n_g)) < _sigmoid(mu + a + b)).astype(float)
    return table


def judged_real_power(
    design: Design,
    alternative: float,
    null: float = 0.5,
    components: LogitComponents | None = None,
    alpha: float = 0.05,
    n_sim: int = N_SIM_RATE,
    seed: int = 0,
) -> PowerResult:
    """Power of the two-way bootstrap test of judged-real rate = ``null`` when the population
    rate is ``alternative`` (module docstring: the model and the approximation of the test).
    About 50 µs per simulated study of 6 readers × 30 generated items."""
    _check_design(design, need_generated=True)
    components = components or LogitComponents()
    rng = np.random.default_rng(seed)
    chunk = max(1, 1_000_000 // (design.n_readers * design.n_generated))
    rejections = 0
    for start in range(0, n_sim, chunk):
        tables = simulate_judgments(design, alternative, components, min(chunk, n_sim - start), rng)
        low, high = approximate_interval(tables, alpha)
        rejections += int(np.sum((null < low) | (null > high)))
    return _power(rejections, n_sim, alpha, design)


def approximate_interval(tables: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """The two-way bootstrap percentile interval of complete 0/1 tables [..., readers, items],
    approximated without resampling: Cornish–Fisher quantiles from the bootstrap's exact
    mean, variance and third moment, ȳ + √Var*·(±z + γ(z² − 1)/6), γ = third/Var*^1.5, each
    end moved out by half a lattice step 1/(2·R·I) (the bootstrap mean of a complete 0/1
    table takes only the values k/(R·I); a percentile end that falls on the null value keeps
    it inside the interval, which a continuous approximation would split in half)."""
    n_r, n_i = tables.shape[-2], tables.shape[-1]
    rate = tables.mean(axis=(-2, -1))
    var, third = two_way_bootstrap_moments(tables)
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(sd > 0, third / np.where(sd > 0, sd, 1) ** 3, 0.0)
    z = float(stats.norm.ppf(1 - alpha / 2))
    shift = skew * (z * z - 1) / 6
    half_step = 0.5 / (n_r * n_i)
    return rate + sd * (-z + shift) - half_step, rate + sd * (z + shift) + half_step


def simulate_ratings(
    design: Design,
    auc: float,
    model: RoeMetz,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """One simulated study: realness ratings [readers, items] and truth [items] (1 = real)
    from the Roe–Metz-like model with population AUC ``auc``."""
    if not 0 < auc < 1:
        raise ValueError("the AUC must lie strictly between 0 and 1")
    mu = float(special.ndtri(auc)) * math.sqrt(2 + model.reader_sd**2)
    truth = np.zeros(design.n_items, dtype=int)
    truth[: design.n_real] = 1
    d = rng.normal(0, model.reader_sd, (design.n_readers, 1))
    c = rng.normal(0, math.sqrt(model.case_share), (1, design.n_items))
    e = rng.normal(0, math.sqrt(1 - model.case_share), (design.n_readers, design.n_items))
    return truth * (mu + d) + c + e, truth


def mrmc_power(
    design: Design,
    auc: float,
    model: RoeMetz | None = None,
    alpha: float = 0.05,
    n_sim: int = N_SIM_AUC,
    seed: int = 0,
) -> PowerResult:
    """Power of the OR–Hillis test (random readers and cases) of realness AUC = 0.5 when the
    population AUC is ``auc``: simulated studies analysed with :func:`models.mrmc.or_analysis`'s
    test (vectorised over studies in :func:`rrrc_p_values`), two-sided rejections counted.
    About 0.1 ms per simulated study of 6 readers × 60 items."""
    _check_design(design, need_generated=True)
    if design.n_real < 2 or design.n_generated < 2 or design.n_readers < 2:
        raise ValueError("the AUC test needs two readers and two real and two generated items")
    model = model or RoeMetz()
    rng = np.random.default_rng(seed)
    rejections = 0
    chunk = max(1, 1_000_000 // (design.n_readers * design.n_items))
    for start in range(0, n_sim, chunk):
        studies = [
            simulate_ratings(design, auc, model, rng) for _ in range(min(chunk, n_sim - start))
        ]
        p = rrrc_p_values(np.stack([ratings for ratings, _ in studies]), studies[0][1])
        rejections += int(np.sum(p < alpha))
    return _power(rejections, n_sim, alpha, design)


def rrrc_p_values(ratings: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The p-values of :func:`models.mrmc.or_analysis`'s one-treatment test of AUC = 0.5,
    random readers and cases, for many studies at once: ``ratings`` [studies, readers,
    cases], ``truth`` [cases] (1 = positive), the same for every study. Same formulas
    (empirical AUC, jackknife Cov2 and MS(R) of the treatment, Hillis df; see ``or_analysis``),
    vectorised over studies, with AUCs and jackknife sums from mid-ranks (O(c log c) per
    reader instead of the n1 × n0 kernel): the planner runs thousands of analyses per answer,
    and one ``or_analysis`` call costs about a millisecond in Python overhead alone."""
    positive = np.asarray(truth) == 1
    n_s, n_r = ratings.shape[0], ratings.shape[1]
    n1, n0 = int(positive.sum()), int((~positive).sum())
    # Mann–Whitney sums from mid-ranks instead of the n1 × n0 kernel: for a positive case,
    # Σ_l ψ(x_k, y_l) = rank of x_k among all cases − its rank among positives; for a negative
    # case, Σ_k ψ(x_k, y_l) = n1 − (rank of y_l among all − its rank among negatives).
    ranks = stats.rankdata(ratings, axis=-1)
    rows = ranks[..., positive] - stats.rankdata(ratings[..., positive], axis=-1)
    cols = n1 - (ranks[..., ~positive] - stats.rankdata(ratings[..., ~positive], axis=-1))
    total = rows.sum(axis=-1)
    auc = total / (n1 * n0)
    jack = np.concatenate(
        [
            (total[..., np.newaxis] - rows) / ((n1 - 1) * n0),
            (total[..., np.newaxis] - cols) / (n1 * (n0 - 1)),
        ],
        axis=-1,
    )
    c = jack.shape[-1]
    dev = jack - jack.mean(axis=-1, keepdims=True)
    cov = (c - 1) / c * np.einsum("srk,sqk->srq", dev, dev)
    off_diagonal = ~np.eye(n_r, dtype=bool)
    cov2 = cov[:, off_diagonal].mean(axis=-1)
    mean = auc.mean(axis=-1)
    reader_dev = auc - mean[:, np.newaxis]
    reader_dev = np.where(reader_dev**2 < _AUC_NOISE, 0.0, reader_dev)
    ms_r = (reader_dev**2).sum(axis=-1) / (n_r - 1)
    total_var = ms_r + n_r * np.maximum(cov2, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(ms_r > 0, total_var**2 / (ms_r**2 / (n_r - 1)), np.inf)
        se = np.sqrt(np.maximum(total_var, 0.0) / n_r)
        z = np.abs(mean - 0.5) / se
    t_p = 2 * np.where(
        np.isinf(df), special.ndtr(-z), special.stdtr(np.where(np.isinf(df), 1, df), -z)
    )
    p: np.ndarray = np.where(se > 0, t_p, np.where(mean == 0.5, 1.0, 0.0))
    assert p.shape == (n_s,)
    return p


PowerOf = Callable[[Design], PowerResult]


def readers_for_power(
    power_of: PowerOf, design: Design, target: float = 0.8, max_readers: int = 200
) -> SampleSize:
    """The smallest number of readers (from 2, items as in ``design``) with power ≥ ``target``.

    ``power_of`` maps a design to its power, e.g.
    ``lambda d: judged_real_power(d, alternative=0.35)``. Bracketing by doubling, then
    bisection: assumes power grows with readers (each evaluation uses the same seed, so the
    Monte Carlo noise is common to neighbouring sizes but can still make power dip by a point
    or so; the returned power is the one computed at the returned design)."""
    return _smallest(power_of, design, "n_readers", 2, max_readers, target)


def items_for_power(
    power_of: PowerOf, design: Design, target: float = 0.8, max_items: int = 10_000
) -> SampleSize:
    """The smallest number of items per reader (readers as in ``design``) with power ≥
    ``target``; as :func:`readers_for_power`. Starts at the smallest size with two generated
    (and, with a real fraction, two real) items."""
    start = 2
    while start < max_items and (
        replace(design, n_items=start).n_generated < 2
        or (design.real_fraction > 0 and replace(design, n_items=start).n_real < 2)
    ):
        start += 1
    return _smallest(power_of, design, "n_items", start, max_items, target)


def estimate_components(reader: np.ndarray, item: np.ndarray, outcome: np.ndarray) -> PilotEstimate:
    """Reader and item variance components from pilot judgments (one row per judgment; for
    the judged-real planner pass the judgments of *generated* items only).

    Method of moments in two steps. (1) On the 0/1 scale, pairwise moments that are unbiased
    for any crossed design, complete or not: with E[y·y'] over pairs of judgments by the same
    reader on different items = m² + V_R, by different readers on the same item = m² + V_I,
    and by different readers on different items = m² (independent effects), V_R and V_I are
    the differences of these pair averages (Searle et al. 1992 ch. 4 for the balanced
    equivalents). (2) The logit-normal model logit p = μ + a + b is then solved for the μ,
    σ²_reader, σ²_item whose mean E[p], reader variance Var_a(E_b p) and item variance
    Var_b(E_a p) equal the observed m, V_R, V_I (2-D Gauss–Hermite quadrature; negative V
    count as 0). Needs readers with two or more judgments and items judged by two or more
    readers (a disjoint design cannot separate item effects from noise)."""
    r_lab, i_lab = np.asarray(reader), np.asarray(item)
    y = np.asarray(outcome, dtype=float)
    if not (r_lab.shape == i_lab.shape == y.shape) or y.ndim != 1:
        raise ValueError("reader, item and outcome must be 1-D arrays of the same length")
    if y.size == 0 or not np.all((y == 0) | (y == 1)):
        raise ValueError("outcome must be 0 or 1 for every judgment")
    _, r = np.unique(r_lab, return_inverse=True)
    _, i = np.unique(i_lab, return_inverse=True)
    n_i = int(i.max()) + 1
    same_both = _pair_sums(r * n_i + i, y)
    all_pairs = _pair_sums(np.zeros_like(r), y)
    by_reader = _pair_sums(r, y) - same_both
    by_item = _pair_sums(i, y) - same_both
    neither = all_pairs - by_reader - by_item - same_both
    if by_reader[1] == 0:
        raise ValueError("no reader judged two items: the reader variance cannot be estimated")
    if by_item[1] == 0:
        raise ValueError("no item was judged by two readers: the item variance cannot be estimated")
    if neither[1] == 0:
        raise ValueError("need judgments by different readers on different items")
    m2 = neither[0] / neither[1]
    v_r = by_reader[0] / by_reader[1] - m2
    v_i = by_item[0] / by_item[1] - m2
    rate = float(y.mean())
    mu, reader_var, item_var = _solve_logit(rate, max(v_r, 0.0), max(v_i, 0.0))
    return PilotEstimate(
        rate=rate,
        reader_var_prob=float(v_r),
        item_var_prob=float(v_i),
        mu=mu,
        components=LogitComponents(reader_var, item_var),
        n_judgments=int(y.size),
        n_readers=int(r.max()) + 1,
        n_items=n_i,
    )


def probability_components(mu: float, components: LogitComponents) -> tuple[float, float, float]:
    """The logit-normal model's mean E[p], reader variance Var_a(E_b p) and item variance
    Var_b(E_a p) on the probability scale (2-D Gauss–Hermite quadrature)."""
    sr, sp = math.sqrt(max(components.reader_var, 0)), math.sqrt(max(components.item_var, 0))
    p = _sigmoid(mu + sr * _NODES[:, np.newaxis] + sp * _NODES[np.newaxis, :])
    by_reader = p @ _WEIGHTS  # E_b p for each reader node
    by_item = _WEIGHTS @ p
    mean = float(_WEIGHTS @ by_reader)
    return (
        mean,
        float(_WEIGHTS @ by_reader**2 - mean**2),
        float(_WEIGHTS @ by_item**2 - mean**2),
    )


def _solve_logit(rate: float, v_r: float, v_i: float) -> tuple[float, float, float]:
    """μ, σ²_reader, σ²_item matching (rate, v_r, v_i) on the probability scale."""
    if rate in (0.0, 1.0):
        raise ValueError("a pilot rate of 0 or 1 says nothing about the variances")
    target = np.array([rate, math.sqrt(v_r), math.sqrt(v_i)])

    def residual(x: np.ndarray) -> np.ndarray:
        mean, vr, vi = probability_components(x[0], LogitComponents(x[1] ** 2, x[2] ** 2))
        return np.array([mean, math.sqrt(max(vr, 0)), math.sqrt(max(vi, 0))]) - target

    start = np.array([math.log(rate / (1 - rate)), 0.5, 0.5])
    fit = optimize.least_squares(
        residual, start, bounds=([-30, 0, 0], [30, 20, 20]), xtol=1e-12, ftol=1e-12
    )
    mu, sr, sp = (float(v) for v in fit.x)
    return mu, sr**2, sp**2


def _pair_sums(groups: np.ndarray, y: np.ndarray) -> np.ndarray:
    """[Σ y·y', number of pairs] over ordered pairs of distinct judgments in the same group."""
    s = np.bincount(groups, weights=y)
    n = np.bincount(groups).astype(float)
    return np.array([np.sum(s**2 - np.bincount(groups, weights=y**2)), np.sum(n**2 - n)])


def _smallest(
    power_of: PowerOf, design: Design, field: str, low: int, high: int, target: float
) -> SampleSize:
    cache: dict[int, PowerResult] = {}

    def at(n: int) -> PowerResult:
        if n not in cache:
            cache[n] = power_of(replace(design, **{field: n}))
        return cache[n]

    if at(low).power >= target:
        return SampleSize(at(low).design, at(low), target, True)
    n = low
    while at(n).power < target:
        if n >= high:
            return SampleSize(at(n).design, at(n), target, False)
        low, n = n, min(2 * n, high)
    while n - low > 1:  # power(low) < target ≤ power(n)
        mid = (low + n) // 2
        if at(mid).power >= target:
            n = mid
        else:
            low = mid
    return SampleSize(at(n).design, at(n), target, True)


def _check_design(design: Design, need_generated: bool) -> None:
    if design.n_readers < 1 or design.n_items < 1:
        raise ValueError("a design needs at least one reader and one item")
    if not 0 <= design.real_fraction <= 1:
        raise ValueError("real_fraction must lie in [0, 1]")
    if need_generated and design.n_generated < 1:
        raise ValueError("the design has no generated items")


def _power(rejections: int, n_sim: int, alpha: float, design: Design) -> PowerResult:
    power = rejections / n_sim
    return PowerResult(power, math.sqrt(power * (1 - power) / n_sim), n_sim, alpha, design)


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    out: np.ndarray = 0.5 * (1 + np.tanh(0.5 * np.asarray(x, dtype=float)))
    return out
