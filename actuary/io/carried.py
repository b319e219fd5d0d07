"""The sheets of a valuation workbook that the valuation's inputs do not hold, carried with the case into the workbooks
written from it.

A valuation workbook may hold, beside its inputs and its Report text (:mod:`actuary.io.report_text`), the sheets other
commands read from it: ``Scenarios`` (``actuary sensitivity``, ``report --with-sensitivity``), ``Stochastic``
(``actuary stochastic``, ``report --with-stochastic``), ``Reforms`` (``actuary compare``, ``report``) and ``Analysis of
change`` (``actuary change``, ``report --previous``), and the user's own sheets named ``Notes...``. A workbook written
from the case (``actuary solve``'s NAME-solved.xlsx, ``actuary convert`` to a workbook, ``Valuation.to_workbook`` after
``replace`` or ``roll_forward``) must keep them: without them the next command on it would quietly run the default
parameters, steps and no scenarios or options.

They are carried as data, never as the input's cells: :func:`carried_sheets_of` reads each one's saved values (as
every input is read: a formula through its saved value) with the workbook (``Valuation.carried_sheets``), and
:func:`write_carried_sheets` writes them into a new workbook, cell by cell at the same places (the readers then name
the same cells in their errors), text as literal text (:func:`actuary.io.safety.text_cell`: ``=HYPERLINK(...)`` typed
as text stays text), numbers, TRUE/FALSE and dates as such; nothing else of the input (formulas, styles, links,
comments, merged ranges) is copied. The sheets are not checked here: the commands that read them check them, naming
the cell, as they check the input's.

A formula without a saved value (a workbook written by a program, not saved by Excel or LibreOffice) has no value to
carry: in a sheet a command reads, writing it blank or as its text would change what the sheet says (a blank
``to_year`` means to the projection's end), so the workbook is refused naming the cell (:func:`write_carried_sheets`);
in a Notes sheet, which nothing reads, its text is written as literal text.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from ..validation import InputError

READ_BY_COMMANDS = ("Scenarios", "Stochastic", "Reforms", "Analysis of change")   # sheets other commands read
DESCRIPTIONS = {"Scenarios": "optional: scenarios of the sensitivity runs (actuary sensitivity, report "
                             "--with-sensitivity)",
                "Stochastic": "optional: parameters of the stochastic projections (actuary stochastic, report "
                              "--with-stochastic)",
                "Reforms": "optional: reform options as changes to this case (actuary compare, report)",
                "Analysis of change": "optional: the steps of the analysis of change (actuary change, report "
                                      "--previous)"}
NOTES_DESCRIPTION = "your own notes (carried as their values; not read)"
VALUE_TYPES = (str, bool, int, float, dt.datetime, dt.date, dt.time, dt.timedelta)


@dataclass(frozen=True)
class CarriedSheet:
    """One sheet's saved values: ``cells`` (row, column) -> value (non-blank cells only, rows and columns from 1);
    ``unsaved``: (row, column) -> the formula of each cell that has one and no saved value; ``state``: visible, hidden
    or veryHidden, as in the input."""

    name: str
    cells: dict = field(default_factory=dict)
    unsaved: dict = field(default_factory=dict)
    state: str = "visible"


def carried_sheets_of(reader) -> tuple[CarriedSheet, ...]:
    """The sheets of the workbook open in ``reader`` (:class:`actuary.io.workbook.WorkbookReader`) that are carried
    (:data:`READ_BY_COMMANDS` and those named Notes...), in the workbook's order, as their saved values."""
    from .workbook import NOTES_PREFIX

    return tuple(_sheet(reader, name) for name in reader.sheetnames
                 if name in READ_BY_COMMANDS or name.startswith(NOTES_PREFIX))


def _sheet(reader, name: str) -> CarriedSheet:
    from .workbook import _formula_text

    def consume(rows, merged):
        cells, unsaved = {}, {}
        for row, (values, formulas) in enumerate(rows, start=1):
            for column, value in enumerate(values, start=1):
                if value is not None and not (isinstance(value, str) and value == ""):
                    if not isinstance(value, VALUE_TYPES):   # what a reader gives for a cell is one of these
                        value = str(value)
                    cells[row, column] = value
            for column, formula in enumerate(formulas, start=1):
                shown = _formula_text(formula)
                if shown is not None and (row, column) not in cells:
                    unsaved[row, column] = shown
        return cells, unsaved

    cells, unsaved = reader.read_rows(name, consume)
    with reader.guard():
        state = getattr(reader.values[name], "sheet_state", "visible") or "visible"
    return CarriedSheet(name, cells, unsaved, state if state in ("visible", "hidden", "veryHidden") else "visible")


def kept_text(sheets) -> str:
    """How a command says the carried ``sheets`` it wrote: "; its sheets Scenarios, Notes mine kept" ("" without)."""
    return f"; its sheets {', '.join(s.name for s in sheets)} kept" if sheets else ""


def check_carried_sheets(sheets) -> None:
    """Refuse a formula without a saved value in a sheet a command reads (see the module), naming its cell."""
    from .workbook import _ref

    for sheet in sheets:
        if sheet.name in READ_BY_COMMANDS and sheet.unsaved:
            (row, column), formula = min(sheet.unsaved.items())
            raise InputError(f"{_ref(sheet.name, row, column)}: formula {formula} has no calculated value saved; the "
                             f"'{sheet.name}' sheet goes into the workbook written from the case as its values (a "
                             "formula of an input is never written live), and this cell has none. Open the input "
                             "workbook in Excel or LibreOffice and save it so that the value is stored, or type the "
                             "value.")


def write_carried_sheets(wb, sheets, contents, row: int) -> int:
    """Write ``sheets`` (:class:`CarriedSheet`) into the new workbook ``wb`` (see the module), each listed in the
    Contents sheet ``contents`` from ``row``; returns the next Contents row. A formula without a saved value in a
    sheet a command reads is refused first (:func:`check_carried_sheets`): nothing is written."""
    from .safety import text_cell
    from .workbook import HEADER_FONT, TITLE_FONT

    check_carried_sheets(sheets)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        for (r, c), value in sorted(sheet.cells.items()):
            cell = text_cell(ws, r, c, value) if isinstance(value, str) else ws.cell(row=r, column=c, value=value)
            if sheet.name in READ_BY_COMMANDS and r <= 2:
                cell.font = TITLE_FONT if r == 1 else HEADER_FONT
        for (r, c), formula in sorted(sheet.unsaved.items()):   # a Notes sheet's: its text (checked above)
            text_cell(ws, r, c, formula)
        if sheet.name in READ_BY_COMMANDS:
            for letter in "ABCDEFGHI":
                ws.column_dimensions[letter].width = 18
        ws.sheet_state = sheet.state
        text_cell(contents, row, 1, sheet.name)
        contents.cell(row=row, column=2, value=DESCRIPTIONS.get(sheet.name, NOTES_DESCRIPTION))
        row += 1
    return row


# the sheets whose rows are bounded by calendar years (from_year | to_year), the kind of thing a row belongs to
YEAR_BOUNDED = {"Scenarios": "scenario", "Reforms": "option"}
TABLE_WIDTH = 9   # their columns, what their readers read (actuary.batch.SCENARIO_COLUMNS, compare.REFORM_COLUMNS)


def _year_bound(value):
    """A year bound of a carried cell as a whole number, None when blank, or False when it is not a whole number (the
    command that reads the sheet refuses it, naming the cell: the roll leaves it as it is)."""
    if value is None or isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", ""))
        except ValueError:
            return False
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or \
            value != round(value):
        return False
    return int(value)


def from_valuation_year(sheets, first_year: int, last_year: int, valuation_year: int,
                        new_last_year: int | None = None) -> tuple[tuple, tuple]:
    """The carried ``sheets`` of a case valued from ``first_year`` to ``last_year``, rolled forward to
    ``valuation_year``: (the sheets, the changes in words). Calendar years are absolute, so the rows of the Scenarios
    and Reforms sheets keep their years, except those now before the new valuation year: a row whose years end before it
    is dropped (its years have passed and it changes nothing from then on; the rolled state is the base's projection,
    without what the row changed in those years) and the rows below it move up, so that the kept rows stay contiguous
    and in their order (:func:`_closed_up`: the table's columns, :data:`TABLE_WIDTH`, move; the title and the headers
    stay, a blank row of the input stays between the rows it was between, and a cell right of the table, which the
    commands refuse naming it, stays where it was); a row that starts before it and ends in or after it (or runs to the
    projection's end) starts in ``valuation_year``. Rolled over a shorter projection (its last year ``new_last_year``,
    before ``last_year``), a row that starts after it is dropped and one that ends after it ends in it (the commands
    refuse a year outside the projection). A scenario or option left without a row is said so (it is no longer in the
    sheet). Age and cohort bounds (cohorts are years of birth) stay; so do the Stochastic, Analysis of change and Notes
    sheets, whose values do not depend on the valuation date. A row whose year bounds the original case refused (not
    whole numbers, outside ``first_year`` .. ``last_year``, the first after the last) is left as it is: the command that
    reads the sheet refuses it, naming its cells, as it did (a cell it names is then the rolled sheet's). A change names
    the rolled sheet's cell, and the row it was in before when the row moved up; a dropped row is named by its row
    before the roll. ``unsaved`` stays keyed by the input's cells: a formula without a saved value in these sheets stops
    the writing (:func:`check_carried_sheets`), naming the input's cell, which is the one to fix."""
    from dataclasses import replace

    from .workbook import _ref

    out, changes = [], []
    shorter = new_last_year is not None and new_last_year < last_year
    for sheet in sheets:
        kind = YEAR_BOUNDED.get(sheet.name)
        headers = [str(sheet.cells.get((2, c), "")).strip() for c in (5, 6)]
        if kind is None or headers != ["from_year", "to_year"] or valuation_year <= first_year and not shorter:
            out.append(sheet)
            continue
        cells = dict(sheet.cells)
        rows = {}   # the table's rows (a cell in its columns, from row 3) whose years the roll looks at: their bounds
        for r in sorted({r for r, c in cells if r >= 3 and c <= TABLE_WIDTH}):
            low, high = (_year_bound(cells.get((r, c))) for c in (5, 6))
            given = [b for b in (low, high) if b is not None]
            if (r, 5) in sheet.unsaved or (r, 6) in sheet.unsaved or False in (low, high) or not given or \
                    not all(first_year <= b <= last_year for b in given) or \
                    (low is not None and high is not None and low > high):
                continue   # left as it is (a note alone, or bounds the command refuses)
            reason = (f"its years ended before {valuation_year}, they have passed"
                      if high is not None and high < valuation_year else
                      f"its years begin after {new_last_year}, the rolled projection's last year"
                      if shorter and low is not None and low > new_last_year else None)
            rows[r] = low, high, reason
        gone = sorted(r for r, (_, _, reason) in rows.items() if reason is not None)
        moved_to = _closed_up({r for r, c in cells if r >= 3 and c <= TABLE_WIDTH}, gone)
        kept, dropped = set(), {}
        for r in sorted({r for r, c in cells if r >= 3 and c <= TABLE_WIDTH}):
            name = cells.get((r, 1))
            name = str(name).strip() if name is not None else ""
            if r not in rows:
                if any(cells.get((r, c)) is not None for c in range(1, 9)):
                    kept.add(name)
                continue
            low, high, reason = rows[r]
            change = " ".join(str(cells[r, c]).strip() for c in (2, 3, 4) if cells.get((r, c)) is not None)
            what = f"{kind} '{name}', {change}"
            years = f"{low if low is not None else 'the start'} to {high if high is not None else 'the end'}"
            if reason is not None:   # dropped: the rows below it move up (_closed_up)
                dropped.setdefault(name, []).append(r)
                changes.append(f"{sheet.name} row {r} ({what}, years {years}) dropped: {reason}")
                continue
            kept.add(name)
            now = moved_to.get(r, r)
            was = "" if now == r else f"; row {r} before the roll"
            if low is not None and low < valuation_year:
                cells[r, 5] = valuation_year
                changes.append(f"{_ref(sheet.name, now, 5)} ({what}, years {years}{was}) now from {valuation_year}: "
                               f"its years before {valuation_year} have passed")
            if shorter and high is not None and high > new_last_year:
                cells[r, 6] = new_last_year
                changes.append(f"{_ref(sheet.name, now, 6)} ({what}, years {years}{was}) now to {new_last_year}: the "
                               f"rolled projection ends in {new_last_year}")
        for name in dropped:
            if name not in kept:
                after = f" or began after {new_last_year}" if shorter else ""
                changes.append(f"{sheet.name}: {kind} '{name}' has no row left (every row of it ended before "
                               f"{valuation_year}{after}): it is no longer in the sheet")
        if moved_to:
            changes.append(f"{sheet.name}: the rows below the dropped row{'s' if len(gone) > 1 else ''} moved up, "
                           f"the kept rows contiguous and in their order: {_rows_moved(sorted(moved_to.items()))} "
                           "(the title and the headers did not move)")
        closed = {(r, c): v for (r, c), v in cells.items() if r < 3 or c > TABLE_WIDTH}
        closed.update({(moved_to.get(r, r), c): v for (r, c), v in cells.items()
                       if r >= 3 and c <= TABLE_WIDTH and r not in gone})
        out.append(replace(sheet, cells=closed))
    return tuple(out), tuple(changes)


def _closed_up(rows, dropped) -> dict:
    """Where the rows of a table (``rows``: those with a cell in its columns) go when the ``dropped`` ones are taken
    out: each kept row moves up by the number of dropped rows above it (so a blank row of the input stays between the
    rows it was between). Only the rows that move: {row before: row after}."""
    dropped = sorted(dropped)
    moved = {}
    for r in sorted(set(rows) - set(dropped)):
        above = sum(1 for d in dropped if d < r)
        if above:
            moved[r] = r - above
    return moved


def _rows_moved(pairs) -> str:
    """``pairs`` (row before, row after), in order, in words by runs of rows moved by as many rows (the blank rows
    between them moved with them): "rows 4-6 are now rows 3-5, row 9 is now row 7"."""
    runs = []
    for before, after in pairs:
        if runs and before - after == runs[-1][1] - runs[-1][3]:
            runs[-1][1], runs[-1][3] = before, after
        else:
            runs.append([before, before, after, after])
    return ", ".join(f"row {b0} is now row {a0}" if b0 == b1 else f"rows {b0}-{b1} are now rows {a0}-{a1}"
                     for b0, b1, a0, a1 in runs)
