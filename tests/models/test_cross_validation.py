import numpy as np

from models.cross_validation import compare_modes
from models.folds import patient_folds
from models.patches import PatchSet
from tests.models.synthetic import blob_patches
from tests.models.test_classifier import TINY


def test_compare_modes_on_the_same_folds_with_per_fold_generated() -> None:
    real = blob_patches(5)
    folds = patient_folds(real, 3)
    calls: list[tuple[int, set[str]]] = []

    def generated(train: PatchSet, fold: int) -> PatchSet:
        calls.append((fold, set(train.patients)))
        return blob_patches(2, seed=fold + 10)

    report = compare_modes(
        real,
        TINY,
        folds,
        ("real-only", "gan-pretrain", "mixed"),
        train_fraction=0.5,
        generated=generated,
    )
    assert sorted(report["modes"]) == ["gan-pretrain", "mixed", "real-only"]
    assert set(report["paired"]) == {"gan-pretrain - real-only", "mixed - real-only"}
    assert report["generated_source"].startswith("per fold")
    assert len(calls) == 6 and all(0 < len(patients) <= 2 for _, patients in calls)
    for fold, patients in calls:
        tested = {str(p) for p in np.asarray(real.patients)[folds[fold][1]]}
        assert not patients & tested, f"fold {fold}: the GAN was given test patients {tested}"
    assert 0 <= report["modes"]["real-only"]["accuracy"]["value"] <= 1
    assert isinstance(report["paired"]["mixed - real-only"]["mcnemar_p"], float)
    assert np.isfinite(report["modes"]["mixed"]["macro_f1"]["value"])
