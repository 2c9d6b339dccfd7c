"""Model commands: ``train-gan``, ``generate``, ``train-classifier`` and ``evaluate``.

Each enqueues a job for the workers (``lungsign worker``, or the one ``lungsign serve`` starts)
and prints its id; ``--wait`` follows it with a progress bar and prints its result (``--json``:
one JSON object). ``train-gan --wait`` also waits for the measuring job the training queues.
"""

from __future__ import annotations

from typing import Any

import typer

from app.cli.jobs import follow, submit_job
from app.cli.root import cli, emit_json, fail

WAIT = typer.Option(False, "--wait", help="follow the job and print its result")
JSON = typer.Option(False, "--json", help="print one JSON object")


@cli.command("train-gan")
def train_gan_command(
    dataset: str = typer.Option(..., "--dataset", help="real dataset to train on"),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="passes over the data"),
    steps: int | None = typer.Option(None, "--steps", min=1, help="training steps (not epochs)"),
    seed: int = typer.Option(0, "--seed"),
    wait: bool = WAIT,
    json_out: bool = JSON,
) -> None:
    """Train a GAN on a real dataset; its quality (C2ST, FD, precision/recall…) is measured
    by an ``evaluate`` job queued when training ends."""
    params = {"dataset": dataset, "epochs": epochs, "steps": steps, "seed": seed}
    job = submit_job("train_gan", params, json_out and not wait)
    if not wait:
        return
    result = follow(job, "training GAN", json_out)
    measured = follow(int(result["evaluate_job"]), "measuring GAN", json_out)
    _print({**result, **{k: v for k, v in measured.items() if k != "dataset"}}, json_out)


@cli.command("generate")
def generate_command(
    gan: int = typer.Option(..., "--gan", help="GAN model version"),
    per_label: int = typer.Option(..., "--per-label", min=1),
    dataset: str = typer.Option(..., "--dataset", help="name of the new generated dataset"),
    seed: int = typer.Option(0, "--seed"),
    drop_near_copies: bool = typer.Option(
        False, "--drop-near-copies", help="leave out near-copies of the GAN's training patches"
    ),
    wait: bool = WAIT,
    json_out: bool = JSON,
) -> None:
    """Generate PER_LABEL patches per label into a new generated dataset."""
    params = {
        "gan": gan,
        "per_label": per_label,
        "dataset": dataset,
        "seed": seed,
        "drop_near_copies": drop_near_copies,
    }
    _submit_and_maybe_follow("generate", params, "generating", wait, json_out)


@cli.command("train-classifier")
def train_classifier_command(
    dataset: str = typer.Option(..., "--dataset", help="real dataset"),
    mode: str = typer.Option("real-only", "--mode", help="real-only | gan-pretrain | mixed"),
    generated: str | None = typer.Option(
        None,
        "--generated",
        help="a fixed generated dataset (its GAN may have seen test patients: the report "
        "marks it 'optimistic: leakage'); without it, GAN modes train one GAN per fold",
    ),
    folds: int = typer.Option(5, "--folds", min=2),
    train_fraction: float = typer.Option(1.0, "--train-fraction", min=0.01, max=1.0),
    gan_steps: int = typer.Option(1600, "--gan-steps", min=1, help="each per-fold GAN's steps"),
    per_label: int = typer.Option(
        100, "--per-label", min=1, help="patches per label each per-fold GAN generates"
    ),
    seed: int = typer.Option(0, "--seed"),
    wait: bool = WAIT,
    json_out: bool = JSON,
) -> None:
    """Patient-disjoint k-fold evaluation of a mode, then a final model on all patches.
    Leak-free by default: in gan-pretrain and mixed, each fold's GAN trains on that fold's
    training patients only."""
    params = {
        "dataset": dataset,
        "mode": mode,
        "generated": generated,
        "folds": folds,
        "train_fraction": train_fraction,
        "gan_steps": gan_steps,
        "per_label": per_label,
        "seed": seed,
    }
    _submit_and_maybe_follow("train_classifier", params, f"classifier {mode}", wait, json_out)


@cli.command("evaluate")
def evaluate_command(
    model: int = typer.Option(..., "--model", help="model version"),
    dataset: str = typer.Option(..., "--dataset"),
    kind: str = typer.Option("classifier", "--kind", help="classifier | gan"),
    wait: bool = WAIT,
    json_out: bool = JSON,
) -> None:
    """Metrics of a classifier (or, with --kind gan, a GAN) version on a dataset."""
    if kind not in ("classifier", "gan"):
        raise fail("--kind must be classifier or gan")
    params = {"model": model, "dataset": dataset, "kind": kind}
    _submit_and_maybe_follow("evaluate", params, "evaluating", wait, json_out)


def _submit_and_maybe_follow(
    kind: str, params: dict[str, Any], title: str, wait: bool, json_out: bool
) -> None:
    job = submit_job(kind, params, json_out and not wait)
    if wait:
        _print(follow(job, title, json_out), json_out)


def _print(result: dict[str, Any], json_out: bool) -> None:
    if json_out:
        emit_json(result)
        return
    for key, value in result.items():
        if isinstance(value, int | float | str) or value is None:
            typer.echo(f"{key}: {value}")
