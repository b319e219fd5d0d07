"""The valuation workbook: inputs laid out like the assumption tables of a valuation report.

Layout (generated from :data:`actuary.inputs.FIELDS`, so every input has exactly one home):
- ``Contents``: what each sheet holds.
- Scalar sheets (``Settings``, ``Scheme``, ``Economy``, ``Behaviour``, ``Initial state``): one row
  per input with columns field | value | units | notes.
- Table sheets: row 1 a title, row 2 the column headers (index columns such as year, sex, age,
  then one column per input, then notes), row 3 the units, data from row 4. A table whose inputs
  change from year to year goes to its ``... by year`` sheet, which has a year column in front.
- Records sheets (``Floor``): the same layout with one row per named item (a benefit of the social
  protection floor) and text columns (codes from a list) beside the numbers; a blank cell takes the
  input's default. Its year-dependent column (take_up) may instead be given year by year, for some
  benefits, in the ``Floor take-up`` table; ``Floor eligibility`` is a sparse table (cells not listed
  are 1). All three sheets are optional: without them the case has no floor.
- A floor costing alone (Settings ``scheme`` = no) has only the sheets and columns without the scheme
  (economy, population, demographic rates, fertility, labour force participation) and the Floor sheets.

Reading checks every cell and reports the first problem as ``Sheet!Cell: value ... expected ...``
(an :class:`actuary.InputError`); range checks made later by the input objects are mapped back to
their cell too. Formulas are read through their cached values; a formula without one is an error.
Macro-enabled workbooks are refused (macros never run).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import zipfile
from contextlib import contextmanager
from difflib import get_close_matches
from itertools import repeat
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from openpyxl import Workbook, load_workbook as _open_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from ..inputs import (BENEFITS, FB, FIELDS, LIST_DIMS, NATIONAL_REQUIRED, PROVISIONS_BY_YEAR, REQUIRED, Field,
                      without_scheme)
from .bulk import cycle_collection_paused
from .files import atomic_path
from .sheet_rows import Unsupported, sheet_rows
from .safety import MAX_FILE_BYTES, MAX_MERGED, MAX_ROWS, check_container, regular_file_bytes, text_cell, xml_refusal
from ..validation import SEXES, InputError

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=12)
FIRST_DATA_ROW = 4
MAX_HISTORY_YEARS = 300   # rows of the Economic history sheet


@dataclass(frozen=True)
class Sheet:
    name: str
    index: tuple[str, ...]          # () for a scalar sheet
    fields: tuple[str, ...]
    description: str
    population_ages: bool = False
    records: bool = False           # one row per named item (floor benefit), text and number columns


SCALAR_SHEETS = {"settings": "Settings", "scheme": "Scheme", "economy": "Economy", "behaviour": "Behaviour",
                 "initial": "Initial state"}

TABLES = [
    Sheet("Schedules", ("year",), ("contribution_rate", "collection_rate", "subsidy_share_of_benefits",
                                   "subsidy_share_of_wages", "refund_contribution_rate", "refund_interest",
                                   "inflation", "real_wage_growth", "nominal_return", "unemployment_rate",
                                   "productivity_growth", "sex_ratio_at_birth", "entrant_growth", "poverty_line",
                                   "government_expenditure_pct_gdp", "government_revenue_pct_gdp"),
          "Year-dependent provisions and economic assumptions (years in rows)"),
    Sheet("Retirement ages", ("year", "sex"), ("normal_retirement_age", "early_retirement_age"),
          "Normal and early retirement ages by year and sex"),
    Sheet("Economic history", ("past_year",), ("past_inflation", "past_real_wage_growth"),
          "Inflation and real wage growth of the years before the valuation year (the last row is the year before it)"),
    Sheet("Retirement ages by cohort", ("cohort", "sex"),
          ("normal_retirement_age_by_cohort", "early_retirement_age_by_cohort", "retirement_age_increase_by_cohort"),
          "Retirement ages by year of birth, instead of by year, and a reform's increase of the ages in force by year "
          "of birth (optional sheet): each listed cohort's value applies to it and to later cohorts up to the next "
          "one listed; earlier cohorts take the first"),
    Sheet("Accrual", ("service",), ("accrual",),
          "Accrued pension as a share of reference earnings by credited service (the schedule in force each year)"),
    Sheet("Population", ("sex", "age"), ("population", "mortality"),
          "Population at 1 January of the valuation year and base mortality q_x", True),
    Sheet("Demographic rates", ("sex", "age"),
          ("net_migration", "mortality_improvement", "pensioner_mortality_factor", "invalid_mortality_factor",
           "survivor_mortality_factor", "remarriage_rate", "probability_married", "spouse_age_difference",
           "orphans", "orphan_age"),
          "Migration, mortality improvement, pensioners' mortality and family statistics", True),
    Sheet("Fertility", ("age",), ("fertility",), "Age-specific fertility rates (births per woman)", True),
    Sheet("Labour force", ("sex", "age"),
          ("participation", "coverage", "credit_density", "contribution_density", "salary_scale",
           "active_mortality_factor", "entrant_distribution"),
          "Labour force participation, coverage, densities, salary scale (insured ages)"),
    Sheet("Decrements", ("sex", "age"), ("exit_rate", "retirement_rate", "invalidity_rate", "reentry_rate"),
          "Behavioural decrements of the insured"),
    Sheet("Insured", ("sex", "age", "service"), ("active", "inactive", "refund_balance", "inactive_refund_balance",
                                                  "credited_service", "accrued_units", "inactive_credited_service",
                                                  "inactive_accrued_units"),
          "Insured at the valuation date by sex, age and completed service (cells not listed are zero)"),
    Sheet("Pensioners", ("benefit", "sex", "age"), ("pensioners", "average_pension"),
          "Pensions in payment at the valuation date by type, sex and age (cells not listed are zero)", True),
    Sheet("Floor", (FB,), ("kind", "sex", "min_age", "max_age", "amount", "basis", "indexation", "take_up", "test",
                           "admin_share"),
          "Social protection floor: one row per non-contributory benefit (optional; blank cells take their "
          "defaults, see the units row)", records=True),
    Sheet("Floor take-up", ("year", FB), ("take_up",),
          "Take-up of floor benefits phased in year by year (optional; for the benefits listed here, leave "
          "take_up blank in the Floor sheet)"),
    Sheet("Floor eligibility", (FB, "sex", "age"), ("eligibility",),
          "Share of each sex and age eligible for a floor benefit: targeting or disability prevalence "
          "(optional; cells not listed are 1)", True),
]
FLOOR_SHEETS = ("Floor", "Floor take-up", "Floor eligibility")
MAX_FLOOR_BENEFITS = 100
SPARSE = ("Insured", "Pensioners", "Floor eligibility")   # cells not listed take the input's fill value
HEADERS = {FB: "benefit"}                                  # index columns whose header is not the dimension

GROUP_OF: dict[str, str] = {}
for _group, _fields in FIELDS.items():  # first group wins: the Floor sheet reads its min_age/max_age by group
    for _name in _fields:
        GROUP_OF.setdefault(_name, _group)
# input sheets that may be absent (and '... by year'): sheets of optional inputs only
OPTIONAL_INPUT_SHEETS = ("Retirement ages by cohort", "Economic history")
# provisions that are usually constant: a value on the Scheme sheet, or a column of this sheet when they change
PROVISIONS_SHEET = Sheet("Provisions by year", ("year",), PROVISIONS_BY_YEAR,
                         "Scheme provisions that change from year to year (leave them out of the Scheme sheet)")


def _by_year(sheet: Sheet) -> Sheet:
    return Sheet(f"{sheet.name} by year", ("year",) + sheet.index, sheet.fields,
                 f"{sheet.description}, where they change from year to year", sheet.population_ages)


def layout() -> list[Sheet]:
    """Every sheet of the workbook, scalar sheets first."""
    sheets = [Sheet(name, (), tuple(k for k, f in FIELDS[group].items()
                                    if not f.dims or group == "settings" or k in PROVISIONS_BY_YEAR
                                    or f.dims[0] in LIST_DIMS),
                    f"{name}: one row per input") for group, name in SCALAR_SHEETS.items()]
    sheets.append(PROVISIONS_SHEET)
    for table in TABLES:
        sheets.append(table)
        if not table.records and "year" not in table.index and any("year" in FIELDS[GROUP_OF[f]][f].dims for f in table.fields):
            sheets.append(_by_year(table))
    return sheets


SHEETS = {sheet.name: sheet for sheet in layout()}
CONTENTS = "Contents"


def _field(name: str) -> Field:
    return FIELDS[GROUP_OF[name]][name]


def _units(name: str) -> str:
    field = _field(name)
    return field.units or field.kind


def _header(dim: str) -> str:
    return HEADERS.get(dim, dim)


def _scalar_text(value):
    if value is None:
        return None
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and math.isinf(value):
        return "none"
    return value


# --------------------------------------------------------------------------------------- writing

def _title(ws, text):
    ws.cell(row=1, column=1, value=text).font = TITLE_FONT


def _write_scalar_sheet(ws, sheet: Sheet, values: dict, given: set):
    _title(ws, sheet.description)
    for column, header in enumerate(("field", "value", "units", "notes"), start=1):
        ws.cell(row=2, column=column, value=header).font = HEADER_FONT
    for row, name in enumerate(sheet.fields, start=3):
        field = _field(name)
        ws.cell(row=row, column=1, value=name)
        cell = ws.cell(row=row, column=2, value=_scalar_text(values.get(name)) if name in given else None)
        cell.fill = INPUT_FILL
        ws.cell(row=row, column=3, value=field.units or ("one of " + ", ".join(field.choices) if field.choices else ""))
        note = field.doc
        if not field.choices:
            note = (note + "; " if note else "") + "allowed: " + field.allowed()
        if field.choices:
            note = (note + "; " if note else "") + "one of: " + ", ".join(field.choices)
            validation = DataValidation(type="list", formula1='"' + ",".join(field.choices) + '"', allow_blank=True)
            ws.add_data_validation(validation)
            validation.add(cell)
        elif field.kind == "probability":
            validation = DataValidation(type="decimal", operator="between", formula1="0", formula2="1",
                                        allow_blank=True)
            ws.add_data_validation(validation)
            validation.add(cell)
        ws.cell(row=row, column=4, value=note or None)
    ws.column_dimensions["A"].width = 32
    ws.column_dimensions["B"].width = 16
    ws.column_dimensions["C"].width = 34
    ws.column_dimensions["D"].width = 80


def _index_labels(dim: str, coords: dict, population_ages: bool):
    if dim == "age":
        return coords["population_age" if population_ages else "scheme_age"]
    return coords[dim]


def _write_table_sheet(ws, sheet: Sheet, columns: dict[str, xr.DataArray], coords: dict, sparse: bool):
    _title(ws, sheet.description)
    headers = [_header(d) for d in sheet.index] + list(sheet.fields) + ["notes"]
    for column, header in enumerate(headers, start=1):
        ws.cell(row=2, column=column, value=header).font = HEADER_FONT
        ws.cell(row=3, column=column, value="" if column <= len(sheet.index) or header == "notes" else _units(header))
        ws.column_dimensions[get_column_letter(column)].width = max(12, len(header) + 2)
    ws.cell(row=3, column=len(headers), value="allowed: " + "; ".join(f"{name} {_field(name).allowed()}"
                                                                       for name in sheet.fields))
    grids = [np.asarray(_index_labels(d, coords, sheet.population_ages)) for d in sheet.index]
    mesh = np.meshgrid(*grids, indexing="ij")
    keys = [m.ravel() for m in mesh]
    values = {}
    for name, da in columns.items():
        da = da.transpose(*sheet.index)
        values[name] = np.asarray(da.values, dtype=float).ravel()
    row = FIRST_DATA_ROW
    n = keys[0].size if keys else 0
    field_columns = {name: len(sheet.index) + 1 + i for i, name in enumerate(sheet.fields)}
    for i in range(n):
        if sparse and not any(values[name][i] != (_field(name).fill or 0.0) for name in values):
            continue
        for column, key in enumerate(keys, start=1):
            label = key[i]
            ws.cell(row=row, column=column, value=label.item() if isinstance(label, np.generic) else label)
        for name, column in field_columns.items():
            cell = ws.cell(row=row, column=column, value=float(values[name][i]) if name in values else None)
            cell.fill = INPUT_FILL
        row += 1
    last = max(row - 1, FIRST_DATA_ROW + 200)
    for dim, column in zip(sheet.index, range(1, len(sheet.index) + 1)):
        letter = get_column_letter(column)
        choices = {"sex": SEXES, "benefit": BENEFITS, FB: tuple(coords.get(FB, ()))}.get(dim)
        if choices and len(",".join(choices)) < 250:  # Excel's limit on a list written in the rule
            validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=False)
            ws.add_data_validation(validation)
            validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{last}")
    for name, column in field_columns.items():
        if _field(name).kind == "probability":
            letter = get_column_letter(column)
            validation = DataValidation(type="decimal", operator="between", formula1="0", formula2="1",
                                        allow_blank=True)
            ws.add_data_validation(validation)
            validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{last}")
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=len(sheet.index) + 1)


def _varies_by_year(da: xr.DataArray) -> bool:
    if "year" not in da.dims:
        return False
    values = da.transpose("year", ...).values
    return bool(np.any(values != values[:1]))


def write_workbook(valuation, path, blank: bool = False, text=None, record=None) -> None:
    """Write the inputs of ``valuation`` (only the fields it was given; others keep their defaults),
    or a blank template laid out for its coordinates when ``blank``; ``text``: the report text of the Report text
    sheet (:class:`actuary.io.report_text.ReportText`; its sections blank without). The sheets the case carries from
    the workbook it was read from (``valuation.carried_sheets``: Scenarios, Stochastic, Reforms, Analysis of change,
    Notes...; :mod:`actuary.io.carried`) follow, except in a blank template, then ``record``
    (:class:`actuary.io.provenance.RecordSheet`), the last sheet, in place of a carried sheet of its name (the
    record of an earlier run of the same command)."""
    inputs = valuation.inputs
    coords = inputs.coords
    alone = not inputs.has_scheme  # a floor costing alone: only the sheets and columns it has
    given = set() if blank else {name for group in valuation.raw.values() for name in group}
    given |= {"valuation_year", "horizon", "min_age", "max_age"} | (set() if alone else {"max_service"})
    wb = Workbook()
    contents = wb.active
    contents.title = CONTENTS
    text_cell(contents, 1, 1, f"actuary valuation workbook: {valuation.name}").font = TITLE_FONT
    contents.cell(row=2, column=1, value="sheet").font = HEADER_FONT
    contents.cell(row=2, column=2, value="contents").font = HEADER_FONT
    contents.cell(row=3, column=1, value="case_name")
    text_cell(contents, 3, 2, valuation.name).fill = INPUT_FILL
    contents.column_dimensions["A"].width = 30
    contents.column_dimensions["B"].width = 110
    row = 4
    values_by_name = {name: value for group in FIELDS if group != "floor"
                      for name, value in getattr(inputs, group).items()}
    changing = {name: values_by_name[name] for name in PROVISIONS_BY_YEAR
                if name in given and values_by_name[name] is not None and _varies_by_year(values_by_name[name])}
    for sheet in layout():
        if sheet.name in FLOOR_SHEETS:
            if sheet.records:
                row = _write_floor(wb, inputs, blank, contents, row)
            continue
        if alone:
            sheet = _without_scheme(sheet)
            if not sheet.fields:
                continue
        if sheet.name == PROVISIONS_SHEET.name:
            if not changing or blank:
                continue
            _write_table_sheet(wb.create_sheet(sheet.name), sheet, changing, coords, False)
        elif sheet.index:
            columns, by_year = {}, {}
            for name in sheet.fields:
                if name not in given or values_by_name.get(name) is None:
                    continue
                da = values_by_name[name]
                if "year" in sheet.index:
                    columns[name] = da
                elif _varies_by_year(da):
                    by_year[name] = da
                else:
                    columns[name] = da.isel(year=0, drop=True) if "year" in da.dims else da
            if sheet.name.endswith(" by year"):
                continue
            ws = wb.create_sheet(sheet.name)
            table_coords = coords
            if "cohort" in sheet.index:
                columns, table_coords = _cohort_columns(columns, coords)
            _write_table_sheet(ws, sheet, {} if blank else columns, table_coords, sheet.name in SPARSE)
            if by_year:
                extra = SHEETS[f"{sheet.name} by year"]
                extra = _without_scheme(extra) if alone else extra
                _write_table_sheet(wb.create_sheet(extra.name), extra, by_year, coords, False)
        else:
            group = next(g for g, n in SCALAR_SHEETS.items() if n == sheet.name)
            values = getattr(inputs, group) if group != "settings" else inputs.settings
            values = {k: v.values.flat[0].item() if isinstance(v, xr.DataArray) else v for k, v in values.items()
                      if k not in changing}
            _write_scalar_sheet(wb.create_sheet(sheet.name), sheet, values, given - set(changing))
        contents.cell(row=row, column=1, value=sheet.name)
        contents.cell(row=row, column=2, value=sheet.description)
        row += 1
    from .carried import write_carried_sheets
    from .report_text import DESCRIPTION, write_report_text_sheet

    contents.cell(row=row, column=1, value=write_report_text_sheet(wb, None if blank else text).title)
    contents.cell(row=row, column=2, value=DESCRIPTION)
    row += 1
    if not blank:   # the case's sheets other commands read and its Notes sheets, as read (actuary.io.carried)
        carried = valuation.carried_sheets
        row = write_carried_sheets(wb, [s for s in carried if record is None or s.name != record.name], contents, row)
    if record is not None:
        from .provenance import add_record_sheet

        add_record_sheet(wb, record)
        contents.cell(row=row, column=1, value=record.name)
        contents.cell(row=row, column=2, value=record.description)
        row += 1
    contents.cell(row=row + 1, column=1, value="conventions")
    contents.cell(row=row + 1, column=2, value=(
        "Yellow cells are inputs. Rates are annual and effective, shares are fractions (0.18 = 18%), money in "
        "the scheme's currency at the valuation date. Ages are completed ages at 1 January; the last age is an "
        "open group. Blank optional inputs take their defaults (see notes)."))
    _atomic_save(wb, Path(path))


def _cohort_columns(columns: dict, coords: dict) -> tuple[dict, dict]:
    """The by-cohort tables on the union of their cohorts (each table's step rule evaluated there)."""
    from ..inputs import cohort_ages

    labels = sorted({int(c) for da in columns.values() for c in da["cohort"].values})
    cohorts = np.asarray(labels, dtype=int)
    out = {name: xr.DataArray(cohort_ages(da, cohorts), dims=("cohort", "sex"),
                              coords={"cohort": cohorts, "sex": list(SEXES)}) for name, da in columns.items()}
    return out, dict(coords, cohort=cohorts)
def _without_scheme(sheet: Sheet) -> Sheet:
    """The sheet with only the inputs a floor costing alone has."""
    return replace(sheet, fields=tuple(f for f in sheet.fields if without_scheme(GROUP_OF[f], f)))


def _record_text(name: str, value):
    """A validated floor value as its cell: no upper age limit and not-applicable codes are blank."""
    if isinstance(value, (float, np.floating)):
        return None if math.isinf(value) else float(value)
    return str(value) or None


def _write_floor(wb, inputs, blank: bool, contents, row: int) -> int:
    """The Floor sheet (one row per benefit), the Floor take-up table (benefits whose take-up changes
    from year to year) and the sparse Floor eligibility table; returns the next Contents row."""
    floor = {} if blank else inputs.floor
    labels = [str(v) for v in inputs.coords[FB]] if floor else []
    sheet = SHEETS["Floor"]
    take_up = floor.get("take_up")
    varying = [b for b in labels if _varies_by_year(take_up.sel({FB: b}))]
    records = {}
    for name in sheet.fields if floor else ():
        if name == "take_up":
            records[name] = [None if b in varying else float(take_up.sel({FB: b})[0]) for b in labels]
        else:
            records[name] = [_record_text(name, v) for v in floor[name].values.tolist()]
    _write_records_sheet(wb.create_sheet(sheet.name), sheet, labels, records)
    coords = dict(inputs.coords, **{FB: np.array(varying if floor else [], dtype=str)})
    phased = {"take_up": take_up.sel({FB: varying})} if varying else {}
    _write_table_sheet(wb.create_sheet("Floor take-up"), SHEETS["Floor take-up"], phased, coords, False)
    coords[FB] = np.array(labels, dtype=str)
    eligibility = {"eligibility": floor["eligibility"]} if floor else {}
    _write_table_sheet(wb.create_sheet("Floor eligibility"), SHEETS["Floor eligibility"], eligibility, coords, True)
    for name in FLOOR_SHEETS:
        contents.cell(row=row, column=1, value=name)
        contents.cell(row=row, column=2, value=SHEETS[name].description)
        row += 1
    return row


def _record_units(field: Field) -> str:
    if field.choices:
        return "one of " + ", ".join(field.choices)
    return field.units or field.kind


def _write_records_sheet(ws, sheet: Sheet, labels: list[str], records: dict[str, list]):
    """A records sheet: title, headers (with the input's note as a comment), units, one row per label."""
    from openpyxl.comments import Comment

    _title(ws, sheet.description)
    group = FIELDS["floor"]
    headers = [_header(sheet.index[0])] + list(sheet.fields) + ["notes"]
    for column, header in enumerate(headers, start=1):
        cell = ws.cell(row=2, column=column, value=header)
        cell.font = HEADER_FONT
        if header in group:
            field = group[header]
            default = "required" if field.default is REQUIRED else \
                f"blank: {'no limit' if field.default == math.inf else field.default}"
            cell.comment = Comment(f"{header}: {field.doc} ({default})", "actuary")
            ws.cell(row=3, column=column, value=_record_units(field))
        ws.column_dimensions[get_column_letter(column)].width = max(14, len(header) + 2)
    for i, label in enumerate(labels):
        text_cell(ws, FIRST_DATA_ROW + i, 1, label)
        for column, name in enumerate(sheet.fields, start=2):
            value = records[name][i]
            cell = text_cell(ws, FIRST_DATA_ROW + i, column, value) if isinstance(value, str) else \
                ws.cell(row=FIRST_DATA_ROW + i, column=column, value=value)
            cell.fill = INPUT_FILL
    last = FIRST_DATA_ROW + max(len(labels), 50)
    for column, name in enumerate(sheet.fields, start=2):
        field, letter = group[name], get_column_letter(column)
        if field.choices:
            validation = DataValidation(type="list", formula1='"' + ",".join(field.choices) + '"', allow_blank=True)
        elif field.kind == "probability":
            validation = DataValidation(type="decimal", operator="between", formula1="0", formula2="1",
                                        allow_blank=True)
        else:
            continue
        ws.add_data_validation(validation)
        validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{last}")
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=2)


# Printing a sheet one page wide shrinks a wide table until its text cannot be read (22 columns on A4 landscape: about
# 40%, 4-point figures). A page of A4 landscape within the default margins is about 986 pixels wide at 100% (a column
# of width w, in characters of the default font, is 7 w + 5 pixels) and 451 points tall (595 less the top and bottom
# margins of an inch each). The sheet's shape decides how it prints:
# - a long table (years or ages down its rows) wider than a page at 75% is printed on as many pages wide as keep it at
#   75% or more, its first column (years, ages, labels) repeated on each: the reader follows a column down the pages;
# - a short table (a few rows: benefits, scenarios), whose rows all fit on one page tall when it is printed one page
#   wide, stays one page wide while that keeps it at 60% or more: split over pages wide, each of its few rows would be
#   cut into pieces on separate sheets of paper, worse to read than a smaller print of whole rows;
# - sheets of a few columns (text wrapped in cells: provisions, notes) and sheets of charts stay one page wide.
PAGE_PIXELS = 986
PAGE_POINTS = 451
MIN_SCALE = 0.75
MIN_SHORT_TABLE_SCALE = 0.6
PRINTABLE_PIXELS = PAGE_PIXELS / MIN_SCALE
DEFAULT_COLUMN_WIDTH = 8.43
DEFAULT_ROW_POINTS = 15.0
MIN_TABLE_COLUMNS = 6


def table_pixels(ws) -> float:
    """The width of a sheet's columns (up to its last used one, hidden ones left out) in pixels at 100%."""
    pixels = 0.0
    for column in range(1, ws.max_column + 1):
        dimension = ws.column_dimensions.get(get_column_letter(column))
        if dimension is not None and dimension.hidden:
            continue
        width = dimension.width if dimension is not None and dimension.width else DEFAULT_COLUMN_WIDTH
        pixels += 7 * width + 5
    return pixels


def table_points(ws) -> float:
    """The height of a sheet's rows (up to its last used one, hidden ones left out) in points at 100%."""
    points = 0.0
    for row in range(1, ws.max_row + 1):
        dimension = ws.row_dimensions.get(row)
        if dimension is not None and dimension.hidden:
            continue
        points += dimension.height if dimension is not None and dimension.height else DEFAULT_ROW_POINTS
    return points


def fit_pages_wide(ws) -> int:
    """Set a sheet that prints one page wide (``fitToPage`` with ``fitToWidth`` 1) to the pages wide its shape
    calls for (see above): one for a short table that then prints whole on one page at 60% or more, else as many
    as its columns need at 75% or more, repeating its first column; returns its pages wide (0: not fitted to
    pages)."""
    fitted = ws.sheet_properties.pageSetUpPr
    if fitted is None or not fitted.fitToPage:
        return 0
    if ws.page_setup.fitToWidth != 1:   # set otherwise on purpose
        return int(ws.page_setup.fitToWidth or 0)
    if ws.max_column < MIN_TABLE_COLUMNS or ws._charts:
        return 1
    pixels = table_pixels(ws)
    scale = min(1.0, PAGE_PIXELS / pixels)   # printed one page wide
    if scale >= MIN_SHORT_TABLE_SCALE and scale * table_points(ws) <= PAGE_POINTS:
        return 1
    pages = max(1, math.ceil(pixels / PRINTABLE_PIXELS))
    if pages > 1:
        ws.page_setup.fitToWidth = pages
        if not ws.print_title_cols:
            ws.print_title_cols = "A:A"
    return pages


def _atomic_save(wb, path) -> None:
    if not wb.write_only:
        for ws in wb.worksheets:   # every workbook written prints readably (see fit_pages_wide)
            fit_pages_wide(ws)
    with atomic_path(path) as temporary:
        wb.save(temporary)


# --------------------------------------------------------------------------------------- reading

def _ref(sheet: str, row: int, column: int) -> str:
    return f"{sheet}!{get_column_letter(column)}{row}"


def _fail(sheet: str, row: int, column: int, text: str):
    raise InputError(f"{_ref(sheet, row, column)}: {text}")


class _Cells:
    """Cell values (cached for formulas) of one sheet, read in one stream whatever its ``<dimension>``
    tag says, with formula checks; ``rows`` gives each row's (values, formulas) as :func:`_openpyxl_rows` does
    (or :func:`actuary.io.sheet_rows.sheet_rows`, which reads the same in a fraction of the time).

    Rows before ``first_data_row`` (title, headers, units) are kept whole; data rows are cut to the
    table's ``width`` (the header row's, unless given) and a value beyond it is an error (nothing in a
    sheet is silently skipped). Reading stops with an error as soon as more than ``max_data_rows``
    non-blank data rows have been seen (``too_many`` says what the limit is), so a sheet of a million
    rows costs no more than one of the largest allowed size. ``stop_after`` ends reading at that row.
    A value to the right of the table in the rows above the data (title, headers, units) is refused too, and so
    is a range of ``merged`` cells (as the container check found them) that hides a cell of the table: Excel
    shows only the first cell of a merged range, so a value in another one would be read unseen."""

    def __init__(self, name, rows, first_data_row: int, max_data_rows: int, too_many: str = "",
                 width: int | None = None, stop_after: int | None = None, merged=None):
        self.name = name
        self.width = width
        self.cells: dict[int, list] = {}        # row -> values (rows with a non-blank value only)
        self.formulas: dict[tuple, str] = {}    # (row, column) -> formula of a cell without a cached value
        self.data_rows: list[int] = []          # non-blank rows from first_data_row, in order
        for row, (values, formulas) in enumerate(rows, start=1):
            if stop_after is not None and row > stop_after:
                break
            if row < first_data_row:
                values = list(values)
                if row == 2 and self.width is None:
                    self.width = len(_trim(values))
            else:
                width = self.width or 0
                outside = next((c for c, v in enumerate(values[width:], start=width + 1) if not _blank(v)),
                               None) if len(values) > width else None
                if outside is not None:
                    _fail(name, row, outside, f"value '{values[outside - 1]}' is outside the table (columns "
                                              f"A..{get_column_letter(max(width, 1))}, headed in row 2); put "
                                              "comments in the notes column or in a sheet named Notes.")
                values = list(values[:width])
                for value in values:   # (any(not _blank(v) for v in values), without a generator for each row)
                    if value is not None and (not isinstance(value, str) or value.strip()):
                        self.data_rows.append(row)
                        if len(self.data_rows) > max_data_rows:
                            raise self._too_many(row, values, first_data_row, max_data_rows, too_many)
                        self.cells[row] = values
                        break
            if row not in self.cells and any(v is not None for v in values):
                self.cells[row] = values
            for column, (value, formula) in enumerate(zip(values, formulas), start=1):
                shown = _formula_text(formula) if value is None and formula is not None else None
                if shown is not None:
                    self.formulas[row, column] = shown
        width = self.width or 0
        for row in range(1, first_data_row):   # the rows above the data: nothing to the right of the table
            values = self.cells.get(row, ())
            outside = next((c for c, v in enumerate(values[width:], start=width + 1) if not _blank(v)), None)
            if width and outside is not None:
                _fail(name, row, outside, f"value '{values[outside - 1]}' is outside the table (columns "
                                          f"A..{get_column_letter(width)}, headed in row 2); put comments in the "
                                          "notes column or in a sheet named Notes.")
        self._check_merged(merged or (), stop_after)

    def _too_many(self, row: int, values: list, first_data_row: int, max_data_rows: int, too_many: str):
        """The error of a data row beyond ``max_data_rows`` (``row``, holding ``values``), naming its first cell with a
        value: a row right after the others is one too many; one after blank rows is a stray value below the table
        (a cell typed far down the sheet), to clear."""
        column = next(c for c, v in enumerate(values, start=1) if not _blank(v))
        ref = _ref(self.name, row, column)
        last = self.data_rows[-2] if len(self.data_rows) > 1 else first_data_row - 1
        if row == last + 1:
            return InputError(f"{ref}: the table has more than {max_data_rows:,} data rows (this is one too many: rows "
                              f"from {first_data_row}); expected at most {max_data_rows:,}{too_many}.")
        ends = (f"its {len(self.data_rows) - 1:,} data row{'' if len(self.data_rows) == 2 else 's'} end at row {last}"
                if last >= first_data_row else f"it has no data row (they start at row {first_data_row})")
        return InputError(f"{ref}: a cell below the table holds a value ('{values[column - 1]}'), after "
                          f"{row - last - 1:,} blank row{'' if row - last == 2 else 's'}: {ends}, and a value "
                          f"below would be one data row more than the {max_data_rows:,} expected{too_many}. Clear "
                          f"{ref.split('!')[1]} (comments go in the notes column or in a sheet named Notes).")

    def _check_merged(self, merged, stop_after: int | None) -> None:
        """Refuse a merged range whose hidden cells (all but its first) are in the table (from the header row
        down, columns A to the table's width, the notes column aside)."""
        from openpyxl.utils.cell import range_boundaries

        if len(merged) > MAX_MERGED:
            raise InputError(f"sheet '{self.name}': more than {MAX_MERGED:,} merged cell ranges; a valuation sheet has "
                             "a few. Unmerge them (the values of merged cells but the first are not shown).")
        width = self.width or 0
        notes = {c for c, v in enumerate(self.cells.get(2, ()), start=1) if str(v).strip().lower() == "notes"}
        last = stop_after or MAX_ROWS
        for ref in merged:
            try:
                min_col, min_row, max_col, max_row = range_boundaries(ref)
            except (ValueError, TypeError):
                raise InputError(f"sheet '{self.name}': merged cell range '{ref}' is not a range of cells; the "
                                 "workbook is damaged.") from None
            rows = range(max(min_row, 2), min(max_row, last) + 1)
            columns = [c for c in range(min_col, min(max_col, width) + 1) if c not in notes]
            if len(rows) * len(columns) > 1 or (rows and columns and (rows[0], columns[0]) != (min_row, min_col)):
                held = next(((r, c) for r in sorted(set(self.cells) | {r for r, _ in self.formulas}) if r in rows
                             for c in columns if (r, c) != (min_row, min_col) and not self.is_blank(r, c)), None)
                what = (f"{_ref(self.name, *held).split('!')[1]} holds '{self.get(*held)}', which Excel does not show"
                        if held else "Excel shows only the first cell's value, over all of them")
                _fail(self.name, min_row, min_col, f"the cells {ref} are merged ({what}); the table's cells are read "
                                                   "one by one: unmerge them and give each cell its value.")

    def get(self, row: int, column: int):
        """Value at 1-based (row, column); a formula without a cached value is an error."""
        values = self.cells.get(row, ())
        value = values[column - 1] if column <= len(values) else None
        if value is None and (row, column) in self.formulas:
            _fail(self.name, row, column, f"formula {self.formulas[row, column]} has no calculated value saved; open "
                                          "the workbook in Excel or LibreOffice and save it so that the value is "
                                          "stored.")
        return value

    def row(self, row: int) -> list:
        return list(self.cells.get(row, ()))

    def is_blank(self, row: int, column: int) -> bool:
        """Whether the cell holds nothing: no value and no formula (a formula without a saved value is not blank;
        :meth:`get` refuses it)."""
        values = self.cells.get(row, ())
        return _blank(values[column - 1] if column <= len(values) else None) and (row, column) not in self.formulas


def _openpyxl_rows(values_ws, formulas_ws):
    """(values, formulas) of each row of a sheet read by openpyxl (opened read-only with ``data_only`` for
    ``values_ws``, without for ``formulas_ws``, None when the sheet has no formula: ``()``), from row 1 to its last
    row whatever its ``<dimension>`` tag says."""
    for ws in (values_ws, formulas_ws):
        if ws is not None:
            ws.reset_dimensions()  # a stale <dimension> must not hide rows
    formula_rows = formulas_ws.iter_rows(values_only=True) if formulas_ws is not None else repeat(())
    return zip(values_ws.iter_rows(values_only=True), formula_rows)


def _formula_text(formula) -> str | None:
    """How a cell's formula (as openpyxl reads it) is named in an error, None for a cell without one: text
    starting with "=", an array formula (shown in braces, as Excel does) or a data table's formula."""
    if isinstance(formula, str):
        return formula if formula.startswith("=") else None
    if isinstance(formula, ArrayFormula):
        return f"{{={formula.text.lstrip('=')}}} (an array formula)" if formula.text else "(an array formula)"
    if isinstance(formula, DataTableFormula):
        return "(a data table)"
    return None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _trim(values: list) -> list:
    while values and _blank(values[-1]):
        values = values[:-1]
    return values


_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)   # digits 0-9 only
_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?", re.ASCII)
_ASCII_SPACE = " \t\r\n"


def _foreign_character(text: str) -> str:
    """How an error names the first character of number text that is not ASCII ("" if none): a no-break space,
    Arabic-Indic or full-width digits look like a number in Excel but are text there, and are not read as one."""
    import unicodedata

    character = next((c for c in text if not c.isascii()), None)
    if character is None:
        return ""
    return f" (it holds {unicodedata.name(character, 'the character').lower()} U+{ord(character):04X}; numbers are " \
           "written with the digits 0-9, without spaces)"


def _number(cells: _Cells, row: int, column: int, what: str, required: bool):
    """A finite number from a cell: a numeric cell or text such as ``0.05``, ``-1.5e3`` or ``1,234,567.5``
    (commas only between groups of three digits: ``0,05`` is refused, not read as 5). ``inf``, ``nan``,
    ``1e999``, TRUE/FALSE and anything else are refused naming the cell."""
    value = cells.get(row, column)
    if type(value) is float or type(value) is int:   # (a number cell, nearly every one: the quick way)
        number = float(value)
        if math.isfinite(number):
            return number
    if _blank(value):
        if required:
            _fail(cells.name, row, column, f"the cell is blank; expected {what}.")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        text = str(value).strip(_ASCII_SPACE)
        if _GROUPED_NUMBER.fullmatch(text):
            text = text.replace(",", "")
        if isinstance(value, bool) or not _PLAIN_NUMBER.fullmatch(text):
            _fail(cells.name, row, column, f"value '{value}' is not a number{_foreign_character(str(value))}; "
                                           f"expected {what}.")
        value = float(text)
    value = float(value)
    if not math.isfinite(value):
        _fail(cells.name, row, column, f"value {cells.get(row, column)!r} is not a finite number; expected {what}"
                                       f"{' (leave the cell blank or write none for no limit, where the notes say so)' if math.isinf(value) else ''}.")
    return value


def _unbounded(field: Field) -> bool:
    """The field's default is an infinite limit ("no maximum"): blank or the word none gives it."""
    return isinstance(field.default, float) and math.isinf(field.default)


def _scalar_value(cells: _Cells, row: int, name: str, field: Field):
    value = cells.get(row, 2)
    if _blank(value):
        if field.default is REQUIRED:
            _fail(cells.name, row, 2, f"the cell is blank; '{name}' is required ({field.units or field.doc}).")
        return None
    if field.kind == "choice":
        if str(value).strip() not in field.choices:
            _fail(cells.name, row, 2, f"value '{value}' is not an option for {name}; expected one of "
                                      f"{', '.join(field.choices)}.")
        return str(value).strip()
    if isinstance(value, str) and value.strip().lower() == "none" and _unbounded(field):
        return field.default
    listed = bool(field.dims) and field.dims[0] in LIST_DIMS
    if listed and field.kind != "int":  # a list of numbers: bend points, their rates
        parts = [p.strip(_ASCII_SPACE) for p in str(value).split(",") if p.strip(_ASCII_SPACE)]
        try:
            if isinstance(value, bool) or not parts or len(parts) > 100 or \
                    not all(_PLAIN_NUMBER.fullmatch(p) for p in parts):
                raise ValueError
            return tuple(float(p) for p in parts)
        except ValueError:
            _fail(cells.name, row, 2, f"value '{value}' is not a list of numbers{_foreign_character(str(value))} (e.g. "
                                      "12000, 70000).")
    if listed:  # gap_horizons: a list of whole numbers
        parts = [p.strip(_ASCII_SPACE) for p in str(value).split(",") if p.strip(_ASCII_SPACE)]
        if isinstance(value, bool) or not parts or not all(re.fullmatch(r"\d{1,4}", p, re.ASCII) for p in parts):
            _fail(cells.name, row, 2, f"value '{value}' is not a list of whole numbers{_foreign_character(str(value))} "
                                      "(e.g. 10, 25, 50, 75).")
        return tuple(int(p) for p in parts)
    number = _number(cells, row, 2, f"a number ({field.units or field.kind})", True)
    if field.kind == "int":
        if number != round(number):
            _fail(cells.name, row, 2, f"value {value} is not a whole number; expected {field.units or 'a count'}.")
        return int(number)
    return number


def _read_scalars(cells: _Cells, sheet: Sheet, locations: dict, blank: list | None = None) -> dict:
    """A scalar sheet's inputs; ``blank`` (if given) receives the (cell, name, units) of required inputs left blank,
    for one message naming them all (a blank template is filled in one pass, not one error a run)."""
    expected = ["field", "value", "units", "notes"]
    for column, header in enumerate(expected, start=1):
        if str(cells.get(2, column) or "").strip() != header:
            _fail(cells.name, 2, column, f"header '{cells.get(2, column)}'; expected '{header}' (columns: "
                                         f"{', '.join(expected)}).")
    out, seen = {}, {}
    for row in cells.data_rows:
        name = cells.get(row, 1)
        if _blank(name):
            if not _blank(cells.get(row, 2)):
                _fail(cells.name, row, 1, "a value without a field name.")
            continue
        name = str(name).strip()
        if name not in sheet.fields:
            _fail(cells.name, row, 1, f"'{name}' is not an input of this sheet; expected one of "
                                      f"{', '.join(sheet.fields)}.")
        if name in seen:
            _fail(cells.name, row, 1, f"'{name}' is listed twice (also in row {seen[name]}).")
        seen[name] = row
        field = _field(name)
        locations[name] = {"sheet": cells.name, "row": row, "column": 2}
        if blank is not None and field.default is REQUIRED and _blank(cells.get(row, 2)):
            blank.append((_ref(cells.name, row, 2), name, field.units or field.doc))   # said with the others
            continue
        value = _scalar_value(cells, row, name, field)
        if value is not None:
            out[name] = value
    return out


def _coordinate_limits(settings: dict, labels=()) -> dict:
    """The most labels each index column of a table can have. By-year tables may run past the horizon (up to
    the longest horizon allowed): a horizon shortened in Settings leaves the rows after it unused, and said
    (:func:`years_outside`)."""
    t0 = settings["valuation_year"]
    return {"year": FIELDS["settings"]["horizon"].bounds.high, "past_year": MAX_HISTORY_YEARS, "sex": 2, "service": settings["max_service"] + 1,
            "benefit": len(BENEFITS), FB: len(labels), "cohort": 1000,
            "scheme_age": settings["max_age"] - settings["min_age"] + 1, "population_age": settings["max_age"] + 1,
            "t0": t0}


def _year_tables(locations: dict):
    """(sheet, {year: row}) of each column of a by-year table that was read (the Floor take-up's included)."""
    for places in locations.values():
        for where in places if isinstance(places, list) else [places]:
            if isinstance(where, dict) and "year" in where.get("index", ()):
                i = where["index"].index("year")
                yield where["sheet"], {key[i]: row for key, row in where["rows"].items()}


def _check_years_cover(locations: dict, settings: dict) -> None:
    """Refuse a by-year table whose rows start after the valuation year or end before the projection's last year,
    naming the row where the missing years belong and the settings that ask for them."""
    t0, horizon = settings["valuation_year"], settings["horizon"]
    end = t0 + horizon - 1
    asked = f"(Settings: valuation_year {t0}, horizon {horizon} years)"
    for sheet, rows in _year_tables(locations):
        first, last = min(rows), max(rows)
        if last < end:
            wanted = year_spans(list(range(last + 1, end + 1)))
            _fail(sheet, max(rows.values()) + 1, 1, f"the table's years end in {last}; the projection runs to {end} "
                                                    f"{asked}: add rows for {wanted}, or shorten the horizon.")
        if first > t0:
            wanted = year_spans(list(range(t0, first)))
            _fail(sheet, rows[first], 1, f"the table's years start in {first}; the projection starts in {t0} "
                                         f"{asked}: add rows for {wanted}.")


def years_outside(locations: dict, settings: dict) -> list[str]:
    """The years of by-year table rows outside the projection (before the valuation year or after the horizon's
    last year), read but not used: 'Sheet: 2074-2123' entries, one per sheet with such rows, in reading order."""
    t0, horizon = settings["valuation_year"], settings["horizon"]
    by_sheet: dict = {}
    for sheet, rows in _year_tables(locations):
        outside = {year for year in rows if not t0 <= year < t0 + horizon}
        if outside:
            by_sheet.setdefault(sheet, set()).update(outside)
    return [f"{sheet}: {year_spans(sorted(years))}" for sheet, years in by_sheet.items()]


def year_spans(years: list[int]) -> str:
    """Sorted years as spans of consecutive years: [2020, 2074, 2075, 2076] -> '2020, 2074-2076'."""
    spans = [[years[0], years[0]]]
    for year in years[1:]:
        if year == spans[-1][1] + 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    return ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in spans)


def _table_rows(sheet: Sheet, settings: dict, labels=()) -> int:
    """The most data rows ``sheet`` can have: one per combination of its index columns (``labels``: the
    floor benefits named in the Floor sheet)."""
    limits = _coordinate_limits(settings, labels)
    maximum = 1
    for dim in sheet.index:
        maximum *= limits["population_age" if dim == "age" and sheet.population_ages else
                          "scheme_age" if dim == "age" else dim]
    return maximum


def _columns(cells: _Cells, sheet: Sheet) -> tuple[list[str], dict[str, int]]:
    """The headers of a table or records sheet, checked: index columns first, then inputs of the sheet
    (and notes), each once. Returns the headers and the column of each input."""
    headers = [str(h).strip() if h is not None else "" for h in _trim(cells.row(2))]
    for column, dim in enumerate(sheet.index, start=1):
        if column > len(headers) or headers[column - 1] != _header(dim):
            _fail(cells.name, 2, column, f"header '{headers[column - 1] if column <= len(headers) else ''}'; "
                                         f"expected the index column '{_header(dim)}' (the first columns are "
                                         f"{', '.join(map(_header, sheet.index))}).")
    field_columns = {}
    for column, header in enumerate(headers[len(sheet.index):], start=len(sheet.index) + 1):
        if header == "notes":
            continue
        if header not in sheet.fields:
            _fail(cells.name, 2, column, f"column '{header}' is not an input of this sheet; expected some of "
                                         f"{', '.join(sheet.fields)} (and notes).")
        if header in field_columns:
            _fail(cells.name, 2, column, f"column '{header}' appears twice.")
        field_columns[header] = column
    return headers, field_columns


def _read_table(cells: _Cells, sheet: Sheet, settings: dict, locations: dict, labels=()) -> dict[str, xr.DataArray]:
    """A table sheet's inputs (``labels``: the floor benefits named in the Floor sheet)."""
    headers, field_columns = _columns(cells, sheet)
    for column in range(1, len(sheet.index) + 1):
        if not _blank(cells.get(FIRST_DATA_ROW - 1, column)):
            _fail(cells.name, FIRST_DATA_ROW - 1, column, f"value '{cells.get(FIRST_DATA_ROW - 1, column)}' in the "
                                                          f"units row; row {FIRST_DATA_ROW - 1} holds the units and "
                                                          f"the data start in row {FIRST_DATA_ROW} (was a row "
                                                          "deleted above?).")
    keys, seen = [], {}
    allowed_of = {"sex": SEXES, "benefit": BENEFITS, FB: labels}
    whole = {dim: f"a whole number ({dim})" for dim in sheet.index}   # (said when a cell is not one)
    for row in cells.data_rows:
        key = []
        for column, dim in enumerate(sheet.index, start=1):
            value = cells.get(row, column)
            if dim in ("sex", "benefit", FB):
                allowed = allowed_of[dim]
                text = str(value).strip() if value is not None else ""
                if text not in allowed:
                    what = "a benefit of the Floor sheet" if dim == FB else f"a {dim} code"
                    _fail(cells.name, row, column, f"{_header(dim)} '{value if value is not None else ''}' is not "
                                                   f"{what}; expected one of {', '.join(allowed)}.")
                key.append(text)
            else:
                number = _number(cells, row, column, whole[dim], True)
                if number != round(number):
                    _fail(cells.name, row, column, f"{dim} {number} is not a whole number.")
                if number < 0:
                    _fail(cells.name, row, column, f"{dim} {number:g} is negative; expected a whole number >= 0.")
                key.append(int(number))
        key = tuple(key)
        if key in seen:
            _fail(cells.name, row, 1, f"duplicate row for "
                                      f"{', '.join(f'{_header(d)}={k}' for d, k in zip(sheet.index, key))} "
                                      f"(also row {seen[key]}).")
        seen[key] = row
        keys.append((row, key))
    _refuse_blank_cells(cells, sheet, field_columns, [row for row, _ in keys])
    # ordering of whole-number index columns within their groups: ages and years must not go backwards
    out = {}
    grid = None   # row numbers on the table's grid, for the columns that have a value in every row
    for name, column in field_columns.items():
        what = f"a number ({_units(name)})"
        values = [(key, _number(cells, row, column, what, False), row) for row, key in keys]
        present = [(k, v, r) for k, v, r in values if v is not None]
        if not present:   # an empty column: where it is, should the input be required
            locations[name] = {"sheet": cells.name, "column": column, "empty": True}
            continue
        sparse = _field(name).fill is not None and sheet.name in SPARSE
        if len(present) == len(keys):
            if grid is None:
                grid = _on_grid(sheet.index, [key for key, _, _ in present], np.arange(len(present), dtype=float))
            da = _fill_grid(grid, np.array([v for _, v, _ in present]), name)
        else:
            da = _on_grid(sheet.index, [key for key, _, _ in present], [v for _, v, _ in present], name)
        if sparse:
            da = da.fillna(_field(name).fill)
        elif bool(da.isnull().any()):
            missing = np.argwhere(da.isnull().values)[0]
            where = {d: getattr(da[d].values[i], "item", lambda v=da[d].values[i]: v)() for d, i in zip(da.dims, missing)}
            raise InputError(f"{_ref(cells.name, 2, column)}: no row for {', '.join(f'{d}={v}' for d, v in where.items())} in "
                             f"column '{name}'; every combination of {', '.join(sheet.index)} needs a row.")
        out[name] = da
        locations[name] = {"sheet": cells.name, "column": column, "rows": {k: r for r, k in keys},
                           "index": sheet.index}
    _check_order(cells, sheet, keys)
    return out


BLANK_CELLS_NAMED = 10   # the blank cells of a table one error names; the others are counted


def _refuse_blank_cells(cells: _Cells, sheet: Sheet, field_columns: dict[str, int], rows: list[int]) -> None:
    """Refuse the blank cells of the columns that need a value in every row (all but those of a sparse sheet,
    whose blank cells take the input's fill value, and a column left empty, said later if the input is required)
    in one message: the first blank cell (column by column in sheet order, down each column) locates it, the next
    ones follow, up to :data:`BLANK_CELLS_NAMED` cells in all, and the rest are counted with the columns they
    are in. A template is filled in one pass, not one error a run (as the scalar sheets' blank inputs are said)."""
    blank = []   # (row, column, name) in sheet order
    for name, column in field_columns.items():
        if _field(name).fill is not None and sheet.name in SPARSE:
            continue
        empty = [row for row in rows if cells.is_blank(row, column)]
        if len(empty) < len(rows):
            blank.extend((row, column, name) for row in empty)
    if not blank:
        return
    (row, column, name), others = blank[0], blank[1:BLANK_CELLS_NAMED]
    rest = blank[BLANK_CELLS_NAMED:]
    also = ", ".join(f"{_ref(cells.name, r, c)} ('{n}')" for r, c, n in others)
    if rest:
        columns = [f"'{n}'" for n in dict.fromkeys(n for _, _, n in rest)]
        also += (f" and {len(rest):,} more blank cell{'s' if len(rest) > 1 else ''} (in column"
                 f"{'s' if len(columns) > 1 else ''} {', '.join(columns)}; {len(blank):,} in all)")
    _fail(cells.name, row, column, f"the cell is blank; '{name}' needs a value in every row"
                                   f"{'; also blank: ' + also if also else ''}.")


def _on_grid(index, keys: list[tuple], values, name: str = "row") -> xr.DataArray:
    """Values of table rows keyed by their index columns as an array on the grid of those columns (the
    sorted distinct values of each, as pandas lays out an indexed column), NaN where no row."""
    frame = pd.DataFrame({d: [key[i] for key in keys] for i, d in enumerate(index)})
    frame[name] = values
    return frame.set_index(list(index))[name].to_xarray()


def _fill_grid(grid: xr.DataArray, values: np.ndarray, name: str) -> xr.DataArray:
    """The array :func:`_on_grid` gives for ``values`` (one per row), from the grid of row numbers of the
    same rows: the grid is laid out once per table, not once per column."""
    rows = grid.values
    data = np.full(rows.shape, np.nan)
    held = ~np.isnan(rows)
    data[held] = values[rows[held].astype(np.intp)]
    return grid.copy(data=data).rename(name)


def _check_order(cells: _Cells, sheet: Sheet, keys):
    """Whole-number index columns (year, age, service) must increase by one within each group of the
    other index columns: no gaps, nothing out of order."""
    numeric = [i for i, d in enumerate(sheet.index) if d in ("year", "past_year", "age", "service", "cohort")]
    if not numeric:
        return
    last = numeric[-1]
    dim = sheet.index[last]
    sparse = sheet.name in SPARSE
    for check_gaps in (False, True):  # report rows out of order before gaps
        previous = {}
        for row, key in keys:
            group = key[:last] + key[last + 1:]
            value = key[last]
            if group in previous:
                before = previous[group]
                if value <= before and not check_gaps:
                    _fail(cells.name, row, last + 1, f"{dim} {value} after {dim} {before} is out of order; {dim}s "
                                                     "must increase down the table.")
                if check_gaps and value != before + 1 and not sparse and dim != "cohort":
                    _fail(cells.name, row, last + 1, f"{dim} {value} after {dim} {before} leaves a gap; {dim}s "
                                                     "must be consecutive.")
            previous[group] = value


def _field_of(error: InputError) -> str:
    """The input an error is about: its ``field``, else the first 'group.field' its message names."""
    return error.field or next(iter(re.findall(r"Input '(\w+\.\w+)'", str(error))), "")


def _locate(error: InputError, locations: dict) -> InputError:
    """Rewrite an input object's error with the Sheet!Cell of the offending value when known."""
    field = _field_of(error)
    name = field.split(".")[-1]
    found = locations.get(field) or locations.get(name)  # floor inputs: "floor.min_age"
    if not found:
        return error
    message = str(error)
    if not error.where:  # "Input 'group.field' at age=0, sex=male: ..."
        cell = re.match(r"Input '[\w.]+' at ((?:\w+=[^,:]+(?:, )?)+):", message)
        pairs = (p.split("=", 1) for p in cell.group(1).split(", ")) if cell else ()
        error.where = {k: int(v) if v.lstrip("-").isdigit() else v for k, v in pairs}
    candidates = found if isinstance(found, list) else [found]  # an input split over two sheets
    for where in candidates:
        if where.get("empty"):   # a column left empty: its first cell
            return InputError(f"{_ref(where['sheet'], FIRST_DATA_ROW, where['column'])}: {message} (the column is "
                              "empty)", error.field, error.where)
        if "rows" not in where:
            return InputError(f"{_ref(where['sheet'], where['row'], where['column'])}: {message}", error.field,
                              error.where)
        if error.where:
            index = where["index"]
            wanted = {d: v for d, v in error.where.items() if d in index}
            for key, r in where["rows"].items():
                if all(key[index.index(d)] == v for d, v in wanted.items()):
                    return InputError(f"{_ref(where['sheet'], r, where['column'])}: {message}", error.field,
                                      error.where)
    where = candidates[0]
    return InputError(f"{_ref(where['sheet'], 2, where['column'])}: {message}", error.field, error.where)


NOTES_PREFIX = "Notes"                              # the user's own sheets: accepted and ignored
OPTIONAL_SHEETS = ("Scenarios", "Stochastic", "Reforms",  # read by the sensitivity, stochastic, compare commands
                   "Analysis of change",                    # and by the change command
                   "Report text")                           # and by the report command (actuary.io.report_text)


MAX_SHEET_CELLS = 5_000_000   # cells of one sheet: above the largest table a valuation can have (see WorkbookReader)


class WorkbookReader:
    """An input workbook opened for reading after its container has passed the checks of
    :mod:`actuary.io.safety` (size, compression ratio, parts, no XML entities); macro-enabled
    workbooks are refused. ``sheet(name, ...)`` streams one sheet into :class:`_Cells`. Use as a
    context manager; any parse error becomes an :class:`InputError` naming the file."""

    def __init__(self, path):
        path = Path(path)
        self.path, self.name = path, path.name
        if not path.exists():
            raise InputError(f"{path}: no such file.")
        if path.is_dir():
            raise InputError(f"{path}: is a folder; expected a workbook (.xlsx). (A case folder is read by the "
                             f"valuation commands; a workbook of one: actuary convert {path} {path}.xlsx.)")
        if path.suffix.lower() in (".xlsm", ".xltm", ".xlsb", ".xls"):
            raise InputError(f"{path.name}: a {path.suffix} workbook is refused; actuary reads .xlsx workbooks only "
                             "and never runs macros. Save the workbook as 'Excel Workbook (.xlsx)'.")
        data = regular_file_bytes(path, MAX_FILE_BYTES, path.name, " (a valuation workbook is a few MB)",
                                  follow_links=True)
        self.sha256 = hashlib.sha256(data).hexdigest()
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise InputError(f"{path.name}: not an Excel workbook (.xlsx); expected a file saved by Excel or "
                             "LibreOffice as .xlsx.")
        self.scans = check_container(path, data)
        for part, scan in self.scans.items():
            if scan.cells > MAX_SHEET_CELLS:
                raise InputError(f"{path.name}: part {part} holds {scan.cells:,} cells; at most {MAX_SHEET_CELLS:,} "
                                 "are read in a sheet (the largest table a valuation can have holds about "
                                 "1,300,000; Demoland's about 30,000).")
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise InputError(f"{path.name}: the workbook contains macros (vbaProject.bin); macros never run. Save "
                             "it as a macro-free .xlsx workbook.")
        if "xl/workbook.xml" not in names:
            raise InputError(f"{path.name}: not an Excel workbook (.xlsx): the archive has no xl/workbook.xml.")
        self.values = self.formulas = None
        self._data = data
        with self.guard():
            self.values = _open_workbook(io.BytesIO(data), data_only=True, read_only=True)
        self.sheetnames = list(self.values.sheetnames)

    @contextmanager
    def guard(self):
        """Turn what the parser raises on a damaged or hostile file into an InputError naming it."""
        try:
            yield
        except InputError:
            raise
        except Exception as error:  # openpyxl raises many types for damaged files
            refusal = xml_refusal(error, self.name)
            if refusal is not None:
                raise refusal from None
            raise InputError(f"{self.name}: the workbook cannot be read ({type(error).__name__}: {error}).") from None

    def sheet(self, name: str, first_data_row: int, max_data_rows: int, too_many: str = "",
              width: int | None = None, stop_after: int | None = None) -> _Cells:
        with self.guard():
            if getattr(self.values[name], "sheet_state", "visible") == "veryHidden":
                raise InputError(f"{self.name}: sheet '{name}' is very hidden (Excel's menus cannot show it; only a "
                                 "macro or an edit of the file's XML can): its inputs would be read unseen. Save the "
                                 "workbook with the sheet visible, or type its values into a visible copy.")
        return self.read_rows(name, lambda rows, merged: _Cells(name, rows, first_data_row, max_data_rows, too_many,
                                                                width, stop_after, merged))

    def read_rows(self, name: str, consume):
        """``consume(rows, merged)`` of sheet ``name``: its rows as (values, formulas) pairs, from row 1 (saved values;
        formulas as openpyxl reads them, for the cells that have one), and its merged ranges (as the container check
        found them; None if unknown). ``consume`` is called again from the start if the streamed reader cannot read
        the part as openpyxl does (it stops before any row that could differ). A stored value that cannot be read
        is an :class:`InputError` naming its cell."""
        with self.guard():
            values = self.values[name]
            scan = self._scan(values)
            merged = None if scan is None else scan.merged
            try:
                try:
                    return consume(self._rows(values, scan), merged)
                except Unsupported:   # something the streamed reader does not read as openpyxl does
                    formulas = self._formulas_sheet(name) if scan is None or scan.formulas or scan.malformed else None
                    return consume(_openpyxl_rows(values, formulas), merged)
            except InputError:
                raise
            except (IndexError, ValueError, KeyError, TypeError, OverflowError):
                bad = self._bad_cell(values)
                if bad is None:
                    raise
                ref, value, expected = bad
                raise InputError(f"{name}!{ref}: the stored value '{value}' cannot be read; expected {expected}. "
                                 "The workbook was not saved by Excel or LibreOffice, or is damaged: type the "
                                 "value again and save it.") from None

    def _rows(self, ws, scan):
        """The sheet's rows read by :func:`actuary.io.sheet_rows.sheet_rows` (values and formulas in one streamed
        pass); raises :class:`Unsupported` where openpyxl must read it (a part the container check could not
        place or parse)."""
        part = getattr(ws, "_worksheet_path", None)
        if scan is None or scan.malformed or not isinstance(part, str):
            raise Unsupported("the part was not scanned, or does not parse")
        book = self.values
        with zipfile.ZipFile(io.BytesIO(self._data)) as archive, archive.open(part.lstrip("/")) as stream:
            yield from sheet_rows(stream, ws._shared_strings, book.epoch, book._date_formats, book._timedelta_formats,
                                  scan.formulas)

    def _scan(self, ws):
        """What the container check found in a sheet's part (:class:`actuary.io.safety.PartScan`); None if it
        cannot be told which part it is."""
        part = getattr(ws, "_worksheet_path", None)   # openpyxl's read-only sheets know their part
        return self.scans.get(part.lstrip("/")) if isinstance(part, str) else None

    def _bad_cell(self, ws):
        """(cell, stored text, what was expected) of the first cell of a sheet whose stored value openpyxl cannot
        read (a shared-string index out of range, a number or TRUE/FALSE that is not one); None if none is found.
        Read streamed, as the container check reads."""
        from xml.parsers import expat

        from openpyxl.utils import column_index_from_string as column_index

        part = getattr(ws, "_worksheet_path", None)
        if not isinstance(part, str):
            return None
        strings = len(getattr(ws, "_shared_strings", ()) or ())
        found, state = [], {"row": 0, "column": 0, "cell": None, "text": None}

        def start(tag, attrs):
            local = tag.rpartition(" ")[2]
            if local == "row":
                try:
                    state["row"] = int(float(attrs["r"])) if "r" in attrs else state["row"] + 1
                except ValueError:
                    state["row"] += 1
                state["column"] = 0
            elif local == "c":
                ref = attrs.get("r")
                match = re.fullmatch(r"([A-Z]{1,3})(\d+)", ref or "")
                state["column"] = column_index(match.group(1)) if match else state["column"] + 1
                state["cell"] = ref if match else f"{get_column_letter(min(state['column'], 18278))}{state['row']}"
                state["type"] = attrs.get("t", "n")
            elif local == "v" and state["cell"] is not None:
                state["text"] = []

        def text(data):
            if state["text"] is not None:
                state["text"].append(data)

        def end(tag):
            if tag.rpartition(" ")[2] != "v" or state["text"] is None:
                return
            value, state["text"] = "".join(state["text"]), None
            kind = state["type"]
            if kind == "s":
                ok = re.fullmatch(r"\d{1,9}", value.strip()) and int(value) < strings
                expected = f"the index of a shared string (0..{strings - 1})" if strings else \
                    "the index of a shared string (the workbook has none)"
            elif kind == "b":
                ok, expected = value.strip() in ("0", "1"), "0 or 1 (FALSE or TRUE)"
            elif kind == "n":
                ok, expected = _PLAIN_NUMBER.fullmatch(value.strip()) is not None, "a number"
            else:
                ok = True
            if not ok:
                found.append((state["cell"], value[:100], expected))
                raise StopIteration

        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text

        with zipfile.ZipFile(io.BytesIO(self._data)) as archive:
            try:
                with archive.open(part.lstrip("/")) as stream:
                    while chunk := stream.read(256 * 1024):
                        parser.Parse(chunk, False)
            except (StopIteration, expat.ExpatError, KeyError):
                pass
        return found[0] if found else None

    def _formulas_sheet(self, name: str):
        """The sheet as formulas (the workbook opened a second time, only when a sheet may have formulas)."""
        if self.formulas is None:
            self.formulas = _open_workbook(io.BytesIO(self._data), data_only=False, read_only=True)
        return self.formulas[name]

    def close(self):
        for wb in (self.values, self.formulas):
            if wb is not None:
                wb.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def known_sheet(path_name: str, sheet: str, known: list[str]) -> None:
    """Refuse a sheet that is not part of an input workbook, suggesting the closest known name
    (sheets named Notes... are the user's own and accepted)."""
    if sheet in known or sheet.startswith(NOTES_PREFIX):
        return
    close = get_close_matches(sheet, known, n=1, cutoff=0.6) or get_close_matches(sheet.title(), known, n=1,
                                                                                      cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise InputError(f"{path_name}: sheet '{sheet}' is not part of a valuation workbook.{hint} The sheets are "
                     f"{', '.join(known)} (sheets named {NOTES_PREFIX}... are yours and are ignored). Rename or "
                     "remove it.")


def load_workbook(path):
    """Read and validate a valuation workbook; returns a :class:`actuary.Valuation` whose ``source``
    records the file name and SHA-256 of the bytes read, and where there are any, the optional inputs without a
    row (``rows_absent``) and the years of by-year rows outside the projection, not used (``years_outside``); its
    ``report_text`` is the Report text sheet (:func:`actuary.io.report_text.report_text_of`, checked as the inputs are),
    its ``carried_sheets`` the saved values of the sheets other commands read and of the Notes sheets
    (:func:`actuary.io.carried.carried_sheets_of`), written again by ``to_workbook``.

    Any problem raises :class:`actuary.InputError` naming ``Sheet!Cell``, the value and what was expected.
    """
    from ..valuation import Valuation
    from .carried import carried_sheets_of
    from .report_text import report_text_of

    absent: list = []
    outside: list = []
    with cycle_collection_paused(), WorkbookReader(path) as reader:
        try:
            valuation = _load(reader, Valuation, absent, outside)
        except InputError as error:
            if not absent:
                raise
            # a default taken for a missing row may be what the error is about (a Settings horizon shorter than the
            # tables): say which rows were missing
            raise InputError(f"{error} (Note: the workbook has no row for {absent_rows_text(absent)}.)", error.field,
                             error.where) from None
        valuation.report_text = report_text_of(reader)   # the Report text sheet, carried with the case
        valuation.carried_sheets = carried_sheets_of(reader)   # and the sheets other commands read, the Notes
    valuation.source = {"input_file": reader.name, "input_sha256": reader.sha256, "sheets": list(reader.sheetnames)}
    if absent:
        valuation.source["rows_absent"] = absent
    if outside:
        valuation.source["years_outside"] = outside
    return valuation


def _expected_sheets(alone: bool) -> list[str]:
    """The sheets a workbook must have (the floor sheets are optional; a floor costing alone needs only
    its own sheets and Floor)."""
    sheets = [s for s in layout() if not s.name.endswith(" by year") and s.name not in FLOOR_SHEETS
              and s.name not in OPTIONAL_INPUT_SHEETS]
    if alone:
        sheets = [s for s in sheets if _without_scheme(s).fields] + [SHEETS["Floor"]]
    return [CONTENTS] + [s.name for s in sheets]


def absent_rows_text(absent) -> str:
    """The optional inputs without a row ('Sheet: field' entries), by sheet with their defaults: "Settings:
    money_unit (default millions); Scheme: indexation_cap (default none), flat_pension (default 0)"."""
    by_sheet: dict = {}
    for entry in absent:
        sheet, name = entry.split(": ", 1)
        default = _field(name).default
        shown = "none" if default is None else "no limit" if default == math.inf else _scalar_text(default)
        by_sheet.setdefault(sheet, []).append(f"{name} (default {shown})")
    return "; ".join(f"{sheet}: {', '.join(names)}" for sheet, names in by_sheet.items())


def _load(reader: WorkbookReader, Valuation, absent: list, outside: list):
    """The Valuation; ``absent`` receives the optional inputs of the Settings, Scheme, Economy and Behaviour sheets
    that have no row in the workbook, as 'Sheet: field' (they take their defaults; the template and every workbook
    actuary writes have a row for each), ``outside`` the years of by-year rows the projection does not cover
    (:func:`years_outside`)."""
    present = reader.sheetnames
    path = reader.path
    expected = _expected_sheets(False)
    for sheet in present:
        known_sheet(path.name, sheet, [CONTENTS, *SHEETS, *OPTIONAL_SHEETS])
    missing = [s for s in expected if s not in present]
    if len(missing) == len(expected):
        raise InputError(f"{path.name}: the workbook has none of the valuation sheets; expected "
                         f"{', '.join(expected)}. Start from 'actuary template'.")

    def require(sheets):
        missing = [s for s in sheets if s not in present]
        if missing:
            raise InputError(f"{path.name}: sheet '{missing[0]}' is missing; a valuation workbook has the sheets "
                             f"{', '.join(sheets)}.")

    require([CONTENTS, "Settings"])

    contents = reader.sheet(CONTENTS, first_data_row=4, max_data_rows=0, stop_after=3)
    case_name = contents.get(3, 2) if str(contents.get(3, 1) or "").strip() == "case_name" else None
    locations: dict = {}
    groups = {group: {} for group in FIELDS}
    alone = False
    missing: list = []   # (group, sheet, field) of optional inputs without a row
    blank: list = []     # required scalar inputs left blank, said together
    for group, sheet_name in SCALAR_SHEETS.items():  # Settings first: they say which sheets there are
        if sheet_name not in present:  # (a floor costing alone, checked below)
            continue
        sheet = SHEETS[sheet_name]
        cells = reader.sheet(sheet_name, 3, len(sheet.fields), f" (one per input: {', '.join(sheet.fields)})",
                             width=4)
        groups[group].update(_read_scalars(cells, sheet, locations, blank))
        for field_name in sheet.fields:  # a required input whose row is missing: where it belongs
            field = _field(field_name)
            if field_name not in locations and field.default is not REQUIRED:
                missing.append((group, sheet_name, field_name))
            if field.default is REQUIRED and not field.dims and field_name not in locations:
                row = max(cells.data_rows, default=2) + 1
                _fail(sheet_name, row, 1, f"no row for '{field_name}', which is required "
                                          f"({field.units or field.doc}); add it (columns: field, value, units, "
                                          "notes).")
        if group == "settings":
            alone = groups["settings"].get("scheme", FIELDS["settings"]["scheme"].default) == "no"
            require(_expected_sheets(alone))
        # the rows missing so far, said if the read fails (a floor costing alone has no use for the scheme's inputs)
        absent[:] = [f"{where}: {name}" for g, where, name in missing if not alone or without_scheme(g, name)]
    if blank:
        (first, name, units), others = blank[0], blank[1:]
        also = ("; also blank and required: " + ", ".join(f"{ref} '{n}' ({u})" for ref, n, u in others)
                if others else "")
        raise InputError(f"{first}: the cell is blank; '{name}' is required ({units}){also}.")
    settings = dict(groups["settings"])
    for key in ("valuation_year", "horizon", "min_age", "max_age", "max_service"):
        if key not in settings:
            default = FIELDS["settings"][key].default
            if default is REQUIRED:
                where = locations.get(key)
                raise InputError(f"{_ref('Settings', where['row'], 2) if where else 'Settings'}: the cell is blank; "
                                 f"'{key}' is required.")
            settings[key] = default
    try:  # the layout limits below come from the settings: check them first
        from ..inputs import Inputs

        Inputs.check_settings(groups["settings"])
    except InputError as error:
        raise _locate(error, locations) from None
    widths = {}
    for sheet in layout():
        if not sheet.index or sheet.name not in present or sheet.name in FLOOR_SHEETS:
            continue
        maximum = _table_rows(sheet, settings)
        cells = reader.sheet(sheet.name, FIRST_DATA_ROW, maximum,
                             f" (one per {' x '.join(sheet.index)} for this valuation)")
        widths[sheet.name] = len(_trim(cells.row(2)))
        for field_name, da in _read_table(cells, sheet, settings, locations).items():
            group = GROUP_OF[field_name]
            if field_name in groups[group]:
                raise InputError(f"{_ref(sheet.name, 2, locations[field_name]['column'])}: column '{field_name}' is "
                                 "also given in another sheet; give each "
                                 "input once (year-varying inputs only in the '... by year' sheet).")
            groups[group][field_name] = da
    groups["floor"] = _read_floor(reader, present, settings, locations)
    _check_years_cover(locations, settings)
    national = settings.get("national_population", FIELDS["settings"]["national_population"].default) == "yes"
    absent_columns = []   # required inputs whose column is missing: named all at once, each with its sheet
    for group, fields in FIELDS.items():
        if group == "floor":  # (required per benefit: checked cell by cell)
            continue
        for field_name, field in fields.items():
            if alone and not without_scheme(group, field_name):
                continue
            required = field.default is REQUIRED or (national and (group, field_name) in NATIONAL_REQUIRED)
            if required and field_name not in groups[group] and field.dims:
                sheet = next(t for t in TABLES if field_name in t.fields)
                absent_columns.append((sheet.name, field_name, field.units or field.doc))
    if absent_columns:
        def place(sheet_name, field_name):   # an empty column at its cells, a missing one after the sheet's last
            where = locations.get(field_name)
            if isinstance(where, dict) and where.get("empty") and where.get("sheet") == sheet_name:
                return _ref(sheet_name, FIRST_DATA_ROW, where["column"]), "is empty"
            return _ref(sheet_name, 2, widths.get(sheet_name, 0) + 1), "is missing"

        (sheet_name, field_name, units), others = absent_columns[0], absent_columns[1:]
        also = ("; also: " + ", ".join(f"'{n}' in '{t}' ({place(t, n)[1]}; {u})" for t, n, u in others)
                if others else "")
        ref, state = place(sheet_name, field_name)
        raise InputError(f"{ref}: column '{field_name}' {state}; the sheet '{sheet_name}' needs it ({units}){also}.")
    from ..projection import build_kernel_inputs, mortality_table, population_kernel_inputs

    try:
        valuation = Valuation(**groups, name=str(case_name).strip() if not _blank(case_name) else Path(path).stem)
        # the checks made when projecting, here while cells are known
        if valuation.inputs.has_scheme:
            build_kernel_inputs(valuation.inputs)
        else:
            population_kernel_inputs(valuation.inputs, mortality_table(valuation.inputs))
    except InputError as error:
        located = _locate(error, locations)
        if located is error:   # an input the workbook does not have (a column removed): name its column
            located = _missing_column(error, widths)
        if located is error:   # or its row (a row of Settings, Scheme, Economy or Behaviour removed)
            located = _missing_row(error, locations)
        raise located from None
    # (a floor costing alone has no use for the scheme's inputs)
    absent[:] = [f"{sheet}: {name}" for group, sheet, name in missing if not alone or without_scheme(group, name)]
    outside[:] = years_outside(locations, settings)
    return valuation


def _missing_column(error: InputError, widths: dict) -> InputError:
    """An error about an input of a table sheet that the workbook does not have (e.g. a column required
    only with some options), prefixed with the place of its missing column (after the sheet's last)."""
    field = _field_of(error)
    name = field.split(".")[-1]
    sheet = next((t for t in TABLES if name in t.fields), None)
    if sheet is None:
        return error
    return InputError(f"{_ref(sheet.name, 2, widths.get(sheet.name, 0) + 1)}: {error} (column '{name}' of the "
                      f"sheet '{sheet.name}')", error.field, error.where)


def _missing_row(error: InputError, locations: dict) -> InputError:
    """An error about an input of a one-value-per-row sheet (Settings, Scheme, Economy, Behaviour)
    that the workbook does not have, prefixed with the place of its missing row (after the sheet's
    last)."""
    field = _field_of(error)
    group, _, name = field.rpartition(".")
    sheet = SCALAR_SHEETS.get(group)
    if sheet is None:
        return error
    rows = [w["row"] for found in locations.values() for w in (found if isinstance(found, list) else [found])
            if isinstance(w, dict) and w.get("sheet") == sheet and "row" in w]
    return InputError(f"{_ref(sheet, max(rows, default=2) + 1, 1)}: {error} (the row '{name}' of the sheet '{sheet}' "
                      "is missing or empty)", error.field, error.where)


def _read_floor(reader: WorkbookReader, present: list[str], settings: dict, locations: dict) -> dict:
    """The floor inputs from the Floor, Floor take-up and Floor eligibility sheets ({} without a floor).
    take_up comes from the Floor sheet or, for the benefits listed there, year by year from Floor take-up."""
    if "Floor" not in present:
        for name in FLOOR_SHEETS[1:]:
            if name in present:
                raise InputError(f"sheet '{name}' needs the Floor sheet, which names the benefits; add it or remove "
                                 f"'{name}'.")
        return {}
    labels, values = _read_records(reader.sheet("Floor", FIRST_DATA_ROW, MAX_FLOOR_BENEFITS,
                                                " (benefits of the floor)"), SHEETS["Floor"], locations)

    def floor_table(name):
        maximum = _table_rows(SHEETS[name], settings, labels)
        return reader.sheet(name, FIRST_DATA_ROW, maximum, " (one per " + " x ".join(map(_header, SHEETS[name].index))
                            + (" for this valuation)" if labels else ": the Floor sheet names no benefit)"))

    if not labels:
        for name in FLOOR_SHEETS[1:]:
            if name in present:
                floor_table(name)  # refuses rows
        return {}
    out = {k: v for k, v in values.items() if k != "take_up"}
    phased = {}
    if "Floor take-up" in present:
        phased = _read_table(floor_table("Floor take-up"), SHEETS["Floor take-up"], settings, locations, labels)
    if phased:
        by_year = phased["take_up"]
        listed = [str(b) for b in by_year[FB].values]
        column = values.get("take_up")
        where = locations.get("floor.take_up")
        for b in listed:
            if column is not None and not _blank(column.sel({FB: b}).item()):
                _fail("Floor", where["rows"][(b,)], where["column"],
                      f"take_up of '{b}' is also given year by year in the 'Floor take-up' sheet; give it in one "
                      "place (leave this cell blank).")
        constant = [1.0 if column is None or _blank(column.sel({FB: b}).item()) else float(column.sel({FB: b}))
                    for b in labels]
        years = by_year["year"].values
        table = np.broadcast_to(np.array(constant), (years.size, len(labels))).copy()
        for b in listed:
            table[:, labels.index(b)] = by_year.sel({FB: b}).values
        out["take_up"] = xr.DataArray(table, dims=("year", FB), coords={"year": years, FB: labels})
        locations["floor.take_up"] = [locations.pop("take_up")] + ([where] if where else [])
    elif "take_up" in values:
        out["take_up"] = values["take_up"]
    if "Floor eligibility" in present:
        out.update(_read_table(floor_table("Floor eligibility"), SHEETS["Floor eligibility"], settings, locations, labels))
    return out


def _read_records(cells: _Cells, sheet: Sheet, locations: dict) -> tuple[list[str], dict]:
    """A records sheet: the labels (first column) and one DataArray per column given (None for blank cells;
    numbers parsed, codes checked against their list, required cells filled), each cell located."""
    from ..floor import NAME

    group = FIELDS["floor"]
    headers, columns = _columns(cells, sheet)
    first = _header(sheet.index[0])
    labels, rows = [], {}
    for row in cells.data_rows:
        value = cells.get(row, 1)
        label = str(value).strip() if value is not None else ""
        if not label:
            _fail(cells.name, row, 1, f"the cell is blank; expected the {first}'s name.")
        if not NAME.fullmatch(label):
            _fail(cells.name, row, 1, f"name '{label}' is not allowed; expected a name starting with a letter, of "
                                      "letters, digits, spaces and _ . ( ) -, at most 40 characters.")
        if label in rows:
            _fail(cells.name, row, 1, f"{first} '{label}' is listed twice (also in row {rows[label]}).")
        rows[label] = row
        labels.append(label)
    for name in ("kind", "amount"):
        if labels and name not in columns:
            _fail(cells.name, 2, len(headers) + 1, f"column '{name}' is missing; every benefit needs it "
                                                   f"({group[name].units or group[name].doc}).")
    values = {}
    for name, column in columns.items():
        field = group[name]
        entries = []
        for label in labels:
            row = rows[label]
            value = cells.get(row, column)
            if _blank(value):
                if field.default is REQUIRED:
                    _fail(cells.name, row, column, f"the cell is blank; '{name}' is required for every {first}.")
                entries.append(None)
            elif field.choices:
                text = str(value).strip()
                if text not in field.choices:
                    _fail(cells.name, row, column, f"value '{value}' is not an option for {name}; expected one of "
                                                   f"{', '.join(field.choices)}.")
                entries.append(text)
            else:
                entries.append(_number(cells, row, column, f"a number ({_record_units(field)})", False))
        values[name] = xr.DataArray(np.array(entries, dtype=object), dims=FB, coords={FB: labels})
        locations[f"floor.{name}"] = {"sheet": cells.name, "column": column, "rows": {(b,): rows[b] for b in labels},
                                      "index": (FB,)}
    return labels, values
