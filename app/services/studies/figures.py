"""Figures for papers: judged-real rate per label, reader ROC curves, label confusion."""

from __future__ import annotations

import io
from typing import Any

from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from app.services.studies.records import JudgmentRecord
from app.services.studies.stats import realness

FIGURES = ("judged_real_by_label", "reader_roc", "label_confusion")
FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def render_figure(
    name: str, fmt: str, records: list[JudgmentRecord], summary: dict[str, Any]
) -> bytes:
    """Figure NAME (one of FIGURES) as SVG or PNG bytes."""
    draw = {
        "judged_real_by_label": lambda fig: _judged_real(fig, summary),
        "reader_roc": lambda fig: _roc(fig, records, summary.get("machine_reader")),
        "label_confusion": lambda fig: _confusion(fig, summary),
    }[name]
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    draw(fig)
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {}
    fig.savefig(buffer, format=fmt, dpi=150, metadata=metadata)
    return buffer.getvalue()


def _judged_real(fig: Figure, summary: dict[str, Any]) -> None:
    ax = fig.add_subplot()
    rows = summary["per_label"]
    for offset, key, name in (
        (-0.2, "generated_judged_real", "generated"),
        (0.2, "real_judged_real", "real"),
    ):
        xs: list[float] = []
        ys: list[float] = []
        errs: list[list[float]] = [[], []]
        for i, row in enumerate(rows):
            stat = row[key]
            if stat["rate"] is None:
                continue
            xs.append(i + offset)
            ys.append(stat["rate"])
            errs[0].append(stat["rate"] - stat["ci95"][0])
            errs[1].append(stat["ci95"][1] - stat["rate"])
        ax.bar(xs, ys, width=0.4, yerr=errs, capsize=3, label=f"{name} patches")
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(range(len(rows)), [row["label"] for row in rows])
    # headroom above 1.0 so a full bar and its error bar's cap are drawn whole; ticks stop at 1
    ax.set_ylim(0, 1.06)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylabel("judged real (Wilson 95% CI)")
    # above the axes, not over the bars (constrained layout makes room for it)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False)


def _roc(fig: Figure, records: list[JudgmentRecord], machine: dict[str, Any] | None) -> None:
    """Each reader's ROC curve, and the machine reader's (dashed) once it has scored."""
    ax = fig.add_subplot()
    for reader in sorted({r.reader for r in records}):
        mine = [r for r in records if r.reader == reader]
        truth = [r.source == "real" for r in mine]
        if len(set(truth)) < 2:
            continue
        fpr, tpr, _ = roc_curve(truth, [realness(r.verdict, r.confidence) for r in mine])
        ax.plot(fpr, tpr, marker=".", label=reader)
    if machine is not None and machine.get("status") == "succeeded" and machine["auc"] is not None:
        items = machine["items"]
        truth = [i["source"] == "real" for i in items]
        fpr, tpr, _ = roc_curve(truth, [i["p_real"] for i in items])
        name = f"machine (AUC {machine['auc']:.2f})"
        ax.plot(fpr, tpr, color="black", linestyle="--", linewidth=1.5, label=name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("generated judged real (1 − sensitivity)")
    ax.set_ylabel("real judged real (specificity)")
    if ax.get_legend_handles_labels()[1]:
        ax.legend(fontsize="small")


def _confusion(fig: Figure, summary: dict[str, Any]) -> None:
    ax = fig.add_subplot()
    confusion = summary["label_confusion"]
    labels, matrix = confusion["labels"], confusion["matrix"]
    image = ax.imshow(matrix or [[0]], cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45)
    ax.set_yticks(range(len(labels)), labels)
    for i, row in enumerate(matrix):
        for j, n in enumerate(row):
            ax.text(j, i, str(n), ha="center", va="center", fontsize=8)
    ax.set_xlabel("label given")
    ax.set_ylabel("true label")
    fig.colorbar(image, ax=ax)
