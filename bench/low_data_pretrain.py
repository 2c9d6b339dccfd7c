"""Leak-free gan-pretrain vs real-only in the low-data regime, on an imported dataset.

Usage:
    LUNGSIGN_DATA_DIR=var python bench/low_data_pretrain.py --dataset demo \
        [--folds 5] [--train-fraction 0.25] [--gan-steps N] [--per-label 100] [--threads 2]

For each patient-disjoint fold, a GAN is trained on that fold's (reduced) training patients
only, generates ``--per-label`` patches per label, and the classifier is pre-trained on them
and fine-tuned on the same real patients; ``real-only`` runs on the same folds and patients.
Prints the JSON report of ``models.cross_validation.compare_modes`` (paired difference with a
patient-bootstrap 95% interval). ``lungsign train-classifier --generated`` instead uses one GAN
trained on all patients, which has seen every test patient.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import torch

from app.config import get_settings
from app.db import Database
from app.jobs import store as model_store
from models.classifier import ClassifierConfig
from models.cross_validation import compare_modes
from models.folds import patient_folds
from models.gan_training import GANConfig, train
from models.generation import generate
from models.patches import PatchSet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--train-fraction", type=float, default=0.25)
    parser.add_argument("--gan-steps", type=int, default=GANConfig().steps)
    parser.add_argument("--per-label", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    db = Database(get_settings().sqlalchemy_url)
    with db.session() as session:
        dataset = model_store.get_dataset(session, args.dataset)
        real = model_store.load_patch_set(session, dataset)
        normal = model_store.normal_code(session)
    db.dispose()
    gan_cfg = replace(GANConfig(), steps=args.gan_steps, seed=args.seed)
    start = time.perf_counter()

    def generated(train_set: PatchSet, fold: int) -> PatchSet:
        checkpoint = train(replace(gan_cfg, seed=args.seed + fold), train_set).checkpoint
        out = generate(checkpoint, args.per_label, seed=args.seed + fold)
        print(
            f"fold {fold + 1}: GAN on {len(train_set)} patches, "
            f"{time.perf_counter() - start:.0f} s",
            flush=True,
        )
        return PatchSet(out.patches, out.labels, ["generated"] * len(out.labels), real.label_codes)

    report = compare_modes(
        real,
        ClassifierConfig(seed=args.seed),
        patient_folds(real, args.folds, args.seed),
        ("real-only", "gan-pretrain"),
        args.train_fraction,
        generated,
        normal,
    )
    report["seconds"] = round(time.perf_counter() - start)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
