"""Two GAN versions compared in one reader study: the difference in judged-real rate and in
reader-averaged realness AUC, with a two-way reader × item bootstrap that respects both the
readers (each reader read both versions) and the real patches the two versions share.

The study's judgments on real items and on the generated items of versions A and B are
resampled together: per replicate, readers are drawn once with replacement and that draw is
applied to both versions (the pairing by reader), and items are drawn with replacement
*within* three strata — real, version A, version B — so every replicate keeps the study's
numbers of each, and one draw of the real items serves both AUCs (the pairing by the shared
real patches). Each judgment is weighted by (times its reader was drawn) × (times its item was
drawn), as in ``models.clustered``.

Per replicate:
- the judged-real rate of each version is the weighted share of "real" verdicts over that
  version's judgments; the difference is A − B;
- each reader's AUC for a version is the weighted empirical (Mann–Whitney, ties ½) AUC of
  their ratings of real items (positive) against their ratings of that version's items; the
  version's AUC is the reader-weighted mean over the readers who read real items and items of
  both versions, and the difference is the mean of the per-reader differences A − B.
The point estimates are the same statistics with every weight 1 (so the AUC is the plain
reader average, as in the OR analysis). The interval is the percentile interval of the
replicates; the p-value is 2 × the smaller share of replicates on either side of 0 (ties
counted half).

Why a bootstrap rather than the OR analysis with two "treatments": OR compares treatments
read on the *same* cases, and two GAN versions have different generated patches; only the
real ones are shared. The bootstrap needs no complete design either (disjoint item sets,
readers who stopped early). Like ``models.clustered`` it is somewhat conservative (the
residual variance enters about three times; Owen 2007).

Sources: Owen AB. The pigeonhole bootstrap. Ann Appl Stat 2007;1:386–411 (two-way resampling);
Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993, ch. 13
(percentile intervals); Hanley JA, McNeil BJ. The meaning and use of the area under a ROC
curve. Radiology 1982;143:29–36 (the empirical AUC as a Mann–Whitney statistic); Obuchowski
NA, Rockette HE 1995 (the reader-averaged AUC as the quantity of interest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.clustered import N_BOOT, _item_weights

REAL, A, B = 0, 1, 2

# bound a chunk's [replicates, readers, levels] histograms (floats)
_CHUNK_FLOATS = 4_000_000


@dataclass(frozen=True)
class PairedDifference:
    """Version A's value, version B's value, their difference ``estimate`` = a − b, with a
    percentile interval ``ci`` at ``level``, the bootstrap standard deviation ``se`` and the
    two-sided bootstrap p-value of "no difference". ``n_valid`` of ``n_boot`` replicates had
    the statistic defined for both versions (the others are dropped)."""

    a: float
    b: float
    estimate: float
    ci: tuple[float, float]
    se: float
    p_value: float
    level: float
    n_boot: int
    n_valid: int


@dataclass(frozen=True)
class VersionDifference:
    """Judged-real rate and realness AUC of versions A and B, and their differences.
    ``auc`` is None when no reader read real items and items of both versions."""

    judged_real: PairedDifference
    auc: PairedDifference | None
    n_readers: int
    n_auc_readers: int  # readers with real, A and B items: the AUC's readers
    n_real: int
    n_a: int
    n_b: int


def version_difference(
    reader: np.ndarray,
    item: np.ndarray,
    group: np.ndarray,
    rating: np.ndarray,
    judged_real: np.ndarray,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = 0.95,
) -> VersionDifference:
    """Version A against version B (see the module docstring).

    One entry per judgment: ``reader`` and ``item`` any labels; ``group`` 0 for a real item,
    1 for a generated item of version A, 2 for version B (constant per item); ``rating`` the
    realness rating (higher: more surely real; any ordered numbers); ``judged_real`` 0/1 (the
    verdict). Judgments of other versions must be left out by the caller."""
    t = _Tables.build(reader, item, group, rating, judged_real)
    if t.n_items[A] == 0 or t.n_items[B] == 0:
        raise ValueError("both versions need judged items")
    ones_w, ones_v = np.ones((1, t.n_r)), np.ones((1, t.item_group.size))
    point = _statistics(t, ones_w, ones_v)[:, 0]

    rng = np.random.default_rng(seed)
    draws = np.empty((4, n_boot))
    chunk = max(1, _CHUNK_FLOATS // max(t.n_r * t.n_levels, t.item_group.size))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        w = rng.multinomial(t.n_r, np.full(t.n_r, 1 / t.n_r), size=b).astype(float)
        v = _item_weights(rng, t.item_group, b)
        draws[:, start : start + b] = _statistics(t, w, v)

    judged = _paired(point[0], point[1], draws[0], draws[1], level, n_boot)
    auc = None
    if np.isfinite(point[2]) and np.isfinite(point[3]):
        auc = _paired(point[2], point[3], draws[2], draws[3], level, n_boot)
    return VersionDifference(
        judged_real=judged,
        auc=auc,
        n_readers=t.n_r,
        n_auc_readers=int(t.auc_readers.sum()),
        n_real=int(t.n_items[REAL]),
        n_a=int(t.n_items[A]),
        n_b=int(t.n_items[B]),
    )


@dataclass(frozen=True)
class _Tables:
    n_r: int
    n_levels: int
    item_group: np.ndarray  # [items] 0/1/2
    n_items: np.ndarray  # [3] items per group
    sums: np.ndarray  # [readers, items] judged-real counts
    counts: np.ndarray  # [readers, items] judgments
    levels: np.ndarray  # [readers, items, levels] judgments at each rating level
    auc_readers: np.ndarray  # [readers] bool: read real, A and B items
    flat: tuple[np.ndarray, ...]  # per group: [its items, readers · levels] of ``levels``

    @classmethod
    def build(
        cls,
        reader: np.ndarray,
        item: np.ndarray,
        group: np.ndarray,
        rating: np.ndarray,
        judged_real: np.ndarray,
    ) -> _Tables:
        arrays = [np.asarray(x) for x in (reader, item, group, rating, judged_real)]
        if any(x.ndim != 1 for x in arrays) or len({x.size for x in arrays}) != 1:
            raise ValueError("reader, item, group, rating, judged_real: 1-D, the same length")
        r_lab, i_lab, g, x, y = arrays
        if g.size == 0:
            raise ValueError("no judgments")
        g, x, y = g.astype(int), x.astype(float), y.astype(float)
        if not np.all(np.isin(g, (REAL, A, B))):
            raise ValueError("group must be 0 (real), 1 (version A) or 2 (version B)")
        if not (np.all(np.isfinite(x)) and np.all((y == 0) | (y == 1))):
            raise ValueError("rating must be finite and judged_real 0 or 1")
        _, r = np.unique(r_lab, return_inverse=True)
        _, i = np.unique(i_lab, return_inverse=True)
        _, lev = np.unique(x, return_inverse=True)
        n_r, n_i, n_l = int(r.max()) + 1, int(i.max()) + 1, int(lev.max()) + 1
        item_group = np.full(n_i, -1)
        item_group[i] = g
        if np.any(item_group[i] != g):
            raise ValueError("an item appears in more than one group")
        cell = r * n_i + i
        sums = np.bincount(cell, weights=y, minlength=n_r * n_i).reshape(n_r, n_i)
        counts = np.bincount(cell, minlength=n_r * n_i).astype(float).reshape(n_r, n_i)
        levels = np.zeros((n_r, n_i, n_l))
        np.add.at(levels, (r, i, lev), 1.0)
        seen = np.stack([(counts[:, item_group == k] > 0).any(axis=1) for k in (REAL, A, B)])
        return cls(
            n_r=n_r,
            n_levels=n_l,
            item_group=item_group,
            n_items=np.bincount(item_group, minlength=3),
            sums=sums,
            counts=counts,
            levels=levels,
            auc_readers=np.asarray(seen.all(axis=0)),
            flat=tuple(
                np.ascontiguousarray(levels[:, item_group == k].transpose(1, 0, 2)).reshape(
                    int((item_group == k).sum()), n_r * n_l
                )
                for k in (REAL, A, B)
            ),
        )


def _statistics(t: _Tables, w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """[4, b]: judged-real rate of A, of B, reader-averaged AUC of A, of B (NaN: undefined),
    for reader weights ``w`` [b, readers] and item weights ``v`` [b, items]."""
    out = np.full((4, w.shape[0]), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, row in ((A, 0), (B, 1)):
            mask = t.item_group == k
            num = ((w @ t.sums[:, mask]) * v[:, mask]).sum(axis=1)
            den = ((w @ t.counts[:, mask]) * v[:, mask]).sum(axis=1)
            out[row] = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
        # [b, readers, levels]: weighted judgments of each group at each rating level
        hist = {k: _histogram(t, v, k) for k in (REAL, A, B)}
        aucs = {k: _auc(hist[REAL], hist[k]) for k in (A, B)}  # [b, readers]
        both = np.isfinite(aucs[A]) & np.isfinite(aucs[B]) & t.auc_readers
        weight = np.where(both, w, 0.0)
        total = weight.sum(axis=1)
        for k, row in ((A, 2), (B, 3)):
            mean = (weight * np.where(both, aucs[k], 0.0)).sum(axis=1) / total
            out[row] = np.where(total > 0, mean, np.nan)
    return out


def _histogram(t: _Tables, v: np.ndarray, k: int) -> np.ndarray:
    out: np.ndarray = (v[:, t.item_group == k] @ t.flat[k]).reshape(v.shape[0], t.n_r, t.n_levels)
    return out


def _auc(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """Weighted empirical AUC from rating-level histograms [..., levels] of the positive
    (real) and negative ratings: P(positive > negative) + ½ P(tie); NaN where either is empty."""
    below = np.cumsum(neg, axis=-1) - neg  # negative weight strictly below each level
    wins = (pos * (below + 0.5 * neg)).sum(axis=-1)
    denom = pos.sum(axis=-1) * neg.sum(axis=-1)
    result: np.ndarray = np.where(denom > 0, wins / np.where(denom > 0, denom, 1), np.nan)
    return result


def _paired(
    a: float, b: float, draws_a: np.ndarray, draws_b: np.ndarray, level: float, n_boot: int
) -> PairedDifference:
    diff = draws_a - draws_b
    valid = diff[np.isfinite(diff)]
    if valid.size == 0:
        raise ValueError("no bootstrap replicate had both versions; is the design empty?")
    alpha = 1 - level
    lo, hi = np.quantile(valid, [alpha / 2, 1 - alpha / 2])
    below = float(np.mean(valid < 0) + 0.5 * np.mean(valid == 0))
    return PairedDifference(
        a=float(a),
        b=float(b),
        estimate=float(a - b),
        ci=(float(lo), float(hi)),
        se=float(valid.std(ddof=1)) if valid.size > 1 else math.nan,
        p_value=min(1.0, 2 * min(below, 1 - below)),
        level=level,
        n_boot=n_boot,
        n_valid=int(valid.size),
    )
