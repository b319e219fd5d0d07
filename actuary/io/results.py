"""The results workbook: the standard projection and financing tables of a valuation report, with
native Excel charts (reserve, PAYG cost rate vs contribution rate, reserve ratio, population pyramid)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font

from .provenance import add_about_sheet, for_api
from .safety import text_cell
from .workbook import _atomic_save

BOLD = Font(bold=True)
PERCENT = "0.00%"
MONEY = "#,##0"
RATIO = "0.00"


def _table(ws, title, headers, rows, formats, start_row=1):
    ws.cell(row=start_row, column=1, value=title).font = Font(bold=True, size=12)
    for column, header in enumerate(headers, start=1):
        ws.cell(row=start_row + 1, column=column, value=header).font = BOLD
        ws.column_dimensions[ws.cell(row=start_row + 1, column=column).column_letter].width = max(14, len(header) + 2)
    for r, row in enumerate(rows, start=start_row + 2):
        for column, (value, fmt) in enumerate(zip(row, formats), start=1):
            if isinstance(value, (np.floating, np.integer)):
                value = value.item()
            if isinstance(value, float) and not np.isfinite(value):
                value = None
            cell = ws.cell(row=r, column=column, value=value)
            if fmt:
                cell.number_format = fmt
    return start_row + 2, start_row + 1 + len(rows)


def _yearly(ws, title, p, columns):
    """One row per year: columns is a list of (header, values, number format)."""
    headers = ["year"] + [c[0] for c in columns]
    rows = [[int(y)] + [c[1][i] for c in columns] for i, y in enumerate(p.year.values)]
    return _table(ws, title, headers, rows, [None] + [c[2] for c in columns])


def _line_chart(ws, title, y_title, first, last, columns, anchor, number_format=None):
    chart = LineChart()
    chart.title = title
    chart.y_axis.title = y_title
    chart.x_axis.title = "year"
    chart.height, chart.width = 8, 16
    for column in columns:
        chart.add_data(Reference(ws, min_col=column, min_row=first - 1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    if number_format:
        chart.y_axis.number_format = number_format
    ws.add_chart(chart, anchor)


def write_results(results, valuation, path, provenance: dict | None = None) -> None:
    """The results workbook, ending with the sheet "About this run" (``provenance``, by default the
    valuation's source and this API call)."""
    p, s = results.projection, results.summary
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    _summary(ws, p, s, valuation)

    if "population" in p:  # a scheme-only valuation has no national population
        ws = wb.create_sheet("Demography")
        population = p.population.sum(["sex", "age"]).values
        first, last = _yearly(ws, "Population at the end of each year", p, [
            ("population", population, MONEY),
            ("births", p.births.sum("sex").values, MONEY),
            ("deaths", p.deaths.sum("sex").values, MONEY),
            ("population 65+", p.population.sel(age=slice(65, None)).sum(["sex", "age"]).values, MONEY),
            ("demographic dependency ratio", p.demographic_dependency_ratio.values, RATIO)])
        _pyramid(wb, p)

    ws = wb.create_sheet("Insured")
    _yearly(ws, "Insured population", p, [
        ("contributors", p.contributors.values, MONEY),
        ("active (end of year)", p.active.sum(["sex", "age"]).values, MONEY),
        ("inactive (end of year)", p.inactive.sum(["sex", "age"]).values, MONEY),
        ("new entrants", p.new_entrants.sum(["sex", "age"]).values, MONEY),
        ("leaving the scheme on exit (withdrawals)", p.withdrawals.sum(["sex", "age"]).values, MONEY),
        ("average insurable salary", (p.insurable_wage_bill / p.contributors).values, MONEY)])

    ws = wb.create_sheet("Pensioners")
    columns = [(f"{b} pensioners", p.pensioners_by_benefit.sel(benefit=b).values, MONEY) for b in p.benefit.values]
    columns += [(f"{b} new awards", p.new_pensioners.sel(benefit=b).sum(["sex", "age"]).values, MONEY)
                for b in p.benefit.values]
    columns += [("system dependency ratio", p.system_dependency_ratio.values, RATIO),
                ("system dependency ratio (stocks at 31 December)", p.system_dependency_ratio_stock.values, RATIO),
                ("replacement rate (new old-age awards)", p.replacement_rate.values, PERCENT),
                ("benefit ratio", p.benefit_ratio.values, PERCENT)]
    _yearly(ws, "Pensioners at the end of each year and new awards", p, columns)

    ws = wb.create_sheet("Financial projection")
    columns = [("insurable wage bill", p.insurable_wage_bill.values, MONEY),
               ("contributions", p.contributions.values, MONEY),
               ("state subsidy", p.state_subsidy.values, MONEY),
               ("investment income", p.investment_income.values, MONEY)]
    columns += [(f"{b} benefits", p.benefit_expenditure_by_benefit.sel(benefit=b).values, MONEY) for b in p.benefit.values]
    columns += [("grants", p.grants.values, MONEY), ("administrative expenses", p.admin_expenses.values, MONEY),
                ("total expenditure", p.total_expenditure.values, MONEY), ("reserve (end of year)", p.reserve.values, MONEY)]
    if "gdp" in p:
        columns.append(("GDP", p.gdp.values, MONEY))
    first, last = _yearly(ws, "Financial projection (currency, nominal)", p, columns)
    reserve_column = 1 + [c[0] for c in columns].index("reserve (end of year)") + 1
    _line_chart(ws, "Reserve at the end of each year", "currency", first, last, [reserve_column], "R3", MONEY)

    ws = wb.create_sheet("Financing indicators")
    columns = [("contribution rate", p.contribution_rate.values, PERCENT),
               ("break-even contribution rate", p.breakeven_contribution_rate.values, PERCENT),
               ("PAYG cost rate", p.paygo_cost_rate.values, PERCENT),
               ("reserve ratio", p.reserve_ratio.values, RATIO),
               ("trust fund ratio", p.trust_fund_ratio.values, RATIO)]
    if "expenditure_pct_gdp" in p:  # a scheme-only valuation has no GDP
        columns.append(("expenditure % GDP", p.expenditure_pct_gdp.values / 100, PERCENT))
    columns += [("terminal funding rate", p.terminal_funding_rate.values, PERCENT),
                ("payable share of benefits", p.payable_share.values, PERCENT)]
    first, last = _yearly(ws, "Financing indicators", p, columns)
    # the contribution rate is compared with the break-even rate: both on the statutory basis (collection
    # rate, administration charged on contributions, state subsidy)
    _line_chart(ws, "Break-even contribution rate and contribution rate", "share of insurable earnings", first, last,
                [2, 3], "K3", PERCENT)
    _line_chart(ws, "Reserve ratio (years of expenditure)", "years", first, last, [5], "K20", RATIO)
    row = last + 3
    _table(ws, "General average premium", ["horizon (years)", "GAP"],
           [[int(h), float(g)] for h, g in zip(s.horizon.values, s.gap.values)], [None, PERCENT], start_row=row)
    row += 3 + s.sizes["horizon"] + 1
    _table(ws, f"Scaled premium ({s.scaled_premium.attrs['description']})", ["period from", "period to", "rate"],
           [[int(a), int(b), float(r)] for a, b, r in zip(s.period.values, s.period_end.values, s.scaled_premium.values)],
           [None, None, PERCENT], start_row=row)

    ws = wb.create_sheet("Balance sheet")
    items = [k for k in s.data_vars if k.startswith(("asset_", "liability_"))]
    items += ["total_assets", "total_liabilities", "balance", "accrued_liability", "funded_ratio"]
    items += [k for k in s.data_vars if k.startswith("pv_")]
    rows = [[k.replace("_", " "), float(s[k])] for k in items if k in s]
    _table(ws, f"Open-group balance sheet (open-group items over {p.sizes['year']} years, closed-group items over "
               "their runs) and closed-group accrued liability (present values at the valuation date)",
           ["item", "value"], rows,
           [None, MONEY])
    for r in range(3, 3 + len(rows)):
        if ws.cell(row=r, column=1).value == "funded ratio":
            ws.cell(row=r, column=2).number_format = PERCENT
    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 24
    add_about_sheet(wb, provenance or for_api(valuation, "io.results.write_results"))
    _atomic_save(wb, Path(path))


def _summary(ws, p, s, valuation):
    t0 = p.attrs["valuation_year"]
    text_cell(ws, 1, 1, f"{valuation.name}: actuarial valuation at 1 January {t0}").font = Font(bold=True, size=14)
    depletion = float(s.depletion_year)
    rows = [["horizon (years)", p.sizes["year"], None],
            ["contribution rate in the first year", float(p.contribution_rate[0]), PERCENT],
            ["PAYG cost rate in the first year", float(p.paygo_cost_rate[0]), PERCENT],
            ["PAYG cost rate in the last year", float(p.paygo_cost_rate[-1]), PERCENT],
            ["reserve at the valuation date", float(p.reserve_at_valuation), MONEY],
            ["reserve ratio in the first year", float(p.reserve_ratio[0]), RATIO],
            ["depletion year", "none" if depletion != depletion else int(depletion), None],
            ["share of benefits payable in the depletion year", float(s.payable_share_at_depletion), PERCENT],
            ["share of benefits payable in the last year", float(s.payable_share_end), PERCENT],
            [f"actuarial balance (SSA, {s.actuarial_balance.attrs['period']} years)", float(s.actuarial_balance),
             PERCENT],
            ["terminal funding rate at maturity (last year)", float(s.terminal_funding_rate_at_maturity), PERCENT]]
    rows += [[f"general average premium, {int(h)} years", float(g), PERCENT] for h, g in zip(s.horizon.values, s.gap.values)]
    if "balance" in s:
        rows += [["open-group balance (assets - liabilities)", float(s.balance), MONEY],
                 ["funded ratio (reserve / accrued liability)", float(s.funded_ratio), PERCENT],
                 ["average premium, current insured and pensioners", float(s.average_premium_current), PERCENT],
                 ["average premium, future entrants", float(s.average_premium_new_entrants), PERCENT]]
    _table(ws, "Key indicators", ["indicator", "value"], [r[:2] for r in rows], [None, None])
    for r, row in enumerate(rows, start=3):
        if row[2]:
            ws.cell(row=r, column=2).number_format = row[2]
    ws.column_dimensions["A"].width = 46
    ws.column_dimensions["B"].width = 20
    start = 3 + len(rows) + 2
    ws.cell(row=start, column=1, value="Assumptions (echo of the inputs)").font = Font(bold=True, size=12)
    r = start + 1
    inputs = valuation.inputs
    for group in ("settings", "scheme", "economy"):
        for name, value in getattr(inputs, group).items():
            if value is None:
                continue
            if hasattr(value, "dims"):
                if value.dims != ("year",):
                    continue
                text = f"{float(value[0]):.6g} in {int(value.year[0])}, {float(value[-1]):.6g} in {int(value.year[-1])}"
            elif isinstance(value, tuple):
                text = ", ".join(map(str, value))
            else:
                text = value if not (isinstance(value, float) and not np.isfinite(value)) else "none"
            ws.cell(row=r, column=1, value=f"{group}.{name}")
            if isinstance(text, str):
                text_cell(ws, r, 2, text)
            else:
                ws.cell(row=r, column=2, value=text)
            r += 1


def _pyramid(wb, p):
    ws = wb.create_sheet("Population pyramid")
    years = [int(p.year.values[0]), int(p.year.values[-1])]
    ws.cell(row=1, column=1, value="Population by age and sex (males shown as negative)").font = Font(bold=True, size=12)
    headers = ["age"] + [f"{sex} {y}" for y in years for sex in ("male", "female")]
    for column, header in enumerate(headers, start=1):
        ws.cell(row=2, column=column, value=header).font = BOLD
    ages = p.age.values
    for i, age in enumerate(ages):
        ws.cell(row=3 + i, column=1, value=int(age))
        column = 2
        for y in years:
            stock = p.population_at_valuation if y == years[0] else p.population.sel(year=y)
            ws.cell(row=3 + i, column=column, value=-float(stock.sel(sex="male", age=age)))
            ws.cell(row=3 + i, column=column + 1, value=float(stock.sel(sex="female", age=age)))
            column += 2
    for k, y in enumerate(years):
        chart = BarChart()
        chart.type = "bar"
        chart.grouping = "clustered"
        chart.overlap = 100
        chart.gapWidth = 0
        chart.title = f"Population pyramid, {'1 January ' + str(y) if k == 0 else 'end of ' + str(y)}"
        chart.height, chart.width = 12, 12
        data = Reference(ws, min_col=2 + 2 * k, max_col=3 + 2 * k, min_row=2, max_row=2 + len(ages))
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=3, max_row=2 + len(ages)))
        ws.add_chart(chart, f"G{3 + 26 * k}")
