"""The social protection floor in the results workbook: a "Social protection floor" sheet (beneficiaries
and cost by benefit every year, percentages of GDP and of government expenditure and revenue, the
fiscal cost to the state, present values and level costs) with a stacked chart of the cost as a
percentage of GDP by benefit; and the whole results workbook of a floor costing alone."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from .provenance import add_about_sheet, for_api
from .results import MONEY, PERCENT, _demography, _echo, _key_indicators, _table, _yearly
from .workbook import _atomic_save

SHEET = "Social protection floor"


def floor_sheet(wb, p, s) -> None:
    """Add the floor's sheet to a results workbook (nothing when the projection has no floor)."""
    if "floor_cost" not in p:
        return
    ws = wb.create_sheet(SHEET)
    benefits = [str(b) for b in p.floor_benefit.values]
    columns = []
    for b in benefits:
        columns += [(f"{b} beneficiaries", p.floor_beneficiaries.sel(floor_benefit=b).values, MONEY),
                    (f"{b} benefit a year", p.floor_benefit_amount.sel(floor_benefit=b).values, MONEY),
                    (f"{b} cost", p.floor_cost.sel(floor_benefit=b).values, MONEY)]
    columns += [("floor cost", p.floor_cost.sum("floor_benefit").values, MONEY),
                ("floor cost % GDP", p.floor_cost_pct_gdp.values / 100, PERCENT)]
    for aggregate in ("expenditure", "revenue"):
        name = f"floor_cost_pct_government_{aggregate}"
        if name in p:
            columns.append((f"floor cost % government {aggregate}", p[name].values / 100, PERCENT))
    for name, header in (("state_subsidy", "state subsidy to the scheme"),
                         ("minimum_pension_top_up", "minimum-pension top-up (state)")):
        if name in p:
            columns.append((header, p[name].values, MONEY))
    columns += [("fiscal cost", p.fiscal_cost.values, MONEY), ("fiscal cost % GDP", p.fiscal_cost_pct_gdp.values / 100,
                                                               PERCENT)]
    for aggregate in ("expenditure", "revenue"):
        name = f"fiscal_cost_pct_government_{aggregate}"
        if name in p:
            columns.append((f"fiscal cost % government {aggregate}", p[name].values / 100, PERCENT))
    stacked = len(columns) + 2  # first column of the cost % GDP by benefit (the chart's data)
    columns += [(f"{b} % GDP", p.floor_cost_pct_gdp_by_benefit.sel(floor_benefit=b).values / 100, PERCENT)
                for b in benefits]
    first, last = _yearly(ws, "Social protection floor: beneficiaries (mean of the year) and cost by benefit "
                              "(currency, nominal, administration included) and the fiscal cost to the state",
                          p, columns)
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.gapWidth = 20
    chart.title = "Cost of the social protection floor by benefit, % of GDP"
    chart.y_axis.title = "% of GDP"
    chart.x_axis.title = "year"
    chart.y_axis.number_format = "0.0%"
    chart.height, chart.width = 9, 18
    chart.add_data(Reference(ws, min_col=stacked, max_col=stacked + len(benefits) - 1, min_row=first - 1,
                             max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    row = last + 3
    ws.add_chart(chart, f"B{row}")
    row += 20
    rows = [[int(h), float(a), float(b) / 100, float(c), float(d) / 100]
            for h, a, b, c, d in zip(s.horizon.values, s.floor_cost_present_value.values, s.floor_cost_level_pct_gdp.values,
                                     s.fiscal_cost_present_value.values, s.fiscal_cost_level_pct_gdp.values)]
    _table(ws, "Present values at the valuation date and level cost (constant share of GDP with the same present "
               "value)", ["horizon (years)", "floor cost, present value", "floor, level % GDP",
                          "fiscal cost, present value", "fiscal cost, level % GDP"],
           rows, [None, MONEY, PERCENT, MONEY, PERCENT], start_row=row)


def write_floor_only_results(results, valuation, path, provenance: dict | None = None) -> None:
    """Results workbook of a floor costing alone: summary, demography, pyramid, the floor and "About this
    run" (``provenance``, by default the valuation's source and this API call)."""
    p, s = results.projection, results.summary
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    t0 = p.attrs["valuation_year"]
    ws.cell(row=1, column=1, value=f"{valuation.name}: social protection floor costing at 1 January {t0} (no "
                                   "contributory scheme)").font = Font(bold=True, size=14)
    rows = [["horizon (years)", p.sizes["year"], None],
            ["floor cost % GDP in the first year", float(p.floor_cost_pct_gdp[0]) / 100, PERCENT],
            ["floor cost % GDP in the last year", float(p.floor_cost_pct_gdp[-1]) / 100, PERCENT]]
    rows += [[f"level cost % GDP over {int(h)} years", float(v) / 100, PERCENT]
             for h, v in zip(s.horizon.values, s.floor_cost_level_pct_gdp.values)]
    _key_indicators(ws, rows)
    _echo(ws, 3 + len(rows) + 2, valuation.inputs, ("settings", "economy"))
    _demography(wb, p)
    floor_sheet(wb, p, s)
    add_about_sheet(wb, provenance or for_api(valuation, "io.results.write_results"))
    _atomic_save(wb, Path(path))
