"""Serving the web application, with one worker process beside it unless ``--no-worker``."""

from __future__ import annotations

import ctypes
import os
import signal
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
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


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
    parent = os.getpid()
    child = subprocess.Popen(command, preexec_fn=lambda: _as_worker_child(parent))
    try:
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()


def _as_worker_child(parent: int) -> None:
    """In the forked child, before the worker starts: lower priority, and a SIGTERM when the
    server process ends however it ends. uvicorn re-raises the SIGTERM it caught once it has
    shut down, so the server can die before ``worker_process`` gets to stop the worker;
    a ``kill -9`` of the server never runs it. Linux asks the kernel (``PR_SET_PDEATHSIG``);
    the worker then stops gracefully as under ``docker stop``."""
    os.nice(WORKER_NICENESS)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the server died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)


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
