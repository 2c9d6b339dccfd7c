"""Multi-reader multi-case (MRMC) ROC analysis: Obuchowski–Rockette with Hillis' degrees of
freedom, on the empirical (trapezoidal, Mann–Whitney) AUC with jackknife covariances.

Pure functions over numpy arrays (numpy and scipy only). The design must be complete: every
reader rates every case under every treatment (``ratings[treatment, reader, case]``), and
``truth[case]`` is 1 for a positive (diseased; in a visual Turing test: *real*) case and 0 for
a negative one.

Sources (the formulas are quoted where they are used):

- Obuchowski NA, Rockette HE. Hypothesis testing of diagnostic accuracy for multiple readers
  and multiple tests: an ANOVA approach with dependent observations. Commun Stat Simul Comput
  1995;24:285–308. (The OR model: AUC_ij = μ + τ_i + R_j + (τR)_ij + ε_ij, with the error
  covariances Var, Cov1, Cov2, Cov3 estimated over cases.)
- Hillis SL. A comparison of denominator degrees of freedom methods for multiple observer
  ROC analysis. Stat Med 2007;26:596–619. (ddf_H; the single-treatment interval.)
- Hillis SL, Berbaum KS, Metz CE. Recent developments in the Dorfman-Berbaum-Metz procedure
  for multireader ROC study analysis. Acad Radiol 2008;15:647–661. (The fixed-readers and
  fixed-cases analyses, the difference intervals; the conventions of OR-DBM MRMC 2.5.)
- Hillis SL, Obuchowski NA, Schartz KM, Berbaum KS. A comparison of the Dorfman-Berbaum-Metz
  and Obuchowski-Rockette methods for receiver operating characteristic (ROC) data. Stat Med
  2005;24:1579–1607. (Jackknife covariance estimates for OR.)
- Efron B. The jackknife, the bootstrap and other resampling plans. SIAM 1982. (The jackknife
  covariance (c−1)/c · Σ_k (θ_(k) − θ_(·))(θ'_(k) − θ'_(·)).)

Checked against OR-DBM MRMC 2.51 on Van Dyke et al. (1993): ``tests/models/test_mrmc.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import stats

RRRC = "random readers, random cases"
FRRC = "fixed readers, random cases"
RRFC = "random readers, fixed cases"

# Mean squares below this are floating-point noise (AUCs lie in [0, 1]; a genuine difference
# between two empirical AUCs is a multiple of 1/(2·n0·n1), far above this for any study).
_NOISE = 1e-24


@dataclass(frozen=True)
class Covariances:
    """The OR error (co)variances, averages of the jackknife covariance matrix of the AUCs
    (Obuchowski & Rockette 1995): ``var`` = Var(ε_ij); ``cov1`` = same reader, different
    treatments; ``cov2`` = different readers, same treatment; ``cov3`` = different readers,
    different treatments (``cov1`` and ``cov3`` are NaN with one treatment; ``cov2`` and
    ``cov3`` NaN with one reader)."""

    var: float
    cov1: float
    cov2: float
    cov3: float


@dataclass(frozen=True)
class MeanSquares:
    """ANOVA mean squares of the AUCs: ``ms_t`` treatments, ``ms_r`` readers, ``ms_tr``
    treatment × reader (NaN where the degrees of freedom are 0)."""

    ms_t: float
    ms_r: float
    ms_tr: float


@dataclass(frozen=True)
class Difference:
    """AUC of treatment ``first`` minus AUC of treatment ``second`` (0-based indices), with
    its standard error, degrees of freedom (``inf``: normal), 95% (1 − alpha) interval and
    two-sided p-value of the t (or z) test of no difference."""

    first: int
    second: int
    estimate: float
    se: float
    df: float
    ci: tuple[float, float]
    p_value: float


@dataclass(frozen=True)
class Comparison:
    """The test of equal treatment AUCs: ``f`` on (``ndf``, ``ddf``) degrees of freedom
    (``ddf`` = ``inf`` for fixed readers, where the test is the χ²/ndf limit), its p-value,
    and every pairwise difference with its interval."""

    f: float
    ndf: int
    ddf: float
    p_value: float
    differences: tuple[Difference, ...]


@dataclass(frozen=True)
class SingleTreatment:
    """One treatment on its own: reader-averaged ``auc``, its ``se``, ``df``, interval, and the
    t (or z) test of AUC = 0.5 (``t`` statistic, two-sided ``p_value``)."""

    treatment: int
    auc: float
    se: float
    df: float
    ci: tuple[float, float]
    t: float
    p_value: float


@dataclass(frozen=True)
class Analysis:
    """One generalisation: ``name`` is one of ``RRRC``, ``FRRC``, ``RRFC``. ``comparison`` is
    None with one treatment; ``single`` has one entry per treatment (None entries where the
    analysis is undefined: fixed cases with one reader)."""

    name: str
    comparison: Comparison | None
    single: tuple[SingleTreatment | None, ...]


@dataclass(frozen=True)
class MRMCResult:
    """Obuchowski–Rockette–Hillis analysis of a complete treatments × readers × cases design.

    ``auc[i][j]``: empirical AUC of treatment i, reader j; ``auc_means[i]``: reader average.
    ``covariances`` and ``mean_squares`` are the OR inputs; ``random_readers_random_cases``,
    ``fixed_readers`` and ``fixed_cases`` the three analyses; ``alpha`` the intervals' level
    (1 − alpha)."""

    auc: tuple[tuple[float, ...], ...]
    auc_means: tuple[float, ...]
    n_treatments: int
    n_readers: int
    n_cases: int
    n_positive: int
    covariances: Covariances
    mean_squares: MeanSquares
    random_readers_random_cases: Analysis
    fixed_readers: Analysis
    fixed_cases: Analysis
    alpha: float


def check_design(ratings: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ratings`` as float [treatments, readers, cases] and ``truth`` as bool [cases]; raises
    ValueError naming the problem when the design is not a complete MRMC design."""
    r = np.asarray(ratings, dtype=float)
    t = np.asarray(truth)
    if r.ndim == 2:
        r = r[np.newaxis]
    if r.ndim != 3:
        raise ValueError(f"ratings must be [treatments, readers, cases], got shape {r.shape}")
    if t.ndim != 1 or t.shape[0] != r.shape[2]:
        raise ValueError(f"truth must have one entry per case ({r.shape[2]}), got {t.shape}")
    if r.shape[0] < 1 or r.shape[1] < 1:
        raise ValueError("need at least one treatment and one reader")
    if not np.all(np.isfinite(r)):
        raise ValueError("incomplete design: ratings contain missing (NaN) or infinite values")
    if not np.all((t == 0) | (t == 1)):
        raise ValueError("truth must be 0 (negative) or 1 (positive) for every case")
    positive = t == 1
    if positive.sum() < 2 or (~positive).sum() < 2:
        raise ValueError("the jackknife needs at least two positive and two negative cases")
    return r, positive


def empirical_auc(ratings: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Trapezoidal AUC (Mann–Whitney: P(positive > negative) + ½·P(tie)) over the last axis.

    ``ratings`` [..., cases]; ``truth`` [cases], 1 = positive. Higher rating = more positive."""
    pos, neg = _split(np.asarray(ratings, dtype=float), np.asarray(truth) == 1)
    return _psi(pos, neg).mean(axis=(-2, -1))


def jackknife_aucs(ratings: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """AUCs with each case left out in turn: [..., cases] (entry k: case k removed)."""
    positive = np.asarray(truth) == 1
    pos, neg = _split(np.asarray(ratings, dtype=float), positive)
    psi = _psi(pos, neg)  # [..., n1, n0]
    n1, n0 = psi.shape[-2], psi.shape[-1]
    total = psi.sum(axis=(-2, -1))[..., np.newaxis]
    out = np.empty((*psi.shape[:-2], positive.size))
    out[..., positive] = (total - psi.sum(axis=-1)) / ((n1 - 1) * n0)
    out[..., ~positive] = (total - psi.sum(axis=-2)) / (n1 * (n0 - 1))
    return out


def jackknife_covariance(ratings: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Jackknife covariance matrix of the AUCs over cases (Efron 1982; Hillis et al. 2005):
    Cov(θ_a, θ_b) = (c − 1)/c · Σ_k (θ_a(k) − θ_a(·))(θ_b(k) − θ_b(·)), the AUCs ``a``, ``b``
    flattened from ``ratings``' leading axes (treatment-major: index = i·readers + j)."""
    jack = jackknife_aucs(ratings, truth)
    c = jack.shape[-1]
    dev = jack.reshape(-1, c)
    dev = dev - dev.mean(axis=1, keepdims=True)
    cov: np.ndarray = (c - 1) / c * (dev @ dev.T)
    return cov


def or_analysis(ratings: np.ndarray, truth: np.ndarray, alpha: float = 0.05) -> MRMCResult:
    """Obuchowski–Rockette analysis with Hillis' ddf of ``ratings`` [treatments, readers, cases]
    (a 2-D [readers, cases] array is one treatment) against ``truth`` [cases] (1 = positive).

    Notation (Hillis 2007, 2008): t treatments, r readers, θ_ij the AUCs, θ_i· and θ_·j the
    means, MS(T) = r Σ_i (θ_i· − θ_··)²/(t − 1), MS(R) = t Σ_j (θ_·j − θ_··)²/(r − 1),
    MS(T×R) = Σ_ij (θ_ij − θ_i· − θ_·j + θ_··)²/((t − 1)(r − 1)).

    Random readers and cases (Hillis 2007, eqs. for F_OR-H and ddf_H; Hillis 2008 Table 1):
      F = MS(T) / [MS(T×R) + r·max(Cov2 − Cov3, 0)] on (t − 1, ddf_H),
      ddf_H = [MS(T×R) + r·max(Cov2 − Cov3, 0)]² / [MS(T×R)² / ((t − 1)(r − 1))],
      difference interval θ_i· − θ_i'· ± t_{1−α/2; ddf_H} √(2/r · [denominator of F]).
    Fixed readers, random cases (Hillis 2008): χ² = (t − 1)·F with
      F = MS(T) / [Var − Cov1 + (r − 1)·max(Cov2 − Cov3, 0)], ddf = ∞;
      interval ± z_{1−α/2} √(2/r · [Var − Cov1 + (r − 1)·max(Cov2 − Cov3, 0)]).
    Random readers, fixed cases (Hillis 2008): F = MS(T)/MS(T×R) on (t − 1, (t − 1)(r − 1));
      interval ± t_{1−α/2; (t−1)(r−1)} √(2·MS(T×R)/r).
    One treatment i alone (Hillis 2007, section 5; OR-DBM MRMC's "single treatment" output),
    with MS(R)_i = Σ_j (θ_ij − θ_i·)²/(r − 1) and Cov2_i, Var_i from treatment i's AUCs only:
      random readers and cases: SE² = [MS(R)_i + r·max(Cov2_i, 0)]/r,
        df = [MS(R)_i + r·max(Cov2_i, 0)]² / [MS(R)_i²/(r − 1)];
      fixed readers: SE² = [Var_i + (r − 1)·max(Cov2_i, 0)]/r, df = ∞;
      fixed cases: SE² = MS(R)_i/r, df = r − 1;
      interval θ_i· ± t_{1−α/2; df}·SE and t = (θ_i· − 0.5)/SE.
    """
    r, positive = check_design(ratings, truth)
    n_t, n_r, n_c = r.shape
    auc = empirical_auc(r, positive)  # [t, r]
    cov = jackknife_covariance(r, positive).reshape(n_t, n_r, n_t, n_r)
    covariances = _average_covariances(cov)
    squares = _mean_squares(auc)

    analyses = {}
    for name in (RRRC, FRRC, RRFC):
        comparison = _comparison(name, auc, covariances, squares, alpha) if n_t > 1 else None
        single = tuple(_single(name, i, auc[i], cov[i, :, i, :], alpha) for i in range(n_t))
        analyses[name] = Analysis(name, comparison, single)

    return MRMCResult(
        auc=tuple(tuple(float(a) for a in row) for row in auc),
        auc_means=tuple(float(m) for m in auc.mean(axis=1)),
        n_treatments=n_t,
        n_readers=n_r,
        n_cases=n_c,
        n_positive=int(positive.sum()),
        covariances=covariances,
        mean_squares=squares,
        random_readers_random_cases=analyses[RRRC],
        fixed_readers=analyses[FRRC],
        fixed_cases=analyses[RRFC],
        alpha=alpha,
    )


def _split(ratings: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return ratings[..., positive], ratings[..., ~positive]


def _psi(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """The Mann–Whitney kernel ψ(x, y) = 1 if x > y, ½ if x = y, 0 otherwise: [..., n1, n0]."""
    x, y = pos[..., :, np.newaxis], neg[..., np.newaxis, :]
    out: np.ndarray = (x > y) + 0.5 * (x == y)
    return out


def _average_covariances(cov: np.ndarray) -> Covariances:
    """Average the [t, r, t, r] covariance array into Var, Cov1, Cov2, Cov3."""
    n_t, n_r = cov.shape[:2]
    same_t = np.eye(n_t, dtype=bool)[:, np.newaxis, :, np.newaxis]
    same_r = np.eye(n_r, dtype=bool)[np.newaxis, :, np.newaxis, :]

    def mean(mask: np.ndarray) -> float:
        mask = np.broadcast_to(mask, cov.shape)
        return float(cov[mask].mean()) if mask.any() else math.nan

    return Covariances(
        var=mean(same_t & same_r),
        cov1=mean(~same_t & same_r),
        cov2=mean(same_t & ~same_r),
        cov3=mean(~same_t & ~same_r),
    )


def _mean_squares(auc: np.ndarray) -> MeanSquares:
    n_t, n_r = auc.shape
    grand = auc.mean()
    t_dev = _denoise(auc.mean(axis=1) - grand)
    r_dev = _denoise(auc.mean(axis=0) - grand)
    tr_dev = _denoise(auc - auc.mean(axis=1, keepdims=True) - auc.mean(axis=0) + grand)
    return MeanSquares(
        ms_t=float(n_r * (t_dev**2).sum() / (n_t - 1)) if n_t > 1 else math.nan,
        ms_r=float(n_t * (r_dev**2).sum() / (n_r - 1)) if n_r > 1 else math.nan,
        ms_tr=float((tr_dev**2).sum() / ((n_t - 1) * (n_r - 1)))
        if n_t > 1 and n_r > 1
        else math.nan,
    )


def _denoise(dev: np.ndarray) -> np.ndarray:
    """Deviations whose square is below floating-point noise are exactly 0 (identical
    treatments then give MS(T) = 0 and F = 0 rather than 0/0 noise)."""
    return np.where(dev**2 < _NOISE, 0.0, dev)


def _comparison(
    name: str, auc: np.ndarray, c: Covariances, ms: MeanSquares, alpha: float
) -> Comparison:
    n_t, n_r = auc.shape
    ndf = n_t - 1
    cov23 = max(c.cov2 - c.cov3, 0.0) if n_r > 1 else 0.0
    if name == RRRC:
        if n_r < 2:
            raise ValueError("random readers need at least two readers")
        den = ms.ms_tr + n_r * cov23
        ddf = den**2 / (ms.ms_tr**2 / (ndf * (n_r - 1))) if ms.ms_tr > 0 else math.inf
    elif name == FRRC:
        den = c.var - c.cov1 + (n_r - 1) * cov23
        ddf = math.inf
    else:
        if n_r < 2:
            raise ValueError("fixed cases need at least two readers")
        den = ms.ms_tr
        ddf = float(ndf * (n_r - 1))
    f = ms.ms_t / den if den > 0 else (0.0 if ms.ms_t == 0 else math.inf)
    p = _f_sf(f, ndf, ddf)
    se = math.sqrt(2 * max(den, 0.0) / n_r)
    means = auc.mean(axis=1)
    differences = tuple(
        _difference(a, b, float(means[a] - means[b]), se, ddf, alpha)
        for a, b in combinations(range(n_t), 2)
    )
    return Comparison(f=float(f), ndf=ndf, ddf=float(ddf), p_value=p, differences=differences)


def _single(
    name: str, i: int, auc: np.ndarray, cov: np.ndarray, alpha: float
) -> SingleTreatment | None:
    """Treatment ``i`` alone: ``auc`` [r], ``cov`` its [r, r] jackknife covariance."""
    n_r = auc.size
    mean = float(auc.mean())
    var = float(np.diag(cov).mean())
    cov2 = float(cov[~np.eye(n_r, dtype=bool)].mean()) if n_r > 1 else 0.0
    ms_r = float((_denoise(auc - mean) ** 2).sum() / (n_r - 1)) if n_r > 1 else math.nan
    if name == RRRC:
        if n_r < 2:
            return None
        total = ms_r + n_r * max(cov2, 0.0)
        df = total**2 / (ms_r**2 / (n_r - 1)) if ms_r > 0 else math.inf
    elif name == FRRC:
        total = var + (n_r - 1) * max(cov2, 0.0)
        df = math.inf
    else:
        if n_r < 2:
            return None
        total = ms_r
        df = float(n_r - 1)
    se = math.sqrt(max(total, 0.0) / n_r)
    q = _quantile(1 - alpha / 2, df)
    t = _ratio(mean - 0.5, se)
    p = _two_sided(mean - 0.5, se, df)
    return SingleTreatment(i, mean, se, float(df), (mean - q * se, mean + q * se), t, p)


def _difference(a: int, b: int, estimate: float, se: float, df: float, alpha: float) -> Difference:
    q = _quantile(1 - alpha / 2, df)
    p = _two_sided(estimate, se, df)
    return Difference(a, b, estimate, se, df, (estimate - q * se, estimate + q * se), p)


def _ratio(deviation: float, se: float) -> float:
    """deviation/se, with 0/0 = 0 and x/0 = ±inf."""
    if se > 0:
        return deviation / se
    return 0.0 if deviation == 0 else math.copysign(math.inf, deviation)


def _two_sided(deviation: float, se: float, df: float) -> float:
    """Two-sided p-value of deviation/se on df degrees of freedom (se = 0: 1 or 0)."""
    if se == 0:
        return 1.0 if deviation == 0 else 0.0
    return float(2 * _t_sf(abs(deviation) / se, df))


def _quantile(q: float, df: float) -> float:
    return float(stats.norm.ppf(q) if math.isinf(df) else stats.t.ppf(q, df))


def _t_sf(x: float, df: float) -> float:
    return float(stats.norm.sf(x) if math.isinf(df) else stats.t.sf(x, df))


def _f_sf(f: float, ndf: int, ddf: float) -> float:
    if f == 0:
        return 1.0
    if math.isinf(ddf):
        return float(stats.chi2.sf(ndf * f, ndf))
    return float(stats.f.sf(f, ndf, ddf))
