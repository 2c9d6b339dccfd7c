"""Reading-loop latency against ``GET /healthz`` of the same server, side by side.

Usage:
    python bench/bench_reading.py [--readers 100] [--items 40] [--database-url URL]
    python bench/bench_reading.py --synchronous NORMAL,FULL [--repeat 2]

Builds a fresh installation (SQLite under a temp dir, or a new database on the PostgreSQL
server of ``--database-url``), with one shared study of ``--items`` items for ``--readers``
readers, pre-rendered at open. It starts the real server (uvicorn in a subprocess on a
loopback port), logs every reader in (cookie session, as a browser), then runs, with every
reader a concurrent client: ``/healthz`` rounds, the reading loop (``GET /reading/next`` then
``POST /reading/{item}``, until done), ``/healthz`` rounds again. It prints p50/p95/p99 per
request kind, judgments/s, and the p95 ratio of each reading request to ``/healthz``; the
issue's target is a ratio ≤ 3 at 100 concurrent readers.

``--synchronous NORMAL,FULL`` (SQLite) runs the whole measurement once per mode, each on a
fresh installation, alternating ``--repeat`` times, with the server's
``app.db.SQLITE_SYNCHRONOUS`` set to that mode, and prints the modes side by side with the
ratios to the first one (the cost of ``FULL`` over ``NORMAL``, issue 11).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.security import hash_password
from app.services.installation.setup import prepare_database
from app.services.studies import lifecycle as studies
from app.services.studies.spec import GeneratedSource, RealSource, StudySpec
from app.tables import Dataset, Patch, User

PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_postgres(url: str) -> str:
    """A new empty database on the server of URL; its URL."""
    name = f"lungsign_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def bench_environment(tmp: str, database_url: str | None) -> tuple[dict[str, str], Settings]:
    """The environment and settings of a fresh installation under TMP (or a new database on
    the PostgreSQL server of DATABASE_URL)."""
    env = {**os.environ, "LUNGSIGN_DATA_DIR": tmp, "LUNGSIGN_SECRET_KEY": "bench"}
    if database_url:
        env["LUNGSIGN_DATABASE_URL"] = fresh_postgres(database_url)
    return env, Settings(data_dir=Path(tmp), database_url=env.get("LUNGSIGN_DATABASE_URL"))


def add_dataset(session: Session, name: str, kind: str, n: int, size: int = 64) -> None:
    """N random 64×64 HU patches labelled GGO/CAL/NOR."""
    rng = np.random.default_rng(len(name))
    dataset = Dataset(name=name, kind=kind, patch_size=size)
    session.add(dataset)
    session.flush()
    for i in range(n):
        pixels = rng.integers(-1000, 400, (size, size)).astype("<i2").tobytes()
        session.add(
            Patch(
                dataset_id=dataset.id, source=kind, label_code=("GGO", "CAL", "NOR")[i % 3],
                patient_key=f"p{i}", split="test", height=size, width=size, pixels=pixels,
                content_hash=hashlib.sha256(pixels).hexdigest(),
            )
        )  # fmt: skip


def build(
    settings: Settings, readers: int, items: int, names: tuple[str, ...] = ("bench",)
) -> list[int]:
    """Schema, readers, datasets and one open shared study per name; the study ids."""
    db = prepare_database(settings)
    with db.session() as session:
        for kind in ("real", "generated"):
            add_dataset(session, f"bench-{kind}", kind, n=2 * items)
    usernames = [f"reader{i:03d}" for i in range(readers)]
    password_hash = hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose
    with db.session() as session:
        for username in usernames:
            session.add(User(username=username, password_hash=password_hash, role="reader"))
    ids = []
    for name in names:
        spec = StudySpec(
            name=name, real=RealSource(dataset="bench-real"),
            generated=GeneratedSource(datasets=["bench-generated"]),
            items_per_reader=items, readers=usernames, seed=1,
        )  # fmt: skip
        with db.session() as session:
            study = studies.create_study(session, spec, None)
            studies.open_study(session, study.id, None)
            ids.append(study.id)
    db.dispose()
    return ids


SET_SYNCHRONOUS = (
    "import os, app.db; app.db.SQLITE_SYNCHRONOUS = os.environ['BENCH_SQLITE_SYNCHRONOUS'];"
    " from uvicorn.main import main; main()"
)


def start_server(
    env: dict[str, str], port: int, synchronous: str | None = None
) -> subprocess.Popen[bytes]:
    """uvicorn on PORT; SYNCHRONOUS overrides the server's SQLite ``synchronous`` mode."""
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
    if synchronous:
        env = {**env, "BENCH_SQLITE_SYNCHRONOUS": synchronous}
        command = [sys.executable, "-c", SET_SYNCHRONOUS, "app.main:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log", "--timeout-keep-alive", "300"]
    return subprocess.Popen(command, env=env)


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(300):
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


async def log_in(base: str, name: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=60)
    response = await client.post(
        "/api/v1/auth/login", json={"username": name, "password": PASSWORD}
    )
    response.raise_for_status()
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


async def timed(samples: list[float], request: object) -> httpx.Response:
    start = time.perf_counter()
    response = await request  # type: ignore[misc]
    samples.append(time.perf_counter() - start)
    response.raise_for_status()
    return response


async def health_rounds(clients: list[httpx.AsyncClient], rounds: int) -> list[float]:
    samples: list[float] = []

    async def one(client: httpx.AsyncClient) -> None:
        for _ in range(rounds):
            await timed(samples, client.get("/healthz"))

    await asyncio.gather(*(one(c) for c in clients))
    return samples


async def reading_loop(clients: list[httpx.AsyncClient], study_id: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"next": [], "submit": []}
    body = {"verdict": "real", "confidence": 3, "label": "GGO", "duration_ms": 1500}

    async def reader(client: httpx.AsyncClient) -> None:
        while True:
            item = (
                await timed(samples["next"], client.get(f"/api/v1/reading/next?study={study_id}"))
            ).json()
            if item.get("done"):
                return
            await timed(
                samples["submit"], client.post(f"/api/v1/reading/{item['item']}", json=body)
            )

    await asyncio.gather(*(reader(c) for c in clients))
    return samples


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    p50, p95, p99 = np.percentile(np.array(samples) * 1000, [50, 95, 99])
    return float(p50), float(p95), float(p99)


Measured = tuple[list[float], dict[str, list[float]], float]


async def run(base: str, study_id: int, readers: int, rounds: int) -> Measured:
    await wait_ready(base)
    progress("server ready; logging readers in")
    clients = [await log_in(base, f"reader{i:03d}") for i in range(readers)]
    progress("readers logged in; measuring")
    health = await health_rounds(clients, rounds)
    start = time.perf_counter()
    reading = await reading_loop(clients, study_id)
    elapsed = time.perf_counter() - start
    health += await health_rounds(clients, rounds)
    for client in clients:
        await client.aclose()
    return health, reading, elapsed


def report(
    health: list[float], reading: dict[str, list[float]], elapsed: float, readers: int
) -> None:
    h50, h95, h99 = percentiles(health)
    print(f"{readers} concurrent readers")
    print(f"{'request':<10}{'n':>7}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'p95 ratio':>11}")
    print(f"{'healthz':<10}{len(health):>7}{h50:>10.1f}{h95:>10.1f}{h99:>10.1f}{1.0:>11.2f}")
    for kind, samples in reading.items():
        p50, p95, p99 = percentiles(samples)
        print(f"{kind:<10}{len(samples):>7}{p50:>10.1f}{p95:>10.1f}{p99:>10.1f}{p95 / h95:>11.2f}")
    print(f"judgments/s: {len(reading['submit']) / elapsed:.0f}")
    worst = max(percentiles(s)[1] for s in reading.values())
    print(f"reading loop p95 ratio (worst request): {worst / h95:.2f}")


def measure(args: argparse.Namespace, synchronous: str | None = None) -> Measured:
    """One fresh installation, one server, one measurement."""
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        env, settings = bench_environment(tmp, args.database_url)
        progress(f"building the installation (synchronous={synchronous or 'default'})")
        (study_id,) = build(settings, args.readers, args.items)
        port = free_port()
        server = start_server(env, port, synchronous)
        try:
            bench = run(f"http://127.0.0.1:{port}", study_id, args.readers, args.rounds)
            return asyncio.run(asyncio.wait_for(bench, args.timeout))
        finally:
            server.terminate()
            server.wait()


def compare(results: dict[str, list[Measured]], readers: int) -> None:
    """The modes side by side (samples of repeated runs pooled), with ratios to the first."""
    rows = {}
    for mode, runs in results.items():
        health = [x for h, _, _ in runs for x in h]
        submit = [x for _, r, _ in runs for x in r["submit"]]
        nxt = [x for _, r, _ in runs for x in r["next"]]
        rate = sum(len(r["submit"]) for _, r, _ in runs) / sum(e for _, _, e in runs)
        rows[mode] = (percentiles(health)[1], percentiles(nxt)[1], percentiles(submit), rate)
    print(f"{readers} concurrent readers, SQLite synchronous modes side by side")
    head = f"{'mode':<8}{'healthz p95':>12}{'next p95':>10}{'submit p50':>11}{'submit p95':>11}"
    print(head + f"{'judgments/s':>13}{'submit p95 ratio':>18}{'judgments/s ratio':>19}")
    first = next(iter(rows.values()))
    for mode, (h95, n95, (s50, s95, _), rate) in rows.items():
        print(
            f"{mode:<8}{h95:>12.1f}{n95:>10.1f}{s50:>11.1f}{s95:>11.1f}{rate:>13.1f}"
            f"{s95 / first[2][1]:>18.2f}{rate / first[3]:>19.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=100)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument(
        "--rounds", type=int, default=40, help="healthz requests per client per phase"
    )
    parser.add_argument("--timeout", type=float, default=480, help="give up after this many s")
    parser.add_argument("--database-url", help="PostgreSQL server URL (a fresh database is made)")
    parser.add_argument(
        "--synchronous", help="SQLite modes to compare side by side, e.g. NORMAL,FULL"
    )
    parser.add_argument("--repeat", type=int, default=1, help="alternating runs per mode")
    parser.add_argument("--dir", help="where the installations go (a real disk, not tmpfs)")
    args = parser.parse_args()
    if not args.synchronous:
        report(*measure(args), args.readers)
        return
    modes = [m.strip().upper() for m in args.synchronous.split(",")]
    results: dict[str, list[Measured]] = {mode: [] for mode in modes}
    for _ in range(args.repeat):
        for mode in modes:
            results[mode].append(measure(args, mode))
    compare(results, args.readers)


if __name__ == "__main__":
    main()
