"""A study's statistics (rates, kappas, clustered intervals, MRMC), computed once per content.

The statistics are a pure function of the counted judgment records and the readers' profiles,
so they are kept under a digest of exactly those: a new or changed judgment, a relabelled
patch or a reader marked unblinded gives a new key, and a stale value is never served. Each
process keeps its own few entries (the least recently used go first); nothing is shared
between processes and nothing needs invalidating. The results page, its figures and the
results JSON then compute a study's statistics once between two changes.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from typing import Any

from app.services.studies import reader_analysis
from app.services.studies.records import JudgmentRecord, ReaderProfile
from app.services.studies.stats import summarize

MAX_ENTRIES = 16

_entries: OrderedDict[tuple[int, str], dict[str, Any]] = OrderedDict()
_lock = threading.Lock()


def statistics(
    study_id: int, records: list[JudgmentRecord], profiles: dict[str, ReaderProfile]
) -> dict[str, Any]:
    """``compute(RECORDS, PROFILES)``, from the cache when these inputs were seen before; the
    caller gets its own copy to extend."""
    key = (study_id, digest(records, profiles))
    with _lock:
        found = _entries.get(key)
        if found is not None:
            _entries.move_to_end(key)
    if found is None:
        found = compute(records, profiles)
        with _lock:
            _entries[key] = found
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return copy.deepcopy(found)


def compute(records: list[JudgmentRecord], profiles: dict[str, ReaderProfile]) -> dict[str, Any]:
    """The statistics themselves: rates, kappas, the reader × item bootstraps and MRMC."""
    summary = summarize(records, profiles)
    summary["clustered"] = reader_analysis.clustered(records)
    summary["mrmc"] = reader_analysis.mrmc(records)
    return summary


def digest(records: list[JudgmentRecord], profiles: dict[str, ReaderProfile]) -> str:
    """SHA-256 of every input of ``compute`` (records and profiles are frozen dataclasses of
    plain values, so their repr is their content)."""
    content = repr((records, sorted(profiles.items())))
    return hashlib.sha256(content.encode()).hexdigest()


def clear() -> None:
    """Forget every entry (a cold start, for the benchmark)."""
    with _lock:
        _entries.clear()
