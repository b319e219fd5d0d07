"""The social protection floor in the results workbook: a "Social protection floor" sheet (beneficiaries
and cost by benefit every year, percentages of GDP and of government expenditure and revenue, the
fiscal cost to the state, present values and level costs), a stacked chart of the cost as a
percentage of GDP by benefit; and the whole results workbook of a floor costing alone. Labels, units
and formats come from :mod:`actuary.io.presentation` like every other results sheet."""

from __future__ import annotations

import math
from pathlib import Path

from openpyxl import Workbook

from . import presentation as pres
from .provenance import add_about_sheet, for_api
from .results import ChartPages, SheetWriter, _assumptions, _population_by_age, _yearly_sheet, print_setup
from .workbook import _atomic_save

SHEET = pres.FLOOR


def floor_sheet(wb, p, s, unit: str, case_name: str) -> None:
    """Add the floor's sheet to a results workbook (nothing when the projection has no floor)."""
    if "floor_cost" not in p:
        return
    t0 = int(p.year.values[0])
    ws = _yearly_sheet(wb, SHEET, "Social protection floor: beneficiaries (mean of the year) and cost by benefit "
                                  f"(nominal, administration included) and the fiscal cost to the state",
                       p, pres.yearly_columns(p, SHEET, unit), case_name)
    writer = SheetWriter(ws)
    row = p.sizes["year"] + 5
    writer.title(row, f"Present values at 1 January {t0} and level cost (the constant share of GDP with the same "
                      "present value)")
    items = pres.summary_items(s, SHEET, unit)
    writer.headers(row + 1, ["Item", "Value"])
    for r, (_, label, value, fmt) in enumerate(items, start=row + 2):
        writer.put(r, 1, label, text=True)
        writer.put(r, 2, value, fmt)
    writer.fit()
    print_setup(ws, case_name)


def floor_charts(charts: ChartPages, p) -> None:
    """The stacked chart of the floor's cost as a percentage of GDP by benefit."""
    if "floor_cost_pct_gdp_by_benefit" not in p:
        return
    by = p.floor_cost_pct_gdp_by_benefit
    charts.stacked("Cost of the social protection floor by benefit (% of GDP)", "% of GDP", p.year.values,
                   {str(b): by.sel(floor_benefit=b).values / 100 for b in by.floor_benefit.values}, "0.0%")


def write_floor_only_results(results, valuation, path, provenance: dict | None = None) -> None:
    """Results workbook of a floor costing alone: summary, demography, population by age, the floor, the
    assumptions (year by year and by age, as a valuation's), charts and "About this run" (``provenance``, by
    default the valuation's source and this API call)."""
    p, s = results.projection, results.summary
    unit = valuation.inputs.settings["money_unit"]
    name = valuation.name
    t0, last = int(p.year.values[0]), int(p.year.values[-1])
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    writer = SheetWriter(ws)
    writer.title(1, f"{name}: social protection floor costing at 1 January {t0} (no contributory scheme)")
    rows = [("Projection horizon (years)", p.sizes["year"], "0"),
            (f"Cost of the floor in {t0} (% of GDP)", float(p.floor_cost_pct_gdp.values[0]) / 100, "0.00%"),
            (f"Cost of the floor in {last} (% of GDP)", float(p.floor_cost_pct_gdp.values[-1]) / 100, "0.00%")]
    rows += [(label, value, fmt) for _, label, value, fmt in pres.summary_items(s, SHEET, unit)]
    writer.headers(2, ["Indicator", "Value"])
    for r, (label, value, fmt) in enumerate(rows, start=3):
        writer.put(r, 1, label, text=True)
        writer.put(r, 2, None if isinstance(value, float) and math.isnan(value) else value, fmt)
    writer.note(3 + len(rows) + 1, f"Money amounts in {pres.money_phrase(unit)}; rates as percentages; conventions "
                                   "and definitions in docs/methodology.md.")
    writer.fit()
    ws.freeze_panes = "A3"
    print_setup(ws, name)
    _yearly_sheet(wb, pres.DEMOGRAPHY, "Demography: national population", p,
                  pres.yearly_columns(p, pres.DEMOGRAPHY, unit), name)
    _population_by_age(wb, p, name)
    floor_sheet(wb, p, s, unit, name)
    _assumptions(wb, valuation, p, name)
    charts = ChartPages(wb, name)
    floor_charts(charts, p)
    charts.finish()
    add_about_sheet(wb, provenance or for_api(valuation, "io.results.write_results"))
    _atomic_save(wb, Path(path))
