"""The analysis-of-change workbook: the reconciliation table (previous valuation, the effect of each step,
current valuation), its waterfall charts (each on a page of the Charts sheet), every measure at every step, and the
Shapley effects when all orders were valued. Its sheets print as the results workbook's do
(:func:`actuary.io.results.print_setup`): landscape A4, as many pages wide as keep a table readable, title and header
rows repeated on every page and frozen on screen with the first column.

Waterfall charts are native stacked-bar charts: each bar is drawn from its start to its end over an
invisible base (openpyxl has no waterfall type). Bars below zero stack downwards and a bar crossing zero is
drawn in two parts, so negative measures (an actuarial balance in deficit) chart correctly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.styles import Font

from . import presentation as pres
from .provenance import add_about_sheet, for_api
from .safety import text_cell
from .workbook import _atomic_save

HEADLINE_BALANCE_SHEET = ("total_liabilities", "total_assets", "balance", "accrued_liability", "funded_ratio",
                          "average_premium_current", "average_premium_new_entrants")
HEADLINE_FLOOR = ("floor_cost_level_pct_gdp", "fiscal_cost_level_pct_gdp", "fiscal_cost_with_borrowing_level_pct_gdp")
INCREASE, DECREASE, TOTAL = "70AD47", "C00000", "4472C4"
INPUTS_WIDTH = 40   # characters of a line of text in a table (the inputs a step replaces wrap: it prints narrower)


@dataclass(frozen=True)
class MeasureColumn:
    """One column of a table of measures: its header in words with its unit, the measure, how it is shown
    (:mod:`actuary.io.presentation` kinds) and the coordinate it selects (a horizon, a year)."""
    header: str
    name: str
    kind: str
    selection: dict

    @property
    def format(self) -> str:
        return pres.number_format(self.kind)


def measure_variable(name: str) -> pres.Variable:
    """How a measure of the analysis of change is shown (the summary's own labels, units and kinds)."""
    if name == "reserve_ratio":
        return pres.Variable("Reserve ratio at the end of {}", "ratio", unit="years of expenditure", by="year")
    if name == "scaled_premium":
        return pres.Variable("Scaled premium of the first period", "share", unit=pres.EARNINGS)
    return pres.SUMMARY[name]   # every summary value has its line (tests/test_docs.py)


def measure_columns(ds: xr.Dataset, names=None, headline_horizons=None) -> list[MeasureColumn]:
    """The columns of the measures ``names`` (default: the headline measures, then the balance sheet's and the
    floor's headline items the analysis has), labelled in words with their units (money in ``ds``'s money
    unit); a measure by horizon or year gives one column for each of ``ds``'s (``headline_horizons``: only
    these horizons of the measures other than the GAP, default the longest)."""
    unit = ds.attrs.get("money_unit", "units")
    if names is None:
        names = ["actuarial_balance", "gap", "scaled_premium", "depletion_year", "reserve_ratio"]
        names += [k for k in HEADLINE_BALANCE_SHEET + HEADLINE_FLOOR if k in ds]
    if headline_horizons is None:
        headline_horizons = ds.horizon.values[-1:]
    out = []
    for name in names:
        variable = measure_variable(name)
        text = pres.unit_text(variable, unit)
        if variable.by and variable.by in ds[name].dims:
            labels = ds[variable.by].values
            if variable.by == "horizon" and name != "gap":
                labels = [h for h in labels if h in list(headline_horizons)] or labels
            out += [MeasureColumn(pres.header(variable.label.format(int(c)), text), name, variable.kind,
                                  {variable.by: c}) for c in labels]
        else:
            out.append(MeasureColumn(pres.header(variable.label, text), name, variable.kind, {}))
    return out


def cell_value(ds: xr.Dataset, variable: str, column: MeasureColumn, step) -> float | None:
    """The value of ``variable`` (a measure or its effect) at ``step`` as a cell holds it (money in the money
    unit, percent shares as fractions); None when it is not finite."""
    value = float(ds[variable].sel(column.selection).sel(step=step))
    if not np.isfinite(value):
        return None
    return float(pres.shown(value, column.kind, ds.attrs.get("money_unit", "units")))


def write_change(ds: xr.Dataset, path, provenance: dict | None = None) -> None:
    """Write the analysis-of-change workbook of ``ds`` (from :func:`actuary.analysis_of_change`), with the sheet
    "About this run" (``provenance``). Headers wrap and columns are sized to their content
    (:class:`actuary.io.results.SheetWriter`), so that a table prints as narrow as it can."""
    from .results import ChartPages, SheetWriter, print_setup

    wb = Workbook()
    ws = wb.active
    ws.title = "Reconciliation"
    case = str(ds.attrs.get("current", ""))
    steps = list(ds.step.values)
    first_year, last_year = ds.attrs["previous_valuation_year"], ds.attrs["current_valuation_year"]
    writer = SheetWriter(ws, text_width=INPUTS_WIDTH)
    writer.title(1, f"Analysis of change from the valuation at 1 January {first_year} ({ds.attrs['previous']}) to "
                    f"the valuation at 1 January {last_year} ({ds.attrs['current']})")
    cols = measure_columns(ds)
    writer.headers(3, ["", "inputs replaced"] + [c.header for c in cols])
    rows = [("previous valuation", str(ds.inputs.values[0]), steps[0], "")]
    rows += [(f"effect of {step}", str(ds.inputs.values[i]), step, "effect_") for i, step in enumerate(steps) if i]
    rows += [("current valuation", "", steps[-1], ""), ("total change", "", None, "total")]
    for r, (label, inputs, step, kind) in enumerate(rows, start=4):
        writer.put(r, 1, label, text=True, bold=kind != "effect_")
        writer.put(r, 2, inputs, text=True)
        for c, column in enumerate(cols, start=3):
            if kind == "total":
                value = cell_value(ds, column.name, column, steps[-1])
                start = cell_value(ds, column.name, column, steps[0])
                value = None if value is None or start is None else value - start
            else:
                value = cell_value(ds, kind + column.name, column, step)
            writer.put(r, c, value, column.format).number_format = column.format
    # the notes on lines no wider than a page: a long line running over the cells to its right widens the print
    writer.notes(4 + len(rows) + 1, ["Each effect is the change from the step before: the effects add up to the total "
                                     "change. Money amounts are present values at each case's own valuation date. A "
                                     "depletion year beyond a case's projection counts as the year after its last "
                                     "year (a lower bound). The waterfall charts are on the sheet Charts."])
    writer.fit(minimum=12)
    ws.freeze_panes = "B4"
    print_setup(ws, case, title_rows="1:3")

    charts = ChartPages(wb, case)   # each waterfall on a page of its own, as the results workbook's charts
    for name, selection, title in waterfall_measures(ds):
        chart = _waterfall(wb, ds, name, selection, title)
        if chart is not None:
            charts.add(chart)
    charts.finish("Waterfall charts of the reconciliation (one per page; their data on hidden sheets)")

    ws = wb.create_sheet("Steps")
    writer = SheetWriter(ws, text_width=INPUTS_WIDTH)
    writer.title(1, "Every measure at every step (the case after the step)")
    every = [n for n in ds.data_vars if not n.startswith(("effect_", "shapley_", "lowest_", "highest_"))
             and n != "depleted"]
    cols = measure_columns(ds, every, ds.horizon.values)
    writer.headers(2, ["step", "inputs replaced", "depleted within the projection"] + [c.header for c in cols])
    for r, step in enumerate(steps, start=3):
        writer.put(r, 1, str(step), text=True)
        writer.put(r, 2, str(ds.inputs.sel(step=step).values), text=True)
        writer.put(r, 3, "yes" if bool(ds.depleted.sel(step=step)) else "no", text=True)
        for c, column in enumerate(cols, start=4):
            writer.put(r, c, cell_value(ds, column.name, column, step), column.format).number_format = column.format
    writer.fit(minimum=12)
    ws.freeze_panes = "B3"
    print_setup(ws, case)

    if ds.attrs.get("all_orders"):
        ws = wb.create_sheet("All orders")
        writer = SheetWriter(ws, text_width=INPUTS_WIDTH)
        orders = ds.attrs.get("orders") or "every order of the steps"
        writer.title(1, f"Effect of each step averaged over {orders} (Shapley), with the lowest and highest effect "
                        "over those orders")
        cols = measure_columns(ds)
        r = 3
        for label, prefix in (("sequential (the order of the steps)", "effect_"),
                              ("mean over all orders", "shapley_effect_"),
                              ("lowest over the orders", "lowest_effect_"),
                              ("highest over the orders", "highest_effect_")):
            text_cell(ws, r, 1, label).font = Font(bold=True, size=11)
            writer.headers(r + 1, ["step"] + [c.header for c in cols])
            for i, step in enumerate(steps[1:], start=r + 2):
                writer.put(i, 1, str(step), text=True)
                for c, column in enumerate(cols, start=2):
                    value = cell_value(ds, prefix + column.name, column, step)
                    writer.put(i, c, value, column.format).number_format = column.format
            r += len(steps) + 3
        writer.fit(minimum=12)
        ws.freeze_panes = "B2"
        print_setup(ws, case, title_rows="1:1")
    add_about_sheet(wb, provenance or for_api(None, "io.change.write_change"))
    _atomic_save(wb, Path(path))


def waterfall_measures(ds: xr.Dataset):
    """The measures charted as waterfalls, (name, selection, title): the actuarial balance, the GAP over the
    longest horizon both cases project, with a balance sheet the open-group balance and with a floor the fiscal
    cost's level share of GDP over that horizon, without and with the scheme's borrowing after depletion."""
    yield "actuarial_balance", {}, "Actuarial balance: previous valuation, effect of each step, current valuation"
    horizon = ds.horizon.values[-1]
    yield "gap", {"horizon": horizon}, f"General average premium over {int(horizon)} years"
    if "balance" in ds:
        yield "balance", {}, "Open-group balance (assets - liabilities), present values"
    if "fiscal_cost_level_pct_gdp" in ds:
        yield "fiscal_cost_level_pct_gdp", {"horizon": horizon}, (f"Fiscal cost over {int(horizon)} years, level "
                                                                   "share of GDP")
    if "fiscal_cost_with_borrowing_level_pct_gdp" in ds:
        yield "fiscal_cost_with_borrowing_level_pct_gdp", {"horizon": horizon}, (
            f"Fiscal cost including the scheme's borrowing over {int(horizon)} years, level share of GDP")


def waterfall(ds: xr.Dataset, name: str, selection: dict):
    """(labels, bars, kind, levels) of the waterfall of ``name``: bar labels (previous, the steps, current), the
    bars of :func:`waterfall_bars` in shown units (money in ``ds``'s money unit, percent shares as fractions), the
    measure's presentation kind and the running totals (the previous value, then after each step); None when a
    value is not finite."""
    kind = measure_variable(name).kind
    unit = ds.attrs.get("money_unit", "units")
    values = pres.shown(ds[name].sel(selection).values, kind, unit)
    effects = pres.shown(ds[f"effect_{name}"].sel(selection).values[1:], kind, unit)
    if not (np.all(np.isfinite(effects)) and np.all(np.isfinite(values))):
        return None
    labels = ["previous"] + [str(step) for step in ds.step.values[1:]] + ["current"]
    levels = float(values[0]) + np.concatenate([[0.0], np.cumsum(effects)])
    return labels, waterfall_bars(float(values[0]), [float(e) for e in effects], float(values[-1])), kind, levels


def waterfall_bars(start: float, effects: list[float], end: float) -> list[tuple[float, float, str]]:
    """(low, high, kind) of each bar: the starting total, the steps (kind increase or decrease, from the running
    total before the step to the one after) and the closing total."""
    bars = [(min(0.0, start), max(0.0, start), "total")]
    level = start
    for effect in effects:
        after = level + effect
        bars.append((min(level, after), max(level, after), "increase" if effect >= 0 else "decrease"))
        level = after
    bars.append((min(0.0, end), max(0.0, end), "total"))
    return bars


def stacked_parts(low: float, high: float) -> tuple[float, float, float]:
    """(invisible base, visible part above zero, visible part below zero) drawing [low, high] as stacked bars
    (positive values stack up from zero, negative values down)."""
    if low >= 0:
        return low, high - low, 0.0
    if high <= 0:
        return high, 0.0, low - high
    return 0.0, high, low


def _waterfall(wb, ds, name, selection, title):
    """A waterfall chart of ``name`` with its data on a hidden helper sheet (None when a value is not finite)."""
    drawn = waterfall(ds, name, selection)
    if drawn is None:
        return None
    labels, bars, kind, _ = drawn
    sheet = wb.create_sheet(f"Chart data {len([s for s in wb.sheetnames if s.startswith('Chart data')]) + 1}")
    sheet.sheet_state = "hidden"
    headers = ["bar", "base", "increase", "increase (below zero)", "decrease", "decrease (below zero)", "total",
               "total (below zero)"]
    for c, header in enumerate(headers, start=1):
        text_cell(sheet, 1, c, header)
    for r, (label, (low, high, kind_of_bar)) in enumerate(zip(labels, bars), start=2):
        base, above, below = stacked_parts(low, high)
        row = {"increase": (above, below, 0.0, 0.0, 0.0, 0.0), "decrease": (0.0, 0.0, above, below, 0.0, 0.0),
               "total": (0.0, 0.0, 0.0, 0.0, above, below)}[kind_of_bar]
        text_cell(sheet, r, 1, label)
        for c, v in enumerate((base,) + row, start=2):
            sheet.cell(row=r, column=c, value=float(v))
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = pres.header(title, pres.unit_text(measure_variable(name), ds.attrs.get("money_unit", "units")))
    chart.legend = None
    chart.x_axis.tickLblPos = "low"     # step names below the bars, whatever their sign
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.number_format = pres.number_format(kind)
    chart.add_data(Reference(sheet, min_col=2, max_col=len(headers), min_row=1, max_row=1 + len(bars)),
                   titles_from_data=True)
    labels_ref = f"'{sheet.title}'!$A$2:$A${1 + len(bars)}"
    for series in chart.series:   # the steps' names are text: string categories
        series.cat = AxDataSource(strRef=StrRef(f=labels_ref))
    colors = [None, INCREASE, INCREASE, DECREASE, DECREASE, TOTAL, TOTAL]
    for series, color in zip(chart.series, colors):
        if color is None:
            series.graphicalProperties.noFill = True
            series.graphicalProperties.line.noFill = True
        else:
            series.graphicalProperties.solidFill = color
            series.graphicalProperties.line.solidFill = color
    return chart
