"""``lungsign jobs list|show|cancel`` and ``lungsign worker``; how model commands submit
a job and follow it (``--wait``)."""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TimeElapsedColumn

from app.cli.root import cli, cli_session, emit_json, fail
from app.config import get_settings

jobs_cli = typer.Typer(help="Background jobs: list, show, cancel.", no_args_is_help=True)
cli.add_typer(jobs_cli, name="jobs")
POLL_S = 0.5
NO_WORKER_HINT_S = 20.0


def submit_job(kind: str, params: dict[str, Any], json_out: bool) -> int:
    """Create (or find the same) job and queue it; print its id. The job id."""
    from app.jobs import queue, submit

    with cli_session() as session:
        submitted = submit.create(session, get_settings(), kind, params, None)
        job_id, status = submitted.job.id, submitted.job.status
    if submitted.created:
        queue.enqueue(get_settings(), job_id)
    if json_out:
        emit_json({"job": job_id, "kind": kind, "status": status, "new": submitted.created})
    else:
        same = "" if submitted.created else " (the same request was made before)"
        typer.echo(f"job {job_id} ({kind}) {status}{same}", err=True)
    return job_id


def follow(job_id: int, title: str, quiet: bool) -> dict[str, Any]:
    """Wait for JOB_ID to end, with a progress bar unless QUIET; its result, or exit 1."""
    started = time.monotonic()
    hinted = False
    columns = ("[progress.description]{task.description}", BarColumn(), TimeElapsedColumn())
    with Progress(*columns, "{task.fields[note]}", transient=True, disable=quiet) as bar:
        task = bar.add_task(title, total=1.0, note="")
        while True:
            job = _read(job_id)
            bar.update(task, completed=job["progress"], note=job["message"])
            if job["status"] not in ("queued", "running"):
                break
            waited = time.monotonic() - started
            if job["status"] == "queued" and not hinted and waited > NO_WORKER_HINT_S:
                hinted = True
                typer.echo(
                    f"job {job_id} is still queued: is a worker running "
                    "(`lungsign worker`, or `lungsign serve`)?",
                    err=True,
                )
            time.sleep(POLL_S)
    if job["status"] != "succeeded":
        tail = "\n".join(job["log_tail"].splitlines()[-5:])
        raise fail(f"job {job_id} {job['status']}: {job['message']}\n{tail}".rstrip())
    return dict(job["result"])


def _read(job_id: int) -> dict[str, Any]:
    from app.jobs import submit

    with cli_session() as session:
        job = submit.get(session, job_id)
        return {
            "status": job.status,
            "progress": job.progress,
            "message": job.message,
            "result": job.result,
            "log_tail": job.log_tail,
        }


@jobs_cli.command("list")
def list_command(
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """The newest jobs with their status and progress."""
    from app.jobs import submit
    from app.schemas import JobPublic

    with cli_session() as session:
        rows = [
            JobPublic.of(job).model_dump(mode="json") for job in submit.list_jobs(session, limit)
        ]
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(
            f"{r['id']:>5}  {r['kind']:<16} {r['status']:<10} {r['progress'] * 100:5.1f}%  "
            f"{r['message']}"
        )


@jobs_cli.command("show")
def show_command(job_id: int, json_out: bool = typer.Option(False, "--json")) -> None:
    """One job: status, progress, parameters, result and the last lines of its log."""
    from app.jobs import submit
    from app.schemas import JobDetail

    with cli_session() as session:
        detail = JobDetail.of(submit.get(session, job_id)).model_dump(mode="json")
    if json_out:
        emit_json(detail)
        return
    for key in ("id", "kind", "status", "progress", "message", "params", "result", "attempts"):
        typer.echo(f"{key}: {detail[key]}")
    typer.echo("log:\n" + detail["log_tail"])


@jobs_cli.command("cancel")
def cancel_command(job_id: int) -> None:
    """Cancel a queued job, or ask a running one to stop at its next step."""
    from app.jobs import submit

    with cli_session() as session:
        job = submit.cancel(session, job_id)
        status = job.status
    typer.echo(f"job {job_id}: {'cancelled' if status == 'cancelled' else 'stopping'}")


@cli.command()
def worker(
    until_idle: bool = typer.Option(
        False, "--until-idle", help="run what is queued, then exit (instead of waiting for more)"
    ),
) -> None:
    """Run a queue consumer: it runs the jobs (on the GPU when there is one)."""
    import logging

    from app.cli.root import open_db
    from app.jobs.worker import run_until_idle, run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    open_db().dispose()  # schema ready first
    typer.echo(f"lungsign worker on {get_settings().redis_url or 'the SQLite queue'}", err=True)
    if until_idle:
        typer.echo(f"{run_until_idle(get_settings())} queued messages handled", err=True)
    else:
        run_worker(get_settings())
