"""Where an output came from: the "About this run" record written into every output.

:func:`collect` gathers it (package version, input file name and SHA-256, case name, run date and
time in UTC, the command line or API call, seed and stochastic parameters where used, Python, NumPy
and Numba versions, a run id unique to the run); :func:`add_about_sheet` writes it as the sheet
"About this run" of a workbook (every value a literal text cell) and :func:`dataset_attributes` as
netCDF/zarr attributes (prefixed ``provenance_``); :func:`read_about_sheet` reads it back.
"""

from __future__ import annotations

import hashlib
import platform
import shlex
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ABOUT_SHEET = "About this run"
PREFIX = "provenance_"


def file_sha256(path) -> str:
    """SHA-256 of a file, or of a folder's files (relative names and contents, in sorted order). An input that
    cannot be read raises :class:`actuary.InputError` naming it (exit 2), never an OSError (an output not written)."""
    from ..validation import InputError

    path = Path(path)
    digest = hashlib.sha256()
    file = path
    try:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if file != path:
                digest.update(str(file.relative_to(path)).encode() + b"\0")
            with open(file, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    except OSError as error:
        raise InputError(f"{file}: cannot be read ({error.strerror or error}).") from None
    return digest.hexdigest()


def command_line() -> str:
    """The command as typed (program name and arguments, shell-quoted)."""
    program = shlex.quote(Path(sys.argv[0]).name) if sys.argv and sys.argv[0] else "python"
    if program in ("__main__.py", "cli.py"):
        program = "python -m actuary.cli"
    return " ".join([program, shlex.join(sys.argv[1:])]).strip()


def api_call(function: str) -> str:
    """How a library call is recorded: the function and the Python command that made it."""
    return f"actuary.{function} (Python API) in: python {shlex.join(sys.argv)}"


def folder_id(input_file) -> str:
    """An opaque id of the folder holding ``input_file`` (the first 16 hex digits of the SHA-256 of its
    absolute path): tells two input files of the same name in different folders apart without
    writing the path into the outputs."""
    return hashlib.sha256(str(Path(input_file).resolve().parent).encode("utf-8")).hexdigest()[:16]


def collect(input_file=None, input_sha256: str | None = None, case_name: str | None = None,
            command: str | None = None, **extra) -> dict:
    """The provenance record of a run; ``extra`` adds run parameters (seed, paths, stochastic
    parameters, scenarios). Values are text or numbers."""
    import numba
    import numpy

    from .. import __version__

    record = {
        "actuary_version": __version__,
        "input_file": Path(input_file).name if input_file is not None else "",
        "input_sha256": input_sha256 or (file_sha256(input_file) if input_file is not None else ""),
        "input_folder_id": folder_id(input_file) if input_file is not None else "",
        "case_name": case_name or "",
        "run_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command or command_line(),
        "run_id": uuid.uuid4().hex,
        "python_version": platform.python_version(),
        "numpy_version": numpy.__version__,
        "numba_version": numba.__version__,
    }
    for key, value in extra.items():
        record[key] = value if isinstance(value, (int, float, str)) else str(value)
    return record


def for_api(valuation, function: str, **extra) -> dict:
    """The record of an output written from Python without one given: the valuation's source file
    (when it was read from a workbook) and the API call."""
    source = (getattr(valuation, "source", None) or {}) if valuation is not None else {}
    record = collect(None, source.get("input_sha256", ""), getattr(valuation, "name", ""), api_call(function), **extra)
    record["input_file"] = source.get("input_file", "")
    return record


LABELS = {
    "actuary_version": "version of actuary", "input_file": "input file", "input_sha256": "input SHA-256",
    "input_folder_id": "input folder (id)",
    "case_name": "case name", "run_utc": "run date and time (UTC)", "command": "command",
    "run_id": "run id", "python_version": "Python version", "numpy_version": "NumPy version",
    "numba_version": "Numba version",
    "inputs_without_a_row": "optional inputs with no row in the input workbook (their defaults were used)",
    "table_years_not_used": "years of the by-year tables outside the projection (read, not used)",
    "previous_inputs_without_a_row": "optional inputs with no row in the previous valuation's workbook (their "
                                     "defaults were used)",
    "previous_table_years_not_used": "years of the previous valuation's by-year tables outside its projection (read, "
                                     "not used)",
}


def label(key: str) -> str:
    """A record item in words: its label, the label of an option workbook's item with the option's name
    ("option optB: years of its by-year tables outside the projection ..."), else the key's words."""
    if key in LABELS:
        return LABELS[key]
    if key.startswith("carried_change_"):   # actuary roll-forward: a row whose years have passed
        return "a row of the Scenarios or Reforms sheet whose years began or ended before the new valuation year"
    for item in ("inputs_without_a_row", "table_years_not_used"):
        if key.startswith("option_") and key.endswith(f"_{item}"):
            name = key[len("option_"):-len(item) - 1]
            return f"option {name}: " + LABELS[item].replace("the input workbook", "its workbook").replace(
                "the by-year tables", "its by-year tables")
    return key.replace("_", " ")


@dataclass(frozen=True)
class RecordSheet:
    """A run's record written as a sheet of a workbook written from a case (``Valuation.to_workbook(record=...)``):
    ``name`` of the sheet, ``title`` its first row, ``record`` the items (:func:`collect`), ``description`` its line
    in the workbook's Contents sheet; ``heading``: a bold row above the items (which run); ``below``: cells
    ((row, column), value, bold) written after the items and one blank row (row 1 the first row there: ``actuary
    roll-forward``'s earlier rolls), text as literal text."""

    name: str
    title: str
    record: dict
    description: str = ""
    heading: str = ""
    below: tuple = ()


def add_record_sheet(wb, sheet: RecordSheet) -> None:
    """Append ``sheet`` to ``wb`` in the "About this run" layout (:func:`add_about_sheet`) under its own name and
    title, its heading above the items and the cells ``below`` after them."""
    from openpyxl.styles import Font

    from .safety import text_cell

    ws = add_about_sheet(wb, sheet.record, sheet.name, sheet.title, sheet.heading)
    first = ws.max_row + 2
    for (row, column), value, bold in sheet.below:
        cell = (text_cell(ws, first + row - 1, column, value) if isinstance(value, str) else
                ws.cell(row=first + row - 1, column=column, value=value))
        if bold:
            cell.font = Font(bold=True)


def add_about_sheet(wb, record: dict, name: str = ABOUT_SHEET,
                    title: str = "About this run: where these results came from", heading: str = ""):
    """Append the sheet "About this run" (or ``name``, with ``title`` in its first row): one row per item (key |
    description | value), every value a literal text cell (an input file name or command line never becomes a
    formula); ``heading``, when given, a bold row above the items. Returns the sheet."""
    from openpyxl.styles import Font

    from .safety import text_cell

    ws = wb.create_sheet(name)
    text_cell(ws, 1, 1, title).font = Font(bold=True, size=12)
    for column, header in enumerate(("item", "description", "value"), start=1):
        ws.cell(row=2, column=column, value=header).font = Font(bold=True)
    if heading:
        text_cell(ws, 3, 1, heading).font = Font(bold=True)
    for row, (key, value) in enumerate(record.items(), start=4 if heading else 3):
        ws.cell(row=row, column=1, value=key)
        ws.cell(row=row, column=2, value=label(key))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # the exact value in the cell; shown whole, or with four decimals (stochastic parameters)
            ws.cell(row=row, column=3, value=value).number_format = "0" if float(value).is_integer() else "0.0000"
        else:
            text_cell(ws, row, 3, value)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 100
    ws.freeze_panes = "A3"
    from .results import print_setup   # landscape, one page wide, case name in the header

    print_setup(ws, str(record.get("case_name") or ""))
    return ws


def read_about_sheet(path) -> dict:
    """The provenance record of an output workbook (the "About this run" sheet)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        rows = list(wb[ABOUT_SHEET].iter_rows(min_row=3, values_only=True))
    finally:
        wb.close()
    return {row[0]: row[2] for row in rows if row and row[0]}


def dataset_attributes(record: dict) -> dict:
    """The record as netCDF/zarr attributes: ``provenance_<item>``."""
    return {f"{PREFIX}{key}": value for key, value in record.items()}
