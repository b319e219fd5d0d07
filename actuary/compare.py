"""Reform options side by side: the base valuation and each option (a whole valuation workbook, or changes to
the base from a ``Reforms`` sheet), their key results and their differences from the base.

The ``Reforms`` sheet (in the base workbook) has one row per change: option | input (group.field) | operation
(set, scale, shift) | value | from_year | to_year | from_cohort | to_cohort | notes; the rows of one option
together make it (the Scenarios machinery of :mod:`actuary.batch`; cohort bounds limit a change to the years
of birth of a by-cohort input, e.g. scheme.normal_retirement_age_by_cohort).

The comparison Dataset has an ``option`` dimension (the base first) and, for each measure, its value and its
difference from the base (``<measure>_difference`` = option - base, so the base's differences are 0):
by year the contribution rate, PAYG cost rate, break-even rate, reserve, reserve ratio, pensioners, average
old-age pension in payment, benefit expenditure; the depletion year, the GAP by horizon, the actuarial
balance, the balance-sheet items; and the adequacy measures of :mod:`actuary.adequacy` by career, sex and
retirement year.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import xarray as xr

from .adequacy import stylized_careers
from .batch import read_overrides
from .validation import InputError

REFORM_COLUMNS = ("option", "input", "operation", "value", "from_year", "to_year", "from_cohort", "to_cohort", "notes")
YEARLY = ("contribution_rate", "paygo_cost_rate", "breakeven_contribution_rate", "reserve", "reserve_ratio",
          "pensioners", "average_old_age_pension", "benefit_expenditure")
ADEQUACY = ("replacement_rate", "benefit_ratio_10", "benefit_ratio_20")
SUMMARY_ITEMS = ("depletion_year", "actuarial_balance", "total_assets", "total_liabilities", "balance",
                 "accrued_liability", "funded_ratio")


def read_reforms(path, base) -> dict:
    """The options of the ``Reforms`` sheet of the workbook at ``path``, as validated valuations built on
    ``base`` (an option that fails names itself and the problem)."""
    options = {}
    for scenario in read_overrides(path, "Reforms", REFORM_COLUMNS):
        valuation = scenario.apply(base)
        valuation.name = scenario.name
        options[scenario.name] = valuation
    return options


def _measures(valuation) -> dict:
    results = valuation.run()
    p, s = results.projection, results.summary
    old_age = p.pension_amount_by_age.sel(benefit="old_age").sum(("sex", "age"))
    count = p.pensioners_by_age.sel(benefit="old_age").sum(("sex", "age"))
    yearly = {name: p[name].values for name in YEARLY if name in p}
    with np.errstate(divide="ignore", invalid="ignore"):
        yearly["average_old_age_pension"] = np.where(count > 0, old_age / count, np.nan)
    scalars = {k: float(s[k]) for k in s.data_vars if s[k].ndim == 0 and
               (k in SUMMARY_ITEMS or k.startswith(("asset_", "liability_")))}
    adequacy = stylized_careers(valuation)
    return {"yearly": yearly, "scalars": scalars, "gap": s.gap, "adequacy": adequacy}


def comparison(base, options: dict) -> xr.Dataset:
    """The base and each option (name -> Valuation) side by side, with differences from the base."""
    if not options:
        raise InputError("compare: no options; give option workbooks or a Reforms sheet in the base workbook.")
    names = ["base"] + list(options)
    if len(set(names)) != len(names):
        raise InputError(f"compare: option names must be distinct and not 'base'; got {', '.join(names[1:])}.")
    years = base.inputs.coords["year"]
    runs = [_measures(base)] + [_measures(v) for v in options.values()]
    for name, valuation in options.items():
        if not np.array_equal(valuation.inputs.coords["year"], years):
            raise InputError(f"compare: option '{name}' projects {valuation.inputs.coords['year'][0]}.."
                             f"{valuation.inputs.coords['year'][-1]}; the base {years[0]}..{years[-1]}: the options "
                             "must cover the same years.")
    data = {}
    for key in YEARLY:
        if all(key in r["yearly"] for r in runs):
            data[key] = (("option", "year"), np.stack([r["yearly"][key] for r in runs]))
    scalars = [k for k in runs[0]["scalars"] if all(k in r["scalars"] for r in runs)]
    for key in scalars:
        data[key] = (("option",), np.array([r["scalars"][key] for r in runs]))
    horizons = runs[0]["gap"]["horizon"].values
    gaps = [r["gap"].reindex(horizon=horizons).values for r in runs]
    data["gap"] = (("option", "horizon"), np.stack(gaps))
    adequacy = [r["adequacy"] for r in runs]
    for key in ADEQUACY:
        data[key] = (("option", "career", "sex", "year"), np.stack([a[key].values for a in adequacy]))
    ds = xr.Dataset(data, coords={"option": names, "year": years, "horizon": horizons,
                                  "career": adequacy[0]["career"].values, "sex": ["male", "female"]})
    for key in list(ds.data_vars):
        ds[f"{key}_difference"] = ds[key] - ds[key].sel(option="base")
    ds.attrs.update(base=base.name, valuation_year=int(years[0]),
                    description="each option and its difference from the base (option - base)")
    return ds


def write_comparison(ds: xr.Dataset, path, provenance: dict | None = None) -> None:
    """The comparison workbook: a summary table with the differences from the base (depletion year, actuarial
    balance, balance-sheet items, GAP by horizon), one sheet per yearly measure with the options side by side,
    their differences and a chart overlaying them, the adequacy measures of the 1x career, and the sheet
    "About this run" (``provenance``). Option names are written as literal text."""
    from openpyxl import Workbook
    from openpyxl.chart import LineChart, Reference
    from openpyxl.styles import Font

    from .io.provenance import add_about_sheet, for_api
    from .io.safety import text_cell
    from .io.workbook import _atomic_save

    options = [str(o) for o in ds.option.values]
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    text_cell(ws, 1, 1, f"Reform options compared with the base ({ds.attrs['base']})").font = Font(bold=True,
                                                                                                 size=14)
    headers = ["measure"] + options + [f"{o} - base" for o in options[1:]]
    for c, header in enumerate(headers, start=1):
        text_cell(ws, 3, c, header).font = Font(bold=True)
    rows = [(k, ds[k]) for k in ds.data_vars if ds[k].dims == ("option",)]
    rows += [(f"GAP {int(h)} years", ds.gap.sel(horizon=h)) for h in ds.horizon.values]
    for r, (label, values) in enumerate(rows, start=4):
        ws.cell(row=r, column=1, value=label.replace("_", " "))
        base = float(values.sel(option="base"))
        for c, option in enumerate(options, start=2):
            value = float(values.sel(option=option))
            ws.cell(row=r, column=c, value=None if math.isnan(value) else value)
        for c, option in enumerate(options[1:], start=len(options) + 2):
            value = float(values.sel(option=option)) - base
            ws.cell(row=r, column=c, value=None if math.isnan(value) else value)
    ws.column_dimensions["A"].width = 44

    def yearly_sheet(title, key, values):
        sheet = wb.create_sheet(title[:31])
        sheet.cell(row=1, column=1, value=title).font = Font(bold=True)
        for c, header in enumerate(["year"] + options + [f"{o} - base" for o in options[1:]], start=1):
            text_cell(sheet, 2, c, header).font = Font(bold=True)
        for i, year in enumerate(ds.year.values):
            row = 3 + i
            sheet.cell(row=row, column=1, value=int(year))
            base = float(values.sel(option="base").isel(year=i))
            for c, option in enumerate(options, start=2):
                value = float(values.sel(option=option).isel(year=i))
                sheet.cell(row=row, column=c, value=None if math.isnan(value) else value)
            for c, option in enumerate(options[1:], start=len(options) + 2):
                value = float(values.sel(option=option).isel(year=i)) - base
                sheet.cell(row=row, column=c, value=None if math.isnan(value) else value)
        chart = LineChart()
        chart.title = title
        chart.x_axis.title = "year"
        last = 2 + ds.sizes["year"]
        chart.add_data(Reference(sheet, min_col=2, max_col=1 + len(options), min_row=2, max_row=last),
                       titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=3, max_row=last))
        chart.width, chart.height = 22, 11
        sheet.add_chart(chart, f"{chr(ord('A') + min(2 * len(options) + 1, 20))}3")

    for key in YEARLY:
        if key in ds:
            yearly_sheet(key.replace("_", " "), key, ds[key])
    for key in ADEQUACY:
        yearly_sheet(f"{key.replace('_', ' ')} (1x, male)", key,
                     ds[key].sel(career=str(ds.career.values[1]), sex="male"))
    add_about_sheet(wb, provenance or for_api(None, "compare.write_comparison"))
    _atomic_save(wb, Path(path))
