"""A study's results and exports (CSV, JSON, figures); every export is audit-logged, the
figures shown inside the results page (``page_figure``) are part of viewing it and are not.
The statistics come from ``summary_cache``: computed once until the judgments change."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.errors import NotFound
from app.services.accounts import audit
from app.services.studies import machine, summary_cache
from app.services.studies.exports import write_tool_exports
from app.services.studies.figures import FIGURES, FORMATS, render_figure
from app.services.studies.lifecycle import get_study
from app.services.studies.records import JudgmentRecord, load_records, reader_profiles, write_csv
from app.tables import User


def results(
    session: Session, study_id: int, records: list[JudgmentRecord] | None = None
) -> dict[str, Any]:
    """The summary statistics of a study (see ``stats`` and ``reader_analysis``), from its
    RECORDS when the caller has loaded them."""
    study = get_study(session, study_id)
    return {"study": study.name, "status": study.status, **_summary(session, study.id, records)}


def _summary(
    session: Session, study_id: int, records: list[JudgmentRecord] | None = None
) -> dict[str, Any]:
    if records is None:
        records = load_records(session, study_id)
    summary = summary_cache.statistics(study_id, records, reader_profiles(session, study_id))
    summary["machine_reader"] = machine.summary(session, study_id, records)
    return summary


def export_summary(session: Session, study_id: int, user: User | None) -> dict[str, Any]:
    summary = results(session, study_id)
    audit.record(session, user, "study_export_summary", summary["study"], study_id=study_id)
    return summary


def export_csv(session: Session, study_id: int, user: User | None) -> str:
    """The judgments in long format, one row per judgment."""
    study = get_study(session, study_id)
    out = io.StringIO()
    write_csv(load_records(session, study.id), out)
    audit.record(session, user, "study_export_csv", study.name, study_id=study.id)
    return out.getvalue()


def export_figure(session: Session, study_id: int, name: str, fmt: str, user: User | None) -> bytes:
    """A figure downloaded, audit-logged as an export."""
    body = page_figure(session, study_id, name, fmt)
    study_name = get_study(session, study_id).name
    audit.record(session, user, "study_export_figure", study_name, figure=f"{name}.{fmt}")
    return body


def page_figure(session: Session, study_id: int, name: str, fmt: str = "svg") -> bytes:
    """A figure as the results page shows it (not an export: no audit event)."""
    if name not in FIGURES or fmt not in FORMATS:
        raise NotFound(f"no figure {name}.{fmt}")
    study = get_study(session, study_id)
    records = load_records(session, study.id)
    return render_figure(name, fmt, records, _summary(session, study.id, records))


def export_directory(session: Session, study_id: int, out: Path, user: User | None) -> list[Path]:
    """Write judgments.csv, summary.json, every figure as SVG and PNG, the iMRMC input file
    (study.imrmc) and the MRMC results (mrmc.json) into OUT."""
    study = get_study(session, study_id)
    records = load_records(session, study.id)
    summary = {"study": study.name, "status": study.status}
    summary.update(_summary(session, study.id, records))
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "judgments.csv", out / "summary.json"]
    with written[0].open("w", newline="") as fh:
        write_csv(records, fh)
    written[1].write_text(json.dumps(summary, indent=2) + "\n")
    for name in FIGURES:
        for fmt in FORMATS:
            path = out / f"{name}.{fmt}"
            path.write_bytes(render_figure(name, fmt, records, summary))
            written.append(path)
    written += write_tool_exports(out, study, records)
    audit.record(session, user, "study_export", study.name, out=str(out), files=len(written))
    return written
