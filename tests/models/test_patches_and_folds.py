import numpy as np
import pytest

from models.folds import patient_folds, patient_fraction
from models.patches import PatchSet
from tests.models.synthetic import blob_patches


def test_patch_set_validates_and_orders_codes() -> None:
    data = blob_patches(2)
    assert data.label_codes == ("AAA", "BBB", "NOR")
    assert data.targets().tolist() == [0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError):
        PatchSet(np.zeros((1, 4, 4), np.float32), ["A"], ["p"])
    with pytest.raises(ValueError):
        PatchSet(np.zeros((1, 4, 4), np.int16), ["A"], ["p"], ("B",))


def test_folds_are_patient_disjoint_and_cover_everything() -> None:
    data = blob_patches(10)
    folds = patient_folds(data, 5)
    seen = np.concatenate([test for _, test in folds])
    assert sorted(seen.tolist()) == list(range(len(data)))
    for train, test in folds:
        assert not {data.patients[i] for i in train} & {data.patients[i] for i in test}


def test_patient_fraction_keeps_whole_patients() -> None:
    data = blob_patches(10)
    part = patient_fraction(data, 0.4)
    assert len(set(part.patients)) == 2
    assert len(part) == sum(p in set(part.patients) for p in data.patients)


def test_patient_fraction_bounds() -> None:
    data = blob_patches(5)
    assert len(patient_fraction(data, 1.0)) == len(data)
    for bad in (0, -0.5, 1.01, 2):
        with pytest.raises(ValueError, match="train_fraction must be in"):
            patient_fraction(data, bad)


def test_patient_fraction_is_seeded_and_draws_distinct_patients() -> None:
    data = blob_patches(5)  # 5 patients
    draws = [sorted(set(patient_fraction(data, 0.6, seed=s).patients)) for s in range(20)]
    assert all(len(d) == 3 for d in draws), "3 different patients every time"
    again = {tuple(sorted(set(patient_fraction(data, 0.6, seed=7).patients))) for _ in range(5)}
    assert len(again) == 1, "the same seed draws the same patients"
    assert len({tuple(d) for d in draws}) > 3, "other seeds, other patients"


def test_folds_follow_k_and_seed() -> None:
    data = blob_patches(10)  # 5 patients
    for k in (2, 3):
        assert len(patient_folds(data, k)) == k
    same = [[test.tolist() for _, test in patient_folds(data, 3, seed=5)] for _ in range(3)]
    assert same[0] == same[1] == same[2], "the same seed gives the same folds"
    others = {str([t.tolist() for _, t in patient_folds(data, 3, seed=s)]) for s in range(6)}
    assert len(others) > 1, "other seeds, other folds"
    with pytest.raises(ValueError, match="6 patient-disjoint folds need ≥ 6 patients, have 5"):
        patient_folds(data, 6)
    assert len(set(patient_fraction(data, 0.01).patients)) == 1  # at least one patient
