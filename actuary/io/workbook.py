"""The valuation workbook: inputs laid out like the assumption tables of a valuation report.

Layout (generated from :data:`actuary.inputs.FIELDS`, so every input has exactly one home):
- ``Contents``: what each sheet holds.
- Scalar sheets (``Settings``, ``Scheme``, ``Economy``, ``Behaviour``, ``Initial state``): one row
  per input with columns field | value | units | notes.
- Table sheets: row 1 a title, row 2 the column headers (index columns such as year, sex, age,
  then one column per input, then notes), row 3 the units, data from row 4. A table whose inputs
  change from year to year goes to its ``... by year`` sheet, which has a year column in front.

Reading checks every cell and reports the first problem as ``Sheet!Cell: value ... expected ...``
(an :class:`actuary.InputError`); range checks made later by the input objects are mapped back to
their cell too. Formulas are read through their cached values; a formula without one is an error.
Macro-enabled workbooks are refused (macros never run).
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from openpyxl import Workbook, load_workbook as _open_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..inputs import BENEFITS, FIELDS, NATIONAL_REQUIRED, REQUIRED, Field
from .files import atomic_path
from ..validation import SEXES, InputError

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=12)
FIRST_DATA_ROW = 4
MAX_HISTORY_YEARS = 300   # rows of the Economic history sheet
OPTIONAL = ("Economic history",)   # sheets of optional inputs only, which older workbooks do not have


@dataclass(frozen=True)
class Sheet:
    name: str
    index: tuple[str, ...]          # () for a scalar sheet
    fields: tuple[str, ...]
    description: str
    population_ages: bool = False


SCALAR_SHEETS = {"settings": "Settings", "scheme": "Scheme", "economy": "Economy", "behaviour": "Behaviour",
                 "initial": "Initial state"}

TABLES = [
    Sheet("Schedules", ("year",), ("contribution_rate", "collection_rate", "subsidy_share_of_benefits",
                                   "subsidy_share_of_wages", "refund_contribution_rate", "refund_interest",
                                   "inflation", "real_wage_growth", "nominal_return", "unemployment_rate",
                                   "productivity_growth", "sex_ratio_at_birth", "entrant_growth"),
          "Year-dependent provisions and economic assumptions (years in rows)"),
    Sheet("Retirement ages", ("year", "sex"), ("normal_retirement_age", "early_retirement_age"),
          "Normal and early retirement ages by year and sex"),
    Sheet("Economic history", ("past_year",), ("past_inflation", "past_real_wage_growth"),
          "Inflation and real wage growth of the years before the valuation year (the last row is the year before it)"),
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
]

GROUP_OF = {name: group for group, fields in FIELDS.items() for name in fields}


def _by_year(sheet: Sheet) -> Sheet:
    return Sheet(f"{sheet.name} by year", ("year",) + sheet.index, sheet.fields,
                 f"{sheet.description}, where they change from year to year", sheet.population_ages)


def layout() -> list[Sheet]:
    """Every sheet of the workbook, scalar sheets first."""
    sheets = [Sheet(name, (), tuple(k for k, f in FIELDS[group].items() if not f.dims or group == "settings"),
                    f"{name}: one row per input") for group, name in SCALAR_SHEETS.items()]
    for table in TABLES:
        sheets.append(table)
        if "year" not in table.index and any("year" in FIELDS[GROUP_OF[f]][f].dims for f in table.fields):
            sheets.append(_by_year(table))
    return sheets


SHEETS = {sheet.name: sheet for sheet in layout()}
CONTENTS = "Contents"


def _field(name: str) -> Field:
    return FIELDS[GROUP_OF[name]][name]


def _units(name: str) -> str:
    field = _field(name)
    return field.units or field.kind


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
    headers = list(sheet.index) + list(sheet.fields) + ["notes"]
    for column, header in enumerate(headers, start=1):
        ws.cell(row=2, column=column, value=header).font = HEADER_FONT
        ws.cell(row=3, column=column, value="" if header in sheet.index or header == "notes" else _units(header))
        ws.column_dimensions[get_column_letter(column)].width = max(12, len(header) + 2)
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
        if sparse and not any(values[name][i] != 0 for name in values):
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
        choices = {"sex": SEXES, "benefit": BENEFITS}.get(dim)
        if choices:
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


def write_workbook(valuation, path, blank: bool = False) -> None:
    """Write the inputs of ``valuation`` (only the fields it was given; others keep their defaults),
    or a blank template laid out for its coordinates when ``blank``."""
    inputs = valuation.inputs
    coords = inputs.coords
    given = set() if blank else {name for group in valuation.raw.values() for name in group}
    given |= {"valuation_year", "horizon", "min_age", "max_age", "max_service"}  # define the layout
    wb = Workbook()
    contents = wb.active
    contents.title = CONTENTS
    _title(contents, f"actuary valuation workbook: {valuation.name}")
    contents.cell(row=2, column=1, value="sheet").font = HEADER_FONT
    contents.cell(row=2, column=2, value="contents").font = HEADER_FONT
    contents.cell(row=3, column=1, value="case_name")
    contents.cell(row=3, column=2, value=valuation.name).fill = INPUT_FILL
    contents.column_dimensions["A"].width = 30
    contents.column_dimensions["B"].width = 110
    row = 4
    values_by_name = {name: value for group in FIELDS for name, value in getattr(inputs, group).items()}
    for sheet in layout():
        if sheet.index:
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
            sparse = sheet.name in ("Insured", "Pensioners")
            _write_table_sheet(ws, sheet, {} if blank else columns, coords, sparse)
            if by_year:
                extra = SHEETS[f"{sheet.name} by year"]
                _write_table_sheet(wb.create_sheet(extra.name), extra, by_year, coords, False)
        else:
            group = next(g for g, n in SCALAR_SHEETS.items() if n == sheet.name)
            _write_scalar_sheet(wb.create_sheet(sheet.name), sheet, getattr(inputs, group) if group != "settings"
                                else inputs.settings, given)
        contents.cell(row=row, column=1, value=sheet.name)
        contents.cell(row=row, column=2, value=sheet.description)
        row += 1
    contents.cell(row=row + 1, column=1, value="conventions")
    contents.cell(row=row + 1, column=2, value=(
        "Yellow cells are inputs. Rates are annual and effective, shares are fractions (0.18 = 18%), money in "
        "the scheme's currency at the valuation date. Ages are completed ages at 1 January; the last age is an "
        "open group. Blank optional inputs take their defaults (see notes)."))
    _atomic_save(wb, Path(path))


def _atomic_save(wb, path) -> None:
    with atomic_path(path) as temporary:
        wb.save(temporary)


# --------------------------------------------------------------------------------------- reading

def _ref(sheet: str, row: int, column: int) -> str:
    return f"{sheet}!{get_column_letter(column)}{row}"


def _fail(sheet: str, row: int, column: int, text: str):
    raise InputError(f"{_ref(sheet, row, column)}: {text}")


class _Cells:
    """Cell values (cached for formulas) of one sheet, with formula checks."""

    def __init__(self, name, values_ws, formulas_ws):
        self.name = name
        self.rows = [list(r) for r in values_ws.iter_rows(values_only=True)]
        self.formula_rows = [list(r) for r in formulas_ws.iter_rows(values_only=True)]

    def get(self, row: int, column: int):
        """Value at 1-based (row, column); a formula without a cached value is an error."""
        try:
            value = self.rows[row - 1][column - 1]
        except IndexError:
            value = None
        try:
            formula = self.formula_rows[row - 1][column - 1]
        except IndexError:
            formula = None
        if value is None and isinstance(formula, str) and formula.startswith("="):
            _fail(self.name, row, column, f"formula {formula} has no calculated value saved; open the workbook in "
                                          "Excel or LibreOffice and save it so that the value is stored.")
        return value


def _number(cells: _Cells, row: int, column: int, what: str, required: bool):
    value = cells.get(row, column)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            _fail(cells.name, row, column, f"the cell is blank; expected {what}.")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(str(value).replace(",", "").strip())
        except ValueError:
            _fail(cells.name, row, column, f"value '{value}' is not a number; expected {what}.")
    value = float(value)
    if math.isnan(value):
        _fail(cells.name, row, column, f"value {value} is not a number; expected {what}.")
    return value


def _scalar_value(cells: _Cells, row: int, name: str, field: Field):
    value = cells.get(row, 2)
    if value is None or (isinstance(value, str) and not value.strip()):
        if field.default is REQUIRED:
            _fail(cells.name, row, 2, f"the cell is blank; '{name}' is required ({field.units or field.doc}).")
        return None
    if field.kind == "choice":
        if str(value).strip() not in field.choices:
            _fail(cells.name, row, 2, f"value '{value}' is not an option for {name}; expected one of "
                                      f"{', '.join(field.choices)}.")
        return str(value).strip()
    if isinstance(value, str) and value.strip().lower() in ("none", "inf", "infinity") and field.kind == "amount":
        return math.inf
    if field.dims:  # gap_horizons: a list of whole numbers
        parts = [p.strip() for p in str(value).split(",") if p.strip()]
        try:
            return tuple(int(p) for p in parts)
        except ValueError:
            _fail(cells.name, row, 2, f"value '{value}' is not a list of whole numbers (e.g. 10, 25, 50, 75).")
    number = _number(cells, row, 2, f"a number ({field.units or field.kind})", True)
    if field.kind == "int":
        if number != round(number):
            _fail(cells.name, row, 2, f"value {value} is not a whole number; expected {field.units or 'a count'}.")
        return int(number)
    return number


def _read_scalars(cells: _Cells, sheet: Sheet, locations: dict) -> dict:
    expected = ["field", "value", "units", "notes"]
    for column, header in enumerate(expected, start=1):
        if str(cells.get(2, column) or "").strip() != header:
            _fail(cells.name, 2, column, f"header '{cells.get(2, column)}'; expected '{header}' (columns: "
                                         f"{', '.join(expected)}).")
    out, seen = {}, {}
    for row in range(3, len(cells.rows) + 1):
        name = cells.get(row, 1)
        if name is None or not str(name).strip():
            if cells.get(row, 2) not in (None, ""):
                _fail(cells.name, row, 1, "a value without a field name.")
            continue
        name = str(name).strip()
        if name not in sheet.fields:
            _fail(cells.name, row, 1, f"'{name}' is not an input of this sheet; expected one of "
                                      f"{', '.join(sheet.fields)}.")
        if name in seen:
            _fail(cells.name, row, 1, f"'{name}' is listed twice (also in row {seen[name]}).")
        seen[name] = row
        value = _scalar_value(cells, row, name, _field(name))
        locations[name] = {"sheet": cells.name, "row": row, "column": 2}
        if value is not None:
            out[name] = value
    return out


def _coordinate_limits(settings: dict) -> dict:
    t0, horizon = settings["valuation_year"], settings["horizon"]
    return {"year": horizon, "past_year": MAX_HISTORY_YEARS, "sex": 2, "service": settings["max_service"] + 1,
            "benefit": len(BENEFITS),
            "scheme_age": settings["max_age"] - settings["min_age"] + 1, "population_age": settings["max_age"] + 1,
            "t0": t0}


def _read_table(cells: _Cells, sheet: Sheet, settings: dict, locations: dict) -> dict[str, xr.DataArray]:
    headers = [cells.get(2, c) for c in range(1, (len(cells.rows[1]) if len(cells.rows) > 1 else 0) + 1)]
    headers = [str(h).strip() if h is not None else "" for h in headers]
    while headers and headers[-1] == "":
        headers.pop()
    for column, dim in enumerate(sheet.index, start=1):
        if column > len(headers) or headers[column - 1] != dim:
            _fail(cells.name, 2, column, f"header '{headers[column - 1] if column <= len(headers) else ''}'; "
                                         f"expected the index column '{dim}' (the first columns are "
                                         f"{', '.join(sheet.index)}).")
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
    limits = _coordinate_limits(settings)
    maximum = 1
    for dim in sheet.index:
        maximum *= limits["population_age" if dim == "age" and sheet.population_ages else
                          "scheme_age" if dim == "age" else dim]
    data_rows = [r for r in range(FIRST_DATA_ROW, len(cells.rows) + 1)
                 if any(v not in (None, "") for v in cells.rows[r - 1][:len(headers)])]
    if len(data_rows) > maximum:
        raise InputError(f"{cells.name}!A{FIRST_DATA_ROW}: the table has {len(data_rows):,} data rows; expected at "
                         f"most {maximum:,} (one per {' x '.join(sheet.index)} for this valuation).")
    keys, seen = [], {}
    for row in data_rows:
        key = []
        for column, dim in enumerate(sheet.index, start=1):
            value = cells.get(row, column)
            if dim in ("sex", "benefit"):
                allowed = SEXES if dim == "sex" else BENEFITS
                text = str(value).strip() if value is not None else ""
                if text not in allowed:
                    _fail(cells.name, row, column, f"{dim} '{value if value is not None else ''}' is not a {dim} "
                                                   f"code; expected one of {', '.join(allowed)}.")
                key.append(text)
            else:
                number = _number(cells, row, column, f"a whole number ({dim})", True)
                if number != round(number):
                    _fail(cells.name, row, column, f"{dim} {number} is not a whole number.")
                key.append(int(number))
        key = tuple(key)
        if key in seen:
            _fail(cells.name, row, 1, f"duplicate row for {', '.join(f'{d}={k}' for d, k in zip(sheet.index, key))} "
                                      f"(also row {seen[key]}).")
        seen[key] = row
        keys.append((row, key))
    # ordering of whole-number index columns within their groups: ages and years must not go backwards
    out = {}
    for name, column in field_columns.items():
        values = [(key, _number(cells, row, column, f"a number ({_units(name)})", False), row) for row, key in keys]
        present = [(k, v, r) for k, v, r in values if v is not None]
        if not present:
            continue
        sparse = _field(name).fill is not None and sheet.name in ("Insured", "Pensioners")
        if len(present) < len(values) and not sparse:
            key, _, row = next((k, v, r) for k, v, r in values if v is None)
            _fail(cells.name, row, column, f"the cell is blank; '{name}' needs a value in every row.")
        coords = {d: [] for d in sheet.index}
        for key, value, row in present:
            for d, k in zip(sheet.index, key):
                coords[d].append(k)
        frame = pd.DataFrame(coords)
        frame[name] = [v for _, v, _ in present]
        da = frame.set_index(list(sheet.index))[name].to_xarray()
        if sparse:
            da = da.fillna(_field(name).fill)
        elif bool(da.isnull().any()):
            missing = np.argwhere(da.isnull().values)[0]
            where = {d: da[d].values[i].item() for d, i in zip(da.dims, missing)}
            raise InputError(f"{cells.name}: no row for {', '.join(f'{d}={v}' for d, v in where.items())} in "
                             f"column '{name}'; every combination of {', '.join(sheet.index)} needs a row.")
        out[name] = da
        locations[name] = {"sheet": cells.name, "column": column, "rows": {k: r for r, k in keys},
                           "index": sheet.index}
    _check_order(cells, sheet, keys)
    return out


def _check_order(cells: _Cells, sheet: Sheet, keys):
    """Whole-number index columns (year, age, service) must increase by one within each group of the
    other index columns: no gaps, nothing out of order."""
    numeric = [i for i, d in enumerate(sheet.index) if d in ("year", "past_year", "age", "service")]
    if not numeric:
        return
    last = numeric[-1]
    dim = sheet.index[last]
    sparse = sheet.name in ("Insured", "Pensioners")
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
                if check_gaps and value != before + 1 and not sparse:
                    _fail(cells.name, row, last + 1, f"{dim} {value} after {dim} {before} leaves a gap; {dim}s "
                                                     "must be consecutive.")
            previous[group] = value


def _locate(error: InputError, locations: dict) -> InputError:
    """Rewrite an input object's error with the Sheet!Cell of the offending value when known."""
    name = (error.field or "").split(".")[-1]
    where = locations.get(name)
    if not where:
        return error
    message = str(error)
    if "rows" not in where:
        return InputError(f"{_ref(where['sheet'], where['row'], where['column'])}: {message}", error.field, error.where)
    row = None
    if error.where:
        index = where["index"]
        wanted = {d: v for d, v in error.where.items() if d in index}
        for key, r in where["rows"].items():
            if all(key[index.index(d)] == v for d, v in wanted.items()):
                row = r
                break
    if row is None:
        return InputError(f"{_ref(where['sheet'], 2, where['column'])}: {message}", error.field, error.where)
    return InputError(f"{_ref(where['sheet'], row, where['column'])}: {message}", error.field, error.where)


def load_workbook(path):
    """Read and validate a valuation workbook; returns a :class:`actuary.Valuation`.

    Any problem raises :class:`actuary.InputError` naming ``Sheet!Cell``, the value and what was expected.
    """
    from ..valuation import Valuation

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file.")
    if path.suffix.lower() in (".xlsm", ".xltm", ".xlsb", ".xls"):
        raise InputError(f"{path.name}: a {path.suffix} workbook is refused; actuary reads .xlsx workbooks only and "
                         "never runs macros. Save the workbook as 'Excel Workbook (.xlsx)'.")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path.name}: not an Excel workbook (.xlsx); expected a file saved by Excel or LibreOffice "
                         "as .xlsx.")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise InputError(f"{path.name}: the workbook contains macros (vbaProject.bin); macros never run. Save it "
                         "as a macro-free .xlsx workbook.")
    if "xl/workbook.xml" not in names:
        raise InputError(f"{path.name}: not an Excel workbook (.xlsx): the archive has no xl/workbook.xml.")
    try:
        values_wb = _open_workbook(path, data_only=True, read_only=True)
        formulas_wb = _open_workbook(path, data_only=False, read_only=True)
    except Exception as error:  # openpyxl raises many types for damaged files
        raise InputError(f"{path.name}: the workbook cannot be read ({type(error).__name__}: {error}).") from None
    try:
        return _load(values_wb, formulas_wb, path, Valuation)
    finally:
        values_wb.close()
        formulas_wb.close()


def _load(values_wb, formulas_wb, path, Valuation):
    present = list(values_wb.sheetnames)
    expected = [CONTENTS] + [s.name for s in layout() if not s.name.endswith(" by year") and s.name not in OPTIONAL]
    unknown = [s for s in present if s not in SHEETS and s not in (CONTENTS, "Scenarios", "Analysis of change")]
    if unknown:
        raise InputError(f"{path.name}: sheet '{unknown[0]}' is not part of a valuation workbook; expected the "
                         f"sheets {', '.join(expected)} (and '... by year' variants). Remove or rename it.")
    missing = [s for s in expected if s not in present]
    if len(missing) == len(expected):
        raise InputError(f"{path.name}: the workbook has none of the valuation sheets; expected "
                         f"{', '.join(expected)}. Start from 'actuary template'.")
    if missing:
        raise InputError(f"{path.name}: sheet '{missing[0]}' is missing; a valuation workbook has the sheets "
                         f"{', '.join(expected)}.")

    def cells(name):
        return _Cells(name, values_wb[name], formulas_wb[name])

    contents = cells(CONTENTS)
    name = contents.get(3, 2) if str(contents.get(3, 1) or "").strip() == "case_name" else None
    locations: dict = {}
    groups = {group: {} for group in FIELDS}
    for group, sheet_name in SCALAR_SHEETS.items():
        groups[group].update(_read_scalars(cells(sheet_name), SHEETS[sheet_name], locations))
    settings = dict(groups["settings"])
    for key in ("valuation_year", "horizon", "min_age", "max_age", "max_service"):
        if key not in settings:
            default = FIELDS["settings"][key].default
            if default is REQUIRED:
                where = locations.get(key)
                raise InputError(f"{_ref('Settings', where['row'], 2) if where else 'Settings'}: the cell is blank; "
                                 f"'{key}' is required.")
            settings[key] = default
    for sheet in layout():
        if not sheet.index or sheet.name not in present:
            continue
        for field_name, da in _read_table(cells(sheet.name), sheet, settings, locations).items():
            group = GROUP_OF[field_name]
            if field_name in groups[group]:
                raise InputError(f"{sheet.name}: column '{field_name}' is also given in another sheet; give each "
                                 "input once (year-varying inputs only in the '... by year' sheet).")
            groups[group][field_name] = da
    national = settings.get("national_population", FIELDS["settings"]["national_population"].default) == "yes"
    for group, fields in FIELDS.items():  # a required input whose column is missing: name its sheet
        for field_name, field in fields.items():
            required = field.default is REQUIRED or (national and (group, field_name) in NATIONAL_REQUIRED)
            if required and field_name not in groups[group] and field.dims:
                sheet = next(t for t in TABLES if field_name in t.fields)
                rows = cells(sheet.name).rows
                width = len(rows[1]) if len(rows) > 1 else 1
                raise InputError(f"{_ref(sheet.name, 2, width + 1)}: column '{field_name}' is missing; the sheet "
                                 f"'{sheet.name}' needs it ({field.units or field.doc}).")
    try:
        return Valuation(**groups, name=str(name) if name else Path(path).stem)
    except InputError as error:
        raise _locate(error, locations) from None
