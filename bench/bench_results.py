"""Results page view: cold (statistics computed) against warm (from ``summary_cache``), side
by side in one run.

Usage:
    python bench/bench_results.py [--readers 8] [--items 60] [--repeat 3]

Builds a fresh SQLite installation with one shared study (``bench_reading.build``), every
item answered by every reader (random verdict, confidence and label), and times one page view
as a browser makes it: ``GET /studies/{id}/results`` then each figure image on it, through
the app in-process (``TestClient``, an admin's cookie session). Three kinds of view,
alternating ``--repeat`` times, median printed: *uncached* (cache emptied before every
request: the statistics computed four times, as before the cache), *cold* (emptied before
the page only: computed once) and *warm* (nothing emptied: computed never).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np
from bench_reading import PASSWORD, bench_environment, build
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Database
from app.main import create_app
from app.security import hash_password
from app.services.studies import summary_cache
from app.tables import Assignment, AssignmentItem, Judgment, User


def answer_everything(db: Database, study_id: int) -> int:
    """A judgment for every assignment item of the study; how many."""
    rng = np.random.default_rng(0)
    with db.session() as session:
        items = session.scalars(
            select(AssignmentItem.id)
            .join(Assignment, Assignment.id == AssignmentItem.assignment_id)
            .where(Assignment.study_id == study_id)
        ).all()
        for item_id in items:
            session.add(
                Judgment(
                    assignment_item_id=item_id,
                    verdict=("real", "generated")[int(rng.integers(2))],
                    confidence=int(rng.integers(1, 6)),
                    label_code=("GGO", "CAL", "NOR")[int(rng.integers(3))],
                    duration_ms=int(rng.integers(500, 5000)),
                )
            )
        session.add(User(username="admin", password_hash=hash_password(PASSWORD), role="admin"))
    return len(items)


def nothing() -> None:
    pass


# view → (run before the page, run before each figure)
VIEWS: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {
    "uncached": (summary_cache.clear, summary_cache.clear),
    "cold": (summary_cache.clear, nothing),
    "warm": (nothing, nothing),
}


def page_view(client: TestClient, study_id: int, view: str) -> float:
    """Seconds for the page and its figures, the cache emptied as VIEW says."""
    before_page, before_figure = VIEWS[view]
    start = time.perf_counter()
    before_page()
    page = client.get(f"/studies/{study_id}/results")
    page.raise_for_status()
    figures = re.findall(r'<img src="([^"]+\.svg)"', page.text)
    assert figures, "no figures on the page"
    for src in figures:
        before_figure()
        client.get(src).raise_for_status()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _, settings = bench_environment(tmp, None)
        (study_id,) = build(settings, args.readers, args.items)
        db = Database(settings.sqlalchemy_url)
        judgments = answer_everything(db, study_id)
        with TestClient(create_app(settings, db)) as client:
            login = {"username": "admin", "password": PASSWORD}
            client.post("/api/v1/auth/login", json=login).raise_for_status()
            page_view(client, study_id, "warm")  # imports, templates, first queries
            times: dict[str, list[float]] = {view: [] for view in VIEWS}
            for _ in range(args.repeat):
                for view in VIEWS:
                    times[view].append(page_view(client, study_id, view))
        db.dispose()
    warm = statistics.median(times["warm"])
    print(f"{args.readers} readers × {args.items} items, {judgments} judgments")
    print(f"{'view':<10}{'median s':>10}{'÷ warm':>9}")
    for kind, samples in times.items():
        median = statistics.median(samples)
        print(f"{kind:<10}{median:>10.3f}{median / warm:>9.2f}")


if __name__ == "__main__":
    main()
