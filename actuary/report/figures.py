"""The report's figures: matplotlib drawings returned as inline SVG (text kept as text, so that it is
searchable in the HTML and the PDF), each with axis titles and units and readable scales (money in
thousands, millions, billions or trillions as its size calls for, at constant prices of the valuation
year where amounts span decades)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import math  # noqa: E402

from matplotlib.ticker import Formatter, FuncFormatter, PercentFormatter  # noqa: E402

from ..io import presentation as pres  # noqa: E402
from ..io.results import chart_unit, pyramid_years  # noqa: E402

STYLE = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
}
# distinct hues (blue, orange, green, purple, red-brown, light blue: no two greens), and a line style per series so
# that lines which coincide (real wage growth = productivity growth) stay visible
COLORS = ["#1f4e79", "#c55a11", "#548235", "#7030a0", "#a50021", "#2e75b6"]
LINE_STYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 2))]
WIDE = (7.2, 3.4)


def legend_label(name) -> str:
    """A name the user gave (an option's, a scenario's) as a legend label: plain text (matplotlib would read $...$ as
    mathematics and hide a label that starts with an underscore)."""
    text = str(name).replace("$", r"\$")
    return " " + text if text.startswith("_") else text


def _svg(fig, key: str) -> str:
    """The figure as an SVG element (no XML prologue), with ids made unique by the figure's key."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": key}):
        fig.savefig(buffer, format="svg")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _new(key: str, ncols: int = 1, size=WIDE, sharey: bool = False):
    """A figure with fixed margins (room for axis titles and tick labels of up to about nine
    characters): one drawing pass when saved, where a layout engine would need several."""
    with matplotlib.rc_context(STYLE):
        fig, axes = plt.subplots(1, ncols, figsize=size, sharey=sharey)
    width, height = size
    fig.subplots_adjust(left=0.95 / width, right=1 - 0.15 / width, bottom=0.6 / height, top=1 - 0.35 / height,
                        wspace=0.3 if not sharey else 0.08)
    return fig, axes


class Grouped(Formatter):
    """Tick labels with thousands separators and as many decimals as the ticks' spacing needs (2.5, 7.5 ... not
    2, 8; 0.5 trillion, not 0 or 1), and no negative zero."""

    ticks: tuple = ()

    def set_locs(self, locs):
        self.ticks = tuple(locs)

    def __call__(self, value, pos=None):
        steps = np.diff(np.sort(np.asarray(self.ticks, dtype=float)))
        step = float(np.min(steps[steps > 0])) if np.any(steps > 0) else 1.0
        decimals = 0 if step >= 1 - 1e-9 else min(6, math.ceil(-math.log10(step) - 1e-9))
        # a step of 0.25 needs two decimals, of 0.5 one
        while decimals < 6 and abs(round(step, decimals) - step) > 1e-9 * max(1.0, step):
            decimals += 1
        text = f"{value:,.{decimals}f}"
        return text[1:] if text.startswith("-") and float(text[1:].replace(",", "")) == 0 else text


def _thousands(ax, axis="y"):
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(Grouped())


class GroupedPercent(Grouped):
    """Percent tick labels of fractions with as many decimals as the ticks' spacing needs (55%, 50% at 5 points;
    60.5%, 61.0% at half a point)."""

    def set_locs(self, locs):
        self.ticks = tuple(100 * v for v in locs)

    def __call__(self, value, pos=None):
        return super().__call__(100 * value, pos) + "%"


def _percent(ax, decimals=None):
    """Percent tick labels of fractions; ``decimals`` None: as many as the ticks' spacing needs."""
    ax.yaxis.set_major_formatter(GroupedPercent() if decimals is None else PercentFormatter(1.0, decimals=decimals))


EDGE = 0.08   # inches kept free between a legend and the figure's edges (the SVG's text is cut at its edge)
# the SVG keeps its text as text: the browser or the PDF engine draws it in the font it has, which may be wider than
# the one matplotlib measured with; a legend leaves room for a font this much wider
FONT_SLACK = 1.12


def _wrapped(label: str, width: int) -> str:
    """``label`` on lines of at most about ``width`` characters (its words kept whole)."""
    import textwrap

    return "\n".join(textwrap.wrap(label, width=max(8, width), break_long_words=False)) or label


def legend_above(fig, ax, columns: int = 3):
    """The legend of ``ax`` above its drawing, never cut at the figure's edge nor over a line: in ``columns``
    columns when they fit the figure's width, fewer when they do not, and a label too long for the width alone
    wrapped over lines; the axes' top is lowered to make room for it. Returns the legend."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    renderer = fig.canvas.get_renderer()
    width, height = fig.get_size_inches()
    dpi = fig.dpi
    room = (width - 2 * EDGE) * dpi / FONT_SLACK

    def place(shown, ncol):
        legend = ax.legend(handles, shown, loc="upper left", ncol=ncol, borderaxespad=0.0,
                           bbox_to_anchor=(EDGE / width, 1 - EDGE / height), bbox_transform=fig.transFigure)
        return legend, legend.get_window_extent(renderer)

    shown = list(labels)
    for ncol in range(min(columns, len(labels)), 0, -1):
        legend, box = place(shown, ncol)
        if box.width <= room:
            break
    characters = max(len(label) for label in labels)
    while box.width > room and characters > 8:   # one column and still too wide: wrap the long labels
        characters = int(characters * 0.85)
        shown = [_wrapped(label, characters) for label in labels]
        legend, box = place(shown, 1)
    # aligned with the drawing when the legend fits there, else from the figure's left edge
    left = ax.get_position().x0
    if left * width * dpi + box.width * FONT_SLACK <= (width - EDGE) * dpi:
        legend.set_bbox_to_anchor((left, 1 - EDGE / height), transform=fig.transFigure)
    fig.subplots_adjust(top=1 - (EDGE + 0.1) / height - box.height / (height * dpi))
    return legend


def _lines(key, years, series: dict, y_title: str, percent=False, decimals=0, reference: float | None = None,
           money=False, colors=COLORS):
    with matplotlib.rc_context(STYLE):
        fig, ax = _new(key)
        for k, (label, values) in enumerate(series.items()):
            ax.plot(years, values, label=label, color=colors[k % len(colors)], linewidth=1.6,
                    linestyle=LINE_STYLES[k % len(LINE_STYLES)])
        if reference is not None:
            ax.axhline(reference, color="#888888", linewidth=0.8, linestyle="--")
        ax.set_xlabel("Year")
        ax.set_ylabel(y_title)
        if percent:
            _percent(ax, decimals)
        elif money:
            _thousands(ax)
        if len(series) > 1:   # above the drawing, never over a line
            legend_above(fig, ax)
        return _svg(fig, key)


# ----------------------------------------------------------------------------------- the figures

def initial_data(p) -> str:
    """Active insured and pensioners at the valuation date by age and sex."""
    key = "initial"
    with matplotlib.rc_context(STYLE):
        fig, (left, right) = _new(key, ncols=2, size=(7.2, 3.0))
        ages = p.age.values
        for k, sex in enumerate(("male", "female")):
            left.plot(ages, p.active_at_valuation.sel(sex=sex).values, color=COLORS[k],
                      label=pres.SEX_LABELS[sex].capitalize())
            right.plot(ages, p.pensioners_at_valuation.sum("benefit").sel(sex=sex).values, color=COLORS[k],
                       label=pres.SEX_LABELS[sex].capitalize())
        left.set_title("Active insured")
        right.set_title("Pensioners, all benefits")
        for ax in (left, right):
            ax.set_xlabel("Age at 1 January")
            ax.set_ylabel("Persons")
            _thousands(ax)
            ax.legend()
        return _svg(fig, key)


def economic_assumptions(valuation) -> str:
    eco = valuation.inputs.economy
    years = valuation.inputs.coords["year"]
    series = {pres.field_label(n, valuation.inputs): eco[n].values
              for n in ("inflation", "real_wage_growth", "nominal_return", "unemployment_rate", "productivity_growth")}
    return _lines("economic", years, series, "% (a year; unemployment: of the labour force)", percent=True)


def demographic_assumptions(valuation, p) -> str:
    key = "demographic"
    years = p.year.values
    with matplotlib.rc_context(STYLE):
        fig, (left, right) = _new(key, ncols=2, size=(7.2, 3.0))
        fertility = valuation.inputs.demography.get("fertility")
        if fertility is not None:
            left.plot(years, fertility.sum("age").values, color=COLORS[0])
        left.set_title("Total fertility rate")
        left.set_ylabel("Births per woman")
        if "life_expectancy_65" in p:
            for k, sex in enumerate(("male", "female")):
                right.plot(years, p.life_expectancy_65.sel(sex=sex).values, color=COLORS[k],
                           label=pres.SEX_LABELS[sex].capitalize())
            right.legend()
        right.set_title("Life expectancy at 65 (period)")
        right.set_ylabel("Years")
        for ax in (left, right):
            ax.set_xlabel("Year")
        return _svg(fig, key)


def behavioural_assumptions(valuation) -> str:
    key = "behaviour"
    beh = valuation.inputs.behaviour
    t0 = int(valuation.inputs.coords["year"][0])
    names = [n for n in ("participation", "coverage", "retirement_rate") if beh.get(n) is not None]
    with matplotlib.rc_context(STYLE):
        fig, axes = _new(key, ncols=len(names), size=(7.2, 2.8), sharey=True)
        axes = np.atleast_1d(axes)
        for ax, name in zip(axes, names):
            da = beh[name].sel(year=t0)
            for k, sex in enumerate(("male", "female")):
                ax.plot(da.age.values, da.sel(sex=sex).values, color=COLORS[k], label=pres.SEX_LABELS[sex].capitalize())
            ax.set_title(pres.field_label(name).split(":")[0], fontsize=9)
            ax.set_xlabel("Age")
            _percent(ax)
        axes[0].set_ylabel(f"Rate in {t0} (%)")
        axes[0].legend()
        return _svg(fig, key)


def pyramids(p) -> str:
    stocks = pyramid_years(p)
    key = "pyramids"
    with matplotlib.rc_context(STYLE):
        fig, axes = _new(key, ncols=len(stocks), size=(7.2, 3.6), sharey=True)
        axes = np.atleast_1d(axes)
        top = max(float(stock.max()) for _, stock in stocks)
        scale, word = chart_unit([top])
        for ax, (label, stock) in zip(axes, stocks):
            edges = np.append(stock.age.values, stock.age.values[-1] + 1) - 0.5
            ax.stairs(-stock.sel(sex="male").values / scale, edges, orientation="horizontal", fill=True,
                      color=COLORS[0], label="Men")
            ax.stairs(stock.sel(sex="female").values / scale, edges, orientation="horizontal", fill=True,
                      color=COLORS[1], label="Women")
            ax.set_title(label)
            ax.set_xlim(-top / scale * 1.05, top / scale * 1.05)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):,.0f}"))
            ax.set_xlabel(f"Persons ({word})" if word else "Persons")
            ax.grid(axis="y", visible=False)
        axes[0].set_ylabel("Age")
        axes[0].legend(loc="upper left")
        return _svg(fig, key)


def dependency_ratios(p) -> str:
    series = {pres.VARIABLES[n].label: p[n].values for n in ("demographic_dependency_ratio", "system_dependency_ratio")
              if n in p}
    return _lines("dependency", p.year.values, series, "Ratio")


def insured_and_pensioners(p) -> str:
    series = {"Contributors": p.contributors.values}
    series.update({f"{pres.BENEFIT_LABELS[b].capitalize()} pensioners": p.pensioners_by_benefit.sel(benefit=b).values
                   for b in p.benefit.values})
    top = max(float(np.nanmax(v)) for v in series.values())
    scale, word = chart_unit([top])
    return _lines("insured", p.year.values, {k: v / scale for k, v in series.items()},
                  f"Persons ({word})" if word else "Persons", money=True)


def income_and_expenditure(p) -> str:
    t0 = int(p.year.values[0])
    names = [n for n in ("contributions", "total_income", "total_expenditure") if n in p]
    real = {pres.VARIABLES[n].label: p[n].values / p.price_index.values for n in names}
    scale, word = chart_unit(np.concatenate(list(real.values())))
    return _lines("income", p.year.values, {k: v / scale for k, v in real.items()},
                  f"{word.capitalize()}, {t0} prices".strip(", "), money=True, reference=0.0)


def reserve(p) -> str:
    t0 = int(p.year.values[0])
    scale, word = chart_unit(p.reserve_real.values)
    return _lines("reserve", p.year.values, {"Reserve at the end of the year, real terms": p.reserve_real.values / scale},
                  f"{word.capitalize()}, {t0} prices".strip(", "), money=True, reference=0.0)


def paygo_and_contribution_rate(p, s) -> str:
    """The contribution, break-even and PAYG cost rates by year and the full-horizon GAP, each legend entry saying
    its basis (the PAYG cost rate is gross, the others statutory: docs/methodology.md §7)."""
    series = {f"{pres.VARIABLES[n].label} ({pres.BASIS[n]})": p[n].values
              for n in ("contribution_rate", "breakeven_contribution_rate", "paygo_cost_rate") if n in p}
    series[f"General average premium, {int(s.horizon.values[-1])} years ({pres.BASIS['gap']})"] = \
        np.full(p.sizes["year"], float(s.gap.values[-1]))
    return _lines("paygo", p.year.values, series, "% of insurable earnings", percent=True)


def reserve_ratio(p) -> str:
    below = " (below 0: debt)" if float(np.nanmin(p.reserve_ratio.values)) < 0 else ""
    return _lines("ratio", p.year.values, {"Reserve ratio": p.reserve_ratio.values}, f"Years of expenditure{below}",
                  reference=1.0)


def share_of_gdp(p) -> str:
    series = {pres.VARIABLES[n].label: p[n].values / 100 for n in
              ("expenditure_pct_gdp", "total_expenditure_pct_gdp", "income_pct_gdp") if n in p}
    return _lines("gdp", p.year.values, series, "% of GDP", percent=True)


def tornado(rows, change: str = "the general average premium (percentage points of insurable earnings)") -> str:
    """Bars of the change in the measure that ranks the sensitivities (:func:`actuary.batch.tornado`)."""
    key = "tornado"
    with matplotlib.rc_context(STYLE):
        fig, ax = _new(key, size=(7.2, 0.45 * len(rows) + 1.2))
        labels = [pres.upper_first(r["assumption"]) for r in rows]
        width = fig.get_size_inches()[0]   # room on the left for the longest label (about 0.07 in a character)
        left, right = min(0.45, (0.25 + 0.07 * max(len(t) for t in labels)) / width), 1 - 0.35 / width
        fig.subplots_adjust(left=left, right=right)
        positions = np.arange(len(rows))[::-1]
        def moved(r, side):   # rows of actuary.batch.tornado ("down", "base", "up"), or GAP rows ("gap_down", ...)
            return r[side] - r["base"] if side in r else r[f"gap_{side}"] - r["gap_base"]

        down = np.array([moved(r, "down") for r in rows])
        up = np.array([moved(r, "up") for r in rows])
        ax.barh(positions, down, color=COLORS[0], label="Assumption down", height=0.6)
        ax.barh(positions, up, color=COLORS[1], label="Assumption up", height=0.6)
        ax.set_yticks(positions, labels)
        ax.tick_params(axis="y", length=0, pad=8)
        ax.axvline(0, color="#444444", linewidth=0.8)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:+.1f}"))
        ax.set_xlabel(f"Change in {change}")
        ax.xaxis.label.set_x((0.5 - left) / (right - left))   # centred on the page, not on the bars
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)   # above the bars, never over them
        return _svg(fig, key)


def scenarios_reserve_ratio(ds) -> str:
    shades = {"base": COLORS[0], "optimistic": "#548235", "pessimistic": "#c00000"}   # green better, red worse
    names = [n for n in shades if n in ds.scenario.values]
    series = {pres.upper_first(n): ds.reserve_ratio.sel(scenario=n).values for n in names}
    return _lines("scenarios", ds.year.values, series, "Years of expenditure", reference=1.0,
                  colors=[shades[n] for n in names])


def fan(ds, name: str, y_title: str, percent=False) -> str:
    key = f"fan-{name}"
    years = ds.year.values
    with matplotlib.rc_context(STYLE):
        fig, ax = _new(key)
        q = {int(k): ds[name].sel(percentile=k).values for k in ds.percentile.values}
        ax.fill_between(years, q[5], q[95], color=COLORS[0], alpha=0.18, linewidth=0, label="P5 to P95")
        ax.fill_between(years, q[25], q[75], color=COLORS[0], alpha=0.35, linewidth=0, label="P25 to P75")
        ax.plot(years, q[50], color=COLORS[0], linewidth=1.6, label="Median")
        ax.set_xlabel("Year")
        ax.set_ylabel(y_title)
        if percent:
            _percent(ax)
        legend_above(fig, ax)   # above the drawing, not over it
        return _svg(fig, key)


def fans(ds, key: str, series: dict, y_title: str, scale: float = 1.0, projection: dict | None = None) -> str:
    """Fan charts of several indicators of a stochastic run on one drawing, each in its colour: ``series`` label ->
    variable (percentiles by year), values divided by ``scale``; the bands hold the middle 90% and 50% of paths,
    the line is the median; ``projection``: label -> the valuation's own values by year (dashed: where the
    median departs from them)."""
    years = ds.year.values
    with matplotlib.rc_context(STYLE):
        fig, ax = _new(f"fan-{key}")
        for k, (label, name) in enumerate(series.items()):
            q = {int(p): ds[name].sel(percentile=p).values / scale for p in ds.percentile.values}
            prefix = f"{label}: " if len(series) > 1 else ""
            ax.fill_between(years, q[5], q[95], color=COLORS[k], alpha=0.15, linewidth=0, label=f"{prefix}P5 to P95")
            ax.fill_between(years, q[25], q[75], color=COLORS[k], alpha=0.3, linewidth=0, label=f"{prefix}P25 to P75")
            ax.plot(years, q[50], color=COLORS[k], linewidth=1.6, label=f"{prefix}median")
        for k, (label, values) in enumerate((projection or {}).items()):
            ax.plot(years, np.asarray(values) / scale, color="#111111", linewidth=0.9, linestyle=LINE_STYLES[1 + k],
                    label=label)
        ax.set_xlabel("Year")
        ax.set_ylabel(y_title)
        ax.yaxis.set_major_formatter(Grouped())
        legend_above(fig, ax)   # above the drawing
        return _svg(fig, f"fan-{key}")


def depletion_probability(ds) -> str:
    return _lines("depletion", ds.year.values, {"Probability of depletion": ds.probability_of_depletion.values},
                  "% of paths", percent=True)
