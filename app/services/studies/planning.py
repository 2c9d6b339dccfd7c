"""Sample-size planning for a reader study, before it is opened: one function, :func:`plan`,
feeds both ``lungsign study plan`` and the planner on the study form, so they show the same
figures for the same design.

For a design (readers, items per reader, real fraction; every reader reads the same items):
- the power to tell a judged-real rate of generated patches of 50% from ``alternative`` (the
  two-way reader × patch bootstrap test of ``models.clustered``), with the logit-scale reader
  and patch variances of a pilot study (``models.study_power.estimate_components`` on its
  generated patches' judgments) or the defaults;
- the power of the MRMC (Obuchowski–Rockette–Hillis) test of realness AUC = 0.5 for a
  population AUC ``auc`` (Roe–Metz-like model, defaults);
- the inverse of each: the fewest readers (items as designed) and the fewest items per reader
  (readers as designed) reaching 80% power.

Simulation counts are fixed per question so that an answer takes well under a second on two
CPU cores for typical designs; the larger AUC analyses (cost ∝ readers × real × generated
items) get fewer simulations, down to a floor, and every power carries its Monte Carlo
standard error. Same inputs, same seeds: the same numbers, computed once (cached).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.services.studies.lifecycle import find_study
from app.services.studies.records import load_records
from models.study_power import (
    DEFAULT_AUC_READER_SD,
    DEFAULT_CASE_SHARE,
    DEFAULT_ITEM_VAR,
    DEFAULT_READER_VAR,
    Design,
    LogitComponents,
    PowerResult,
    SampleSize,
    estimate_components,
    items_for_power,
    judged_real_power,
    mrmc_power,
    readers_for_power,
)

TARGET = 0.8
ALPHA = 0.05
DEFAULT_ALTERNATIVE = 0.35
DEFAULT_AUC = 0.65

# Bounds of a design the planner answers for (beyond them an answer would take too long).
MIN_READERS, MAX_READERS = 2, 50
MIN_ITEMS, MAX_ITEMS = 4, 500

# Simulated studies per power. The cost of a simulation grows with readers × items, so each
# power gets at most its count and at most what a budget of readers × items × simulations
# allows, never fewer than the floor; each power is shown with its Monte Carlo error.
N_SIM_RATE = 2000  # judged-real power at the design: MC error ≤ 1.1 points
N_SIM_RATE_SEARCH = 1000  # each design tried in the searches: ≤ 1.6 points
N_SIM_AUC = 500  # AUC power at the design: ≤ 2.2 points
N_SIM_AUC_SEARCH = 200  # ≤ 3.5 points
SIM_BUDGET = 2_000_000  # readers × items × simulations, per power
MIN_SIM = 100


@dataclass(frozen=True)
class Variance:
    """Where the judged-real model's variances come from."""

    reader_var: float
    item_var: float
    source: str  # "defaults" or "pilot"
    pilot: dict[str, Any] | None = None


def plan(
    session: Session,
    readers: int,
    items: int,
    real_fraction: float = 0.5,
    alternative: float = DEFAULT_ALTERNATIVE,
    auc: float = DEFAULT_AUC,
    pilot: str | None = None,
) -> dict[str, Any]:
    """The planner's figures for a design (see the module docstring). ``pilot``: a study name
    or id whose judgments give the reader and patch variances; raises ``Invalid`` for a
    design outside the bounds, or a pilot that cannot give them."""
    check_design(readers, items, real_fraction, alternative, auc)
    variance = pilot_variance(session, pilot) if pilot else default_variance()
    figures = copy.deepcopy(
        _plan(
            readers, items, real_fraction, alternative, auc, variance.reader_var, variance.item_var
        )
    )
    figures["variance"] = {
        "source": variance.source,
        "pilot": variance.pilot,
        "reader_var": variance.reader_var,
        "item_var": variance.item_var,
        "auc_reader_sd": DEFAULT_AUC_READER_SD,
        "auc_case_share": DEFAULT_CASE_SHARE,
    }
    return figures


def check_design(
    readers: int, items: int, real_fraction: float, alternative: float, auc: float
) -> None:
    if not MIN_READERS <= readers <= MAX_READERS:
        raise Invalid(f"readers must lie between {MIN_READERS} and {MAX_READERS}")
    if not MIN_ITEMS <= items <= MAX_ITEMS:
        raise Invalid(f"items per reader must lie between {MIN_ITEMS} and {MAX_ITEMS}")
    if not 0 < real_fraction < 1:
        raise Invalid("the real fraction must lie strictly between 0 and 1")
    design = Design(readers, items, real_fraction)
    if design.n_real < 2 or design.n_generated < 2:
        raise Invalid("the design needs at least two real and two generated items per reader")
    if not 0.01 <= alternative <= 0.99 or alternative == 0.5:
        raise Invalid("the alternative judged-real rate must lie in [0.01, 0.99] and not be 0.5")
    if not 0.5 < auc <= 0.99:
        raise Invalid("the AUC must lie above 0.5 and at most 0.99")


def default_variance() -> Variance:
    return Variance(DEFAULT_READER_VAR, DEFAULT_ITEM_VAR, "defaults")


def pilot_variance(session: Session, ref: str) -> Variance:
    """Reader and patch variances (logit scale) from the judgments of generated patches in
    study ``ref``."""
    study = find_study(session, ref)
    generated = [r for r in load_records(session, study.id) if r.source == "generated"]
    if not generated:
        raise Invalid(f"pilot study {study.name!r} has no judgments of generated patches")
    try:
        estimate = estimate_components(
            np.array([r.reader for r in generated]),
            np.array([r.item for r in generated]),
            np.array([r.verdict == "real" for r in generated], dtype=float),
        )
    except ValueError as exc:
        raise Invalid(f"pilot study {study.name!r}: {exc}") from exc
    return Variance(
        estimate.components.reader_var,
        estimate.components.item_var,
        "pilot",
        {
            "study": study.name,
            "judgments": estimate.n_judgments,
            "readers": estimate.n_readers,
            "items": estimate.n_items,
            "judged_real_rate": estimate.rate,
        },
    )


def sims(design: Design, n_sim: int) -> int:
    """Simulations for one power: ``n_sim``, fewer for large designs (``SIM_BUDGET``)."""
    return max(MIN_SIM, min(n_sim, SIM_BUDGET // (design.n_readers * design.n_items)))


@lru_cache(maxsize=256)
def _plan(
    readers: int,
    items: int,
    real_fraction: float,
    alternative: float,
    auc: float,
    reader_var: float,
    item_var: float,
) -> dict[str, Any]:
    design = Design(readers, items, real_fraction)
    components = LogitComponents(reader_var, item_var)

    def rate_power(d: Design, n_sim: int = N_SIM_RATE_SEARCH) -> PowerResult:
        n = sims(d, n_sim)
        return judged_real_power(d, alternative, components=components, alpha=ALPHA, n_sim=n)

    def auc_power(d: Design, n_sim: int = N_SIM_AUC_SEARCH) -> PowerResult:
        return mrmc_power(d, auc, alpha=ALPHA, n_sim=sims(d, n_sim))

    return {
        "design": {
            "readers": readers,
            "items": items,
            "real_fraction": real_fraction,
            "real_items": design.n_real,
            "generated_items": design.n_generated,
        },
        "target": TARGET,
        "alpha": ALPHA,
        "judged_real": {
            "null": 0.5,
            "alternative": alternative,
            **_power(rate_power(design, N_SIM_RATE)),
            "readers_needed": _needed(
                readers_for_power(rate_power, design, TARGET, MAX_READERS), "readers"
            ),
            "items_needed": _needed(
                items_for_power(rate_power, design, TARGET, MAX_ITEMS), "items"
            ),
        },
        "auc": {
            "null": 0.5,
            "auc": auc,
            **_power(auc_power(design, N_SIM_AUC)),
            "readers_needed": _needed(
                readers_for_power(auc_power, design, TARGET, MAX_READERS), "readers"
            ),
            "items_needed": _needed(items_for_power(auc_power, design, TARGET, MAX_ITEMS), "items"),
        },
    }


def _power(result: PowerResult) -> dict[str, Any]:
    return {"power": result.power, "mc_se": result.mc_se, "n_sim": result.n_sim}


def _needed(size: SampleSize, what: str) -> dict[str, Any]:
    """The smallest size found (``reached`` False: not even at the bound, which is given)."""
    value = size.design.n_readers if what == "readers" else size.design.n_items
    return {what: value, "reached": size.reached, **_power(size.power)}


def percent(value: float) -> str:
    """A power as the page and the CLI's text show it."""
    return f"{100 * value:.1f}%" if math.isfinite(value) else "–"


def describe(figures: dict[str, Any]) -> list[str]:
    """The planner's figures as lines of text (the CLI without ``--json``)."""
    design, rate, auc = figures["design"], figures["judged_real"], figures["auc"]
    variance = figures["variance"]
    source = f"pilot study {variance['pilot']['study']}" if variance["pilot"] else "stated defaults"
    target = percent(figures["target"])

    def needed(block: dict[str, Any], what: str) -> str:
        found = block[f"{what}_needed"]
        word = "readers" if what == "readers" else "items per reader"
        if not found["reached"]:
            return f"not reached with {found[what]} {word} ({percent(found['power'])})"
        return f"{found[what]} {word} ({percent(found['power'])} ± {percent(found['mc_se'])})"

    return [
        f"design: {design['readers']} readers × {design['items']} items "
        f"({design['real_items']} real, {design['generated_items']} generated)",
        f"variances: {source} (reader {variance['reader_var']:.3g}, "
        f"patch {variance['item_var']:.3g} on the logit scale)",
        f"judged-real rate 50% vs {percent(rate['alternative'])}: power "
        f"{percent(rate['power'])} ± {percent(rate['mc_se'])} ({rate['n_sim']} simulated studies)",
        f"  for {target}: {needed(rate, 'readers')}; {needed(rate, 'items')}",
        f"realness AUC 0.5 vs {auc['auc']:.2f}: power {percent(auc['power'])} ± "
        f"{percent(auc['mc_se'])} ({auc['n_sim']} simulated studies)",
        f"  for {target}: {needed(auc, 'readers')}; {needed(auc, 'items')}",
    ]
