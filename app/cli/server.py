"""Serving the web application, with one worker process beside it unless ``--no-worker``."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
import uvicorn

from app.cli.root import cli, open_db
from app.config import get_settings

WORKER_NICENESS = 10


def serve_app(
    host: str, port: int, worker: bool = True, alongside: Callable[[], None] | None = None
) -> None:
    """Run uvicorn on the app for the current settings (schema ready first); ALONGSIDE, if
    given, runs in a thread meanwhile (the demo's pipeline)."""
    open_db().dispose()
    from app.main import create_app

    typer.echo(f"lungsign at http://{host}:{port}/  (Ctrl-C stops)")
    with worker_process(worker):
        if alongside is not None:
            threading.Thread(target=alongside, name="alongside", daemon=True).start()
        uvicorn.run(create_app(get_settings()), host=host, port=port, log_level="info")


@contextmanager
def worker_process(start: bool) -> Iterator[None]:
    """A ``lungsign worker`` child process for the duration, stopped with the server. It runs
    at lower CPU priority (nice 10): training takes the cores readers' requests leave idle."""
    if not start:
        yield
        return
    command = [sys.executable, "-c", "from app.cli import main; main()", "worker"]
    child = subprocess.Popen(command, preexec_fn=lambda: os.nice(WORKER_NICENESS))
    try:
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to bind; 127.0.0.1 unless told"),
    port: int = typer.Option(8000),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="run no worker here (workers run on other hosts)"
    ),
) -> None:
    """Run the web server and, unless --no-worker, one worker process beside it."""
    serve_app(host, port, worker=not no_worker)
