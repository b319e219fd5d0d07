"""Workbooks written by the data commands: text from records is always written as text cells (a
value such as ``=HYPERLINK(...)`` in a member file never becomes a live formula)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from ..io.files import atomic_path
from ..io.safety import literal_text

HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=12)
MAX_SHEET_ROWS = 100_000
FORMULA_START = ("=", "+", "-", "@")   # text starting so gets the quote prefix (as safety.text_cell)


def _cell(ws, value, font=None):
    """A cell of a write-only sheet: numbers as numbers; text (a member's id, a value as read) as
    :func:`actuary.io.safety.text_cell` writes it: characters XML cannot hold removed, cut to Excel's limit, a
    text cell, with the quote prefix Excel sets for typed-in text when it starts like a formula (``=``, ``+``,
    ``-``, ``@``), so that ``=HYPERLINK(...)`` stays text even once the cell is edited (F2, Enter)."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        value = None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value is pd.NA or value is pd.NaT:
        value = None
    if isinstance(value, str):
        value = literal_text(value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if value[:1] in FORMULA_START:
            cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell


def _widths(ws, widths) -> None:
    from openpyxl.utils import get_column_letter

    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def write_table(ws, title: str, frame: pd.DataFrame, notes: list[str] = ()) -> None:
    """Title row, notes, header row, then the frame's rows (write-only sheet)."""
    _widths(ws, [70 if c in ("detail", "description", "treatment") else max(10, len(str(c)) + 4)
                 for c in frame.columns])
    ws.append([_cell(ws, title, TITLE_FONT)])
    for note in notes:
        ws.append([_cell(ws, note)])
    ws.append([_cell(ws, str(c), HEADER_FONT) for c in frame.columns])
    for row in frame.itertuples(index=False):
        ws.append([_cell(ws, None if (isinstance(v, float) and math.isnan(v)) else v) for v in row])


def save(wb: Workbook, path) -> None:
    with atomic_path(Path(path)) as temporary:
        wb.save(temporary)


def write_checks_workbook(path, summary: pd.DataFrame, records: pd.DataFrame, total_records: int,
                          run: list[tuple[str, object]], controls: pd.DataFrame | None, totals: pd.DataFrame,
                          overflow_csv: Path | None = None, position_note: str | None = None) -> None:
    """``<name>-data-checks.xlsx``: Summary (the run, then one row per rule), Records (every record a
    rule hit, with where it is in its source: the line of a CSV file as an editor shows it, the row of an xlsx
    sheet, ...; ``position_note`` says which), Controls (each control total against the records) and
    Initial state (totals of what went into the workbook)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Summary")
    _widths(ws, (20, 12, 14, 60, 9, 9, 8, 8, 8, 60, 6))
    ws.append([_cell(ws, "Data checks", TITLE_FONT)])
    for key, value in run:
        ws.append([_cell(ws, key), _cell(ws, value)])
    ws.append([])
    ws.append([_cell(ws, str(c), HEADER_FONT) for c in summary.columns])
    for row in summary.itertuples(index=False):
        ws.append([_cell(ws, v) for v in row])
    ws = wb.create_sheet("Records")
    notes = [position_note or "row: the record's position in its source (1 = first record); fields and values as "
                              "read."]
    if len(records) < total_records:
        notes.append(f"The first {len(records):,} of {total_records:,} records hit are listed here; all of them are in "
                     f"{overflow_csv.name if overflow_csv else 'the CSV beside this workbook'}.")
    write_table(ws, "Records hit by the checks", records, notes)
    if controls is not None and len(controls):
        write_table(wb.create_sheet("Controls"), "Control totals against the records", controls)
    write_table(wb.create_sheet("Initial state"), "Totals of the initial state written to the workbook", totals)
    save(wb, path)
