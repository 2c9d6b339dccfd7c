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
