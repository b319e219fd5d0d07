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


def _legend_problems(fig) -> list[str]:
    """What is wrong with the legends of a figure: a legend whose drawn box leaves the figure (its text cut in the
    SVG, the HTML and the PDF), or a legend text that is not its line's label (words lost), read without line
    breaks."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    problems = []
    legends = [(ax.get_legend(), ax.get_legend_handles_labels()[1]) for ax in fig.axes if ax.get_legend()]
    assert not fig.legends   # the report's figures have legends of their axes only
    for legend, labels in legends:
        extent = legend.get_window_extent(renderer)
        texts = [" ".join(t.get_text().split()) for t in legend.get_texts()]
        if extent.x0 < box.x0 or extent.x1 > box.x1 or extent.y0 < box.y0 or extent.y1 > box.y1:
            problems.append(f"legend {texts} leaves the figure: {extent} outside {box}")
        # the browser or the PDF engine may draw the text in a wider font than matplotlib measured: room for 10% more
        if extent.x0 + 1.1 * extent.width > box.x1:
            problems.append(f"legend {texts} has no room for a wider font: {extent} in {box}")
        for text in legend.get_texts():
            t = text.get_window_extent(renderer)
            if t.x0 < box.x0 or t.x1 > box.x1 or t.y0 < box.y0 or t.y1 > box.y1:
                problems.append(f"legend text {text.get_text()!r} cut at the figure's edge")
        if texts != [" ".join(str(label).split()) for label in labels]:
            problems.append(f"legend texts {texts} are not the labels {labels}")
    return problems


def test_every_legend_of_the_demoland_report_is_drawn_in_full(monkeypatch):
    """Figure 12's third entry 'Total income: contributions, subsidy, investment income' showed as 'To' and Figure
    6's legend ended '...pensioners / contributo': three columns of long labels ran past the figure's right edge.
    Every figure of Demoland's report (with its sensitivity, stochastic, reform-option and floor chapters, an option
    with a long name) now draws each legend inside the figure, every text its label whole."""
    from actuary import Valuation
    from actuary.batch import sensitivity
    from actuary.compare import comparison
    from actuary.report import build
    from actuary.stochastic import simulate

    found = {}

    def check(fig, key):   # each figure checked as it is saved, then closed
        found[key] = _legend_problems(fig) + _outside(fig)
        figures.plt.close(fig)
        return ""

    monkeypatch.setattr(figures, "_svg", check)
    demo = Valuation.demo().replace(settings={"horizon": 40, "gap_horizons": (10, 25)})
    results = demo.run()
    options = {"later retirement for every cohort born after 1975, phased in over twenty years":
               demo.replace(scheme={"contribution_rate": 0.2})}
    compared = comparison(demo, options, {name: "a long option" for name in options})
    build(demo, results, sensitivity(demo.replace(settings={"horizon": 20, "gap_horizons": (10,)})),
          simulate(demo, 20, seed=1), comparison=compared)
    from pathlib import Path

    from actuary.io.workbook import load_workbook

    floor = load_workbook(Path(__file__).resolve().parents[1] / "valuations" / "demoland-floor" / "valuation.xlsx")
    floor = floor.replace(settings={"horizon": 20, "gap_horizons": (10,), "balance_sheet": "no"})
    build(floor, floor.run())   # Demoland with its social protection floor: the floor's figure
    assert {"dependency", "paygo", "gdp", "fan-pensioners", "compare-paygo", "tornado", "floor"} <= set(found)
    assert {key: problems for key, problems in found.items() if problems} == {}
