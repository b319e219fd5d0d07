"""``actuary data``: member records -> checks -> the initial state of a valuation workbook.

The valuation workbook is edited in place, keeping everything else in it (other sheets, notes,
the reserve): the ``Insured`` and ``Pensioners`` sheets are replaced (laid out by
:mod:`actuary.io.workbook` from the field specs) and the ``salary_scale`` column of ``Labour force``
is refilled; the result must load with :func:`actuary.load_workbook` before it replaces the file.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ..io.safety import stem_name
from ..validation import InputError
from . import checks as rules
from .aggregate import InitialState, initial_state
from .csvout import copy_csv
from .layouts import CONTROLS, INSURED, PENSIONERS
from .report import MAX_SHEET_ROWS, write_checks_workbook
from .sources import Source, load

MEMORY_LIMIT = "2GB"


@contextmanager
def connection():
    """A DuckDB connection on this machine's cores, spilling to a temporary folder beyond
    :data:`MEMORY_LIMIT` (so that tens of millions of records fit in a few GB)."""
    with tempfile.TemporaryDirectory(prefix="actuary-duckdb-") as spill:
        con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": spill,
                                     "preserve_insertion_order": True})
        try:
            yield con
        finally:
            con.close()


@dataclass
class IntakeResult:
    checks: rules.CheckResult
    state: InitialState | None
    checks_path: Path
    workbook: Path | None        # None when a fatal check stopped the intake


def parse_date(text: str, what: str = "--valuation-date") -> dt.date:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise InputError(f"{what} '{text}': not a date; expected YYYY-MM-DD.") from None


def check_and_aggregate(con, members: Source, pensioners: Source, valuation, p: rules.Parameters,
                        controls: Source | None = None) -> tuple[rules.CheckResult, InitialState]:
    """Load both extracts into DuckDB, run the checks (and the reconciliation with the controls)
    and aggregate the initial state."""
    insured = load(con, members, INSURED, "insured", materialise=False)
    pension = load(con, pensioners, PENSIONERS, "pensioners", required=False, materialise=False)
    control_frame = control_source = None
    if controls is not None:
        control_source = load(con, controls, CONTROLS, "controls")
        control_frame = rules.read_controls(con, control_source)
    cache = {}

    def aggregate(con_, p_):
        if "state" not in cache:
            cache["state"] = initial_state(con_, p_, valuation.inputs)
        return cache["state"]

    result = rules.run_checks(con, insured, pension, p, control_frame, aggregate, control_source)
    return result, aggregate(con, p)


def totals(state: InitialState) -> pd.DataFrame:
    rows = []
    for name, da in (("active", state.active), ("inactive", state.inactive)):
        for sex in da.sex.values:
            rows.append(dict(item=name, sex=sex, benefit="", persons=float(da.sel(sex=sex).sum()), amount=None))
    for benefit in state.pensioners.benefit.values:
        for sex in state.pensioners.sex.values:
            count = state.pensioners.sel(benefit=benefit, sex=sex)
            amount = float((count * state.average_pension.sel(benefit=benefit, sex=sex)).sum())
            rows.append(dict(item="pensioners", sex=sex, benefit=benefit, persons=float(count.sum()), amount=amount))
    return pd.DataFrame(rows)


def require_scheme(valuation, command: str) -> None:
    """Refuse a social protection floor costing alone: member records belong to a contributory scheme."""
    if not valuation.inputs.has_scheme:
        raise InputError(f"{command}: '{valuation.name}' is a social protection floor costing alone (settings.scheme "
                         "= no); member records, their checks and experience belong to a contributory scheme, which "
                         "it does not have. Use a valuation workbook of the scheme.")


def run_intake(members: Source, pensioners: Source, valuation_date: dt.date, workbook: Path,
               controls: Source | None = None, out: Path = Path("out"), weight: float = 1.0,
               max_excluded: float = 0.05, outlier_factor: float = 1.5, force: bool = False) -> IntakeResult:
    """Check the extracts, write ``<out>/<workbook stem>-data-checks.xlsx`` (and, beyond the sheet's limit of
    records hit, ``<out>/<workbook stem>-data-checks-records.csv``) and, unless a fatal check failed, fill the
    initial state of ``workbook``.

    The outputs are one set (:class:`actuary.io.files.OutputSet`): a file of their names in ``out`` that actuary
    did not write, or that changed since, is refused before anything is read unless ``force``; they are written
    into the staging folder and moved into place together once all are complete, the workbook replaced at the same
    moment (from a copy prepared and checked beside it), so that a run that fails or is interrupted on the way
    leaves ``out`` and the workbook as they were."""
    from ..io.files import OutputSet
    from ..io.workbook import load_workbook

    workbook = Path(workbook)
    name = stem_name(workbook)
    checks_name, records_name = f"{name}-data-checks.xlsx", f"{name}-data-checks-records.csv"
    with OutputSet(out, [checks_name, records_name], optional=[records_name], force=force) as outputs:
        valuation = load_workbook(workbook)
        require_scheme(valuation, "actuary data --into")
        p = rules.Parameters.from_valuation(valuation, valuation_date, outlier_factor, max_excluded, weight)
        with connection() as con:
            result, state = check_and_aggregate(con, members, pensioners, valuation, p, controls)
            total = result.hits_total
            overflow = None
            if total > MAX_SHEET_ROWS:
                overflow = outputs.path(records_name)
                # record text never a live formula, the path any name
                copy_csv(con, rules.hit_records_sql(result.positions), overflow)
            records = rules.hit_records(con, MAX_SHEET_ROWS, result.positions)
        run = [("valuation workbook", str(workbook)), ("valuation date", valuation_date.isoformat()),
               ("insured records", f"{members.label}: {result.records['insured']:,} "
                                   f"({result.excluded['insured']:,} excluded)"),
               ("pensioner records", f"{pensioners.label}: {result.records['pensioners']:,} "
                                     f"({result.excluded['pensioners']:,} excluded)"),
               ("controls", controls.label if controls else "none"),
               ("weight", f"{weight:g} persons per record"),
               ("outcome", "stopped by a fatal check: " + "; ".join(result.fatal) if result.fatal
                else "initial state written to the workbook")]
        write_checks_workbook(outputs.path(checks_name), result.summary, records, total, run, result.controls,
                              totals(state), overflow, rules.position_note(result.positions))
        if result.fatal:
            outputs.commit()
            return IntakeResult(result, state, outputs.target(checks_name), None)
        with filled_workbook(workbook, state, valuation) as replace_workbook:
            outputs.commit(also=replace_workbook)
    return IntakeResult(result, state, outputs.target(checks_name), workbook)


def fill_workbook(path: Path, state: InitialState, valuation) -> None:
    """Replace the Insured and Pensioners sheets and the salary_scale column of Labour force, keep
    the rest; the edited workbook must load before it replaces ``path``."""
    with filled_workbook(path, state, valuation) as replace:
        replace()


@contextmanager
def filled_workbook(path: Path, state: InitialState, valuation):
    """The workbook ``path`` with the initial state ``state`` (the Insured and Pensioners sheets and the
    salary_scale column of Labour force replaced, the rest kept), saved and checked (it must load) into a temporary
    file beside ``path``: yields the function that replaces ``path`` with it (a rename: it does not fail half-way).
    Not called, the workbook is left unchanged and the temporary file removed."""
    from openpyxl import load_workbook as open_workbook

    from ..io import workbook as layout
    from ..io.workbook import load_workbook

    try:   # (read again to be filled: a file that cannot be read now is the input's error, not an output's)
        wb = open_workbook(path)
    except OSError as error:
        raise InputError(f"{path.name}: cannot be read ({error.strerror or error}); the workbook is unchanged.") \
            from None
    coords = valuation.inputs.coords
    for sheet_name, columns in (("Insured", {"active": state.active, "inactive": state.inactive}),
                                ("Pensioners", {"pensioners": state.pensioners,
                                                "average_pension": state.average_pension})):
        sheet = layout.SHEETS[sheet_name]
        index = wb.sheetnames.index(sheet_name) if sheet_name in wb.sheetnames else len(wb.sheetnames)
        if sheet_name in wb.sheetnames:
            wb.remove(wb[sheet_name])
        ws = wb.create_sheet(sheet_name, index)
        layout._write_table_sheet(ws, sheet, columns, coords, sparse=True)
    _fill_salary_scale(wb, state)
    with tempfile.TemporaryDirectory(prefix="actuary-workbook-") as folder:
        candidate = Path(folder) / path.name
        wb.save(candidate)
        try:
            load_workbook(candidate)
        except InputError as error:
            raise InputError(f"{path.name}: the workbook with the new initial state does not load, so it was left "
                             f"unchanged: {error}") from None
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(handle)
        try:
            shutil.copyfile(candidate, temporary)

            def replace() -> None:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(temporary, 0o666 & ~umask)
                os.replace(temporary, path)

            yield replace
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)


def _fill_salary_scale(wb, state: InitialState) -> None:
    from ..io.workbook import FIRST_DATA_ROW

    if "Labour force" not in wb.sheetnames:
        raise InputError("sheet 'Labour force' is missing from the workbook; it holds the salary scale.")
    ws = wb["Labour force"]
    headers = [str(c.value).strip() if c.value is not None else "" for c in ws[2]]
    if "salary_scale" not in headers or headers[:2] != ["sex", "age"]:
        raise InputError("Labour force!A2: expected the columns sex, age, ..., salary_scale (as in 'actuary "
                         "template').")
    column = headers.index("salary_scale") + 1
    scale = state.salary_scale
    ages = set(int(a) for a in scale.age.values)
    for row in range(FIRST_DATA_ROW, ws.max_row + 1):
        sex, age = ws.cell(row=row, column=1).value, ws.cell(row=row, column=2).value
        if sex is None and age is None:
            continue
        if str(sex).strip() in ("male", "female") and isinstance(age, (int, float)) and int(age) in ages:
            ws.cell(row=row, column=column, value=float(np.round(scale.sel(sex=str(sex).strip(), age=int(age)), 2)))
