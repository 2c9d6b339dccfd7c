"""Model commands: ``train-gan``, ``generate``, ``train-classifier`` and ``evaluate``.

They run in the foreground with a progress bar; ``--json`` prints one JSON object instead.
The training services (and torch) are imported inside the commands, so that the other
commands of the CLI start without loading them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TimeElapsedColumn

from app.cli.root import cli, cli_session, emit_json, fail
from app.config import get_settings

ProgressSink = Callable[[float, str], None]


@cli.command("train-gan")
def train_gan_command(
    dataset: str = typer.Option(..., "--dataset", help="real dataset to train on"),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="passes over the data"),
    seed: int = typer.Option(0, "--seed"),
    json_out: bool = typer.Option(False, "--json", help="print the metrics as JSON"),
) -> None:
    """Train a GAN on a real dataset and report its quality (C2ST, FD, precision/recall…)."""
    from app.services.training import train_gan

    _run(
        lambda session, sink: train_gan(
            session, get_settings(), dataset, epochs, seed, on_progress=sink
        ),
        "training GAN",
        json_out,
    )


@cli.command("generate")
def generate_command(
    gan: int = typer.Option(..., "--gan", help="GAN model version"),
    per_label: int = typer.Option(..., "--per-label", min=1),
    dataset: str = typer.Option(..., "--dataset", help="name of the new generated dataset"),
    seed: int = typer.Option(0, "--seed"),
    drop_near_copies: bool = typer.Option(
        False, "--drop-near-copies", help="leave out near-copies of the GAN's training patches"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Generate PER_LABEL patches per label into a new generated dataset."""
    from app.services.training import generate_dataset

    _run(
        lambda session, sink: generate_dataset(
            session, get_settings(), gan, per_label, dataset, seed, drop_near_copies, sink
        ),
        "generating",
        json_out,
    )


@cli.command("train-classifier")
def train_classifier_command(
    dataset: str = typer.Option(..., "--dataset", help="real dataset"),
    mode: str = typer.Option("real-only", "--mode", help="real-only | gan-pretrain | mixed"),
    generated: str | None = typer.Option(None, "--generated", help="generated dataset"),
    folds: int = typer.Option(5, "--folds", min=2),
    train_fraction: float = typer.Option(1.0, "--train-fraction", min=0.01, max=1.0),
    seed: int = typer.Option(0, "--seed"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Patient-disjoint k-fold evaluation of a mode, then a final model on all patches."""
    from app.services.classifier_training import train_classifier_version

    _run(
        lambda session, sink: train_classifier_version(
            session,
            get_settings(),
            dataset,
            mode,
            generated,
            folds,
            train_fraction,
            seed,
            on_progress=sink,
        ),
        f"classifier {mode}",
        json_out,
    )


@cli.command("evaluate")
def evaluate_command(
    model: int = typer.Option(..., "--model", help="model version"),
    dataset: str = typer.Option(..., "--dataset"),
    kind: str = typer.Option("classifier", "--kind", help="classifier | gan"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Metrics of a classifier (or, with --kind gan, a GAN) version on a dataset."""
    if kind not in ("classifier", "gan"):
        raise fail("--kind must be classifier or gan")
    from app.services.classifier_training import evaluate_classifier
    from app.services.training import evaluate_gan_version

    evaluate = evaluate_gan_version if kind == "gan" else evaluate_classifier
    _run(lambda session, _sink: evaluate(session, model, dataset), "evaluating", json_out)


def _run(work: Callable[[Any, ProgressSink], dict[str, Any]], title: str, json_out: bool) -> None:
    with _progress(title, json_out) as sink, cli_session() as session:
        result = work(session, sink)
    if json_out:
        emit_json(result)
    else:
        _print_summary(result)


@contextmanager
def _progress(title: str, quiet: bool) -> Iterator[ProgressSink]:
    if quiet:
        yield lambda _fraction, _message: None
        return
    columns = ("[progress.description]{task.description}", BarColumn(), TimeElapsedColumn())
    with Progress(*columns, "{task.fields[note]}", transient=True) as bar:
        task = bar.add_task(title, total=1.0, note="")
        yield lambda fraction, message: bar.update(task, completed=fraction, note=message)


def _print_summary(result: dict[str, Any]) -> None:
    for key, value in result.items():
        if isinstance(value, int | float | str) or value is None:
            typer.echo(f"{key}: {value}")
