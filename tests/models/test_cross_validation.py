import numpy as np

from models.cross_validation import compare_modes
from models.folds import patient_folds
from models.patches import PatchSet
from tests.models.synthetic import blob_patches
from tests.models.test_classifier import TINY


def test_compare_modes_on_the_same_folds_with_per_fold_generated() -> None:
    real = blob_patches(5)
    calls: list[tuple[int, int]] = []

    def generated(train: PatchSet, fold: int) -> PatchSet:
        calls.append((fold, len(set(train.patients))))
        return blob_patches(2, seed=fold + 10)

    report = compare_modes(
        real,
        TINY,
        patient_folds(real, 3),
        ("real-only", "gan-pretrain", "mixed"),
        train_fraction=0.5,
        generated=generated,
    )
    assert sorted(report["modes"]) == ["gan-pretrain", "mixed", "real-only"]
    assert set(report["paired"]) == {"gan-pretrain - real-only", "mixed - real-only"}
    assert report["generated_source"].startswith("per fold")
    assert len(calls) == 6 and all(n <= 2 for _, n in calls)
    assert 0 <= report["modes"]["real-only"]["accuracy"]["value"] <= 1
    assert isinstance(report["paired"]["mixed - real-only"]["mcnemar_p"], float)
    assert np.isfinite(report["modes"]["mixed"]["macro_f1"]["value"])
