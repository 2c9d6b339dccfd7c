"""Figure 1 (judged real per label) with rates at 1.0: bars and error bars are drawn whole
inside the axes, and the legend covers no bar."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from app.services.studies.figures import _judged_real, render_figure


def rate(k: int, n: int, low: float, high: float) -> dict[str, Any]:
    return {"k": k, "n": n, "rate": k / n, "ci95": [low, high], "p_value": 0.01}


def summary_near_one() -> dict[str, Any]:
    """Ten labels, most judged real by nearly everyone (Wilson upper bounds at 1.0)."""
    labels = ["AIB", "BRE", "CAL", "CAV", "GGO", "LOB", "NOR", "OBP", "PLI", "SPI"]
    per_label = [
        {
            "label": code,
            "generated_judged_real": rate(10, 10, 0.72, 1.0) if i % 3 else rate(9, 10, 0.6, 0.98),
            "real_judged_real": rate(10, 10, 0.72, 1.0) if i % 2 else rate(8, 10, 0.49, 0.94),
        }
        for i, code in enumerate(labels)
    ]
    return {"per_label": per_label}


def test_full_bars_and_error_bars_fit_and_the_legend_covers_no_bar() -> None:
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    _judged_real(fig, summary_near_one())
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    (ax,) = fig.axes
    renderer = canvas.get_renderer()
    axes_box = ax.get_window_extent(renderer)
    caps = [line for line in ax.lines if line.get_marker() not in (None, "None", "")]
    assert max(max(line.get_ydata()) for line in caps) == 1.0  # error bars reaching 1.0
    # each cap drawn whole, a few pixels below the top of the axes (nothing clipped)
    assert all(line.get_window_extent(renderer).y1 < axes_box.y1 - 2 for line in caps)
    assert ax.get_ylim()[1] <= 1.1  # and not much more: 1.0 still reads as the top
    legend = ax.get_legend().get_window_extent(renderer)
    bars = [patch.get_window_extent(renderer) for patch in ax.patches]
    assert bars and not any(legend.overlaps(bar) for bar in bars)
    assert legend.y0 >= axes_box.y1 - 1  # above the plot
    assert legend.x0 >= 0 and legend.x1 <= fig.bbox.width  # and inside the figure

    png = render_figure("judged_real_by_label", "png", [], summary_near_one())
    assert Image.open(io.BytesIO(png)).size == (960, 660)
    out = os.environ.get("LUNGSIGN_SHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        Path(out, "figure-judged-real-near-one.png").write_bytes(png)
