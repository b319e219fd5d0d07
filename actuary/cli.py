"""The ``actuary`` command line: thin wrappers that parse arguments, call the library, show
progress and say where the outputs went.

Exit codes, the same for every command (those of ``actuary data``, ``synth`` and ``experience`` too): 0 done;
1 the outputs could not be written (disk full, ...; earlier outputs unchanged), or they were written but their
record in --out (``.actuary-outputs.json``) could not be updated (the message says so); 2 bad or unreadable input
or option (one message naming the file, sheet and cell, the field or the option, never a traceback; nothing
written; an input that cannot be read, a disk error say, is said as such, never as an output not written), or a
file in --out that actuary did not write or that changed since (see --force), an output that is one of the run's
input files (under any name: a hard link too; --force or not), or an --out that cannot be written to (checked before
anything is read); 3 a batch in which some scenarios failed (the others' results are written,
the failures listed); 4 solve: the target cannot be met; 130 interrupted (Ctrl-C; nothing written), 143 stopped by
SIGTERM.

Output names come from the input file's name (or ``--name``), never from the case name inside the
workbook; the outputs of one run are written as a set (:class:`actuary.io.files.OutputSet`) and
each records where it came from (:mod:`actuary.io.provenance`)."""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import sys
import threading
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import cli_interrupt as ctrl_c
from .cli_startup import INTERRUPTED, TERMINATED, exit_status, written_line
from .io.files import OutputSet, RecordNotUpdated, outputs_moved
from .io.safety import output_name, stem_name
from .validation import InputError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WPP_CANADA = PROJECT_ROOT / "assumptions" / "wpp2019_canada"
SCENARIOS_FAILED = 3
TARGET_NOT_MET = 4   # solve: no value of the lever meets the target (the closest is written)
WRITE_FAILED = 1

# control characters that a terminal acts on: C0 but tab and newline (ESC starts cursor moves, screen clears, hidden
# text), DEL and C1 (CSI, OSC, NEL, ...)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """``text`` with each control character a terminal would act on shown as its escape (``\\x1b``): text from an
    input file (a value quoted in a message, a name in a table) then cannot move the cursor, clear the screen, fake
    a line or hide what follows."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class _Console(Console):
    """A rich console through which everything the command line prints passes: the text it prints (messages, table
    cells and titles, progress lines) has its control characters made visible (:func:`visible`); only the console's
    own control sequences (colours, the progress line's cursor moves) reach the terminal as such."""

    def render_str(self, text: str, **kwargs):
        # before the markup is parsed and the text measured: a table's columns fit the text as it is shown
        return super().render_str(visible(text), **kwargs)

    def _render_buffer(self, buffer) -> str:
        # what did not come as a string (a Text built elsewhere, a spinner's text): made visible on the way out;
        # a segment that is one of the console's own control sequences is left as it is
        from rich.segment import Segment

        return super()._render_buffer(segment if segment.control or not _CONTROL.search(segment.text)
                                      else Segment(visible(segment.text), segment.style, segment.control)
                                      for segment in buffer)


# (lines are not wrapped when they go to a file or a pipe: a log keeps one line per message)
console = _Console(width=None if sys.stdout.isatty() else 120, soft_wrap=not sys.stdout.isatty())
# errors, interruptions and notes: on standard error, so that they reach the terminal when the output is redirected
errors = _Console(stderr=True, width=None if sys.stderr.isatty() else 120, soft_wrap=not sys.stderr.isatty())


def note(message: str) -> None:
    """A note or warning on standard error, with the progress line (a status on standard output, in a terminal)
    cleared while it is said, not run into."""
    live = (getattr(console, "_live_stack", None) or [None])[-1]
    if live is not None:
        live.stop()
    try:
        errors.print(message, highlight=False, soft_wrap=True)
    finally:
        if live is not None:
            live.start()


def fail(message: str, code: int = 2) -> None:
    """End the run with ``message`` and exit status ``code``; a failure that comes with or after a Ctrl-C (a file
    that could not be written because the run was stopped) is the interruption instead."""
    if ctrl_c.pressed(sys.exc_info()[1]):
        interrupted()
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(code)


_moved_before = 0   # outputs moved into place before the running command began (see interrupted)


def interrupted() -> None:
    """End the run as interrupted by Ctrl-C (exit 130) or SIGTERM (exit 143): one line. What was being written is
    dropped with its staging folder on the way out (the line names the outputs already moved into place, if the
    signal came after); the messages of Dask's closing (its workers stopped by the same Ctrl-C) are not news."""
    import logging

    ctrl_c.hold()
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    written = outputs_moved()[_moved_before:]   # stopped after outputs were moved into place (whole sets)
    signum = ctrl_c.stopped_by()
    errors.print(f"[bold red]interrupted:[/] {escape(written_line(written, signum))}", highlight=False,
                  soft_wrap=True)
    sys.exit(exit_status(signum))


def guarded(command):
    """Run a command: InputError -> its message, exit 2 (the readers of inputs turn a file that cannot be read into
    one); OSError -> an output could not be written, exit 1 (earlier outputs unchanged);
    RecordNotUpdated (outputs in place, their record not) -> its message, exit 1; any
    error that comes with or after a Ctrl-C -> :func:`interrupted` (a run's staging folder is removed on the way
    out, so nothing is written)."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BaseException as error:
            if _ended_by_ctrl_c(error):
                interrupted()
            if isinstance(error, InputError):
                fail(str(error))
            if isinstance(error, RecordNotUpdated):   # the outputs are in place, their record is not
                fail(str(error), WRITE_FAILED)
            if isinstance(error, OSError):  # disk full, permissions changed during the run: the staged set is dropped
                fail(f"could not write the outputs ({error.strerror or error}); earlier outputs are unchanged.",
                     WRITE_FAILED)
            raise
    return run


def _ended_by_ctrl_c(error: BaseException) -> bool:
    """Whether ``error`` ends the run because of a Ctrl-C: it comes with or after one, and is not an exit with status
    0 (``--help``, a command done) nor the interruption already reported."""
    if isinstance(error, (SystemExit, click.exceptions.Exit)):
        code = error.code if isinstance(error, SystemExit) else error.exit_code
        if code in (0, None, INTERRUPTED, TERMINATED):
            return False
    return ctrl_c.pressed(error)


class Commands(click.Group):
    """The ``actuary`` command group: while any command runs (those declared elsewhere too, e.g. ``actuary
    data``), a Ctrl-C is recorded (:mod:`actuary.cli_interrupt`) and whatever error follows it ends the run as
    :func:`interrupted`."""

    def main(self, args=None, *rest, **kwargs):
        """As click's, and a run of the program's own command line (``args`` None) that was interrupted ends here
        once its line is printed and its staging folder removed: exit 130 (143 after SIGTERM) without the
        interpreter's shutdown (where a Ctrl-C that reaches Python late would end the process by SIGINT instead of
        with status 130)."""
        try:
            return super().main(args, *rest, **kwargs)
        except SystemExit as end:
            if args is None and end.code in (INTERRUPTED, TERMINATED):
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except (OSError, ValueError):   # a closed pipe: nothing more can be said there
                        pass
                os._exit(end.code)
            if args is None and threading.current_thread() is threading.main_thread():
                for late in (signal.SIGINT, signal.SIGTERM):   # the command is done: a late Ctrl-C or SIGTERM
                    signal.signal(late, signal.SIG_IGN)         # stops nothing (the run ends with its own status)
            raise

    def invoke(self, ctx):
        global _moved_before
        _moved_before = len(outputs_moved())   # what this command moves into place comes after
        with ctrl_c.watching():
            try:
                done = super().invoke(ctx)
            except BaseException as error:
                if _ended_by_ctrl_c(error):
                    interrupted()
                raise
            if ctrl_c.pressed():   # a Ctrl-C swallowed on the way (in a __del__) did not stop the command
                interrupted()
            return done


def _workers_option(ctx, param, value):
    if value is not None and not 1 <= value <= (os.cpu_count() or 1):
        raise click.BadParameter(f"{value} worker processes; expected 1..{os.cpu_count() or 1} (the cores of this "
                                 "machine; for more, run a Dask cluster and give --scheduler).")
    return value


def _name_option(ctx, param, value):
    if value is not None:
        try:
            output_name(value)
        except InputError as error:
            raise click.BadParameter(str(error).removeprefix(f"--name '{value}' ")) from None
    return value


OUT = click.option("--out", "out", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
                   help="Output folder (created if needed; checked before anything is computed).")
NAME = click.option("--name", "name", callback=_name_option,
                    help="Name of the outputs (default: the input file's name; demoland without one): letters, "
                         "digits, '.', '_', '-'.")
FORCE = click.option("--force", is_flag=True,
                     help="Replace files in --out of the outputs' names that actuary did not write there or that "
                          "were changed since it wrote them (without it such files are refused before anything is "
                          "computed; actuary's own unchanged outputs are always replaced).")
WORKERS = click.option("--workers", type=int, callback=_workers_option,
                       help="Run on a local Dask cluster of this many worker processes.")
SCHEDULER = click.option("--scheduler", help="Run on an existing Dask distributed scheduler (address, e.g. "
                                             "tcp://host:8786); refused after 15 s if no scheduler answers there.")


def _advance(progress, task, n: int) -> None:
    """Move a progress bar on by ``n`` and stop the run there if a Ctrl-C was swallowed since (during a Numba
    compilation, say): a run of millions of paths would otherwise go on to its end before saying it stopped."""
    ctrl_c.stop_if_pressed()
    progress.advance(task, n)


def output_stem(source: Path | None, name: str | None) -> str:
    """The name of a run's outputs: ``--name``, else the input file's stem (characters other than
    letters, digits, '.', '_', '-' become '_'), else demoland."""
    if name is not None:
        return output_name(name)
    if source is None:
        return "demoland"
    return stem_name(source)


def not_into_the_case(out: Path, source: Path | None) -> None:
    """Refuse an output folder that is the case folder read (or inside it): the outputs would become files of the
    case, which its next reading refuses (a results workbook among its tables)."""
    if source is None or not source.is_dir() or not (source / "valuation.json").is_file():
        return   # not a case folder: its reading says why
    try:
        inside = out.resolve() == source.resolve() or source.resolve() in out.resolve().parents
    except OSError:
        return
    if inside:
        raise InputError(f"--out {out}: is the case folder {source} (or inside it); the outputs would become files of "
                         "the case, which is then no longer read (a results workbook is not one of its tables). Give "
                         "another --out.")


def output_set(out: Path, source: Path | None, name: str | None, suffixes, stores=(),
               force: bool = False, inputs=()) -> tuple[OutputSet, list[str]]:
    """The outputs ``NAME-<suffix>`` of a run as one :class:`OutputSet` in ``out`` and their names; NAME
    from ``--name`` or the input file (:func:`output_stem`). Unless ``force`` (``--force``), a file there of an
    output's name that actuary did not write, or that changed since, is refused, and so are outputs named after
    the input file that another file of that name (from another folder) wrote. An output that is one of the files
    the run reads (``source`` and the other ``inputs``: None for one not given) is refused, ``force`` or not."""
    not_into_the_case(out, source)
    stem = output_stem(source, name)
    names = [f"{stem}-{suffix}" for suffix in suffixes]
    stored = [f"{stem}-{suffix}" for suffix in stores]
    return OutputSet(out, names, stores=stored, source=source if name is None else None, force=force,
                     inputs=[source, *inputs]), names


def not_read_as_given(valuation, prefix: str = "") -> dict[str, str]:
    """What provenance records of the parts of a valuation's workbook not used as they stand: the optional inputs
    it has no row for (their defaults were used: ``inputs_without_a_row``, "Sheet: name; ...") and the by-year rows
    outside the projection (``table_years_not_used``, "Sheet: 2074-2123; ..."), each key after ``prefix``; {}
    for a workbook used whole."""
    known = valuation.source or {}
    return {prefix + key: "; ".join(known[entry]) for key, entry in (("inputs_without_a_row", "rows_absent"),
                                                                      ("table_years_not_used", "years_outside"))
            if known.get(entry)}


def _provenance(source: Path, valuation, **extra) -> dict:
    from .io.provenance import collect, file_sha256

    known = valuation.source or {}
    extra = {**not_read_as_given(valuation), **extra}
    return collect(source, known.get("input_sha256") or file_sha256(source), valuation.name, **extra)


@click.group(cls=Commands)
@click.version_option(package_name="actuary")
def main():
    """Actuarial valuation engine for social insurance pension schemes."""


@main.command()
@click.option("--data", "data", type=click.Path(path_type=Path), default=WPP_CANADA, show_default=True,
              help="Folder of WPP-format CSV inputs.")
@OUT
@click.option("--name", "name", callback=_name_option,
              help="Name of the outputs (default: the data folder's name, wpp2019_canada without --data): letters, "
                   "digits, '.', '_', '-'.")
@FORCE
@click.option("--migration-timing", type=click.Choice(["end", "even"]), default="end", show_default=True,
              help="When the year's net migrants arrive: all at the end of the year, or evenly (half at its "
                   "start, exposed to its mortality and births, half at its end).")
@guarded
def population(data: Path, out: Path, name: str | None, migration_timing: str, force: bool):
    """Project a national population by sex and single age (cohort-component method)."""
    from .demography import project_population
    from .io.provenance import collect, dataset_attributes, file_sha256
    from .io.wpp import read_wpp_folder

    if not data.is_dir():
        raise InputError(f"--data {data}: not a folder; expected a folder of WPP-format CSV files.")
    output, (nc_name, csv_name) = output_set(out, data, name, ["population.nc", "population-totals.csv"],
                                               force=force)
    with output as outputs:
        with console.status("Reading inputs and compiling the kernel (first run only)..."):
            inputs = _read_folder(read_wpp_folder, data)
            result = project_population(inputs["base"], inputs["survival"], inputs["fertility"],
                                        inputs["sex_ratio_at_birth"], inputs["net_migration"], migration_timing)
        result.attrs.update(dataset_attributes(collect(data, file_sha256(data), data.name,
                                                       migration_timing=migration_timing)))
        result.to_netcdf(outputs.path(nc_name))
        totals = result.population.sum("age").to_pandas()
        totals["total"] = totals.sum(axis=1)
        totals = totals.join(result.births.to_pandas().add_prefix("births_")).join(
            result.deaths.to_pandas().add_prefix("deaths_"))
        totals.to_csv(outputs.path(csv_name), float_format="%.1f")
        nc_path, csv_path = outputs.commit()

    table = Table(title=escape(f"Population projection from {data}"))
    for column in ("year", "male", "female", "total", "births", "deaths"):
        table.add_column(column, justify="right")
    years = result.year.values
    for year in years[:: max(1, len(years) // 8)].tolist() + ([int(years[-1])] if len(years) % 8 else []):
        row = totals.loc[year]
        births = row["births_male"] + row["births_female"]
        deaths = row["deaths_male"] + row["deaths_female"]
        table.add_row(str(year), f"{row['male']:,.0f}", f"{row['female']:,.0f}", f"{row['total']:,.0f}",
                      "" if births != births else f"{births:,.0f}", "" if deaths != deaths else f"{deaths:,.0f}")
    console.print(table)
    _wrote(nc_path, "population by year, sex, age; births; deaths")
    _wrote(csv_path, "totals by year")


def _wrote(path: Path, what: str) -> None:
    console.print(f"Wrote {escape(str(path))} ({what})", highlight=False)


def _read_folder(reader, folder: Path):
    """A folder of CSV tables: an error its reader did not already turn into an InputError (naming the file, line and
    column: :mod:`actuary.io.folder`) becomes one naming the folder."""
    try:
        return reader(folder)
    except InputError:
        raise
    except (OSError, ValueError, UnicodeDecodeError, KeyError, IndexError) as error:
        raise InputError(f"{folder}: a CSV file of this folder cannot be read ({type(error).__name__}: "
                         f"{str(error)[:300]}).") from None


@main.command()
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@OUT
@NAME
@FORCE
@guarded
def valuate(workbook: Path | None, out: Path, name: str | None, force: bool):
    """Run a valuation and write its results workbook and netCDF file.

    WORKBOOK is a valuation workbook (.xlsx, see 'actuary template') or a case folder of CSV tables;
    without it, the embedded Demoland case runs. The outputs are NAME-results.xlsx and
    NAME-results.nc, NAME from the file's name (or --name).
    """
    from .io.provenance import dataset_attributes
    from .io.results import netcdf_dataset, write_results

    output, (xlsx_name, nc_name) = output_set(out, workbook, name, ["results.xlsx", "results.nc"], force=force)
    with output as outputs:
        with console.status(f"Reading and validating {escape(str(workbook or 'Demoland'))}..."):
            source, valuation = _load_case(workbook)
        with console.status("Projecting (the first run compiles the kernels; later runs use the cache)..."):
            results = valuation.run()
        record = _provenance(source, valuation)
        with console.status("Writing the results workbook and netCDF file..."):
            write_results(results, valuation, outputs.path(xlsx_name), provenance=record)
            netcdf_dataset(results, dataset_attributes(record)).to_netcdf(outputs.path(nc_name))
        xlsx_path, nc_path = outputs.commit()
    print_summary(valuation.name, results)
    _wrote(xlsx_path, "summary, demography, social protection floor, assumptions, charts"
           if not valuation.inputs.has_scheme
           else "summary, projection and financing tables, "
           + ("balance sheet, " if valuation.inputs.settings["balance_sheet"] == "yes" else "")
           + ("social protection floor, " if valuation.inputs.has_floor else "") + "charts")
    _wrote(nc_path, "the full results Dataset, summary values prefixed summary_")


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--demo", is_flag=True, help="Fill the workbook with the Demoland case instead of leaving it blank.")
@click.option("--floor-only", "floor_only", is_flag=True,
              help="A social protection floor costing alone (no contributory scheme), filled for Demoland.")
@click.option("--force", is_flag=True, help="Replace PATH if it exists (otherwise an existing file is refused).")
@guarded
def template(path: Path, demo: bool, floor_only: bool, force: bool):
    """Write a valuation workbook: blank (laid out for Demoland's years and ages), with --demo filled with
    the Demoland case, or with --floor-only Demoland's social protection floor costed alone."""
    from .valuation import DEMOLAND_FLOOR_ONLY, Valuation

    if path.suffix.lower() != ".xlsx":
        fail(f"{path}: the template is an Excel workbook; give a path ending in .xlsx.")
    if path.is_dir():
        fail(f"{path}: is a folder; give the path of the workbook to write.")
    if os.path.lexists(path) and not force:
        fail(f"{path}: exists; the template never replaces a file silently. Give another path, or --force to "
             "replace it.")
    try:
        if floor_only:
            _load_case(DEMOLAND_FLOOR_ONLY)[1].to_workbook(path)
        else:
            Valuation.demo().to_workbook(path, blank=not demo)
    except OSError as error:   # (an output not written: exit 1, as every command's)
        fail(f"{path}: cannot be written ({error.strerror or error}).", WRITE_FAILED)
    _wrote(path, "Demoland's social protection floor costed alone; yellow cells are inputs" if floor_only else
           f"{'the Demoland case' if demo else 'blank inputs'}; yellow cells are inputs")


def _in_file(error: InputError, path: Path) -> InputError:
    """``error`` naming the file it is about first (for commands that read several files)."""
    if str(error).startswith((f"{path.name}:", f"{path}:")):
        return error
    return InputError(f"{path.name}: {error}", error.field, error.where)


_COMPILE_SAID: list = []   # the kernels' cache is asked once a process (the first command's question decides)


def first_compile_note(stochastic: bool = False) -> None:
    """Say, before a command starts, that this process compiles the kernels (the first run on a machine or after an
    update: a minute or so, with nothing else on screen) and that later runs start in seconds; nothing when their
    compiled code is in Numba's cache. ``stochastic``: the command also runs the stochastic paths kernel."""
    if _COMPILE_SAID:
        return
    _COMPILE_SAID.append(True)
    from .kernels import cache_folder, uncompiled
    from .kernels.scheme import insured_kernel

    kernels = [insured_kernel]
    if stochastic:
        from .kernels.batch import simulate_paths

        kernels.append(simulate_paths)
    pending = uncompiled(*kernels)
    if not pending:
        return
    what = []
    if insured_kernel in pending:
        what.append("the projection kernels (about a minute)")
    if len(pending) > (insured_kernel in pending):
        what.append("the stochastic paths kernel (about half a minute)")
    folder = cache_folder(pending[0])
    note(f"[bold]note:[/] first run on this machine (or of this version): compiling {' and '.join(what)}; later "
         f"runs start in seconds{f' (the compiled code is kept in {escape(folder)})' if folder else ''}.")


def _load_case(workbook: Path | None, named: bool = False, check=None):
    """(the file read, its Valuation), Demoland's without ``workbook``, saying what of the file took defaults or was
    not used; ``named``: a command that reads several workbooks, whose errors name the file at fault; ``check``:
    called with the file and its Valuation before anything of it is said, to refuse it alone."""
    from .io.folder import read_valuation_folder
    from .io.workbook import load_workbook
    from .valuation import DEMOLAND

    source = workbook or DEMOLAND / "valuation.xlsx"
    first_compile_note()   # reading a case validates it with the kernels' inputs: compiled from here on
    try:
        valuation = _read_folder(read_valuation_folder, source) if source.is_dir() else load_workbook(source)
    except InputError as error:
        raise _in_file(error, source) if named else error from None
    if check is not None:
        check(source, valuation)
    known = valuation.source or {}
    absent = known.get("rows_absent")
    if absent:   # rows deleted from the workbook (or one written before these inputs existed): said, not silent
        from .io.workbook import absent_rows_text

        note(f"[bold yellow]note:[/] {escape(source.name)} has no row for {escape(absent_rows_text(absent))}; "
             f"{'its default is' if len(absent) == 1 else 'the defaults are'} used.")
    period = (valuation.raw.get("settings") or {}).get("actuarial_balance_period")
    horizon = valuation.inputs.settings["horizon"]
    if period is not None and period > horizon:   # given, beyond the projection: capped, and said
        note(f"[bold yellow]note:[/] {escape(source.name)}: actuarial_balance_period {period:g} is beyond the "
             f"{horizon}-year horizon; the actuarial balance is taken over the {horizon} years.")
    if known.get("years_outside"):   # a horizon shortened in Settings (or a valuation year moved on)
        years = valuation.inputs.coords["year"]
        note(f"[bold yellow]note:[/] {escape(source.name)} has by-year rows for years the projection "
             f"({years[0]}-{years[-1]}) does not cover: {escape('; '.join(known['years_outside']))}; they are not "
             "used.")
    return source, valuation


@main.command("sensitivity")
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@click.option("--scenarios", "scenarios_path", type=click.Path(path_type=Path),
              help="A workbook whose Scenarios sheet adds scenarios (to those of the valuation workbook's own "
                   "Scenarios sheet).")
@OUT
@NAME
@FORCE
@WORKERS
@SCHEDULER
@guarded
def sensitivity_command(workbook, scenarios_path, out, name, force, workers, scheduler):
    """Standard sensitivity tests (each assumption down and up), combined optimistic and pessimistic
    scenarios and any scenarios of a Scenarios sheet; writes a workbook with the tornado table and chart
    and a netCDF file of every scenario's results (money in currency units; docs/outputs.md lists its
    variables). Exits 3 (after writing the others' results) when some scenarios failed."""
    import math

    from .batch import measure, own_scenarios, read_scenarios, sensitivity, tornado, write_sensitivity
    from .io.provenance import dataset_attributes, file_sha256

    output, (xlsx_name, nc_name) = output_set(out, workbook, name, ["sensitivity.xlsx", "sensitivity.nc"],
                                                force=force, inputs=[scenarios_path])
    with output as outputs:
        with console.status("Reading and validating..."):
            source, valuation = _load_case(workbook)
            try:   # with --scenarios two workbooks may have a Scenarios sheet: an error names its file
                extra = read_scenarios(source, base=valuation) if source.is_file() else []
            except InputError as error:
                raise _in_file(error, source) if scenarios_path is not None else error from None
            if scenarios_path is not None:
                try:
                    more = read_scenarios(scenarios_path, required=True, base=valuation)
                except InputError as error:
                    raise _in_file(error, scenarios_path) from None
                both = [s.name for s in more if s.name in {s.name for s in extra}]
                if both:
                    raise InputError(f"scenario '{both[0]}' is defined twice: in the Scenarios sheet of the valuation "
                                     f"workbook {source.name} and in the Scenarios sheet of --scenarios "
                                     f"{scenarios_path.name}; give each scenario one name (rename one of them).")
                extra += more
        with console.status(f"Running {19 + len(extra)} scenarios..."):
            ds = sensitivity(valuation, workers=workers, scheduler=scheduler, extra=extra)
        files = {"scenarios_file": scenarios_path.name, "scenarios_sha256": file_sha256(scenarios_path)} \
            if scenarios_path is not None else {}
        record = _provenance(source, valuation, scenarios=", ".join(str(s) for s in ds.scenario.values), **files)
        write_sensitivity(ds, outputs.path(xlsx_name), provenance=record)
        ds.attrs.update(dataset_attributes(record))
        ds.to_netcdf(outputs.path(nc_name))
        path, nc_path = outputs.commit()
    ranked = measure(ds)   # the GAP; for a floor costing alone, the floor's level cost (% of GDP)
    what = f"{ranked.label} over {ds.sizes['year']} years ({ranked.unit})"
    table = Table(title=escape(f"{valuation.name}: {what}, each assumption moved down and up"))
    for column in ("assumption", "down", "base", "up", "optimistic side"):
        table.add_column(column, justify="left" if column == "assumption" else "right")

    def shown(value):
        return "not run" if math.isnan(value) else f"{100 * value:.2f}%"

    for row in tornado(ds):
        # the side the optimistic scenario takes (batch.combined_scenarios): the one with the lower measure
        side = "" if math.isnan(row["down"]) or math.isnan(row["up"]) else "up" if row["up"] <= row["down"] else "down"
        table.add_row(row["assumption"], *(shown(row[s]) for s in ("down", "base", "up")), side)
    console.print(table)
    combined = Table(title=escape(f"Every assumption on its optimistic (pessimistic) side: {what}"))
    for column in ("scenario", "value"):
        combined.add_column(column, justify="left" if column == "scenario" else "right")
    for scenario in ("optimistic", "pessimistic"):
        combined.add_row(scenario, shown(ranked.scale * float(ds[ranked.name].sel(scenario=scenario).isel(horizon=-1))))
    console.print(combined)
    own = own_scenarios(ds)
    if own:   # the scenarios of a Scenarios sheet (or --scenarios): the measure and its change from the base
        base = ranked.scale * float(ds[ranked.name].sel(scenario="base").isel(horizon=-1))
        sheet = Table(title=escape(f"The scenarios of the Scenarios sheet: {what}"))
        for column in ("scenario", "value", "change from the base (percentage points)"):
            sheet.add_column(column, justify="left" if column == "scenario" else "right")
        for scenario in own:
            value = ranked.scale * float(ds[ranked.name].sel(scenario=scenario).isel(horizon=-1))
            sheet.add_row(escape(scenario), shown(value), "" if math.isnan(value) else f"{100 * (value - base):+.2f}")
        console.print(sheet)
    _wrote(path, "tornado table and chart, every scenario")
    _wrote(nc_path, "results by scenario")
    failed = [(str(n), str(s)) for n, s in zip(ds.scenario.values, ds.status.values) if s != "ok"]
    if failed:
        for scenario, status in failed:   # (a message that names its scenario, after the cell at fault if it names
            # one, is not prefixed with the name again)
            said = status if f"scenario '{scenario}'" in status else f"{scenario}: {status}"
            errors.print(f"[bold red]scenario failed:[/] {escape(said)}", highlight=False, soft_wrap=True)
        errors.print(f"{len(failed)} of {ds.sizes['scenario']} scenarios failed (listed above); the others' results "
                     "are written.", highlight=False, soft_wrap=True)
        sys.exit(SCENARIOS_FAILED)


@main.command("stochastic")
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@click.option("--paths", "n_paths", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Number of paths (a whole number >= 1).")
@click.option("--seed", type=click.IntRange(0, 2 ** 63 - 1), default=0, show_default=True,
              help="Random seed, 0..2**63-1 (same seed, same results).")
@click.option("--chunk-size", type=click.IntRange(1, 10_000), default=250, show_default=True,
              help="Paths per chunk sent to a worker (1..10,000).")
@OUT
@NAME
@FORCE
@WORKERS
@SCHEDULER
@click.option("--keep-paths", is_flag=True, help="Also write every path's yearly indicators (refused up front when "
                                                 "they would not fit in memory or on disk).")
@click.option("--format", "fmt", type=click.Choice(["netcdf", "zarr"]), default="netcdf", show_default=True,
              help="Format of the Dataset of percentiles (and, with --keep-paths, of every path): netcdf writes the "
                   "file NAME-stochastic.nc, zarr the folder NAME-stochastic.zarr (variables in docs/outputs.md).")
@guarded
def stochastic_command(workbook, n_paths, seed, chunk_size, out, name, force, workers, scheduler, keep_paths,
                       fmt):
    """Monte Carlo paths of the economy (correlated AR(1)), mortality (a random walk on its level, by
    default) and fertility (AR(1)): percentiles of every yearly indicator, probability of depletion, fan charts.
    Parameters come from the workbook's Stochastic sheet when it has one (defaults otherwise). The
    Dataset's variables, with their units (money in currency units), are listed in docs/outputs.md."""
    from dataclasses import asdict

    from rich.progress import Progress

    from .io.provenance import dataset_attributes
    from .stochastic import (StochasticParameters, kept_paths_bytes, path_indicator_count, read_parameters,
                             simulate, write_stochastic)

    data = f"stochastic.{'nc' if fmt == 'netcdf' else 'zarr'}"
    output, (xlsx_name, data_name) = output_set(out, workbook, name, ["stochastic.xlsx", data],
                                                stores=[data] if fmt == "zarr" else [], force=force)
    with output as outputs:
        first_compile_note(stochastic=True)
        with console.status("Reading and validating..."):
            source, valuation = _load_case(workbook)
            params = read_parameters(source) if source.is_file() else StochasticParameters()
        if not source.is_file():
            note("[bold yellow]note:[/] a case folder has no Stochastic sheet: the default parameters are used "
                 "(docs/workbook.md, sheet Stochastic; to set them, run on a workbook: actuary convert).")
        if keep_paths:
            need = kept_paths_bytes(n_paths, valuation.inputs.coords["year"].size,
                                    path_indicator_count(valuation.inputs))
            free = shutil.disk_usage(outputs.staging).free
            if need > free:
                raise InputError(f"--keep-paths: {n_paths:,} paths need {need / 1024 ** 3:,.1f} GB in {out}; "
                                 f"{free / 1024 ** 3:,.1f} GB are free there. Run fewer paths, or without "
                                 "--keep-paths.")
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"Simulating {n_paths:,} paths", total=n_paths)
            ds = simulate(valuation, n_paths, seed=seed, chunk_size=chunk_size, workers=workers, scheduler=scheduler,
                          params=params, keep_paths=keep_paths, progress=lambda n: _advance(progress, task, n))
        parameters = {f"parameter_{k}": v for k, v in asdict(params).items()}
        record = _provenance(source, valuation, seed=seed, paths=n_paths, chunk_size=chunk_size,
                             keep_paths="yes" if keep_paths else "no", **parameters)
        write_stochastic(ds, outputs.path(xlsx_name), provenance=record)
        ds.attrs.update(dataset_attributes(record))
        if fmt == "netcdf":
            ds.to_netcdf(outputs.path(data_name))
        else:
            write_zarr(ds, outputs.path(data_name))
        xlsx_path, data_path = outputs.commit()
    years = ds.year.values
    scheme = "paygo_cost_rate" in ds   # else a floor costing alone: the floor's cost
    table = Table(title=escape(f"{valuation.name}: {n_paths:,} paths, seed {seed}"),
                  caption=f"mortality model {params.mortality_model} (σ_m {params.mortality_volatility:g}, "
                          f"σ_d {params.mortality_drift_volatility:g}; docs/methodology.md §8)")
    for column in ("year", "PAYG P5", "PAYG median", "PAYG P95", "reserve ratio median", "P(depleted)") if scheme \
            else ("year", "floor % GDP P5", "floor % GDP median", "floor % GDP P95"):
        table.add_column(column, justify="right")
    for year in [years[0], *[y for y in years if (y - years[0]) % 10 == 9]]:
        s = ds.sel(year=year)
        if not scheme:
            table.add_row(str(year), *(f"{float(s.floor_cost_pct_gdp.sel(percentile=p)):.2f}%" for p in (5, 50, 95)))
            continue
        table.add_row(str(year), *(f"{100 * float(s.paygo_cost_rate.sel(percentile=p)):.2f}%" for p in (5, 50, 95)),
                      f"{float(s.reserve_ratio.sel(percentile=50)):.2f}", f"{100 * float(s.probability_of_depletion):.1f}%")
    console.print(table)
    _wrote(xlsx_path, "percentiles and fan charts" + (", probability of depletion" if scheme else ""))
    _wrote(data_path, f"percentiles{', every path' if keep_paths else ''}")


def write_zarr(ds, path: Path) -> None:
    """Write ``ds`` as a zarr store with consolidated metadata, so that ``xr.open_zarr(path)`` opens it in one
    read and without a warning. With zarr-python 3 the store is in Zarr format 2: consolidated metadata is
    not part of the format 3 specification (zarr warns on writing it) and format 2 stores are read by every
    zarr implementation. ``path`` is in the output set's staging folder: the store is moved into place whole."""
    import zarr

    version = int(zarr.__version__.split(".")[0])
    ds.to_zarr(path, mode="w", consolidated=True, **({"zarr_format": 2} if version >= 3 else {}))


def _same_years(source: Path, valuation, path: Path, option) -> None:
    """Refuse an option workbook that does not project the years of the base (``valuation``, read from ``source``):
    another horizon or valuation year. A comparison is year by year, so this is said first and alone, before the
    option's differences from the base (its horizon among them) or any note about it."""
    settings, base = option.inputs.settings, valuation.inputs.settings
    differ = [key for key in ("valuation_year", "horizon") if settings[key] != base[key]]
    if not differ:
        return
    years, base_years = option.inputs.coords["year"], valuation.inputs.coords["year"]
    raise InputError(f"{path.name}: the option projects {years[0]}-{years[-1]} (valuation_year "
                     f"{settings['valuation_year']}, horizon {settings['horizon']} years) and the base {source.name} "
                     f"{base_years[0]}-{base_years[-1]} (valuation_year {base['valuation_year']}, horizon "
                     f"{base['horizon']} years); an option is compared with the base year by year: set "
                     f"{' and '.join(f'{key} {base[key]}' for key in differ)} in the Settings of {path.name} (or "
                     f"{' and '.join(f'{key} {settings[key]}' for key in differ)} in the base's) so that both project "
                     "the same years.")


def gather_options(source: Path, valuation, paths) -> tuple[dict, dict, dict]:
    """The options of a comparison: each valuation workbook (or case folder) of ``paths``, named after its file,
    and the options of the base workbook's Reforms sheet. Returns the options (name -> Valuation), their
    definitions in words (an option workbook: the inputs in which it differs from the base) and the option files
    for the provenance (``option_<name>`` -> "file sha256 ..."). An option that changes more than provisions
    (assumptions, data or methods) is said on standard error, naming those inputs."""
    from .compare import beyond_provisions, describe_differences, input_differences, read_reforms
    from .io.provenance import file_sha256

    options, definitions, files = {}, {}, {}
    for path in paths:
        _, option = _load_case(path, named=True, check=lambda read, case: _same_years(source, valuation, read, case))
        name = output_stem(path, None)
        if name in options or name == "base":
            name = f"{name}-{len(options) + 1}"
        options[name] = option
        definitions[name] = f"the valuation workbook {path.name}: " + \
            describe_differences(input_differences(valuation, option))
        files[f"option_{name}"] = f"{path.name} sha256 {file_sha256(path) if path.is_file() else 'folder'}"
        files.update(not_read_as_given(option, f"option_{name}_"))
    if source.is_file() and source.suffix.lower() == ".xlsx":
        for name, option in read_reforms(source, valuation, definitions).items():
            if name in options:
                raise InputError(f"Reforms: option '{name}' is also the name of an option workbook; rename one of "
                                 "them.")
            options[name] = option
    for name, option in options.items():
        beyond = beyond_provisions(input_differences(valuation, option))
        if beyond:
            note(f"[bold yellow]note:[/] option {escape(repr(name))} also changes assumptions, data or methods, not "
                 f"only provisions: {escape(', '.join(beyond))}; its differences from the base are not the effect "
                 "of its provisions alone.")
    return options, definitions, files


@main.command("compare")
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("options", nargs=-1, type=click.Path(path_type=Path))
@OUT
@NAME
@FORCE
@guarded
def compare_command(base, options, out, name, force):
    """Compare reform options with a base valuation: BASE is a valuation workbook, each OPTION a valuation
    workbook of the same scheme; a Reforms sheet in BASE adds options defined as changes to it. Writes
    NAME-comparison.xlsx (side by side, differences from the base, charts overlaying the options) and
    NAME-comparison.nc."""
    from .compare import adequacy_year, comparison, write_comparison
    from .io.presentation import show
    from .io.provenance import dataset_attributes

    output, (xlsx_name, nc_name) = output_set(out, base, name, ["comparison.xlsx", "comparison.nc"], force=force,
                                              inputs=options)
    with output as outputs:
        with console.status(f"Reading and validating {escape(str(base))} and {len(options)} option workbook(s)..."):
            source, valuation = _load_case(base, named=bool(options))
            chosen, definitions, files = gather_options(source, valuation, options)
        with console.status(f"Running the base and {len(chosen)} option(s)..."):
            ds = comparison(valuation, chosen, definitions)
        record = _provenance(source, valuation, options=", ".join(chosen), **files)
        write_comparison(ds, outputs.path(xlsx_name), provenance=record)
        ds.attrs.update(dataset_attributes(record))
        ds.to_netcdf(outputs.path(nc_name))
        xlsx_path, nc_path = outputs.commit()
    # the adequacy measure the report compares: a stylized career retiring in the report's year (the first year's
    # retirees hardly feel a reform phased in over cohorts)
    year, career = adequacy_year(ds), str(ds.career.values[1])
    table = Table(title=escape(f"{valuation.name}: reform options"))
    # with a floor beside the scheme, the state's cost: the fiscal cost's level share of GDP over the longest horizon
    fiscal = "fiscal_cost_level_pct_gdp" in ds
    # and the state's cost including the scheme's borrowing once a reserve runs out (without a floor, the borrowing),
    # named as the workbook's Summary names these levels: they count each deficit once, without the interest on the
    # debt that the yearly scheme borrowing includes
    borrowing = next((name for name in ("fiscal_cost_with_borrowing_level_pct_gdp", "scheme_borrowing_level_pct_gdp")
                      if name in ds), None)
    what = "fiscal cost including the scheme's borrowing" if fiscal else "scheme's deficits financed by borrowing"
    last = int(ds.horizon[-1])
    for column in ("option", "GAP (full horizon, statutory)", "actuarial balance (gross)", "depletion year",
                   f"replacement rate at award, {career}, men retiring in {year}") + \
            ((f"fiscal cost, level over {last} years (% of GDP)",) if fiscal else ()) + \
            ((f"{what}, level over {last} years (% of GDP)",) if borrowing else ()):
        table.add_column(escape(column), justify="right")
    for option in ds.option.values:
        row = ds.sel(option=option)
        table.add_row(escape(str(option)), show(float(row.gap[-1]), "share"),
                      show(float(row.actuarial_balance), "share"), show(float(row.depletion_year), "year"),
                      show(float(row.replacement_rate.sel(career=career, sex="male", year=year)), "share"),
                      *((show(float(row.fiscal_cost_level_pct_gdp[-1]), "percent"),) if fiscal else ()),
                      *((show(float(row[borrowing][-1]), "percent"),) if borrowing else ()))
    console.print(table)
    _wrote(xlsx_path, "side by side, differences from the base, charts overlaying the options")
    _wrote(nc_path, "the comparison Dataset: every measure by option and its difference from the base")


@main.command("solve")
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@click.option("--lever", required=True,
              help="contribution_rate, contribution_steps:N (a step added to the rates every N years from --from "
                   "to --until, the last step held after --until), retirement_age_pace (N months per cohort "
                   "added to the normal and early ages in force, by year or by cohort, from the first cohort not "
                   "at the normal age in --from: N, 2N, ... months, up to max_retirement_age; 0 is the law), accrual (a "
                   "factor on the accrual schedule for service earned from --from on: 0.9 is a tenth less), "
                   "indexation_price_weight or ceiling_multiple.")
@click.option("--target", required=True,
              help="INDICATOR OP VALUE, in quotes on a shell's command line (> and < redirect): "
                   "'reserve_ratio>=K', 'actuarial_balance=0', 'depletion_year>=YEAR', 'paygo_cost_rate<=R', "
                   "'gap>=R' or 'gap<=R'.")
@click.option("--from", "start", type=int, help="First year the lever applies (default: the valuation year).")
@click.option("--until", type=int, help="Last year of the target and of the steps of contribution_steps:N "
                                        "(default: the last projection year; for actuarial_balance and gap, "
                                        "measures over a period, the valuation's own period as its results "
                                        "show them: settings.actuarial_balance_period; the horizon).")
@OUT
@NAME
@FORCE
@guarded
def solve_command(workbook, lever, target, start, until, out, name, force):
    """Solve for the value of a reform lever that meets a financing target; prints it and writes the
    valuation workbook with the lever set (NAME-solved.xlsx, which keeps WORKBOOK's Scenarios, Stochastic, Reforms,
    Analysis of change, Report text and Notes sheets) beside the solved valuation's results
    (NAME-solved-results.xlsx and .nc). WORKBOOK is a valuation workbook or case folder; without it, the embedded
    Demoland case. Exits 4 (after writing them for the value that comes closest) when no value of the lever meets
    the target."""
    from .io.carried import check_carried_sheets, kept_text
    from .io.provenance import dataset_attributes
    from .io.results import netcdf_dataset, write_results
    from .solve import parse_lever, parse_target

    parse_target(target), parse_lever(lever)   # a bad --target or --lever is refused before anything is read
    output, names = output_set(out, workbook, name, ["solved.xlsx", "solved-results.xlsx", "solved-results.nc"],
                                force=force)
    with output as outputs:
        with console.status(f"Reading and validating {escape(str(workbook or 'Demoland'))}..."):
            source, valuation = _load_case(workbook)
            check_carried_sheets(valuation.carried_sheets)   # what would stop the solved workbook's writing: first
        with console.status(f"Solving {escape(lever)} for {escape(target)}..."):
            solution = valuation.solve(lever, target, start, until)
            results = solution.valuation.run()
        kept = ("unchanged: the target does not depend on the lever" if solution.independent else
                "unchanged: every value of the lever meets the target" if solution.everywhere else None)
        record = _provenance(source, valuation, lever=lever, target=target, solved_value=kept or repr(solution.value),
                             feasible=str(solution.feasible), solution=str(solution))
        solution.valuation.to_workbook(outputs.path(names[0]))
        write_results(results, solution.valuation, outputs.path(names[1]), provenance=record)
        netcdf_dataset(results, dataset_attributes(record)).to_netcdf(outputs.path(names[2]))
        solved_path, results_path, nc_path = outputs.commit()
    console.print(escape(str(solution)), highlight=False)
    if solution.independent:
        errors.print(f"[bold yellow]The target cannot be met with {escape(lever)}:[/] {solution.target.indicator} "
                     f"does not depend on it; the valuation is written as it was.", highlight=False, soft_wrap=True)
    elif not solution.feasible:
        errors.print(f"[bold yellow]The target cannot be met with {escape(lever)}:[/] the value written is the one "
                     "that comes closest.", highlight=False, soft_wrap=True)
    _wrote(solved_path, f"the valuation workbook as it was: {solution.lever} does not move the target"
           if solution.independent else f"the valuation workbook as it was: every value of {solution.lever} meets "
           "the target" if solution.everywhere else f"the valuation workbook with {solution.lever} = "
           f"{solution.value:.10g}" + escape(kept_text(solution.valuation.carried_sheets)))
    _wrote(results_path, "the solved valuation's results")
    _wrote(nc_path, "the solved valuation's results Dataset")
    if not solution.feasible:   # a script can tell: the outputs are written, the target is not met
        sys.exit(TARGET_NOT_MET)


def _years_text(n) -> str:
    return f"{int(n)} year{'' if int(n) == 1 else 's'}"


def print_summary(name, results) -> None:
    p, s = results.projection, results.summary
    if "paygo_cost_rate" not in p:
        return print_floor_summary(name, results)
    table = Table(title=escape(f"{name}: valuation at 1 January {p.attrs['valuation_year']}, "
                               f"{p.attrs['horizon']} years"))
    with_gdp = "expenditure_pct_gdp" in p   # a scheme-only valuation has no GDP
    columns = ["year", "contributors", "pensioners", "contribution rate", "break-even rate", "PAYG cost rate",
               "reserve ratio"]
    for column in columns + (["expenditure % GDP"] if with_gdp else []):
        table.add_column(column, justify="right")
    years = p.year.values
    for year in [years[0], *[y for y in years if (y - years[0]) % 10 == 9]]:
        row = p.sel(year=year)
        cells = [str(year), f"{float(row.contributors):,.0f}", f"{float(row.pensioners):,.0f}",
                 f"{100 * float(row.contribution_rate):.2f}%", f"{100 * float(row.breakeven_contribution_rate):.2f}%",
                 f"{100 * float(row.paygo_cost_rate):.2f}%", f"{float(row.reserve_ratio):.2f}"]
        table.add_row(*cells, *([f"{float(row.expenditure_pct_gdp):.2f}%"] if with_gdp else []))
    console.print(table)
    gaps = ", ".join(f"{_years_text(h)} {100 * float(g):.2f}%" for h, g in zip(s.horizon.values, s.gap.values))
    console.print(f"General average premium: {gaps}")
    console.print(f"Actuarial balance over {_years_text(s.actuarial_balance.attrs['period'])}: "
                  f"{100 * float(s.actuarial_balance):.2f}% of insurable earnings")
    depletion = float(s.depletion_year)
    console.print("Reserve depletion year: " + ("none within the horizon" if depletion != depletion
                                                else f"{int(depletion)} ({100 * float(s.payable_share_at_depletion):.0f}% "
                                                     "of that year's benefits payable, "
                                                     f"{100 * float(s.payable_share_end):.0f}% in the last year, at "
                                                     f"least {100 * float(s.payable_share_after_depletion):.0f}% "
                                                     "in any year)"))
    console.print("The break-even rate balances each year's income and expenditure on the basis of the contribution "
                  "rate (collection, administration on contributions, state subsidy); the PAYG cost rate is "
                  "expenditure / insurable earnings.")
    if "floor_cost" in p:
        console.print(f"Social protection floor: {float(p.floor_cost_pct_gdp[0]):.2f}% of GDP in {int(p.year[0])}, "
                      f"{float(p.floor_cost_pct_gdp[-1]):.2f}% in {int(p.year[-1])}; fiscal cost (floor + state "
                      f"subsidy{' + minimum-pension top-up' if 'minimum_pension_top_up_paid' in p else ''}) {float(p.fiscal_cost_pct_gdp[0]):.2f}% and {float(p.fiscal_cost_pct_gdp[-1]):.2f}% "
                      "of GDP" + (f"; including the scheme's borrowing after depletion "
                                  f"{float(p.fiscal_cost_with_borrowing_pct_gdp[-1]):.2f}% in {int(p.year[-1])}: it "
                                  "adds the scheme's own deficit of the year, not its borrowing of "
                                  f"{float(p.scheme_borrowing_pct_gdp[-1]):.2f}% of GDP, which includes the interest "
                                  "on its debt carried in"
                                  if "fiscal_cost_with_borrowing" in p and float(p.scheme_debt[-1]) > 0 else ""))


def print_floor_summary(name, results) -> None:
    """A floor costing alone: floor cost by benefit as a percentage of GDP every ten years."""
    p, s = results.projection, results.summary
    table = Table(title=f"{name}: social protection floor at 1 January {p.attrs['valuation_year']}, "
                        f"{p.attrs['horizon']} years (% of GDP)")
    benefits = [str(b) for b in p.floor_benefit.values]
    for column in ["year", *benefits, "total"]:
        table.add_column(column, justify="right")
    years = p.year.values
    for year in [years[0], *[y for y in years if (y - years[0]) % 10 == 9]]:
        row = p.sel(year=year)
        table.add_row(str(year), *(f"{float(v):.2f}%" for v in row.floor_cost_pct_gdp_by_benefit.values),
                      f"{float(row.floor_cost_pct_gdp):.2f}%")
    console.print(table)
    levels = ", ".join(f"{int(h)} years {float(v):.2f}%" for h, v in zip(s.horizon.values, s.floor_cost_level_pct_gdp.values))
    console.print(f"Level cost (% of GDP with the same present value): {levels}")


from .data.cli import data_command, experience_command, synth_command  # noqa: E402  (member-data commands)

main.add_command(data_command)
main.add_command(synth_command)
main.add_command(experience_command)


@main.command("report")
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@OUT
@NAME
@FORCE
@click.option("--with-sensitivity", is_flag=True,
              help="Add the sensitivity chapter (standard sensitivities, optimistic and pessimistic scenarios and "
                   "the workbook's Scenarios sheet).")
@click.option("--with-stochastic", "paths", type=click.IntRange(min=1), metavar="N",
              help="Add the stochastic chapter with N paths (parameters from the workbook's Stochastic sheet).")
@click.option("--seed", type=click.IntRange(0, 2 ** 63 - 1), default=0, show_default=True,
              help="Random seed of the stochastic paths.")
@click.option("--previous", type=click.Path(path_type=Path),
              help="Add the analysis-of-change chapter from this previous valuation (workbook or case folder).")
@click.option("--steps", type=click.Path(path_type=Path),
              help="Steps of the analysis of change (with --previous; as for 'actuary change --steps').")
@click.option("--compare", "compare", multiple=True, type=click.Path(path_type=Path), metavar="OPTION.xlsx",
              help="Add the comparison chapter with this reform option (a valuation workbook; repeatable); the "
                   "options of the workbook's Reforms sheet are added without it.")
@guarded
def report_command(workbook, out, name, force, with_sensitivity, paths, seed, previous, steps, compare):
    """Write the valuation report: NAME-report.html (self-contained, figures embedded) and NAME-report.pdf
    (printed by headless Chromium, else WeasyPrint), NAME from the workbook's file name (or --name).

    WORKBOOK is a valuation workbook (.xlsx) or a case folder; without it, the embedded Demoland case runs.
    With --previous, the report explains the change from the previous valuation (the steps, the reconciliation
    table and waterfall charts of 'actuary change').
    """
    from .report.command import run_report

    if steps is not None and previous is None:
        raise InputError("--steps sets the steps of the analysis of change: give the previous valuation with "
                         "--previous PREVIOUS.xlsx.")
    run_report(workbook, out, name, with_sensitivity, paths, seed, previous, steps, compare, force=force)


@main.command("change")
@click.argument("previous", type=click.Path(path_type=Path))
@click.argument("current", type=click.Path(path_type=Path))
@click.option("--steps", "steps_path", type=click.Path(path_type=Path),
              help="Steps and their inputs: a workbook with an 'Analysis of change' sheet or a CSV file (columns "
                   "step, input, notes). Default: CURRENT's own 'Analysis of change' sheet if it has one, otherwise "
                   "valuation period, data, demographic, economic, behavioural, provisions, methods.")
@click.option("--all-orders", is_flag=True,
              help="Also value every order of the steps (at most 7) and report each step's Shapley effect (its mean "
                   "effect over all orders) with its lowest and highest. Cases valued at different dates: the "
                   "valuation period step comes first in every order (the other steps take the current case's "
                   "inputs as at its own date), 1 + 2^(n-1) cases; at the same date all orders, 2^n cases.")
@click.option("--years", "years", help="Years of the reserve ratio, e.g. 2033,2048 (default: 10, 25 and 50 years "
                                       "after CURRENT's valuation year).")
@OUT
@NAME
@FORCE
@guarded
def change_command(previous: Path, current: Path, steps_path, all_orders: bool, years, out: Path, name,
                   force: bool):
    """Analysis of change from the PREVIOUS valuation to the CURRENT one (valuation workbooks or case folders):
    each step replaces a set of the previous case's inputs by the current one's and values again; the effects
    add up exactly to the total change. Writes NAME-change.xlsx (reconciliation table, waterfall charts, every
    measure at every step) and NAME-change.nc, NAME from CURRENT's file name (or --name)."""
    from .cli_change import run_change

    run_change(previous, current, steps_path, all_orders, years, out, name, force)


@main.command("roll-forward")
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@click.option("--to", "year", required=True, type=int, metavar="YEAR",
              help="The new valuation date, 1 January YEAR: from the valuation year to the last projection year.")
@click.option("--horizon", type=click.IntRange(min=1), metavar="YEARS",
              help="Projection years of the rolled valuation (default: the same number as WORKBOOK's, so it projects "
                   "YEAR - valuation year years beyond WORKBOOK's last year on its last assumptions).")
@OUT
@NAME
@FORCE
@guarded
def roll_forward_command(workbook, year, horizon, out, name, force):
    """Roll a valuation forward to 1 January YEAR: writes NAME-rolled-YEAR.xlsx, the valuation workbook at that date
    with the same assumptions, its initial state (insured by age and service, pensioners, reserve) the projection's
    at that date, amounts fixed at the valuation date rebased and by-year inputs from YEAR on (README, "Rolling
    forward"); the rows of its Scenarios and Reforms sheets whose years ended before YEAR are dropped and those
    that started before it start in YEAR (over a shorter --horizon, those that start after its last year are
    dropped and those that end after it end in it; each change said, and listed in its sheet Notes - roll-forward).
    WORKBOOK is a valuation workbook or case folder; without it, the embedded Demoland case; NAME from its file name
    (or --name). The rolled case is the start of the current valuation: replace its initial state by
    the actual data (actuary data --into) and its assumptions by the current ones, then 'actuary change WORKBOOK
    CURRENT.xlsx' explains the change. Actual experience is not an option here: the rolled state is the projected
    one, the data step brings the actual."""
    from .cli_rollforward import run_roll_forward

    run_roll_forward(workbook, year, horizon, out, name, force)



@main.command("convert")
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace TARGET if it is an existing workbook (otherwise it is refused; a "
                                            "folder is never replaced).")
@guarded
def convert_command(source: Path, target: Path, force: bool):
    """Write a case as a valuation workbook or as a case folder, with the actuary's report text: SOURCE a
    valuation workbook (.xlsx) or a case folder, TARGET a workbook (a name ending in .xlsx) or a new or empty
    folder. SOURCE is checked as every command checks it first. A folder is never replaced; a workbook only with
    --force."""
    from .cli_convert import run_convert

    run_convert(source, target, force)

if __name__ == "__main__":
    main()
