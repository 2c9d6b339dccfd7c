"""Drawing study items from candidate patches: pure functions over ids, seeded.

Counts: ``round(items × real_fraction)`` real items (halves round up), the rest generated.
Stratified draws split each source's count evenly over the labels both pools share, the
remainder going to randomly chosen labels. Shared studies draw one set for all readers;
disjoint studies draw one set per reader without replacement. Practice items come from what
is left, so they never repeat a counted item. A design the pools cannot serve is refused
with the shortfall and the largest ``items_per_reader`` that fits the same design.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass

from app.errors import Invalid


@dataclass(frozen=True)
class Candidate:
    patch_id: int
    label: str


@dataclass(frozen=True)
class Draw:
    """Patch ids per reader (one list, shared by all, when items are shared) and practice."""

    sets: list[list[int]]
    practice: list[int]


@dataclass(frozen=True)
class DrawPlan:
    items_per_reader: int
    real_fraction: float
    per_label: bool
    shared_items: bool
    n_readers: int
    practice_items: int
    seed: int


def split_count(total: int, real_fraction: float) -> tuple[int, int]:
    """(real, generated) counts for TOTAL items."""
    n_real = math.floor(total * real_fraction + 0.5)
    return n_real, total - n_real


def draw_items(real: list[Candidate], generated: list[Candidate], plan: DrawPlan) -> Draw:
    """Draw every reader's item set and the practice items (raises Invalid when short, saying
    the largest number of items per reader that the pools can serve for the same design)."""
    try:
        return _draw(real, generated, plan)
    except Invalid as exc:
        raise Invalid(f"{exc}; {_advice(real, generated, plan)}") from exc


def largest_fit(real: list[Candidate], generated: list[Candidate], plan: DrawPlan) -> int:
    """The largest items_per_reader, at most the plan's, that the pools surely serve with the
    plan's real fraction, stratification, readers and practice items (0: none does).

    Stratified draws are counted with each label's share rounded up, so the number given
    always draws, whatever labels the seed gives the remainder to."""
    pools = {"real": _by_label(real), "generated": _by_label(generated)}
    n_sets = 1 if plan.shared_items else max(plan.n_readers, 1)
    for n in range(plan.items_per_reader, 0, -1):
        if _fits(pools, n, n_sets, plan):
            return n
    return 0


def _fits(pools: dict[str, dict[str, list[int]]], n: int, n_sets: int, plan: DrawPlan) -> bool:
    counts = dict(zip(("real", "generated"), split_count(n, plan.real_fraction), strict=True))
    practice = split_count(plan.practice_items, plan.real_fraction)
    if plan.per_label:
        used = [pools[s] for s, k in counts.items() if k > 0]
        labels = set.intersection(*(set(p) for p in used)) if used else set()
        if not labels:
            return False
        for source, k in counts.items():
            share = math.ceil(k / len(labels))
            if any(n_sets * share > len(pools[source].get(label, [])) for label in labels):
                return False
    for (source, k), p in zip(counts.items(), practice, strict=True):
        if n_sets * k + p > sum(len(ids) for ids in pools[source].values()):
            return False
    return True


def _advice(real: list[Candidate], generated: list[Candidate], plan: DrawPlan) -> str:
    n = largest_fit(real, generated, plan)
    if n == 0:
        practice = f" and {plan.practice_items} practice items" if plan.practice_items else ""
        return f"no number of items per reader fits these patches{practice}"
    n_real, n_gen = split_count(n, plan.real_fraction)
    design = f"real fraction {plan.real_fraction:g}"
    if plan.per_label:
        design += ", stratified per label"
    if not plan.shared_items:
        readers = max(plan.n_readers, 1)
        design += f", disjoint sets for {readers} reader{'s' if readers > 1 else ''}"
    if plan.practice_items:
        design += f", {plan.practice_items} practice items"
    return (
        f"the largest design that fits is {n} items per reader "
        f"({n_real} real, {n_gen} generated; {design})"
    )


def _draw(real: list[Candidate], generated: list[Candidate], plan: DrawPlan) -> Draw:
    rng = random.Random(plan.seed)
    pools = {"real": _by_label(real), "generated": _by_label(generated)}
    n_real, n_gen = split_count(plan.items_per_reader, plan.real_fraction)
    labels = _shared_labels(pools, n_real, n_gen) if plan.per_label else None
    n_sets = 1 if plan.shared_items else max(plan.n_readers, 1)
    sets = []
    for _ in range(n_sets):
        items = _take(pools["real"], n_real, labels, rng, "real")
        items += _take(pools["generated"], n_gen, labels, rng, "generated")
        sets.append(items)
    p_real, p_gen = split_count(plan.practice_items, plan.real_fraction)
    practice = _take(pools["real"], p_real, None, rng, "real (practice)")
    practice += _take(pools["generated"], p_gen, None, rng, "generated (practice)")
    return Draw(sets, practice)


def reader_order(items: list[int], seed: int) -> list[int]:
    """ITEMS in the reader's own seeded random order."""
    order = sorted(items)
    random.Random(seed).shuffle(order)
    return order


def reader_seed(study_seed: int, reader_id: int) -> int:
    """A per-reader seed derived from the study's seed."""
    return (study_seed * 1_000_003 + reader_id * 7_919) % 2**31


def _by_label(candidates: list[Candidate]) -> dict[str, list[int]]:
    pool: dict[str, list[int]] = defaultdict(list)
    for candidate in sorted(candidates, key=lambda c: c.patch_id):
        pool[candidate.label].append(candidate.patch_id)
    return pool


def _shared_labels(pools: dict[str, dict[str, list[int]]], n_real: int, n_gen: int) -> list[str]:
    used = [pools[s] for s, n in (("real", n_real), ("generated", n_gen)) if n > 0]
    labels = sorted(set.intersection(*(set(p) for p in used))) if used else []
    if not labels:
        raise Invalid("no label has patches in every source the study draws from")
    return labels


def _take(
    pool: dict[str, list[int]], n: int, labels: list[str] | None, rng: random.Random, what: str
) -> list[int]:
    """Remove N ids from POOL (evenly over LABELS when given) and return them."""
    if labels is None:
        flat = sorted(i for ids in pool.values() for i in ids)
        if len(flat) < n:
            raise Invalid(f"not enough {what} patches: need {n}, have {len(flat)}")
        chosen = rng.sample(flat, n)
        taken = set(chosen)
        for ids in pool.values():
            ids[:] = [i for i in ids if i not in taken]
        return chosen
    counts = dict.fromkeys(labels, n // len(labels))
    for label in rng.sample(labels, n % len(labels)):
        counts[label] += 1
    chosen = []
    for label, k in counts.items():
        if len(pool[label]) < k:
            raise Invalid(f"not enough {what} {label} patches: need {k}, have {len(pool[label])}")
        picked = rng.sample(pool[label], k)
        taken = set(picked)
        pool[label] = [i for i in pool[label] if i not in taken]
        chosen += picked
    return chosen
