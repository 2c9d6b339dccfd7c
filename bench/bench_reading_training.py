"""The reading loop's latency with and without a GAN training in the worker, in one run.

Usage:
    python bench/bench_reading_training.py [--readers 20] [--items 20] [--database-url URL]

Builds a fresh installation with two identical shared studies and a real 64 px dataset,
starts the web server (``lungsign serve --no-worker``), and runs the reading loop of
``bench_reading.py`` on the first study with no job running. Then it starts a worker as
``lungsign serve`` does (a child at lower CPU priority), queues a long ``train_gan`` job,
waits until it trains, and runs the same loop on the second study. It prints p95 per request
kind in both phases and the ratio (the target: ≤ 1.5), then stops both processes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time

from bench_reading import (
    bench_environment,
    build,
    free_port,
    log_in,
    percentiles,
    progress,
    reading_loop,
    wait_ready,
)

from app.cli.server import WORKER_NICENESS
from app.config import Settings
from app.db import Database
from app.jobs import queue, submit
from app.tables import Job


def start_training(settings: Settings) -> int:
    """Queue a long GAN job; return once it trains (it dies with the worker at the end)."""
    db = Database(settings.sqlalchemy_url)
    with db.session() as session:
        params = {"dataset": "bench-real", "steps": 1_000_000}
        job_id = submit.create(session, settings, "train_gan", params, None).job.id
    queue.enqueue(settings, job_id)
    while True:
        with db.session() as session:
            if session.get_one(Job, job_id).progress > 0:
                break
        time.sleep(0.5)
    db.dispose()
    return job_id


async def measure(base: str, study_id: int, readers: int) -> dict[str, list[float]]:
    await wait_ready(base)
    clients = [await log_in(base, f"reader{i:03d}") for i in range(readers)]
    samples = await reading_loop(clients, study_id)
    for client in clients:
        await client.aclose()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--database-url", help="PostgreSQL server URL (a fresh database is made)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env, settings = bench_environment(tmp, args.database_url)
        progress("building the installation")
        before, during = build(settings, args.readers, args.items, ("before", "during"))
        port = free_port()
        cli = [sys.executable, "-c", "from app.cli import main; main()"]
        web = subprocess.Popen([*cli, "serve", "--no-worker", "--port", str(port)], env=env)
        worker = None
        try:
            base = f"http://127.0.0.1:{port}"
            progress("reading with no job running")
            quiet = asyncio.run(measure(base, before, args.readers))
            worker = subprocess.Popen(
                [*cli, "worker"], env=env, preexec_fn=lambda: os.nice(WORKER_NICENESS)
            )
            training = start_training(settings)
            progress(f"reading while job {training} trains a GAN")
            busy = asyncio.run(measure(base, during, args.readers))
        finally:
            for process in (worker, web):
                if process is not None:
                    process.terminate()
                    process.wait()
    report(quiet, busy, args.readers)


def report(quiet: dict[str, list[float]], busy: dict[str, list[float]], readers: int) -> None:
    print(f"{readers} concurrent readers; p95 in ms without and with a GAN training")
    print(f"{'request':<10}{'n':>6}{'p95 idle':>10}{'p95 busy':>10}{'ratio':>8}")
    for kind in quiet:
        idle, loaded = percentiles(quiet[kind])[1], percentiles(busy[kind])[1]
        print(f"{kind:<10}{len(busy[kind]):>6}{idle:>10.1f}{loaded:>10.1f}{loaded / idle:>8.2f}")
    worst = max(percentiles(busy[k])[1] / percentiles(quiet[k])[1] for k in quiet)
    print(f"reading loop p95 ratio, training / idle (worst request): {worst:.2f}")


if __name__ == "__main__":
    main()
