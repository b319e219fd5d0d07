"""``actuary roll-forward WORKBOOK --to YEAR``: the valuation rolled forward to 1 January YEAR, written as a valuation
workbook (the command's options are declared in :mod:`actuary.cli`; the rolling is
:func:`actuary.rollforward.roll_forward`, which the command calls with ``years`` = YEAR - the valuation year and
``horizon`` = ``--horizon``, its only options).

The rolled workbook is the input of the current valuation: the actuary replaces its projected state by the data
(``actuary data --into``) and its assumptions by the current ones, and ``actuary change PREVIOUS CURRENT`` explains
the change (its valuation-period step rolls PREVIOUS forward the same way). Its sheet ``Notes - roll-forward``
records where it came from (the "About this run" record of every output; a sheet named Notes... is the user's and is
not read as input); rolling a workbook that was itself rolled adds the new record above those of the earlier rolls,
which it keeps: a section per roll, headed by its years and run date, the latest first (:func:`notes_sheet`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .validation import InputError

if TYPE_CHECKING:
    from .io.provenance import RecordSheet

NOTES_SHEET = "Notes - roll-forward"   # a Notes... sheet: kept in the workbook, ignored by its reading


def check_year(source: Path, valuation, year: int) -> int:
    """The number of years from ``valuation``'s valuation year to ``year`` (``--to``), or an InputError saying which
    years it can be rolled to: from its valuation year to the last year of its projection (the stocks at the end of
    year N - 1 are the state at 1 January N)."""
    settings = valuation.inputs.settings
    t0, horizon = settings["valuation_year"], settings["horizon"]
    last = t0 + horizon - 1
    expected = (f"expected a year from {t0} to {last} (the state at 1 January YEAR is the projection's stocks at the "
                f"end of year YEAR - 1, within its {horizon}-year horizon {t0}-{last})")
    if year < t0:
        raise InputError(f"--to {year}: is before the valuation year of {source.name} (1 January {t0}); a valuation "
                         f"is rolled forward, not back: {expected}. To roll a valuation back, roll the earlier one "
                         "forward.")
    if year > last:
        raise InputError(f"--to {year}: is beyond the projection of {source.name} ({t0}-{last}); its state at 1 "
                         f"January {year} is not projected: {expected}. For a later date, lengthen the horizon in "
                         "its Settings sheet first.")
    return year - t0


def state_line(valuation) -> str:
    """The initial state of ``valuation`` in one line (insured, pensioners, reserve), for the command's output."""
    initial = valuation.inputs.initial
    if not valuation.inputs.has_scheme:
        return "a social protection floor costing alone"
    parts = [f"{float(initial['active'].sum()):,.0f} active and {float(initial['inactive'].sum()):,.0f} inactive "
             f"insured", f"{float(initial['pensioners'].sum()):,.0f} pensioners",
             f"reserve {float(initial.get('reserve') or 0.0):,.0f} (currency units)"]
    return ", ".join(parts)


NOTES_TITLE = "Notes - roll-forward: where this valuation workbook came from (not read as input)"
RECORD_HEADERS = ("item", "description", "value")


def roll_heading(first: int, year: int, run_utc: str) -> str:
    """The heading of one roll's section of :data:`NOTES_SHEET`: from-year -> to-year and when it was run."""
    return f"Roll-forward {first} -> {year}: from 1 January {first} to 1 January {year}, run {run_utc} (UTC)"


def notes_sheet(record: dict, first: int | None = None, year: int | None = None, earlier=None) -> "RecordSheet":
    """The run's provenance record as the sheet :data:`NOTES_SHEET` of the rolled workbook (the "About this run"
    layout: item | description | value, every text a literal cell), its last sheet, written with it
    (``Valuation.to_workbook(record=...)``: the file is written once). With ``first`` and ``year`` the record is
    headed by the roll (:func:`roll_heading`); ``earlier`` (:class:`actuary.io.carried.CarriedSheet`): the sheet of
    that name in the workbook rolled, the record of its own roll (and of the rolls before it), kept below this one
    (:func:`earlier_rolls`): one section per roll, the latest first."""
    from .io.provenance import RecordSheet

    heading = roll_heading(first, year, record.get("run_utc", "")) if first is not None and year is not None else ""
    return RecordSheet(NOTES_SHEET, NOTES_TITLE, record,
                       "where this workbook came from: actuary roll-forward's record, a section per roll, the latest "
                       "first (not read)", heading, earlier_rolls(earlier) if earlier is not None else ())


def earlier_rolls(sheet) -> tuple:
    """The cells of an earlier :data:`NOTES_SHEET` (its saved values, :class:`actuary.io.carried.CarriedSheet`) to be
    written below the new roll's record, as ((row, column), value, bold), row 1 the first row there: its rows but the
    title and headers of the sheet as this command writes it (every row when it does not begin with them: a sheet of
    the user's under that name), each cell where it was relative to the others (a note the actuary added stays beside
    the item it was beside), a formula without a saved value as its text, the roll headings bold. A record written
    before the sheet had headings (one roll, its items from row 3) is given its heading, from its items rolled_to,
    rolled_years and run_utc."""
    cells = dict(sheet.cells)
    for where, formula in sheet.unsaved.items():
        cells.setdefault(where, formula)
    ours = {(1, 1): NOTES_TITLE, **{(2, c): h for c, h in enumerate(RECORD_HEADERS, start=1)}}
    skip = 2 if {k: v for k, v in cells.items() if k[0] <= 2} == ours else 0   # its title and headers: not repeated
    rows = sorted({r for r, _ in cells if r > skip})
    if not rows:
        return ()
    out, shift = [], skip   # a cell of row r goes to row r - shift
    if skip and any((rows[0], c) in cells for c in (2, 3)):   # items without a heading: the record of one roll
        items = {cells.get((r, 1)): cells.get((r, 3)) for r in rows}
        out.append(((1, 1), _old_heading(items), True))
        shift -= 1
    for (r, c), value in sorted(cells.items()):
        if r > skip:
            heading = c == 1 and isinstance(value, str) and value.startswith("Roll-forward ") and \
                not any((r, other) in cells for other in (2, 3))
            out.append(((r - shift, c), value, heading))
    return tuple(out)


def _old_heading(items: dict) -> str:
    """The heading of a roll recorded without one (``items``: its record), or of a sheet that is not a record."""
    to, years, run = items.get("rolled_to"), items.get("rolled_years"), items.get("run_utc")
    try:
        year = int(str(to).removeprefix("1 January ").strip())
        first = year - int(years)
    except (TypeError, ValueError):
        return "Roll-forward: an earlier record of this sheet (without its years)"
    return roll_heading(first, year, str(run or "at a date not recorded"))


def changes_line(changes, year: int, last: int | None = None) -> str:
    """The rows of the Scenarios and Reforms sheets brought to 1 January ``year`` (``Valuation.carried_changes``)
    in one line: the first two, and how many more (all of them are in the Notes - roll-forward sheet); ``last``: the
    rolled projection's last year when it ends before the original's (rows after it were brought to it too)."""
    shown = "; ".join(changes[:2]) + (f"; and {len(changes) - 2} more" if len(changes) > 2 else "")
    return (f"{len(changes)} change{'' if len(changes) == 1 else 's'} to the rows of the carried sheets whose years "
            f"were before {year}{'' if last is None else f' or after {last}'} (listed in the sheet {NOTES_SHEET}): "
            f"{shown}")


def run_roll_forward(workbook: Path | None, year: int, horizon: int | None, out: Path, name, force: bool) -> None:
    """``actuary roll-forward`` (:func:`actuary.cli.roll_forward_command`): NAME-rolled-YEAR.xlsx written as an
    output set, the original and rolled states said."""
    from rich.markup import escape

    from .cli import _load_case, _provenance, _wrote, console, output_set

    output, (xlsx_name,) = output_set(out, workbook, name, [f"rolled-{year}.xlsx"], force=force)
    with output as outputs:
        with console.status(f"Reading and validating {escape(str(workbook or 'Demoland'))}..."):
            source, valuation = _load_case(workbook)
            years = check_year(source, valuation, year)
        with console.status(f"Projecting {years} year{'' if years == 1 else 's'} and rolling forward to 1 January "
                            f"{year}..."):
            try:
                rolled = valuation.roll_forward(years, horizon)
            except InputError as error:   # a setting the new horizon does not fit: said as the option given
                if horizon is None or not (error.field or "").startswith("settings."):
                    raise
                if error.field == "settings.horizon":
                    raise InputError(f"--horizon {horizon}: {str(error).split(': ', 1)[-1]}", error.field) from None
                raise InputError(f"--horizon {horizon}: the rolled case does not fit this horizon: {error} Give "
                                 f"another --horizon, or change {error.field.split('.')[1]} in the Settings of "
                                 f"{source.name}.", error.field) from None
        settings = rolled.inputs.settings
        changes = {f"carried_change_{i}": change for i, change in enumerate(rolled.carried_changes, start=1)}
        record = _provenance(source, valuation, rolled_to=f"1 January {year}", rolled_years=years,
                             rolled_horizon=settings["horizon"], **changes)
        t0 = valuation.inputs.settings["valuation_year"]
        earlier = next((s for s in rolled.carried_sheets if s.name == NOTES_SHEET), None)   # an earlier roll's record
        rolled.to_workbook(outputs.path(xlsx_name), record=notes_sheet(record, t0, year, earlier))
        (xlsx_path,) = outputs.commit()
    first, last = settings["valuation_year"], settings["valuation_year"] + settings["horizon"] - 1
    console.print(escape(f"{valuation.name} at 1 January {t0}: {state_line(valuation)}"), highlight=False)
    if years:
        console.print(escape(f"rolled forward to 1 January {year} (the same assumptions; projection {first}-{last}): "
                             f"{state_line(rolled)}"), highlight=False)
    if rolled.carried_changes:
        shorter = last < t0 + valuation.inputs.settings["horizon"] - 1
        console.print(escape(changes_line(rolled.carried_changes, year, last if shorter else None)), highlight=False)
    _wrote(xlsx_path, f"the valuation workbook at 1 January {year}, its initial state projected; replace it by the "
                      "data and update the assumptions for the current valuation" if years else
           f"the valuation workbook as it was, at 1 January {year}, projected over {settings['horizon']} years")
