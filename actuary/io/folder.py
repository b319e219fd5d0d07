"""Read a valuation case folder: ``valuation.json`` (name, scalar inputs by group) and CSV tables.

Each CSV has index columns named after dimensions (year, sex, age, service, benefit, floor_benefit) and
value columns named ``group.field`` (e.g. ``demography.population``). A field may depend on fewer
dimensions than it could (it is broadcast); blank cells are dropped (a field that must cover an
age range says so in its error).

The social protection floor reads as the workbook's Floor sheets do: a table indexed by
``floor_benefit`` with the columns ``floor.kind``, ``floor.sex``, ``floor.min_age``, ``floor.max_age``
(blank: no upper limit), ``floor.amount``, ``floor.basis``, ``floor.indexation``, ``floor.take_up``,
``floor.test`` and ``floor.admin_share`` (the Floor sheet, one row per benefit, benefits in the order of
their rows); ``floor.take_up`` by ``year`` and ``floor_benefit`` (the Floor take-up sheet) and
``floor.eligibility`` by ``floor_benefit``, ``sex`` and ``age`` (the Floor eligibility sheet) in tables of
their own. A case without a scheme says ``"settings": {"scheme": "no"}`` in valuation.json. The actuary's text of
the report may be given in ``report_text.csv`` (:func:`read_folder_report_text`; not a table of inputs).

The folder is read as hostile, like a workbook (:mod:`actuary.io.safety`): only the folder's own regular files are
read (a symbolic link, FIFO, device or subfolder named ``*.csv`` or ``valuation.json`` is refused, never followed or
opened); valuation.json at most :data:`MAX_SPEC_BYTES`, each CSV at most :data:`MAX_TABLE_BYTES`, all together at
most :data:`MAX_FOLDER_BYTES`, at most :data:`MAX_TABLES` CSV files. A file is a table when its name ends in
``.csv`` in any case (``Population.CSV`` is read, not skipped); a file that looks like a table in another format
(``.tsv``, ``.xlsx``, ...: :data:`OTHER_TABLES`) is refused rather than left unread, so that a case is never half
read; files whose names start with "." or "~$" and other files (README.md, notes) are not read. valuation.json: UTF-8
JSON, an object of objects, a key given twice or NaN/Infinity refused. CSV: UTF-8 (a byte-order mark accepted),
comma separated, every line as many fields as the header, numbers written plainly (``0.05``, ``-1.5e3``,
``1,234,567``: a decimal comma, a percent sign or a formula refused); each error names the file, its line (the
header is line 1) and column (as a spreadsheet shows it: A, B, ...), the value and what was expected.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from ..inputs import FIELDS, KIND_WHAT
from .safety import file_kind, regular_file_bytes
from .workbook import year_spans
from ..validation import InputError

if TYPE_CHECKING:
    from ..valuation import Valuation
    from .report_text import ReportText

DIMENSIONS = ("year", "sex", "age", "service", "benefit", "floor_benefit")
INTEGER_DIMENSIONS = ("year", "age", "service")
SPEC = "valuation.json"
REPORT_TEXT = "report_text.csv"
MAX_SPEC_BYTES = 1024 ** 2                 # valuation.json: Demoland's is 3 kB
MAX_TABLE_BYTES = 20 * 1024 ** 2           # one CSV: Demoland's largest is 0.1 MB, all of them 0.4 MB
MAX_FOLDER_BYTES = 100 * 1024 ** 2         # all the files read
MAX_TABLES = 200                           # CSV files (a table per input would be some 80)
OTHER_TABLES = (".tsv", ".tab", ".xlsx", ".xlsm", ".xls", ".ods", ".parquet", ".feather", ".dta", ".sav")
LIMITS = (f"a case folder is read only within limits: valuation.json at most {MAX_SPEC_BYTES / 1024 ** 2:g} MB, "
          f"each CSV file at most {MAX_TABLE_BYTES / 1024 ** 2:g} MB, all files at most "
          f"{MAX_FOLDER_BYTES / 1024 ** 2:g} MB, at most {MAX_TABLES} CSV files (a real case is a few MB)")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")       # as a workbook's text cell
_GROUPED_NUMBER = re.compile(r"[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d*)?")   # 1,234,567 (never 0,025: a decimal comma)
_WHOLE_NUMBER = re.compile(r"[+-]?\d+(\.0*)?")


class _Refused(ValueError):
    """valuation.json holds what JSON allows and a case may not (a key twice, NaN or Infinity)."""


def _case_files(folder: Path) -> tuple[list[str], int]:
    """The names of the CSV files of ``folder`` (report_text.csv aside), sorted, and the bytes of all the files to be
    read (valuation.json, the CSVs, report_text.csv); refuses what cannot be read safely (see the module)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as error:
        raise InputError(f"Valuation folder {folder}: cannot be read ({error.strerror or error}).") from None
    tables, total, spec = [], 0, False
    for entry in entries:
        name, lower = entry.name, entry.name.lower()
        if name.startswith((".", "~$")):   # hidden files; the owner files Excel keeps beside an open file
            continue
        if lower == SPEC and name != SPEC:
            raise InputError(f"{name}: expected the name {SPEC} (lower case): the case's file of scalar inputs is "
                             f"read only under that name. Rename it.")
        if lower.endswith(OTHER_TABLES):
            raise InputError(f"{name}: a case folder's tables are CSV files (UTF-8, comma separated, ending in .csv); "
                             f"this file would not be read, and the case would be read without it. Save it as CSV "
                             f"(or move it out of the folder {folder.name}).")
        if name != SPEC and not lower.endswith(".csv"):
            continue
        kind = file_kind(entry.stat(follow_symlinks=False).st_mode)
        if kind is not None:
            raise InputError(f"{name}: is {kind}; expected a regular file in the folder {folder.name} (a case folder's "
                             "files are read only from the folder itself: copy the file in instead of linking to it).")
        size = entry.stat(follow_symlinks=False).st_size
        limit = MAX_SPEC_BYTES if name == SPEC else MAX_TABLE_BYTES
        if size > limit:
            raise InputError(f"{name}: the file has {size / 1024 ** 2:,.1f} MB; at most {limit / 1024 ** 2:g} MB are "
                             f"read ({LIMITS}).")
        total += size
        if name == SPEC:
            spec = True
        elif lower != REPORT_TEXT:
            tables.append(name)
    if not spec:
        raise InputError(f"Valuation folder {folder}: {SPEC} not found; expected a case folder (valuation.json and "
                         "CSV tables) or a valuation workbook (.xlsx).")
    if len(tables) > MAX_TABLES:
        raise InputError(f"Valuation folder {folder}: {len(tables):,} CSV files; at most {MAX_TABLES} are read "
                         f"({LIMITS}).")
    if total > MAX_FOLDER_BYTES:
        raise InputError(f"Valuation folder {folder}: its files have {total / 1024 ** 2:,.1f} MB; at most "
                         f"{MAX_FOLDER_BYTES / 1024 ** 2:g} MB are read ({LIMITS}).")
    return tables, total


def _text(data: bytes, name: str) -> str:
    """UTF-8 text (a byte-order mark dropped); an error names the line and character of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        start = data.rfind(b"\n", 0, error.start) + 1
        character = len(data[start:error.start].decode("utf-8", errors="replace")) + 1
        raise InputError(f"{name}, line {line}: byte 0x{data[error.start]:02X} (character {character}) is not "
                         "UTF-8; expected a UTF-8 text file (in Excel: Save As 'CSV UTF-8'; in LibreOffice: "
                         "character set Unicode (UTF-8)).") from None


def _where(name: str, line: int, column: int, header: str | None = None) -> str:
    return f"{name}, line {line}, column {get_column_letter(column)}" + (f" ({header})" if header else "")


def read_csv_text(data: bytes, name: str) -> tuple[list[str], pd.DataFrame, list[int]]:
    """A CSV file read strictly: its header (names stripped), its rows as text (a DataFrame of str, one column per
    header name) and the line each row begins on (the header is line 1). Refused, naming ``name`` and the line:
    text that is not UTF-8, an empty file, a blank or repeated column name, a row with more or fewer fields than
    the header, a quote out of place. Blank lines (or lines of commas alone) are skipped."""
    text = _text(data, name)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows, lines = [], []
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise InputError(f"{name}: the file is empty; expected a header line (the column names) and a row per "
                             "value.")
        header = [h.strip() for h in header]
        for column, title in enumerate(header, start=1):
            if not title:
                raise InputError(f"{_where(name, 1, column)}: the column has no name; expected a name for every "
                                 "column of the header (a comma too many at the end of the line?).")
            if header.index(title) != column - 1:
                raise InputError(f"{_where(name, 1, column)}: the column '{title[:60]}' is named twice (also column "
                                 f"{get_column_letter(header.index(title) + 1)}); give each column once.")
        while True:
            line = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                break
            if not any(field.strip() for field in row):
                continue
            if len(row) != len(header):
                raise InputError(f"{name}, line {line}: the row has {len(row)} fields; expected {len(header)}, one per "
                                 f"column of the header ({', '.join(header)[:200]}). A value holding a comma must be "
                                 "quoted (\"1,5\"), and a decimal comma is not read as one.")
            rows.append([field.strip() for field in row])
            lines.append(line)
    except csv.Error as error:
        raise InputError(f"{name}, line {reader.line_num}: the line cannot be read as CSV ({error}); expected "
                         "comma-separated values, a value holding a comma or a quote in double quotes.") from None
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header, dtype=object)
    return header, frame, lines


def csv_numbers(frame: pd.DataFrame, lines: list[int], column: str, name: str, expected: str,
                whole: bool = False, blank_ok: bool = True, none_is: float | None = None) -> pd.Series:
    """The numbers of ``column`` of a frame of :func:`read_csv_text`: written plainly (``0.05``, ``-1.5e3``,
    ``1,234,567.5``; as a workbook's text cell), blank as NaN where ``blank_ok``, the word ``none`` as ``none_is``
    when given; anything else (``1,5``, ``12%``, ``=1+1``, ``inf``, ``nan``) refused naming the file, line, column,
    value and ``expected``."""
    position = list(frame.columns).index(column) + 1
    texts = frame[column].tolist()
    numbers = np.full(len(texts), np.nan)
    bad, none = [], []
    for i, text in enumerate(texts):
        if not text:
            if not blank_ok:
                bad.append(i)
        elif _PLAIN_NUMBER.fullmatch(text):
            numbers[i] = float(text)
        elif _GROUPED_NUMBER.fullmatch(text):
            numbers[i] = float(text.replace(",", ""))
        elif none_is is not None and text.lower() == "none":
            numbers[i] = none_is
            none.append(i)
        else:
            bad.append(i)
    if bad:
        i, value = bad[0], texts[bad[0]]
        more = len(bad) - 1
        what = "the cell is blank" if value == "" else f"value '{value[:60]}' is not a number"
        raise InputError(f"{_where(name, lines[i], position, column)}: {what}; expected {expected}"
                         + (" (a number written plainly, with '.' for decimals and no % sign or formula)"
                            if value else "") + (f"; {more} more row(s) of the column are not numbers." if more
                                                 else "."))
    infinite = np.isinf(numbers)
    infinite[none] = False
    if infinite.any():
        i = int(np.flatnonzero(infinite)[0])
        raise InputError(f"{_where(name, lines[i], position, column)}: value '{texts[i][:60]}' is not a finite "
                         f"number; expected {expected}.")
    if whole:
        fractional = np.isfinite(numbers) & (numbers != np.round(numbers))
        if fractional.any():
            i = int(np.flatnonzero(fractional)[0])
            raise InputError(f"{_where(name, lines[i], position, column)}: value '{texts[i][:60]}' is not a whole "
                             f"number; expected {expected}.")
    return pd.Series(numbers, index=frame.index)


def _expected(group: str, field_name: str) -> str:
    field = FIELDS[group][field_name]
    units = f"; {field.units}" if field.units else ""
    return f"{KIND_WHAT[field.kind]} for {group}.{field_name} ({field.allowed()}{units})"


def _typed_table(name: str, frame: pd.DataFrame, lines: list[int], dims: list[str]) -> pd.DataFrame:
    """The table with its dimension columns as labels (years, ages, service as whole numbers; a blank refused) and
    its value columns as numbers (an option's column as text), blank cells NaN."""
    typed = {}
    for position, column in enumerate(frame.columns, start=1):
        if column in dims:
            if column in INTEGER_DIMENSIONS:
                numbers = csv_numbers(frame, lines, column, name, f"a whole number ({column})", whole=True,
                                      blank_ok=False)
                if (numbers.abs() > 100_000).any():
                    i = int(np.flatnonzero((numbers.abs() > 100_000).to_numpy())[0])
                    raise InputError(f"{_where(name, lines[i], position, column)}: value '{frame[column].iloc[i]}' "
                                     f"is not a {column}; expected a whole number of at most 100,000.")
                typed[column] = numbers.astype(np.int64)
            else:
                blank = frame[column] == ""
                if blank.any():
                    i = int(np.flatnonzero(blank.to_numpy())[0])
                    raise InputError(f"{_where(name, lines[i], position, column)}: the cell is blank; expected the "
                                     f"{column} of the row's values.")
                typed[column] = frame[column]
            continue
        group, _, field_name = column.partition(".")
        field = FIELDS[group][field_name]
        if field.kind == "choice":
            typed[column] = frame[column].where(frame[column] != "", np.nan)
        else:
            typed[column] = csv_numbers(frame, lines, column, name, _expected(group, field_name),
                                        none_is=field.unbounded)
    return pd.DataFrame(typed, index=frame.index)


def _spec(data: bytes, folder: Path) -> dict:
    """valuation.json: a JSON object (UTF-8), a key given twice in one object or NaN/Infinity refused; the groups
    objects, ``name`` and ``description`` text."""
    def pairs(items):
        keys = [k for k, _ in items]
        twice = next((k for i, k in enumerate(keys) if k in keys[:i]), None)
        if twice is not None:
            raise _Refused(f"the key '{twice[:60]}' is given twice in one object (JSON readers differ in which "
                           "they keep); give each key once")
        return dict(items)

    def constant(word):
        raise _Refused(f"{word} is not a number JSON allows; expected a finite number (leave an input out for its "
                       "default)")

    def number(literal):
        value = float(literal)
        if not math.isfinite(value):
            raise _Refused(f"the number {literal[:60]} is too large to be a finite number; expected a finite number")
        return value

    text = _text(data, SPEC)
    try:
        spec = json.loads(text, object_pairs_hook=pairs, parse_constant=constant, parse_float=number)
    except json.JSONDecodeError as error:
        raise InputError(f"{SPEC}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}).") \
            from None
    except _Refused as error:
        raise InputError(f"{SPEC}: {error}.") from None
    except RecursionError:
        raise InputError(f"{SPEC}: the JSON is nested too deeply; expected an object of groups of inputs.") from None
    if not isinstance(spec, dict):
        raise InputError(f"{SPEC}: the file holds {type(spec).__name__ if spec is not None else 'null'}; expected "
                         "an object ({\"name\": ..., \"settings\": {...}, \"scheme\": {...}}).")
    unknown = [k for k in spec if k not in FIELDS and k not in ("name", "description")]
    if unknown:
        close = [g for g in FIELDS if g.lower() == str(unknown[0]).lower().strip()]
        raise InputError(f"{SPEC}: unknown entry '{unknown[0][:60]}'"
                         + (f" (did you mean {close[0]}?)" if close else "") + "; expected name, description and the "
                         f"groups {', '.join(FIELDS)}.")
    for key in ("name", "description"):
        if key in spec and not isinstance(spec[key], str):
            raise InputError(f"{SPEC}: '{key}' is {_json_kind(spec[key])}; expected text.")
    for group in FIELDS:
        if group in spec and not isinstance(spec[group], dict):
            raise InputError(f"{SPEC}: '{group}' is {_json_kind(spec[group])}; expected an object of its inputs "
                             f"({{\"{next(iter(FIELDS[group]))}\": ...}}).")
        for key, value in (spec.get(group) or {}).items():
            if isinstance(value, (dict, type(None))) or isinstance(value, list) and any(
                    isinstance(v, (dict, list, str, type(None))) for v in value):
                raise InputError(f"{SPEC}: '{group}.{key}' is {_json_kind(value)}; expected "
                                 + (_expected(group, key) if key in FIELDS[group] else "a known input")
                                 + " (a table is given in a CSV file).")
    if "name" in spec:
        from .safety import literal_text

        if literal_text(spec["name"]) != spec["name"] or len(spec["name"]) > 200 or "\n" in spec["name"]:
            raise InputError(f"{SPEC}: 'name' {spec['name'][:60]!r} holds control characters, line breaks or more "
                             "than 200 characters; expected the case's name on one line.")
    return spec


def _json_kind(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number") + ("" if isinstance(value, (dict, list)) else f" ({json.dumps(value)[:60]})")


def read_valuation_folder(folder) -> "Valuation":
    """The case of ``folder``: valuation.json and its CSV tables, read as the module's docstring says (errors name
    the file, line, column, value and what was expected); its ``report_text`` that of report_text.csv
    (:func:`read_folder_report_text`)."""
    from ..valuation import Valuation

    folder = Path(folder)
    names, _ = _case_files(folder)
    spec = _spec(regular_file_bytes(folder / SPEC, MAX_SPEC_BYTES, SPEC), folder)
    groups = {group: dict(spec.get(group, {})) for group in FIELDS}
    given_in = {f"{group}.{key}": (SPEC, None) for group in FIELDS for key in groups[group]}
    years_by_file: dict[str, set] = {}   # the years of each file's tables (to tell those outside the projection)
    for name in names:
        data = regular_file_bytes(folder / name, MAX_TABLE_BYTES, name, f" ({LIMITS})")
        header, text, lines = read_csv_text(data, name)
        dims = [c for c in header if c in DIMENSIONS]
        if not dims:
            shown = ",".join(header)
            hint = ""
            if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
                hint = (" The file seems separated by " + ("semicolons" if ";" in header[0] else "tabs") + ": a case "
                        "folder's CSV files are comma separated (in LibreOffice: Save As, Text CSV, field delimiter ','; "
                        "in Excel: CSV UTF-8).")
            elif any(c.strip().lower() in DIMENSIONS for c in header):
                hint = " Dimension names are lower case (year, sex, age ...)."
            raise InputError(f"{name}: no dimension column in its header '{shown[:120]}'; expected some of "
                             f"{', '.join(DIMENSIONS)} (and value columns named group.field, e.g. "
                             f"demography.population).{hint}")
        for position, column in enumerate(header, start=1):
            if column in dims:
                continue
            group, _, field = column.partition(".")
            if group not in FIELDS or field not in FIELDS[group]:
                raise InputError(f"{name}: column '{column[:60]}' is not a known input (line 1, column "
                                 f"{get_column_letter(position)}; expected group.field, e.g. demography.population).")
            if column in given_in:
                raise InputError(f"{_where(name, 1, position)}: column '{column}' is also given in "
                                 f"{given_in[column][0]}; give each input once.")
        frame = _typed_table(name, text, lines, dims)
        line_of = pd.Series(lines, index=frame.index, dtype=np.int64)
        for column in header:
            if column in dims:
                continue
            group, _, field = column.partition(".")
            values = frame[dims + [column]].dropna()
            twice = values[values.duplicated(dims, keep=False)]
            if len(twice):
                first = {d: twice[d].iloc[0] for d in dims}
                rows = line_of[twice.index[(twice[dims] == pd.Series(first)).all(axis=1)]].tolist()
                raise InputError(f"{name}, lines {rows[0]} and {rows[1]}: two rows for "
                                 f"{', '.join(f'{d}={v}' for d, v in first.items())} ({column}); give each once.")
            da = values.set_index(dims)[column].to_xarray()
            if "floor_benefit" in dims:   # the benefits in the order of the rows, as in the Floor sheet
                da = da.reindex(floor_benefit=pd.unique(values["floor_benefit"]))
            if FIELDS[group][field].fill is not None:  # sparse tables: absent cells take the field's fill
                da = da.fillna(FIELDS[group][field].fill)
            groups[group][field] = da
            blank = frame.index[frame[column].isna()]   # rows of the file whose cell of this column is blank
            given_in[column] = (name, values.assign(_line=line_of[values.index])[dims + ["_line"]],
                                frame.loc[blank, dims].assign(_line=line_of[blank]))
            if "year" in dims:
                years_by_file.setdefault(name, set()).update(int(y) for y in da["year"].values)
    try:
        valuation = Valuation(**groups, name=spec.get("name", folder.name))
    except InputError as error:
        raise _located(error, given_in) from None
    projected = set(valuation.inputs.coords["year"].tolist())
    outside = [f"{name}: {year_spans(sorted(years - projected))}" for name, years in years_by_file.items()
               if years - projected]
    if outside:   # rows of years the projection does not cover (a horizon shortened in valuation.json): said
        valuation.source = {**(valuation.source or {}), "years_outside": outside}
    valuation.report_text = read_folder_report_text(folder)   # report_text.csv, carried with the case
    return valuation


def _located(error: InputError, given_in: dict) -> InputError:
    """``error`` of the inputs' validation prefixed with the file that gave its field (and the line, when the error
    names a cell of a table whose row says so). A cell without a value (the validation's "nan") is said as such: the
    line whose cell is blank, or that the file has no row for it; an error of a column with blank cells (left out of
    the table: a gap of years, a missing age) names the first of them."""
    name, rows, blank = (given_in.get(error.field or "", (None, None, None)) + (None,))[:3]
    if name is None:
        return error
    where = name
    message = str(error)
    dims = [] if rows is None else [c for c in rows.columns if c != "_line"]
    cell = dims and all(d in error.where for d in dims)
    if cell:   # the error's cell: one row of the file (given, blank or absent)
        def matching(frame):
            match = pd.Series(True, index=frame.index)
            for dim in dims:
                match &= frame[dim].astype(str) == str(error.where[dim])
            return match
        match = matching(rows)
        labels = ", ".join(f"{d}={error.where[d]}" for d in dims)
        if match.sum() == 1:
            where = f"{name}, line {int(rows['_line'][match].iloc[0])}"
        elif match.sum() == 0 and re.search(r"\bnan\b", message):
            empty = matching(blank) if blank is not None and len(blank) else None
            if empty is not None and empty.any():
                return InputError(f"{name}, line {int(blank['_line'][empty].iloc[0])}: the cell of {error.field} for "
                                  f"{labels} is blank; expected a value (this input has no default for a missing "
                                  "cell).", error.field, error.where)
            return InputError(f"{name}: no row for {labels} ({error.field}); expected a value for every "
                              f"{', '.join(dims)} the valuation uses (this input has no default for a missing cell).",
                              error.field, error.where)
    elif dims and error.where and all(d in dims for d in error.where):   # a label of some rows: the first of them
        match = pd.Series(True, index=rows.index)
        for dim in error.where:
            match &= rows[dim].astype(str) == str(error.where[dim])
        if match.any():
            where = f"{name}, line {int(rows['_line'][match].iloc[0])}"
    if blank is not None and len(blank):
        first = blank.iloc[0]
        message += (f" ({name}, line {int(first['_line'])}: the cell of {error.field} for "
                    f"{', '.join(f'{d}={first[d]}' for d in dims)} is blank, and a blank cell is left out.)")
    return InputError(f"{where}: {message}", error.field, error.where)


def read_folder_report_text(folder) -> "ReportText":
    """The actuary's text of the report from ``report_text.csv`` of a case folder (an empty :class:`ReportText`
    without it), read as the workbook's ``Report text`` sheet is (:func:`actuary.io.report_text.read_report_text_csv`)."""
    from .report_text import ReportText, read_report_text_csv

    folder = Path(folder)
    source = f"{folder.name}/{REPORT_TEXT}"
    path = next((folder / e.name for e in os.scandir(folder) if e.name.lower() == REPORT_TEXT), None)
    if path is None:
        return ReportText(source=source)
    data = regular_file_bytes(path, MAX_TABLE_BYTES, path.name, f" ({LIMITS})")
    return read_report_text_csv(data, path.name, source)


def write_valuation_folder(valuation, folder, text: "ReportText | None" = None) -> list[Path]:
    """Write ``valuation``'s inputs as a case folder (the fields it was given; others keep their defaults): scalars in
    valuation.json, each table in a CSV file ``group.field.csv`` (the floor's per-benefit inputs in one ``floor.csv``,
    as the Floor sheet has them; an infinite "no limit" as ``none``) and ``report_text.csv`` with the sections of
    ``text`` (blank without). ``folder`` must not exist or be empty: nothing is replaced. Returns the files written.
    Reading the folder back gives the same inputs."""
    import xarray as xr

    from .report_text import write_report_text_csv

    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(f"{folder}: exists and is not an empty folder; a case folder is written only into a new or "
                         "empty folder (nothing is replaced).")
    spec: dict = {"name": valuation.name}
    tables: dict[str, pd.DataFrame] = {}
    per_benefit: list[pd.DataFrame] = []   # the Floor sheet's columns: one table
    for group, values in valuation.raw.items():
        for key, value in values.items():
            column = f"{group}.{key}"
            if not isinstance(value, xr.DataArray):
                if value is None:
                    continue   # a blank given (replace(settings={...: None})): left out, as a blank cell, the default
                if isinstance(value, float) and not math.isfinite(value):
                    continue   # only an input whose default is this "no limit" takes it: left out, it is the default
                spec.setdefault(group, {})[key] = list(value) if isinstance(value, tuple) else \
                    value.item() if isinstance(value, np.generic) else value
                continue
            odd = [d for d in value.dims if d not in DIMENSIONS]
            if odd:
                raise InputError(f"Input '{column}' is by {', '.join(odd)}; a case folder's tables have only the "
                                 f"dimensions {', '.join(DIMENSIONS)}. Keep this case as a workbook.", field=column)
            frame = value.rename(column).to_dataframe().reset_index()[list(value.dims) + [column]]
            infinite = frame[column].map(lambda x: isinstance(x, (float, np.floating)) and math.isinf(x)).astype(bool)
            if infinite.any():   # "no limit" (only an input whose default it is takes it)
                frame[column] = frame[column].astype(object).where(~infinite, "none")
            if "floor_benefit" in value.dims:   # the benefits in the case's order (the reader keeps the rows' order)
                order = {str(b): i for i, b in enumerate(valuation.inputs.coords["floor_benefit"])}
                frame = frame.iloc[np.argsort([order.get(str(b), len(order)) for b in frame["floor_benefit"]],
                                              kind="stable")]
            if value.dims == ("floor_benefit",):
                per_benefit.append(frame.set_index("floor_benefit"))
            else:
                tables[f"{column}.csv"] = frame
    if per_benefit:
        table = pd.concat(per_benefit, axis=1)
        order = [str(b) for b in valuation.inputs.coords["floor_benefit"]]
        table = table.iloc[np.argsort([order.index(str(b)) if str(b) in order else len(order) for b in table.index],
                                      kind="stable")]
        tables["floor.csv"] = table.rename_axis("floor_benefit").reset_index()
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / SPEC]
    (folder / SPEC).write_text(json.dumps(spec, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    for name, frame in tables.items():
        frame.to_csv(folder / name, index=False, lineterminator="\n")
        written.append(folder / name)
    write_report_text_csv(folder / REPORT_TEXT, text)
    return written + [folder / REPORT_TEXT]
