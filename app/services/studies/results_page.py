"""What the coordinator's results page shows beside the statistics: the headline in words,
the readers who have not finished, numbered figure captions, the items readers flagged and
the patch gallery."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.services.datasets.labels import list_labels
from app.services.reading.flags import study_flags
from app.services.studies import headline
from app.services.studies.figures import FIGURES
from app.services.studies.item_gallery import ItemGallery, item_gallery
from app.services.studies.lifecycle import get_study
from app.services.studies.progress import reader_progress
from app.services.studies.records import JudgmentRecord, load_records
from app.services.studies.results import results


def results_page(session: Session, study_id: int, gan: str, label: str) -> dict[str, Any]:
    """The page's context: the study's summary and everything above, records loaded once."""
    study = get_study(session, study_id)
    records = load_records(session, study.id)
    summary = results(session, study.id, records)
    return {
        "results": summary,
        "headline": headline.explain(summary),
        "partly_finished": headline.partly_finished(reader_progress(session, study.id), summary),
        "mrmc_rows": mrmc_rows(summary["mrmc"]),
        "figures": figure_captions(records, summary),
        "flags": study_flags(session, study.id),
        **gallery_context(session, records, gan, label),
    }


def gallery_context(
    session: Session, records: list[JudgmentRecord], gan: str, label: str
) -> dict[str, Any]:
    """The patch gallery under its filters, with the labels' names."""
    gallery: ItemGallery = item_gallery(records, gan, label)
    return {"gallery": gallery, "label_names": {lb.code: lb.name for lb in list_labels(session)}}


def study_gallery(session: Session, study_id: int, gan: str, label: str) -> dict[str, Any]:
    """The patch gallery alone (the filters' htmx answer)."""
    study = get_study(session, study_id)
    return gallery_context(session, load_records(session, study.id), gan, label)


def mrmc_rows(mrmc: dict[str, Any]) -> list[dict[str, Any]]:
    """The MRMC table's rows (pooled, then per GAN version): NAME, the analysis A and its
    random-readers interval as the page shows it, cut to [0, 1] where an AUC lives. CUT is
    True when the raw interval (kept in the JSON) reached past 0 or 1: with few readers the
    Hillis ddf is small and the t interval runs wider than any AUC can be."""
    analyses = [("all GAN versions", mrmc["pooled"])] + [
        (f"GAN v{a['model_version']}", a) for a in mrmc["per_model_version"]
    ]
    rows = []
    for name, a in analyses:
        row: dict[str, Any] = {"name": name, "a": a, "cut": False}
        if a.get("available"):
            low, high = a["random_readers_random_cases"]["ci95"]
            row.update(low=max(low, 0.0), high=min(high, 1.0), cut=low < 0.0 or high > 1.0)
        rows.append(row)
    return rows


def figure_captions(records: list[JudgmentRecord], summary: dict[str, Any]) -> list[dict[str, str]]:
    """Each figure of ``FIGURES`` with a caption saying what it plots and on how many."""
    n_gen = summary["generated_judged_real"]["n"]
    n_real = summary["real_judged_real"]["n"]
    readers = len({r.reader for r in records})
    labelled = sum(1 for r in records if r.label)
    machine = summary.get("machine_reader") or {}
    machine_line = (
        " The dashed black curve is the machine reader's, from its P(real)."
        if machine.get("status") == "succeeded" and machine.get("auc") is not None
        else ""
    )
    text = {
        "judged_real_by_label": (
            "Share of patches judged real, per true label: generated patches (left bar) and "
            "real patches (right bar), with Wilson 95% intervals; the dashed line marks 50%, "
            "where readers cannot tell them apart. "
            f"n = {n_gen} judgments of generated and {n_real} of real patches by "
            f"{readers} readers."
        ),
        "reader_roc": (
            "Each reader's ROC curve for telling real from generated patches, from verdict and "
            "confidence (realness 1–10): x, generated patches judged real; y, real patches "
            f"judged real; the diagonal is chance.{machine_line} "
            f"n = {readers} readers, {n_gen + n_real} judgments ({n_real} of real, "
            f"{n_gen} of generated patches)."
        ),
        "label_confusion": (
            "Labels given (columns) against the patches' true labels (rows), in judgments. "
            f"n = {labelled} judgments with a label."
        ),
    }
    return [{"name": name, "caption": text[name]} for name in FIGURES]
