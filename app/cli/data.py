"""Data commands: ``import`` (DICOM + annotations.csv, or pre-cut patches) and ``demo-data``.

Exit codes of ``import``: 0 when the import ran and at least one item was read (imported or
already present), even if others were skipped; 1 when nothing could be imported.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from app.cli.root import cli, emit_json, fail, open_db
from app.config import get_settings
from app.db import Database
from app.errors import LungsignError
from app.services.ingest.directory import import_directory
from app.services.ingest.types import ImportSummary, ProgressCallback


@cli.command("import")
def import_command(
    directory: Path = typer.Argument(
        ..., help="folder with DICOM + annotations.csv, or patches.csv"
    ),
    dataset: str = typer.Option(..., "--dataset", help="real dataset to create or add to"),
    json_out: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Import annotated DICOM (or pre-cut patches) into a real dataset."""
    db = open_db()
    try:
        if json_out:
            summary = _run_import(db, directory, dataset, None)
        else:
            with _progress() as progress:
                task = progress.add_task("importing", total=None)

                def advance(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                summary = _run_import(db, directory, dataset, advance)
    except LungsignError as exc:
        raise fail(exc) from exc
    finally:
        db.dispose()
    _report(summary, json_out)
    if summary.imported == 0 and summary.already_present == 0:
        raise typer.Exit(1)


def _run_import(
    db: Database, directory: Path, dataset: str, on_progress: ProgressCallback | None
) -> ImportSummary:
    with db.session() as session:
        return import_directory(
            session, get_settings(), directory, dataset, on_progress=on_progress
        )


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    )


def _report(summary: ImportSummary, json_out: bool) -> None:
    if json_out:
        emit_json(summary.as_dict())
        return
    for error in summary.errors:
        typer.secho(f"skipped {error.item}: {error.reason}", fg=typer.colors.YELLOW, err=True)
    if summary.errors_not_listed:
        more = f"... and {summary.errors_not_listed} more bad items, not listed"
        typer.secho(more, fg=typer.colors.YELLOW, err=True)
    typer.echo(
        f"{summary.dataset}: {summary.imported} imported, {summary.skipped} skipped "
        f"({summary.already_present} already present, "
        f"{len(summary.errors) + summary.errors_not_listed} bad)"
    )


@cli.command("demo-data")
def demo_data(
    out: Path = typer.Argument(..., help="folder to write the cohort into"),
    patients: int = typer.Option(24, "--patients", min=1, help="number of synthetic patients"),
    seed: int = typer.Option(0, "--seed", min=0, help="the same seed gives the same files"),
    json_out: bool = typer.Option(False, "--json", help="print what was written as JSON"),
) -> None:
    """Write the synthetic demo cohort (DICOM series + annotations.csv)."""
    from app.demo_cohort import write_cohort

    if not json_out:
        typer.echo(f"writing {patients} synthetic patients to {out} …")
    summary = write_cohort(out, patients=patients, seed=seed)
    if json_out:
        emit_json(
            {
                "out": str(summary.out_dir),
                "patients": summary.patients,
                "files": summary.files,
                "findings": summary.findings,
                "labels": summary.labels,
            }
        )
    else:
        typer.echo(str(summary))
