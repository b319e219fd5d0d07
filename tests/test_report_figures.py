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


def _tick_texts(ax):
    ax.figure.canvas.draw()
    (y0, y1) = sorted(ax.get_ylim())
    return [t.get_text() for t in ax.get_yticklabels() if y0 <= t.get_position()[1] <= y1 and t.get_text()]


def test_tick_labels_are_distinct_and_never_negative_zero(drawn):
    """The reviewer read '1, 0, 0, 0, -0, -0, -1, -1' on a trillions axis and '2, 8, 12, 18' for ticks at 2.5 ...
    17.5: the labels took no decimals whatever the ticks' spacing. Every money and percent axis of Demoland's
    figures now labels each tick differently, with no '-0'."""
    from actuary import Valuation

    valuation = Valuation.demo()
    p = valuation.run().projection
    figures.income_and_expenditure(p)
    figures.reserve(p)
    figures.insured_and_pensioners(p)
    figures.economic_assumptions(valuation)
    figures.reserve(p.assign(reserve_real=p.reserve_real * 1e-6))   # a small range: ticks at fractions
    for fig in drawn:
        for ax in fig.axes:
            texts = _tick_texts(ax)
            assert len(texts) == len(set(texts)), texts
            assert not any(t.lstrip("−-").strip("0.,%") == "" and t.startswith(("-", "−")) for t in texts), texts


def test_lines_that_coincide_stay_visible_and_the_legend_covers_none(drawn):
    """Real wage growth equals productivity growth in Demoland: drawn in one style, one hid the other; the legend sat
    over the lines. Each series now has its own colour and line style, and the legend is above the drawing."""
    from actuary import Valuation

    figures.economic_assumptions(Valuation.demo())
    (ax,) = drawn[0].axes
    styles = [(line.get_color(), str(line.get_linestyle())) for line in ax.get_lines()]
    assert len(styles) == 5 and len(set(styles)) == 5
    assert len({str(line._dash_pattern) for line in ax.get_lines()}) == 5   # five dash patterns
    drawn[0].canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1   # above the axes
    assert _outside(drawn[0]) == []


def test_percent_ticks_take_the_decimals_their_spacing_needs_and_fan_legends_sit_above(drawn):
    """'55.0%, 50.0%' at 5-point spacing read as 55%, 50%; half-point spacing keeps its decimal. The fan chart's
    legend sits above the drawing (it sat over the bands)."""
    import numpy as np
    import xarray as xr

    years = np.arange(2020, 2070)
    base = 0.2 + 0.004 * (years - 2020)
    ds = xr.Dataset({"paygo_cost_rate": (("percentile", "year"), np.array([base * f for f in (0.8, 0.9, 1, 1.1, 1.2)]))},
                    coords={"percentile": [5, 25, 50, 75, 95], "year": years})
    figures.fan(ds, "paygo_cost_rate", "% of insurable earnings", percent=True)
    (ax,) = drawn[0].axes
    texts = _tick_texts(ax)
    assert texts and all(t.endswith("%") and not t.endswith(".0%") for t in texts), texts
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1
    formatter = figures.GroupedPercent()
    formatter.set_locs([0.605, 0.61, 0.615])
    assert [formatter(v) for v in (0.605, 0.61)] == ["60.5%", "61.0%"]
