"""Item draws: counts, stratification, shared vs disjoint sets, practice items, seeds."""

from __future__ import annotations

from collections import Counter

import pytest

from app.errors import Invalid
from app.services.studies.sampling import (
    Candidate,
    DrawPlan,
    draw_items,
    largest_fit,
    reader_order,
    reader_seed,
    split_count,
)

REAL = [Candidate(i, label) for i, label in enumerate(["GGO", "CAL", "NOR"] * 10)]
GEN = [Candidate(100 + i, label) for i, label in enumerate(["GGO", "CAL", "NOR", "SPI"] * 10)]


def plan(**kw: object) -> DrawPlan:
    values: dict[str, object] = {
        "items_per_reader": 12, "real_fraction": 0.5, "per_label": False, "shared_items": True,
        "n_readers": 3, "practice_items": 0, "seed": 1,
    }  # fmt: skip
    values.update(kw)
    return DrawPlan(**values)  # type: ignore[arg-type]


def test_split_count_rounds_half_up() -> None:
    assert split_count(10, 0.25) == (3, 7)
    assert split_count(10, 0.0) == (0, 10)
    assert split_count(7, 1.0) == (7, 0)


def test_shared_draw_has_the_real_fraction() -> None:
    draw = draw_items(REAL, GEN, plan(real_fraction=0.25))
    (items,) = draw.sets
    assert len(items) == 12 and len(set(items)) == 12
    assert sum(1 for i in items if i < 100) == 3


def test_stratified_draw_uses_shared_labels_evenly() -> None:
    (items,) = draw_items(REAL, GEN, plan(per_label=True)).sets
    labels = {c.patch_id: c.label for c in REAL + GEN}
    real = Counter(labels[i] for i in items if i < 100)
    gen = Counter(labels[i] for i in items if i >= 100)
    assert real == {"GGO": 2, "CAL": 2, "NOR": 2} and gen == {"GGO": 2, "CAL": 2, "NOR": 2}


def test_disjoint_sets_do_not_overlap_and_practice_is_apart() -> None:
    draw = draw_items(REAL, GEN, plan(shared_items=False, n_readers=3, practice_items=4))
    assert len(draw.sets) == 3
    every = [i for items in draw.sets for i in items] + draw.practice
    assert len(every) == len(set(every)) == 40


def test_same_seed_same_draw_other_seed_other_draw() -> None:
    assert draw_items(REAL, GEN, plan()) == draw_items(REAL, GEN, plan())
    assert draw_items(REAL, GEN, plan()) != draw_items(REAL, GEN, plan(seed=2))


def test_short_pools_are_refused_with_the_shortfall() -> None:
    with pytest.raises(Invalid, match="need 20, have 12"):
        draw_items(REAL[:12], GEN, plan(items_per_reader=40))
    with pytest.raises(Invalid, match="generated CAL patches: need 12, have 10"):
        draw_items(REAL, GEN, plan(per_label=True, real_fraction=0.0, items_per_reader=48))
    with pytest.raises(Invalid, match="no label"):
        draw_items([Candidate(1, "GGO")], [Candidate(2, "CAL")], plan(per_label=True))


def test_reader_order_is_a_seeded_permutation() -> None:
    items = list(range(20))
    assert sorted(reader_order(items, 3)) == items
    assert reader_order(items, 3) == reader_order(list(reversed(items)), 3)
    assert reader_order(items, 3) != reader_order(items, 4)


def test_reader_seeds_are_stored_integers_and_differ_between_readers() -> None:
    for study_seed in (0, 7, 2**31 - 1, 2**40, 123_456_789, 987_654_321_987):
        seeds = [reader_seed(study_seed, reader) for reader in range(1, 50)]
        assert all(isinstance(s, int) and 0 <= s < 2**31 for s in seeds), study_seed
        assert len(set(seeds)) == len(seeds)
        assert seeds == [reader_seed(study_seed, reader) for reader in range(1, 50)]


def test_one_item_of_a_source_still_draws_from_a_shared_label() -> None:
    real_ggo_only = [Candidate(i, "GGO") for i in range(5)]
    for seed in range(10):
        draw = draw_items(real_ggo_only, GEN, plan(items_per_reader=2, per_label=True, seed=seed))
        labels = {c.patch_id: c.label for c in real_ggo_only + GEN}
        assert [labels[i] for i in draw.sets[0]] == ["GGO", "GGO"]


def test_shortfalls_name_the_source_and_an_exact_fit_is_drawn() -> None:
    with pytest.raises(Invalid, match=r"^not enough real patches: need 20, have 12; "):
        draw_items(REAL[:12], GEN, plan(items_per_reader=40))
    with pytest.raises(Invalid, match=r"^not enough real \(practice\) patches: need 13, have 12"):
        draw_items(REAL[:18], GEN, plan(items_per_reader=12, practice_items=26))
    with pytest.raises(Invalid, match=r"^not enough generated \(practice\) patches"):
        draw_items(REAL, GEN[:5], plan(items_per_reader=8, practice_items=4))
    everything = draw_items(REAL, GEN[:30], plan(items_per_reader=60))  # 30 + 30 of 30 + 30
    assert sorted(everything.sets[0]) == sorted(c.patch_id for c in REAL + GEN[:30])


def test_per_label_remainders_and_one_disjoint_reader() -> None:
    draw = draw_items(REAL, GEN, plan(items_per_reader=14, per_label=True))  # 7 real, 7 generated
    labels = {c.patch_id: c.label for c in REAL + GEN}
    items = draw.sets[0]
    assert len(items) == len(set(items)) == 14
    assert sorted(Counter(labels[i] for i in items if i < 100).values()) == [2, 2, 3]
    assert len(draw_items(REAL, GEN, plan(shared_items=False, n_readers=1)).sets) == 1


def test_a_shortfall_names_the_largest_design_that_fits_and_that_design_draws() -> None:
    message = (
        "not enough real patches: need 125, have 12; the largest design that fits is "
        "24 items per reader (12 real, 12 generated; real fraction 0.5)"
    )
    with pytest.raises(Invalid) as refused:
        draw_items(REAL[:12], GEN, plan(items_per_reader=250))
    assert str(refused.value) == message
    designs = [
        plan(items_per_reader=250, real_fraction=0.25),  # the 40 generated run out first
        plan(items_per_reader=90, per_label=True),  # 10 real per label
        plan(items_per_reader=30, shared_items=False, practice_items=4),  # 3 readers share 30 + 40
        plan(items_per_reader=30, per_label=True, shared_items=False, real_fraction=0.3),
    ]
    for design in designs:
        n = largest_fit(REAL, GEN, design)
        assert 0 < n < design.items_per_reader
        with pytest.raises(Invalid, match=rf"; the largest design that fits is {n} items per "):
            draw_items(REAL, GEN, design)
        for seed in range(10):  # whatever labels the seed gives the remainders to
            fitted = {**design.__dict__, "items_per_reader": n, "seed": seed}
            draw_items(REAL, GEN, DrawPlan(**fitted))
    assert largest_fit(REAL, GEN, plan(items_per_reader=250, real_fraction=0.25)) == 54  # 14 + 40
    assert largest_fit(REAL, GEN, plan(items_per_reader=90, per_label=True)) == 60
    assert largest_fit(REAL, [], plan(items_per_reader=5)) == 1  # 1 real, 0 generated
    assert largest_fit(REAL[:2], GEN, plan(items_per_reader=5, practice_items=6)) == 0
