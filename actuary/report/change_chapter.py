"""The report's analysis-of-change chapter (``actuary report CURRENT --previous PREVIOUS [--steps STEPS]``):
the steps and the inputs each replaces, the reconciliation table (previous valuation, the effect of each step,
current valuation, total change) and a waterfall chart of each headline measure, from the Dataset of
:func:`actuary.analysis_of_change`. Labels, units and formats are those of the analysis-of-change workbook
(:func:`actuary.io.change.measure_columns`), so the chapter and the workbook show the same numbers.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import xarray as xr
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..io import presentation as pres
from ..io.change import cell_value, measure_columns, measure_variable, waterfall, waterfall_measures
from . import Table
from .figures import STYLE, _new, _svg, legend_label

BAR_COLORS = {"increase": "#548235", "decrease": "#c00000", "total": "#1f4e79"}


def reconciliation_rows(ds: xr.Dataset) -> tuple[list[str], list[tuple[str, list[float | None]]]]:
    """The reconciliation table as numbers: the column headers and (label, values as a cell holds them) for the
    previous valuation, the effect of each step, the current valuation and the total change."""
    columns = measure_columns(ds)
    steps = list(ds.step.values)
    rows = [("Previous valuation", [cell_value(ds, c.name, c, steps[0]) for c in columns])]
    rows += [(f"Effect of {step}", [cell_value(ds, f"effect_{c.name}", c, step) for c in columns])
             for step in steps[1:]]
    last = [cell_value(ds, c.name, c, steps[-1]) for c in columns]
    rows.append(("Current valuation", last))
    rows.append(("Total change", [None if a is None or b is None else b - a for a, b in zip(rows[0][1], last)]))
    return [c.header for c in columns], rows


def reconciliation_table(ds: xr.Dataset) -> Table:
    headers, rows = reconciliation_rows(ds)
    columns = measure_columns(ds)
    formats = [c.format for c in columns]
    text = [[label] + [_signed(v, f, c.kind) if label.startswith(("Effect", "Total")) else pres.display(v, f)
                       for v, f, c in zip(values, formats, columns)] for label, values in rows]
    return Table(f"Reconciliation from the valuation at 1 January {ds.attrs['previous_valuation_year']} to the "
                 f"valuation at 1 January {ds.attrs['current_valuation_year']}", [""] + headers, text,
                 note="Each effect is the change from the step before, so the effects add up to the total change "
                      "with no residual. Money amounts are present values at each case's own valuation date. A "
                      "depletion year beyond a case's projection counts as the year after its last year (a lower "
                      "bound).")


def _signed(value, fmt: str, kind: str = "") -> str:
    """An effect with its sign: of a rate in percentage points ("+0.72 pp", the levels being percentages), of a
    year in years ("+3 years"), no "-0.00"."""
    text = pres.display(value, fmt)
    if not text:
        return text
    if fmt.endswith("%"):
        text = text[:-1] + " pp"
    elif kind == "year":
        text += " year" if abs(float(value)) == 1 else " years"
    if text.startswith("-") and float(text.lstrip("-").split()[0].replace(",", "")) == 0:
        text = text[1:]
    return text if text.startswith("-") else f"+{text}"


def steps_table(ds: xr.Dataset) -> Table:
    return Table("Steps of the analysis of change, in order, and the inputs each takes from the current valuation",
                 ["Step", "Inputs replaced"], [[str(s), str(i)] for s, i in zip(ds.step.values[1:],
                                                                                ds.inputs.values[1:])], wrap=True)


def waterfall_svg(ds: xr.Dataset, name: str, selection: dict, key: str) -> str | None:
    """The waterfall of ``name`` as SVG: the previous value, each step's effect from the running total before it
    to the one after (green up, red down) and the current value; each bar's SVG group is ``<key>-bar-<k>``."""
    drawn = waterfall(ds, name, selection)
    if drawn is None:
        return None
    labels, bars, kind, levels = drawn
    unit = ds.attrs.get("money_unit", "units")
    y_title = pres.money_phrase(unit) if kind == "money" else pres.unit_text(measure_variable(name), unit)
    with matplotlib.rc_context(STYLE):
        fig, ax = _new(key, size=(7.2, 3.8))
        fig.subplots_adjust(bottom=1.3 / 3.8)
        positions = np.arange(len(bars))
        for k, (low, high, kind_of_bar) in enumerate(bars):
            ax.bar(positions[k], high - low, bottom=low, width=0.6, color=BAR_COLORS[kind_of_bar],
                   gid=f"{key}-bar-{k}")
        for k, level in enumerate(levels):   # connectors from each running total to the next bar
            ax.plot([positions[k] + 0.3, positions[k + 1] - 0.3], [level, level], color="#888888", linewidth=0.7,
                    linestyle="--")
        ax.axhline(0, color="#444444", linewidth=0.8)
        # the steps' names as given, drawn as plain text (never read as mathematics: 'ceiling $50000 to $60000')
        ax.set_xticks(positions, [legend_label(label) for label in labels], rotation=30, ha="right")
        ax.grid(axis="x", visible=False)
        ax.set_ylabel(y_title)
        if kind in ("share", "percent"):
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        else:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        return _svg(fig, key)


def change_chapter(ds: xr.Dataset, chapter, figure) -> None:
    """Add the chapter to a report under construction: ``chapter(key, title)`` opens a chapter and
    ``figure(key, caption, svg)`` numbers a figure (the helpers of :func:`actuary.report.build`)."""
    c = chapter("change", "Analysis of change from the previous valuation")
    c.text(f"From the previous valuation ({ds.attrs['previous']}, at 1 January {ds.attrs['previous_valuation_year']}) "
           f"to this one ({ds.attrs['current']}, at 1 January {ds.attrs['current_valuation_year']}), in steps: each "
           "replaces a set of the previous valuation's inputs by the current ones and values again, the valuation "
           "period step rolling the previous valuation forward to the current date with its own assumptions. The "
           "effect of a step is the change from the step before; the effects add up exactly to the total change.")
    c.table(steps_table(ds))
    c.table(reconciliation_table(ds), most=6)
    for name, selection, title in waterfall_measures(ds):
        key = f"change-{name}"
        svg = waterfall_svg(ds, name, selection, key)
        if svg is not None:
            c.figure(figure(key, title, svg))
