"""The report's figures show their whole text: no label cut at the figure's edge."""

from __future__ import annotations

import pytest

from actuary.report import figures


@pytest.fixture
def drawn(monkeypatch):
    """The matplotlib figures the report draws (kept open instead of being saved as SVG)."""
    kept = []

    def keep(fig, key):
        kept.append(fig)
        return ""

    monkeypatch.setattr(figures, "_svg", keep)
    yield kept
    for fig in kept:
        figures.plt.close(fig)


def _outside(fig) -> list[str]:
    """Texts of the figure whose drawn box leaves the figure (clipped when saved)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    def shown(ax):   # tick labels of ticks inside the axes' limits (the others are not drawn)
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        return [t for t in ax.get_xticklabels() if x0 <= t.get_position()[0] <= x1] + \
            [t for t in ax.get_yticklabels() if y0 <= t.get_position()[1] <= y1]

    texts = [t for ax in fig.axes for t in shown(ax) + [ax.xaxis.label, ax.yaxis.label]] + \
        [t for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    return [t.get_text() for t in texts if t.get_text() and t.get_visible()
            and (t.get_window_extent(renderer).x0 < box.x0 - 0.5 or t.get_window_extent(renderer).x1 > box.x1 + 0.5)]


def test_tornado_labels_fit(drawn):
    names = ["net migration", "mortality improvement", "real wage growth", "early retirement rates",
             "salary scale and career progression"]
    figures.tornado([{"assumption": n, "gap_down": 0.30, "gap_up": 0.36, "gap_base": 0.33} for n in names])
    assert _outside(drawn[0]) == []
