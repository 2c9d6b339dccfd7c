"""Import throughput against a bare pydicom loop over the same files, side by side.

Usage:
    python bench/bench_import.py [--patients 12] [--seed 0] [--repeat 7]

Writes the demo cohort to a temp dir, copies the slices that have findings (plus
``annotations.csv``) into a bench dir, then times, best of ``--repeat``, alternating:
(a) ``pydicom.dcmread(f).pixel_array`` over those files, and (b) ``import_directory`` of the
bench dir into a fresh SQLite database (schema made beforehand; reading, cutting, hashing,
inserting and the commit are all timed). Both see the same files, so images/s compare
directly; the issue asks for ratio (b)/(a) ≥ 0.5. Wall-clock is the requirement; CPU time
of this process is printed too, as it is steadier when other work shares the machine.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import tempfile
import time
from pathlib import Path

import pydicom

from app.config import Settings
from app.demo_cohort import write_cohort
from app.services.ingest.dicom import walk_files
from app.services.ingest.directory import import_directory
from app.services.ingest.types import ImportSummary
from app.services.installation.setup import prepare_database


def files_with_findings(cohort: Path) -> list[str]:
    """Relative paths of the slices annotations.csv refers to (by path or SOP UID)."""
    with (cohort / "annotations.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    paths = {row["path"] for row in rows if row.get("path")}
    uids = {row["sop_instance_uid"] for row in rows if row.get("sop_instance_uid")}
    for path, relative in walk_files(cohort):
        if path.suffix != ".csv" and relative not in paths:
            header = pydicom.dcmread(
                path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"]
            )
            if str(header.SOPInstanceUID) in uids:
                paths.add(relative)
    return sorted(paths)


def bench_dir(cohort: Path, relatives: list[str], target: Path) -> Path:
    """TARGET holding just RELATIVES and annotations.csv, read once to warm the page cache."""
    for relative in [*relatives, "annotations.csv"]:
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(cohort / relative, target / relative)
        (target / relative).read_bytes()
    return target


Timing = tuple[float, float]  # (wall-clock s, CPU s of this process)


def clock() -> Timing:
    return time.perf_counter(), time.process_time()


def since(start: Timing) -> Timing:
    now = clock()
    return now[0] - start[0], now[1] - start[1]


def time_bare(files: list[Path]) -> Timing:
    start = clock()
    for path in files:
        pydicom.dcmread(path).pixel_array  # noqa: B018  (the decode is the point)
    return since(start)


def time_import(directory: Path, scratch: Path) -> tuple[Timing, ImportSummary]:
    settings = Settings(data_dir=Path(tempfile.mkdtemp(dir=scratch)), pseudonym_key="bench")
    db = prepare_database(settings)
    start = clock()
    with db.session() as session:
        summary = import_directory(session, settings, directory, "bench")
    elapsed = since(start)
    db.dispose()
    return elapsed, summary


def best(timings: list[Timing]) -> Timing:
    """Fastest wall-clock and fastest CPU time, each over the repeats."""
    return min(t[0] for t in timings), min(t[1] for t in timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lungsign-bench-") as tmp:
        scratch = Path(tmp)
        cohort = scratch / "cohort"
        write_cohort(cohort, patients=args.patients, seed=args.seed)
        relatives = files_with_findings(cohort)
        directory = bench_dir(cohort, relatives, scratch / "bench")
        files = [directory / relative for relative in relatives]
        bare, imported = [], []
        for _ in range(args.repeat):
            bare.append(time_bare(files))
            elapsed, summary = time_import(directory, scratch)
            imported.append(elapsed)
        print(f"files with findings: {len(files)}; findings imported: {summary.imported}")
        report(len(files), best(bare), best(imported))


def report(n_files: int, bare: Timing, imported: Timing) -> None:
    """images/s and the ratio, by wall clock (the requirement) and by CPU time (steadier
    on a shared machine)."""
    for name, index in (("wall-clock", 0), ("CPU time", 1)):
        print(f"{name}, best of repeats:")
        print(f"  bare dcmread+pixel_array : {n_files / bare[index]:8.1f} images/s")
        print(f"  import_directory         : {n_files / imported[index]:8.1f} images/s")
        print(
            f"  ratio import/bare        : {bare[index] / imported[index]:8.2f}   (required ≥ 0.5)"
        )


if __name__ == "__main__":
    main()
