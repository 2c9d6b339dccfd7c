"""Hostile uploads cost the worker bounded memory and CPU and store nothing (issue 11, finding 3).

Each upload goes through the real path: ``POST /api/v1/datasets`` keeps the zip and queues an
``import`` job, and a real ``lungsign worker --until-idle`` process imports it. The worker's
peak memory is its peak resident set size (``VmHWM`` of ``/proc/self/status`` as it exits;
its CPU time from ``os.wait4``), compared with the same worker importing a small
good cohort first (the baseline, measured in the same test on the same machine). The
dataset the hostile zip targets already holds that cohort, and must be unchanged after.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.tables import Dataset, Patch
from tests.dicom_samples import mixed_cohort, sample, zip_directory
from tests.factories import api_token, make_user
from tests.job_factories import job_row
from tests.servers import server_env
from tests.upload_factories import upload, waiting_uploads

MB = 1024 * 1024
HEADROOM_MB = 64  # what a hostile import may add to the worker's peak over a good import
CT_SMALL_PIXELS = (128, 128)


@dataclass
class Run:
    """One ``lungsign worker --until-idle`` process: its peak RSS and CPU seconds."""

    peak_mb: float
    cpu_s: float


# `lungsign worker --until-idle`, writing /proc/self/status to a file as it exits. Its VmHWM
# is the peak RSS of this process alone; ru_maxrss would not do: Linux carries the parent's
# (pytest's) RSS at fork over into the child's ru_maxrss.
WORKER = """import atexit, shutil, sys
atexit.register(shutil.copy, "/proc/self/status", sys.argv.pop(1))
from app.cli import main
main()
"""


def run_worker(settings: Settings, **env: str) -> Run:
    """Run the queued jobs in a worker process; measure that process alone."""
    environment = server_env(settings) | {f"LUNGSIGN_{k.upper()}": v for k, v in env.items()}
    status_file = settings.data_dir / "worker-status.txt"
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(status_file), "worker", "--until-idle"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    assert process.returncode == 0
    peak_kb = re.search(r"^VmHWM:\s+(\d+) kB", status_file.read_text(), re.M)
    assert peak_kb
    run = Run(peak_mb=int(peak_kb.group(1)) / 1024, cpu_s=usage.ru_utime + usage.ru_stime)
    print(f"worker run: peak {run.peak_mb:.0f} MB, {run.cpu_s:.1f} s CPU")  # shown with -s
    return run


def patches_of(db: Database, name: str) -> list[str]:
    with db.session() as session:
        dataset = session.scalar(select(Dataset).where(Dataset.name == name))
        assert dataset is not None
        query = select(Patch.content_hash).where(Patch.dataset_id == dataset.id)
        return sorted(session.scalars(query))


class Attack:
    """A coordinator's client; a good cohort imported first (the baseline run)."""

    def __init__(self, client: TestClient, db: Database, settings: Settings, tmp: Path) -> None:
        self.client, self.db, self.settings = client, db, settings
        self.headers = api_token(db, make_user(db, "coordinator"))
        self.submit(zip_directory(mixed_cohort(tmp / "good")))
        self.baseline = run_worker(settings)
        self.before = patches_of(db, "cohort")
        assert len(self.before) == 3

    def submit(self, data: bytes) -> int:
        response = upload(self.client, self.headers, data, name="cohort")
        assert response.status_code == 202, response.text
        return int(response.json()["id"])

    def run(self, data: bytes, **env: str) -> tuple[Run, str, str | None, dict | None]:
        """Upload DATA into ``cohort``, import it in a worker: the measurements, the job's
        status, message and result. Checks the bounds and that nothing was stored."""
        job_id = self.submit(data)
        measured = run_worker(self.settings, **env)
        job = job_row(self.db, job_id)
        assert measured.peak_mb <= self.baseline.peak_mb + HEADROOM_MB, (measured, self.baseline)
        assert patches_of(self.db, "cohort") == self.before  # nothing stored half-way
        assert waiting_uploads(self.settings) == []
        return measured, job.status, job.message, job.result


@pytest.fixture
def attack(client: TestClient, db: Database, settings: Settings, tmp_path: Path) -> Attack:
    return Attack(client, db, settings, tmp_path)


def deflated(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zipped:
        for name, data in entries.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


def many_rows(count: int, row: str = "a.dcm,1,1,GGO\n") -> bytes:
    return ("path,x,y,label\n" + row * count).encode()


def test_a_54_kb_zip_of_2_million_rows_is_refused_while_it_expands(attack: Attack) -> None:
    data = deflated({"annotations.csv": many_rows(2_000_000)})
    assert len(data) < 100 * 1024
    run, status, message, _ = attack.run(data)
    assert status == "failed" and message
    assert message.startswith("zip entry 'annotations.csv' expands more than 100 times")
    assert run.cpu_s < attack.baseline.cpu_s + 10


def test_rows_past_the_limit_are_refused_as_they_are_read(attack: Attack) -> None:
    """Extraction allowed (a huge ratio), the CSV's row limit still holds, streaming."""
    data = deflated({"annotations.csv": many_rows(2_000_000)})
    _, status, message, _ = attack.run(data, max_unzip_ratio="100000")
    assert status == "failed"
    expected = "annotations.csv has more than 100000 rows (the limit, LUNGSIGN_MAX_IMPORT_ROWS)"
    assert message and message.startswith(expected)


def test_100_kb_of_zipped_zeros_named_dcm_are_refused_at_once(attack: Attack) -> None:
    """The zeros used to be extracted (100 MB) and parsed as DICOM: 31 s of CPU."""
    annotations = b"path,x,y,label\nzeros.dcm,1,1,GGO\n"
    data = deflated({"annotations.csv": annotations, "zeros.dcm": bytes(100 * MB)})
    assert len(data) < 120 * 1024
    run, status, message, _ = attack.run(data)
    assert status == "failed" and message
    assert message.startswith("zip entry 'zeros.dcm' expands more than 100 times")
    assert run.cpu_s < attack.baseline.cpu_s + 10


def rle_ct_claiming(rows: int, cols: int, target: Path) -> Path:
    """A 7 KB RLE-compressed CT slice whose header claims ROWS × COLS pixels."""
    dataset = pydicom.dcmread(sample("MR_small_RLE.dcm"))
    dataset.Modality, dataset.PatientID = "CT", "PID-RLE"
    dataset.Rows, dataset.Columns = rows, cols
    dataset.save_as(target)
    return target


def test_a_dicom_claiming_1_7_gb_of_pixels_is_a_bad_item_not_an_allocation(
    attack: Attack, tmp_path: Path
) -> None:
    claim = rle_ct_claiming(30_000, 30_000, tmp_path / "claim.dcm")
    data = deflated(
        {
            "annotations.csv": b"path,x,y,label\nclaim.dcm,10,10,GGO\n",
            "claim.dcm": claim.read_bytes(),
        }
    )
    _, status, _, result = attack.run(data)
    assert status == "succeeded" and result is not None
    reason = "image too large (30000×30000 pixels, 1716 MB); a slice may have at most 64 MB"
    assert {"item": "claim.dcm", "reason": reason} in result["errors"]
    assert {"item": "annotations.csv:2", "reason": f"claim.dcm: {reason}"} in result["errors"]
    assert result["imported"] == 0


def test_100_000_bad_rows_give_a_short_error_list_and_their_count(attack: Attack) -> None:
    rows = 100_000  # the row limit: every row read, every one bad
    data = deflated({"annotations.csv": many_rows(rows, "a.dcm,1,1,NOPE\n")})
    _, status, _, result = attack.run(data, max_unzip_ratio="100000")
    assert status == "succeeded" and result is not None
    assert len(result["errors"]) == 1000 and result["errors_not_listed"] == rows - 1000
    assert result["errors"][0] == {"item": "annotations.csv:2", "reason": "unknown label 'NOPE'"}
    assert result["skipped"] == rows and len(json.dumps(result)) < 200 * 1024


def test_many_good_rows_are_stored_in_batches_not_held_in_memory(
    attack: Attack, tmp_path: Path
) -> None:
    """8 000 findings on one CT slice at 128 px patches are 256 MB of pixels: stored 500 at
    a time, the worker never holds them all (the import succeeds, into another dataset)."""
    ct = sample("CT_small.dcm").read_bytes()
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["path", "x", "y", "label"])
    cells = [(x, y) for y in range(CT_SMALL_PIXELS[0]) for x in range(CT_SMALL_PIXELS[1])]
    for x, y in cells[:8000]:
        writer.writerow(["ct.dcm", x, y, "GGO"])
    data = deflated({"annotations.csv": text.getvalue().encode(), "ct.dcm": ct})
    response = upload(attack.client, attack.headers, data, name="many")
    assert response.status_code == 202
    run = run_worker(attack.settings, patch_size="128")
    job = job_row(attack.db, int(response.json()["id"]))
    assert job.status == "succeeded" and job.result, job.message
    assert job.result["imported"] == 8000
    assert run.peak_mb <= attack.baseline.peak_mb + HEADROOM_MB, (run, attack.baseline)
    with attack.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Patch)) == 3 + 8000
