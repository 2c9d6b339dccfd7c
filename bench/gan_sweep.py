"""GAN settings side by side on an imported dataset: same data, same feature model, same budget.

Usage:
    LUNGSIGN_DATA_DIR=var python bench/gan_sweep.py --dataset demo --steps 1600 \
        --variant "" --variant "batch_size=32,betas=0.0;0.99" --variant "augment.cutout=0.25"

Each ``--variant`` is a comma-separated list of ``GANConfig`` overrides (``augment.X`` for the
DiffAugment policy; "" = the defaults). Every variant trains for ``--steps`` with the same seed
and is measured against the same real patches in the feature space of one classifier trained
on them: FD-lungsign, k-NN precision/recall and label fidelity (``models.gan_metrics``), plus
seconds per step. Prints one JSON line per variant. Run it on an otherwise idle machine, or
compare only the quality columns.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import fields, replace
from typing import Any

import torch

from app.config import get_settings
from app.db import Database
from app.jobs import store as model_store
from models.augment import DiffAugmentPolicy
from models.classifier import ClassifierConfig, train_classifier
from models.gan_metrics import frechet_distance, label_fidelity, precision_recall
from models.gan_training import GANConfig, train
from models.generation import generate
from models.patches import PatchSet


def parse_variant(text: str) -> GANConfig:
    """ "batch_size=16,augment.cutout=0.25" → GANConfig with those fields changed."""
    top: dict[str, Any] = {}
    aug: dict[str, Any] = {}
    types = {f.name: f.type for f in fields(GANConfig)} | {
        f"augment.{f.name}": f.type for f in fields(DiffAugmentPolicy)
    }
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, raw = item.partition("=")
        if key not in types:
            raise SystemExit(f"unknown setting {key!r} in variant {text!r}")
        (aug if key.startswith("augment.") else top)[key.removeprefix("augment.")] = _convert(
            raw, str(types[key])
        )
    return replace(GANConfig(), augment=replace(DiffAugmentPolicy(), **aug), **top)


def _convert(raw: str, kind: str) -> Any:
    """A setting's text as its field type; tuples are written "0.0;0.99"."""
    if kind.startswith("tuple"):
        return tuple(float(x) for x in raw.split(";"))
    converters = {"int": int, "float": float, "bool": lambda v: v.lower() in ("1", "true")}
    return converters.get(kind, str)(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--steps", type=int, default=1600)
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--per-label", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    variants = [(text, parse_variant(text)) for text in args.variant or [""]]
    db = Database(get_settings().sqlalchemy_url)
    with db.session() as session:
        real = model_store.load_patch_set(session, model_store.get_dataset(session, args.dataset))
    db.dispose()
    reader = train_classifier(real, ClassifierConfig(seed=args.seed))
    real_features = reader.embed(real.patches)
    for text, base in variants:
        cfg = replace(base, steps=args.steps, seed=args.seed, image_size=real.image_size)
        start = time.perf_counter()
        checkpoint = train(cfg, real).checkpoint
        seconds = time.perf_counter() - start
        out = generate(checkpoint, args.per_label, seed=args.seed + 1)
        fake = PatchSet(out.patches, out.labels, ["generated"] * len(out.labels), real.label_codes)
        features = reader.embed(fake.patches)
        quality = precision_recall(real_features, features)
        fidelity = label_fidelity(reader.predict_proba(fake.patches), fake)
        row = {
            "variant": text or "defaults",
            "steps": args.steps,
            "s_per_step": round(seconds / args.steps, 3),
            "fd_lungsign": round(frechet_distance(real_features, features), 2),
            "precision": round(quality["precision"], 3),
            "recall": round(quality["recall"], 3),
            "label_fidelity": round(fidelity["overall"], 3),
            "per_label": {k: round(v, 2) for k, v in fidelity["per_label"].items()},
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
