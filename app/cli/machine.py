"""``lungsign study machine-reader STUDY``: run a study's machine reader (again)."""

from __future__ import annotations

from typing import Any

import typer

from app.cli import root
from app.cli.jobs import follow
from app.cli.root import cli_session, emit_json
from app.cli.study import study_cli


@study_cli.command("machine-reader")
def machine_reader_command(
    study: str = typer.Argument(..., help="study name or id"),
    seed: int | None = typer.Option(None, help="default: the next unused seed (a fresh run)"),
    wait: bool = typer.Option(
        False, "--wait", help="follow the job and print the machine's figures"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Score the study's items with a discriminator that never saw them (a job)."""
    from app.jobs import queue
    from app.services.studies import lifecycle, machine

    with cli_session() as session:
        study_id = lifecycle.find_study(session, study).id
        submitted = machine.request_run(session, root.get_settings(), study_id, None, seed)
        job_id, status = submitted.job.id, submitted.job.status
    if submitted.created:
        queue.enqueue(root.get_settings(), job_id)
    if not wait:
        if json_out:
            emit_json(
                {"job": job_id, "kind": machine.KIND, "status": status, "new": submitted.created}
            )
        else:
            same = "" if submitted.created else " (the same request was made before)"
            typer.echo(f"job {job_id} ({machine.KIND}) {status}{same}", err=True)
        return
    follow(job_id, "machine reader", json_out)
    with cli_session() as session:
        from app.services.studies.records import load_records

        block = machine.summary(session, study_id, load_records(session, study_id))
    figures = _figures(block or {})
    if json_out:
        emit_json(figures)
    else:
        for key, value in figures.items():
            typer.echo(f"{key}: {value}")


def _figures(block: dict[str, Any]) -> dict[str, Any]:
    judged = block.get("generated_judged_real") or {}
    return {
        "job": block.get("job"),
        "status": block.get("status"),
        "auc": block.get("auc"),
        "generated_judged_real": judged.get("rate"),
        "items": block.get("n_judgments"),
        "classifier_version": (block.get("classifier") or {}).get("model_version"),
    }
