"""Drawing study items from candidate patches: pure functions over ids, seeded.

Counts: ``round(items × real_fraction)`` real items (halves round up), the rest generated.
Stratified draws split each source's count evenly over the labels both pools share, the
remainder going to randomly chosen labels. Shared studies draw one set for all readers;
disjoint studies draw one set per reader without replacement. Practice items come from what
is left, so they never repeat a counted item.
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
    """Draw every reader's item set and the practice items (raises Invalid when short)."""
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
