"""Exports for other tools: the judgments as an iMRMC input file, so the MRMC analysis can be
rerun in the FDA's iMRMC (https://github.com/DIDSR/iMRMC), and the MRMC results as JSON.
Both are audit-logged like the other exports (``results``).

iMRMC input format (``.imrmc``; read by iMRMC's ``InputFile``, RJafroc's ``ReadImrmc``): free
text header lines, among them ``NR:`` readers, ``N0:`` signal-absent cases, ``N1:``
signal-present cases, ``NM:`` modalities; then ``BEGIN DATA:`` and one row per observation,
``readerID,caseID,modalityID,score``. A truth row has readerID ``-1`` and score 0 or 1 (its
modalityID is not read; FDA's example files write 0).

What lungsign writes:
- truth: 1 (signal present) = a real patch, 0 = a generated one, as in the MRMC analysis
  (positive class: real); score: the realness scale 1–10 (``stats.realness``);
- caseID: the study item id (the ``item`` column of judgments.csv); readerID: 1, 2, … in the
  order of the usernames, listed in the header as ``reader 1 = ann``;
- modalityID: one per GAN version, the version number (a generated patch without a recorded
  version gets the next free number, named in the header). A modality holds that version's
  generated patches and every real patch, so each real patch's score appears once under
  every modality — the same split as the per-version analysis in ``reader_analysis``;
- every counted judgment, complete design or not (iMRMC analyses incomplete designs);
  practice items are left out.
Free-text header lines never contain a colon, so no reader of the format mistakes one for a
size line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.services.accounts import audit
from app.services.studies import reader_analysis
from app.services.studies.lifecycle import get_study
from app.services.studies.records import JudgmentRecord, gan_versions, load_records
from app.services.studies.stats import realness
from app.tables import Study, User

TRUTH_READER = "-1"
TRUTH_MODALITY = "0"
IMRMC_NAME = "study.imrmc"
MRMC_NAME = "mrmc.json"


def modality_ids(records: list[JudgmentRecord]) -> dict[str, int]:
    """GAN version → modality ID (the version number; unnumbered versions get the next free
    numbers)."""
    versions = gan_versions(records)
    ids = {v: int(v) for v in versions if v.isdigit() and int(v) > 0}
    free = max(ids.values(), default=0) + 1
    for v in versions:
        if v not in ids:
            ids[v], free = free, free + 1
    return ids


def imrmc_text(records: list[JudgmentRecord], study: str) -> str:
    """The judgments as an iMRMC input file (see the module docstring)."""
    readers = {name: i for i, name in enumerate(sorted({r.reader for r in records}), 1)}
    modalities = modality_ids(records)
    source = {r.item: r.source for r in records}
    n_real = sum(1 for s in source.values() if s == "real")
    lines = [
        f"lungsign reader study {_plain(study)} - can readers tell generated patches from real",
        "truth 1 = real patch and 0 = generated patch (signal present = real)",
        "score = realness 1 to 10 (1 surely generated and 10 surely real)",
        "caseID = study item id (the item column of judgments.csv)",
        "modalityID = GAN version (its generated patches and every real patch)",
        f"NR: {len(readers)}",
        f"N0: {len(source) - n_real}",
        f"N1: {n_real}",
        f"NM: {len(modalities)}",
    ]
    lines += [
        f"modality {m} = GAN version {_plain(v) or 'unknown'}"
        for v, m in sorted(modalities.items(), key=lambda vm: vm[1])
    ]
    lines += [f"reader {i} = {name}" for name, i in readers.items()]
    lines += ["", "BEGIN DATA:"]
    lines += [
        f"{TRUTH_READER},{item},{TRUTH_MODALITY},{int(kind == 'real')}"
        for item, kind in sorted(source.items())
    ]
    for r in sorted(records, key=lambda r: (readers[r.reader], r.item)):
        score = realness(r.verdict, r.confidence)
        targets = modalities.values() if r.source == "real" else [modalities[r.model_version]]
        lines += [f"{readers[r.reader]},{r.item},{m},{score}" for m in sorted(targets)]
    return "\n".join(lines) + "\n"


def mrmc_document(study: Study, records: list[JudgmentRecord]) -> dict[str, Any]:
    """The MRMC results (the summary's ``mrmc`` block) as a document of their own."""
    return {
        "study": study.name,
        "study_id": study.id,
        "status": study.status,
        "n_judgments": len(records),
        "mrmc": reader_analysis.mrmc(records),
    }


def export_imrmc(session: Session, study_id: int, user: User | None) -> str:
    study = get_study(session, study_id)
    text = imrmc_text(load_records(session, study.id), study.name)
    audit.record(session, user, "study_export_imrmc", study.name, study_id=study.id)
    return text


def export_mrmc(session: Session, study_id: int, user: User | None) -> dict[str, Any]:
    study = get_study(session, study_id)
    document = mrmc_document(study, load_records(session, study.id))
    audit.record(session, user, "study_export_mrmc", study.name, study_id=study.id)
    return document


def write_tool_exports(out: Path, study: Study, records: list[JudgmentRecord]) -> list[Path]:
    """study.imrmc and mrmc.json into OUT (``results.export_directory`` audits the lot)."""
    imrmc, mrmc_json = out / IMRMC_NAME, out / MRMC_NAME
    imrmc.write_text(imrmc_text(records, study.name))
    mrmc_json.write_text(json.dumps(mrmc_document(study, records), indent=2) + "\n")
    return [imrmc, mrmc_json]


def _plain(text: str) -> str:
    """Header text without colons (a line with ``NR:`` etc. would be read as a size)."""
    return " ".join(text.replace(":", " ").split())
