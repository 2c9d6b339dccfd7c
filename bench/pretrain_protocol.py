"""Does pre-training on GAN patches help on cohorts nobody tuned on? (issue 13's protocol)

Usage:
    python bench/pretrain_protocol.py [--work var/protocol] [--threads 2] [--gan-steps 400]
        [--stage tune|report|all] [--fractions 0.25,0.1,0.5,1.0] [--report-seeds 201,202]

Two roles, fixed here and in docs/models.md, never swapped:

- **tuning cohorts** (demo-data seeds ``TUNING_SEEDS``): every pre-training setting of
  ``SETTINGS`` runs leak-free at 25% of the training patients; the setting with the largest
  pooled paired difference over real-only is chosen (the baseline on a tie);
- **report cohorts** (seeds ``REPORT_SEEDS``, never used while tuning): real-only and the
  baseline and the chosen setting at each training fraction; each cohort with its
  patient-bootstrap interval, and the difference pooled over the report cohorts.

Leak-free throughout: in each patient-disjoint fold one GAN is trained on that fold's
(reduced) training patients only. Every GAN, generated set and out-of-fold prediction is
cached under ``--work``: an interrupted run resumes, and a finished one re-prints its report.
Writes ``report.json`` and ``pretrain-fraction.png`` (accuracy against training fraction,
both modes, with intervals) into ``--work``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from app.config import Settings
from app.demo_cohort import write_cohort
from app.jobs import store
from app.services.ingest.directory import import_directory
from app.services.installation.setup import prepare_database
from models.classifier import ClassifierConfig, TrainedClassifier, fit, train_classifier
from models.folds import patient_folds, patient_fraction
from models.gan_metrics import frechet_distance, label_fidelity, memorisation, two_sample_test
from models.gan_training import GANConfig, train
from models.generation import generate
from models.metrics import Predictions, accuracy, bootstrap_ci, paired_difference
from models.patches import PatchSet

TUNING_SEEDS = (101, 102)
REPORT_SEEDS = (201, 202)
FRACTIONS = (0.25, 0.1, 0.5, 1.0)  # 25% first: the number the issue asks for
TUNING_FRACTION = 0.25
PATIENTS = 24
FOLDS = 3
SPLIT_SEED = 0


@dataclass(frozen=True)
class Setting:
    """How the generated patches are made and used for pre-training."""

    gan_steps: int | None = None  # None: the run's --gan-steps
    per_class_gan: bool = False  # one GAN per label (the reference paper) instead of conditional
    per_label: int = 100
    pretrain_epochs: int = 15
    finetune_lr: float = 1e-3
    head_only_finetune: bool = False  # fine-tune the last layer only; the body stays pre-trained
    label_fidelity_filter: bool = False  # keep patches the fold's real-only model reads right
    drop_near_copies: bool = False
    mixed_finetune: bool = False  # fine-tune on real ∪ generated instead of real only


# Settings of earlier runs and their numbers (docs/models.md), kept out to fit the budget:
#   "label-fidelity-filter": Setting(label_fidelity_filter=True),  # pooled −0.017 in tuning
#   "no-near-copies": Setting(drop_near_copies=True),  # pooled +0.007 in tuning, chosen then
#   "finetune-lr-3e-4": Setting(finetune_lr=3e-4),  # dropped after 3 folds, 3-11 points below
#   "mixed-finetune": Setting(mixed_finetune=True),  # dropped after 3 folds, 3-11 points below
#   "per-class-gans": Setting(per_class_gan=True),  # not run: 2.1x the GAN's CPU time
SETTINGS = {
    "baseline": Setting(),
    "300-per-label": Setting(per_label=300),
    "pretrain-5-epochs": Setting(pretrain_epochs=5),
    "head-only-finetune": Setting(head_only_finetune=True),
    "gan-1600-steps": Setting(gan_steps=1600),
}


class Protocol:
    def __init__(self, work: Path, gan_steps: int) -> None:
        self.work = work
        self.gan_steps = gan_steps
        self.cfg = ClassifierConfig(seed=SPLIT_SEED)
        self.start = time.perf_counter()
        self.quality: list[dict[str, Any]] = []  # one entry per fold and GAN

    def log(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.start:6.0f} s] {text}", flush=True)

    # -- data -------------------------------------------------------------------------------
    def cohort(self, seed: int) -> PatchSet:
        """The demo-data cohort of SEED, imported as a real installation would import it."""
        cached = self.work / "cohorts" / f"cohort-{seed}.npz"
        if not cached.exists():
            with tempfile.TemporaryDirectory() as tmp:
                write_cohort(Path(tmp) / "dicom", patients=PATIENTS, seed=seed)
                # a fixed pseudonym key: the same patient keys, hence the same folds, every run
                key = f"pretrain-protocol-{seed}"
                settings = Settings(data_dir=Path(tmp) / "var", pseudonym_key=key)
                db = prepare_database(settings)
                with db.session() as session:
                    import_directory(session, settings, Path(tmp) / "dicom", f"cohort-{seed}")
                with db.session() as session:
                    dataset = store.get_dataset(session, f"cohort-{seed}")
                    real = store.load_patch_set(session, dataset)
                db.dispose()
            cached.parent.mkdir(parents=True, exist_ok=True)
            np.savez(
                cached,
                patches=real.patches,
                labels=np.asarray(real.labels),
                patients=np.asarray(real.patients),
                codes=np.asarray(real.label_codes),
            )
            self.log(f"cohort {seed}: {len(real)} patches imported")
        with np.load(cached) as c:
            return PatchSet(
                c["patches"], c["labels"].tolist(), c["patients"].tolist(), tuple(c["codes"])
            )

    # -- one fold ---------------------------------------------------------------------------
    def generated(self, folder: Path, train_set: PatchSet, fold: int, setting: Setting) -> PatchSet:
        """Patches of the GAN trained on this fold's training patients only (cached). A longer
        GAN of the same kind continues the run's default-length one: the same first steps."""
        steps = setting.gan_steps or self.gan_steps
        kind = "per-class" if setting.per_class_gan else "conditional"
        name = f"gan-fold{fold}" + ("" if kind == "conditional" else f"-{kind}")
        gan_file = folder / f"{name}-{steps}.pt"
        done = gan_file.with_suffix(".done")
        if not done.exists():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"gan-fold{fold}.json").write_text(
                json.dumps({"patients": sorted(set(train_set.patients))})
            )
            shorter = folder / f"{name}-{self.gan_steps}.pt"
            if steps > self.gan_steps and shorter.with_suffix(".done").exists():
                shutil.copyfile(shorter, gan_file)
            cfg = replace(
                GANConfig(), steps=steps, per_class=setting.per_class_gan, seed=SPLIT_SEED + fold
            )
            result = train(cfg, train_set, checkpoint_path=gan_file)
            torch.save(result.checkpoint, gan_file)
            done.touch()
            self.log(f"  GAN {folder.name} fold {fold} {kind} {steps}: {len(train_set)} patches")
        out = generate(gan_file, setting.per_label, seed=SPLIT_SEED + fold)
        return PatchSet(
            out.patches, out.labels, ["generated"] * len(out.labels), train_set.label_codes
        )

    def run_fold(
        self, key: str, real: PatchSet, fold: int, fraction: float, names: list[str]
    ) -> dict[str, np.ndarray]:
        """Test-set class probabilities of real-only and each setting in NAMES, for one fold."""
        train_idx, test_idx = patient_folds(real, FOLDS, SPLIT_SEED)[fold]
        train_set = patient_fraction(real.subset(train_idx), fraction, seed=SPLIT_SEED + fold)
        test_patients = {real.patients[i] for i in test_idx}
        if test_patients & set(train_set.patients):  # the GAN below sees train_set only
            raise RuntimeError(f"{key} fold {fold}: a test patient is in the training set")
        folder = self.work / "runs" / key
        folder.mkdir(parents=True, exist_ok=True)
        test = real.patches[test_idx]
        out: dict[str, np.ndarray] = {}
        base_file = folder / f"real-only-fold{fold}.pt"
        if not base_file.exists():
            torch.save(train_classifier(train_set, self.cfg).checkpoint(), base_file)
        base = TrainedClassifier.from_checkpoint(torch.load(base_file, weights_only=False))
        out["real-only"] = self._cached(folder / f"real-only-fold{fold}.npy", base, test)
        for name in names:
            saved = folder / f"{name}-fold{fold}.npy"
            if saved.exists():
                out[name] = np.load(saved)
                continue
            setting = SETTINGS[name]
            fake = self.generated(folder, train_set, fold, setting)
            fake = self._filtered(fake, setting, train_set, base)
            out[name] = self._cached(saved, self._pretrained(train_set, fake, setting), test)
            self.log(f"  {key} fold {fold} {name}: pre-trained on {len(fake)} patches")
        y = real.targets()[test_idx]
        for name in names:  # each GAN of the fold once: the baseline's and any other kind/length
            setting = SETTINGS[name]
            if name == "baseline" or setting.gan_steps or setting.per_class_gan:
                self.quality.append(self._quality(folder, train_set, fold, base, out, y, name))
        return out

    def _quality(
        self,
        folder: Path,
        train_set: PatchSet,
        fold: int,
        base: TrainedClassifier,
        out: dict[str, np.ndarray],
        y: np.ndarray,
        name: str,
    ) -> dict[str, Any]:
        """The quality figures of the GAN of setting NAME beside its gain over real-only: are
        they predictors of the gain?"""
        saved = folder / f"quality-fold{fold}{'' if name == 'baseline' else '-' + name}.json"
        if not saved.exists():
            fake = self.generated(folder, train_set, fold, SETTINGS[name])
            quality = {
                "run": folder.name,
                "fold": fold,
                "setting": name,
                "label_fidelity": label_fidelity(base.predict_proba(fake.patches), fake)["overall"],
                "near_copy_fraction": memorisation(train_set, fake.patches)["near_copy_fraction"],
                # against the GAN's own training patches: the fold's test patients stay unseen
                "fd": frechet_distance(base.embed(train_set.patches), base.embed(fake.patches)),
                "c2st_accuracy": two_sample_test(train_set, fake, self.cfg)["accuracy"],
                "gain": float(
                    np.mean(out[name].argmax(1) == y) - np.mean(out["real-only"].argmax(1) == y)
                ),
            }
            saved.write_text(json.dumps(quality))
        return json.loads(saved.read_text()) | {"setting": name}

    def _pretrained(
        self, train_set: PatchSet, fake: PatchSet, setting: Setting
    ) -> TrainedClassifier:
        """Pre-trained on FAKE, then fine-tuned on the fold's real patches as SETTING says."""
        cfg = replace(
            self.cfg, pretrain_epochs=setting.pretrain_epochs, finetune_lr=setting.finetune_lr
        )
        if not setting.head_only_finetune:
            mixed = fake if setting.mixed_finetune else None
            return train_classifier(train_set, cfg, pretrain=fake, mixed=mixed)
        # the same pre-training stage as train_classifier's, then only the head learns
        model = train_classifier(fake, replace(cfg, epochs=cfg.pretrain_epochs))
        model.model.body.requires_grad_(False)
        fit(model, train_set, cfg.epochs, cfg.finetune_lr, "train")
        return model

    @staticmethod
    def _cached(path: Path, model: TrainedClassifier, test: np.ndarray) -> np.ndarray:
        if not path.exists():
            np.save(path, model.predict_proba(test))
        return np.load(path)

    @staticmethod
    def _filtered(
        fake: PatchSet, setting: Setting, train_set: PatchSet, base: TrainedClassifier
    ) -> PatchSet:
        keep = np.ones(len(fake), dtype=bool)
        if setting.label_fidelity_filter:
            read = base.predict_proba(fake.patches).argmax(axis=1)
            keep &= np.asarray([fake.label_codes[i] for i in read]) == np.asarray(fake.labels)
        if setting.drop_near_copies:
            keep[memorisation(train_set, fake.patches)["near_copy_indices"]] = False
        return fake.subset(np.flatnonzero(keep))

    # -- one cohort at one fraction -----------------------------------------------------------
    def evaluate(self, seed: int, fraction: float, names: list[str]) -> dict[str, Predictions]:
        real = self.cohort(seed)
        key = f"c{seed}-p{round(fraction * 100)}-g{self.gan_steps}"
        shape = (len(real), len(real.label_codes))
        proba = {name: np.zeros(shape, np.float32) for name in ["real-only", *names]}
        for fold, (_, test_idx) in enumerate(patient_folds(real, FOLDS, SPLIT_SEED)):
            for name, p in self.run_fold(key, real, fold, fraction, names).items():
                proba[name][test_idx] = p
        # patients are namespaced by cohort so that pooled bootstraps resample them apart
        patients = np.asarray([f"{seed}/{p}" for p in real.patients])
        return {
            name: Predictions(real.targets(), p, patients, real.label_codes)
            for name, p in proba.items()
        }


def pooled(preds: list[Predictions]) -> Predictions:
    return Predictions(
        np.concatenate([p.y_true for p in preds]),
        np.concatenate([p.proba for p in preds]),
        np.concatenate([p.patients for p in preds]),
        preds[0].label_codes,
    )


def summary(preds: dict[str, Predictions], names: list[str]) -> dict[str, Any]:
    """Accuracy with its patient-bootstrap interval per mode, and each setting minus
    real-only, paired on the same patches."""
    return {
        "n_patches": len(preds["real-only"].y_true),
        "n_patients": len(set(preds["real-only"].patients.tolist())),
        "accuracy": {
            name: bootstrap_ci(accuracy, p.y_true, p.y_pred, p.patients)
            for name, p in preds.items()
        },
        "difference": {name: paired_difference(preds[name], preds["real-only"]) for name in names},
    }


def tune(protocol: Protocol) -> dict[str, Any]:
    names = list(SETTINGS)
    per_cohort = {seed: protocol.evaluate(seed, TUNING_FRACTION, names) for seed in TUNING_SEEDS}
    both = {n: pooled([per_cohort[s][n] for s in TUNING_SEEDS]) for n in ["real-only", *names]}
    result = {
        "fraction": TUNING_FRACTION,
        "cohorts": {str(s): summary(per_cohort[s], names) for s in TUNING_SEEDS},
        "pooled": summary(both, names),
    }
    gains = {n: result["pooled"]["difference"][n]["accuracy_difference"]["value"] for n in names}
    best = max(names, key=lambda n: (gains[n], n == "baseline"))
    result["chosen"] = best if gains[best] > gains["baseline"] else "baseline"
    return result


def report(
    protocol: Protocol, chosen: str, fraction: float, seeds: tuple[int, ...]
) -> dict[str, Any]:
    """Real-only, the baseline and the chosen setting on the report cohorts SEEDS at
    FRACTION: the setting was chosen at the tuning fraction, on other cohorts, and is shown at
    every fraction to find where it stops helping."""
    names = ["baseline"] if chosen == "baseline" else ["baseline", chosen]
    per_cohort = {seed: protocol.evaluate(seed, fraction, names) for seed in seeds}
    both = {n: pooled([per_cohort[s][n] for s in seeds]) for n in ["real-only", *names]}
    return {
        "cohorts": {str(s): summary(per_cohort[s], names) for s in seeds},
        "pooled": summary(both, names),
    }


def quality_vs_gain(folds: list[dict[str, Any]]) -> dict[str, Any]:
    """Spearman correlation of each fold's gain with its GAN's quality figures."""
    from scipy.stats import spearmanr

    gains = [f["gain"] for f in folds]
    out: dict[str, Any] = {"folds": folds}
    for figure_name in ("label_fidelity", "near_copy_fraction", "fd", "c2st_accuracy"):
        values = [f[figure_name] for f in folds]
        if len(set(values)) < 2:  # e.g. a C2ST that tells every GAN apart: no ranking to test
            out[figure_name] = {"spearman_rho": None, "p": None, "constant": values[0]}
            continue
        rho, p = spearmanr(values, gains)
        out[figure_name] = {"spearman_rho": round(float(rho), 3), "p": round(float(p), 4)}
    return out


def figure(result: dict[str, Any], path: Path) -> None:
    """Accuracy against training fraction on the report cohorts (pooled), with intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted((float(f), r["pooled"]["accuracy"]) for f, r in result["report"].items())
    modes = list(dict.fromkeys(m for _, acc in rows for m in acc))  # real-only first
    labels = {"real-only": "real-only", "baseline": f"gan-pretrain, {result['gan_steps']}-step GAN"}
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for i, name in enumerate(modes):
        offset = (i - (len(modes) - 1) / 2) * 1.2  # side by side, so the intervals stay apart
        points = [(f * 100 + offset, acc[name]) for f, acc in rows if name in acc]
        y = [a["value"] for _, a in points]
        err = [
            [v - a["ci95"][0] for v, (_, a) in zip(y, points, strict=True)],
            [a["ci95"][1] - v for v, (_, a) in zip(y, points, strict=True)],
        ]
        label = labels.get(name, f"gan-pretrain, {name}")
        ax.errorbar([x for x, _ in points], y, yerr=err, marker="o", capsize=3, label=label)
    ax.set_xlabel("training patients used (% of each fold's training patients)")
    ax.set_ylabel("accuracy, report cohorts pooled")
    cohorts = ", ".join(map(str, result["report_seeds"]))
    ax.set_title(f"Leak-free, {FOLDS}-fold, report cohorts {cohorts}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("var/protocol"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gan-steps", type=int, default=400)
    parser.add_argument("--stage", choices=("tune", "report", "all"), default="all")
    parser.add_argument("--fractions", default=",".join(map(str, FRACTIONS)))
    parser.add_argument(
        "--report-seeds",
        default=",".join(map(str, REPORT_SEEDS)),
        help="a subset of the report cohorts, for a report cut short by its budget",
    )
    args = parser.parse_args()
    seeds = tuple(int(s) for s in args.report_seeds.split(","))
    if not seeds or not set(seeds) <= set(REPORT_SEEDS):
        parser.error(f"--report-seeds must be among the report cohorts {REPORT_SEEDS}")
    torch.set_num_threads(args.threads)
    protocol = Protocol(args.work, args.gan_steps)
    out_file = args.work / "report.json"
    result: dict[str, Any] = json.loads(out_file.read_text()) if out_file.exists() else {}
    result.update(
        {
            "tuning_seeds": TUNING_SEEDS,
            "report_seeds": seeds,
            "folds": FOLDS,
            "patients": PATIENTS,
            "gan_steps": args.gan_steps,
            "settings": {n: vars(s) for n, s in SETTINGS.items()},
        }
    )
    if args.stage in ("tune", "all"):
        result["tuning"] = tune(protocol)
        out_file.write_text(json.dumps(result, indent=1))
        protocol.log(f"tuning done: chosen {result['tuning']['chosen']}")
    if args.stage in ("report", "all"):
        chosen = result.get("tuning", {}).get("chosen")
        if chosen is None:
            chosen = "baseline"
            protocol.log("not tuned yet: the report has real-only and the baseline only")
        result.setdefault("report", {})
        for fraction in [float(f) for f in args.fractions.split(",")]:
            result["report"][str(fraction)] = report(protocol, chosen, fraction, seeds)
            out_file.write_text(json.dumps(result, indent=1))
            figure(result, args.work / "pretrain-fraction.png")
            protocol.log(f"report at {fraction:.0%} written")
    result["gan_quality_vs_gain"] = quality_vs_gain(protocol.quality)
    out_file.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
