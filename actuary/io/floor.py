"""The social protection floor in the results workbook: a "Social protection floor" sheet (beneficiaries
and cost by benefit every year, percentages of GDP and of government expenditure and revenue, the
fiscal cost to the state, present values and level costs), a stacked chart of the cost as a
percentage of GDP by benefit; and the whole results workbook of a floor costing alone. Labels, units
and formats come from :mod:`actuary.io.presentation` like every other results sheet."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

from openpyxl import Workbook

from . import presentation as pres
from .definitions import add_definitions_sheet
from .provenance import add_about_sheet, for_api
from .results import ChartPages, SheetWriter, _assumptions, _population_by_age, _yearly_sheet, print_setup
from .workbook import _atomic_save

SHEET = pres.FLOOR


def floor_sheet(wb, p, s, unit: str, case_name: str, inputs=None) -> None:
    """Add the floor's sheet to a results workbook (nothing when the projection has no floor), with the notes of
    what the fiscal cost includes and leaves out (``inputs``: the valuation's;
    :func:`actuary.io.presentation.fiscal_cost_notes`)."""
    if "floor_cost" not in p:
        return
    t0 = int(p.year.values[0])
    notes = pres.fiscal_cost_notes(p, inputs) if inputs is not None else []
    ws = _yearly_sheet(wb, SHEET, "Social protection floor: beneficiaries (mean of the year) and cost by benefit "
                                  f"(nominal, administration included) and the fiscal cost to the state",
                       p, pres.yearly_columns(p, SHEET, unit), case_name, notes=notes)
    writer = SheetWriter(ws)
    # below the table (rows 3 to years + 2) and its notes ("Notes" and their lines, 110 characters a line)
    row = p.sizes["year"] + 5 + (1 + sum(len(textwrap.wrap(n, 110)) for n in notes) + 1 if notes else 0)
    writer.title(row, f"Present values at 1 January {t0} and level cost (the constant share of GDP with the same "
                      "present value)")
    items = pres.summary_items(s, SHEET, unit)
    writer.headers(row + 1, ["Item", "Value"])
    for r, (_, label, value, fmt) in enumerate(items, start=row + 2):
        writer.put(r, 1, label, text=True)
        writer.put(r, 2, value, fmt)
    writer.fit()
    print_setup(ws, case_name)


BENEFITS_SHEET = "Floor benefits"
# the Floor benefits sheet is a short table of twelve columns, mostly text (who, amount and basis, test, take-up): its
# text wraps at this many characters a line, so that it prints whole on one page wide, landscape, at about 60%
# (actuary.io.workbook.fit_pages_wide), its few rows taller; at the 70 of a long table it is three times a page wide
BENEFITS_TEXT_WIDTH = 16


def floor_benefits_sheet(wb, p, inputs, case_name: str) -> None:
    """The "Floor benefits" sheet: one row per benefit of the floor, from the valuation's floor inputs, in words
    (who, amount and basis, test, take-up, indexation) and figures (the benefit a year per beneficiary in the
    valuation year, take-up and administration share), with how the cost follows from them."""
    if "floor_cost" not in p or not inputs.has_floor:
        return
    t0 = int(p.year.values[0])
    ws = wb.create_sheet(BENEFITS_SHEET)
    writer = SheetWriter(ws, text_width=BENEFITS_TEXT_WIDTH)
    writer.title(1, "Benefits of the social protection floor as costed (the valuation's Floor, Floor take-up and "
                    "Floor eligibility inputs)")
    headers = ["Benefit", "Identifier (inputs and netCDF file)", "Risk", "Eligible (sex and age)", "Share eligible",
               "Amount and basis", pres.header(f"Benefit a year per beneficiary in {t0}", "currency a year"),
               "Indexation", "Test", "Take-up", pres.header(f"Take-up in {t0}", "% of the eligible"),
               pres.header("Administration", "% of benefits")]
    formats = [None] * 6 + ["#,##0", None, None, None, "0.00%", "0.00%"]
    rows = []
    for b in pres.floor_benefits_in_words(inputs):
        amount = float(p.floor_benefit_amount.sel(floor_benefit=b["identifier"]).values[0])
        rows.append([b["name"], b["identifier"], b["kind"], b["who"], b["share"], b["amount"], amount,
                     b["indexation"], b["test"], b["take_up"], float(b["take_up_values"][0]), b["admin_share"]])
    _, last = writer.table(2, headers, rows, formats)
    writer.note(last + 2, "Cost of a benefit in a year = take-up x (1 + administration share) x the benefit a year x "
                          "the eligible persons (mean of the year; a share of the population of each sex and age")
    writer.note(last + 3, "where the share eligible is by sex and age; pension-tested: only those without a scheme "
                          "pension; top-up: scheme pensioners receive the difference up to the amount).")
    writer.fit()
    ws.freeze_panes = "B3"
    print_setup(ws, case_name)


def floor_charts(charts: ChartPages, p) -> None:
    """The stacked chart of the floor's cost as a percentage of GDP by benefit."""
    if "floor_cost_pct_gdp_by_benefit" not in p:
        return
    by = p.floor_cost_pct_gdp_by_benefit
    charts.stacked("Cost of the social protection floor by benefit (% of GDP)", "% of GDP", p.year.values,
                   {pres.benefit_name(b): by.sel(floor_benefit=b).values / 100 for b in by.floor_benefit.values},
                   "0.0%")


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
    writer.note(3 + len(rows) + 1, f"Money amounts in {pres.money_phrase(unit)}; rates as percentages; every "
                                   "heading's units and definition in the Definitions sheet; conventions also in "
                                   "docs/methodology.md.")
    writer.fit()
    ws.freeze_panes = "A3"
    print_setup(ws, name)
    _yearly_sheet(wb, pres.DEMOGRAPHY, "Demography: national population", p,
                  pres.yearly_columns(p, pres.DEMOGRAPHY, unit), name)
    _population_by_age(wb, p, name)
    floor_sheet(wb, p, s, unit, name, valuation.inputs)
    floor_benefits_sheet(wb, p, valuation.inputs, name)
    _assumptions(wb, valuation, p, name)
    charts = ChartPages(wb, name)
    floor_charts(charts, p)
    charts.finish()
    add_definitions_sheet(wb, results, valuation)
    add_about_sheet(wb, provenance or for_api(valuation, "io.results.write_results"))
    _atomic_save(wb, Path(path))
