"""Acknowledged writes survive ``kill -9`` of the web process.

Scripted clients write through the API — a coordinator creating, opening and closing studies
and uploading imports, three readers giving their intake and answering items — while the
server (``lungsign serve --no-worker``) is killed with SIGKILL again and again and restarted.
Every write that got a success status must be in the database afterwards, once: each created
study, each opened study with its items, each closed study, each queued import job, each
intake, each answer with the verdict sent. Runs on SQLite in the first suite and on PostgreSQL
in the second (a worker killed mid-job: ``test_worker_crash.py``).
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.tables import Assignment, AssignmentItem, Job, Judgment, Study, StudyItem, User
from tests.factories import api_token, make_user
from tests.servers import free_port, lungsign_command, server_env, wait_until_up
from tests.study_factories import study_body, with_data
from tests.upload_factories import small_zip

pytestmark = pytest.mark.integration
KILLS = 5
EPOCH_S = 2.0  # writing between a start and its kill
READERS = ("r1", "r2", "r3")


@dataclass
class Acks:
    """Writes the server acknowledged (a 2xx answer), by kind."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    created: set[int] = field(default_factory=set)
    opened: set[int] = field(default_factory=set)
    closed: set[int] = field(default_factory=set)
    imports: set[int] = field(default_factory=set)
    intakes: dict[str, int] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)  # item token → verdict

    def add(self, kind: str, value: object, extra: object = None) -> None:
        with self.lock:
            target = getattr(self, kind)
            if isinstance(target, dict):
                target[value] = extra
            else:
                target.add(value)


def _coordinator(base: str, auth: dict[str, str], acks: Acks, stop: threading.Event) -> None:
    n = 0
    with httpx.Client(base_url=base, headers=auth, timeout=5) as http:
        while not stop.is_set():
            n += 1
            try:
                name = f"crash-{time.monotonic_ns()}"
                body = study_body(name=name, readers=list(READERS), items_per_reader=6)
                made = http.post("/api/v1/studies", json=body)
                if made.status_code != 201:
                    continue
                study = made.json()["id"]
                acks.add("created", study)
                if http.post(f"/api/v1/studies/{study}/open").status_code == 200:
                    acks.add("opened", study)
                if n % 3 == 0 and http.post(f"/api/v1/studies/{study}/close").status_code == 200:
                    acks.add("closed", study)
                if n % 4 == 0:
                    files = {"file": ("cohort.zip", small_zip(), "application/zip")}
                    up = http.post("/api/v1/datasets", data={"name": f"up-{n}"}, files=files)
                    if up.status_code == 202:
                        acks.add("imports", up.json()["id"])
            except httpx.HTTPError:
                time.sleep(0.05)  # the server is down: try again


def _reader(base: str, name: str, auth: dict[str, str], acks: Acks, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, headers=auth, timeout=5) as http:
        while not stop.is_set():
            try:
                if name not in acks.intakes:
                    years = 3 + READERS.index(name)
                    sent = http.post("/api/v1/reading/intake", json={"experience_years": years})
                    if sent.status_code in (204, 409):  # 409: stored before a kill
                        acks.add("intakes", name, years)
                for study in http.get("/api/v1/reading/studies").json():
                    item = http.get("/api/v1/reading/next", params={"study": study["study"]})
                    view = item.json()
                    if item.status_code != 200 or view.get("done"):
                        continue
                    verdict = "real" if len(acks.answers) % 2 else "generated"
                    answer = {"verdict": verdict, "confidence": 3, "label": "GGO"}
                    done = http.post(f"/api/v1/reading/{view['item']}", json=answer)
                    if done.status_code == 200:
                        acks.add("answers", view["item"], done.json()["verdict"])
            except (httpx.HTTPError, ValueError):
                time.sleep(0.05)


def test_every_acknowledged_write_survives_repeated_kill_9(
    settings: Settings, db: Database
) -> None:
    with_data(db)
    coordinator = api_token(db, make_user(db, "coordinator", "coord"))
    readers = {name: api_token(db, make_user(db, "reader", name)) for name in READERS}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = lungsign_command("serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port))
    acks = Acks()
    for _ in range(KILLS):
        server = subprocess.Popen(command, env=server_env(settings))
        stop = threading.Event()
        clients = [threading.Thread(target=_coordinator, args=(base, coordinator, acks, stop))]
        clients += [
            threading.Thread(target=_reader, args=(base, name, auth, acks, stop))
            for name, auth in readers.items()
        ]
        try:
            wait_until_up(base, server)
            for client in clients:
                client.start()
            time.sleep(EPOCH_S)
        finally:
            server.send_signal(signal.SIGKILL)
            server.wait()
            stop.set()
            for client in clients:
                if client.is_alive():
                    client.join()

    assert acks.created and acks.opened and acks.answers, "the clients wrote nothing"
    with db.session() as session:
        status = dict(session.execute(select(Study.id, Study.status)).all())
        missing = acks.created - set(status)
        assert not missing, f"created studies lost: {sorted(missing)}"
        for study in acks.opened:
            assert status[study] in ("open", "closed"), f"study {study} opened, now {status}"
            items = session.scalar(select(func.count()).where(StudyItem.study_id == study))
            assert items, f"opened study {study} has no items"
        for study in acks.closed:
            assert status[study] == "closed", f"study {study} closed, now {status[study]}"
        jobs = set(session.scalars(select(Job.id).where(Job.kind == "import")))
        assert acks.imports <= jobs, f"import jobs lost: {sorted(acks.imports - jobs)}"
        years = dict(session.execute(select(User.username, User.experience_years)).all())
        for name, stored in acks.intakes.items():
            assert years[name] == stored, f"{name}'s intake: {years[name]} != {stored}"
        stored_answers = dict(
            session.execute(
                select(AssignmentItem.token, Judgment.verdict).join(
                    Judgment, Judgment.assignment_item_id == AssignmentItem.id
                )
            ).all()
        )
        per_item = Counter(session.scalars(select(Judgment.assignment_item_id)).all())
        assert not [k for k, n in per_item.items() if n > 1], "an item answered twice"
        lost = {t: v for t, v in acks.answers.items() if stored_answers.get(t) != v}
        assert not lost, f"{len(lost)} of {len(acks.answers)} acknowledged answers lost"
        assert session.scalar(select(func.count()).select_from(Assignment))
    print(
        f"\n{KILLS} kills: {len(acks.created)} studies created, {len(acks.opened)} opened, "
        f"{len(acks.closed)} closed, {len(acks.imports)} imports queued, "
        f"{len(acks.intakes)} intakes, {len(acks.answers)} answers — all found"
    )
