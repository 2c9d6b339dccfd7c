"""The results page in words: the headline rate read out, and the readers who have not
finished with what their judgments count for (pure, from the summary and the progress)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.services.studies.progress import Progress

CHANCE = 0.5


@dataclass(frozen=True)
class Headline:
    """The share of generated patches judged real, its 95% interval and what they mean."""

    rate: float | None
    interval: tuple[float, float] | None
    interval_kind: str  # how the interval treats readers and patches
    reading: str | None  # "indistinguishable" | "spotted" | "taken_for_real"; None: no data
    sentences: tuple[str, ...]


def explain(summary: dict[str, Any]) -> Headline:
    """The headline of SUMMARY (``results.results``) in words. The interval read out is the
    two-way bootstrap's (readers and patches as samples) when there is one, else Wilson's."""
    gen = summary["generated_judged_real"]
    if gen["rate"] is None:
        return Headline(None, None, "", None, ("No generated patch has been judged yet.",))
    clustered = (summary.get("clustered") or {}).get("generated_judged_real")
    if clustered is not None:
        low, high = clustered["ci95"]
        kind = "readers and patches as samples"
    else:
        low, high = gen["ci95"]
        kind = "Wilson, every judgment independent"
    if high < CHANCE:
        reading = "spotted"
        verdict = (
            "lies below 50%: readers spotted the generated patches more often than chance "
            f"would, though {_pct(gen['rate'])} of them still passed as real."
        )
    elif low > CHANCE:
        reading = "taken_for_real"
        verdict = (
            "lies above 50%: readers took generated patches for real more often than not; "
            "compare the rate for real patches below."
        )
    else:
        reading = "indistinguishable"
        verdict = "includes 50%: these readers could not tell the generated patches from real ones."
    sentences = (
        f"Readers called {_pct(gen['rate'])} of the generated patches real "
        f"({gen['k']} of {gen['n']} judgments).",
        "50% would mean readers could not tell generated from real patches (a coin toss); "
        "0% would mean every generated patch was spotted.",
        f"The 95% interval, {_pct(low)} to {_pct(high)} ({kind}), {verdict}",
        *_real_comparison(summary["real_judged_real"]),
    )
    return Headline(gen["rate"], (low, high), kind, reading, sentences)


def _real_comparison(real: dict[str, Any]) -> tuple[str, ...]:
    if real["rate"] is None:
        return ()
    return (
        f"For comparison, real patches were judged real {_pct(real['rate'])} "
        f"({real['k']} of {real['n']}): the closer the two rates, the less readers told them "
        "apart (the AUC below says it in one number).",
    )


@dataclass(frozen=True)
class PartlyFinished:
    """A reader with unanswered counted items, and where their judgments count."""

    name: str
    answered: int
    total: int
    percent: int
    in_mrmc: bool | None  # None: the MRMC analysis did not run


def partly_finished(progress: list[Progress], summary: dict[str, Any]) -> list[PartlyFinished]:
    """The readers of PROGRESS who have not answered every counted item (those who have not
    started too), and whether the pooled MRMC analysis kept them."""
    pooled = summary["mrmc"]["pooled"]
    kept = set(pooled["readers"]) if pooled.get("available") else None
    return [
        PartlyFinished(
            p.name,
            p.answered,
            p.total,
            p.percent,
            None if kept is None else p.name in kept,
        )
        for p in progress
        if p.answered < p.total or not p.total
    ]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"
