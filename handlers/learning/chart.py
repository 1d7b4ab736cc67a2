"""The trend chart as a PNG (matplotlib, drawn off-screen): bars for cases opened, a line for the share of
customers who left calmer. Imported only when a digest goes out, so the app starts without matplotlib's
cost."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot import texts
from bot.learning.trend import TrendPoint


def draw_trend(points: Sequence[TrendPoint], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: draw into memory
    from matplotlib import pyplot

    labels = [p.start.strftime("%d %b") for p in points]
    figure, cases_axis = pyplot.subplots(figsize=(7, 3.2), dpi=120)
    try:
        cases_axis.bar(labels, [p.opened for p in points], color="#f4a261", label=texts.CHART_OPENED)
        cases_axis.set_ylabel(texts.CHART_OPENED)
        cases_axis.set_xlabel(texts.CHART_WEEK_OF)
        mood_axis = cases_axis.twinx()
        shares = [None if p.calmer_share is None else round(p.calmer_share * 100) for p in points]
        mood_axis.plot(labels, [float("nan") if s is None else s for s in shares], color="#2a9d8f", marker="o",
                       label=texts.CHART_CALMER)
        mood_axis.set_ylim(0, 100)
        mood_axis.set_ylabel(texts.CHART_CALMER)
        cases_axis.set_title(texts.CHART_TITLE)
        figure.legend(loc="upper left", fontsize="small", frameon=False)
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        pyplot.close(figure)
