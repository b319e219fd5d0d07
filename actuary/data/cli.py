"""Commands of the member-data intake: ``actuary data``, ``actuary synth``, ``actuary experience``
(registered on the main command group by :mod:`actuary.cli`)."""

from __future__ import annotations

from pathlib import Path

import click


def _fail(message: str):
    from ..cli import fail

    fail(message)


def _check_out(out, names=(), force: bool = False, inputs=()) -> None:
    """Refuse an --out that is a file or cannot be written, before reading anything, one where an output of
    ``names`` would be one of the run's ``inputs`` (files or database URLs; ``force`` or not), and (unless ``force``)
    one where a file of the outputs' ``names`` is not actuary's or changed since actuary wrote it."""
    from ..io.files import check_not_inputs, check_output_folder, check_replaceable
    from ..validation import InputError

    try:
        check_not_inputs(out, names, [file for given in inputs for file in _files(given)],
                         "Give another --out (the outputs are named after the workbook).")
        check_output_folder(out)
        check_replaceable(out, names, force)
    except InputError as error:
        _fail(str(error))


def _files(location) -> list[Path]:
    """The file an input ``location`` reads: a path, or the file of a SQLite URL (sqlite:///path.db); none for
    another database URL or an option not given."""
    if location is None:
        return []
    location = str(location)
    if "://" not in location:
        return [Path(location)]
    if location.lower().startswith("sqlite"):
        try:
            from sqlalchemy.engine import make_url

            database = make_url(location).database
        except Exception:   # not a URL its reader accepts: it says so
            return []
        if database and database != ":memory:" and not database.startswith("file:"):
            return [Path(database)]
    return []


def _stem(path) -> str:
    """The name of the outputs taken from the workbook ``path`` (a name that cannot be one is the error)."""
    from ..io.safety import stem_name
    from ..validation import InputError

    try:
        return stem_name(Path(path))
    except InputError as error:
        _fail(str(error))


def _write_failed(error: OSError, out) -> None:
    """End a run whose outputs could not be written (an OSError once the inputs are read: their readers turn a file
    that cannot be read into an InputError): :func:`_os_failure`'s message, exit 1 (as every command's)."""
    from ..cli import WRITE_FAILED, fail

    fail(_os_failure(error, out), WRITE_FAILED)


def _os_failure(error: OSError, out) -> str:
    """The message of an output that could not be written: its name and why. An output being written in the
    run's staging folder inside ``out`` is named where it was going (``out/<name>``), and the message says that
    nothing in ``out`` changed (the set was dropped)."""
    from ..io.files import STAGING_PREFIX

    name = str(error.filename or "")
    staged = Path(name).parent.name.startswith(STAGING_PREFIX)
    if staged:
        output = Path(name).name
        if output.startswith(".") and output.endswith(".tmp"):   # the temporary file an output is written to
            output = output[1:].rsplit(".", 2)[0]
        name = str(Path(out) / output)
    if staged:
        return f"{name}: {error.strerror or error}; the outputs were not written and the files in --out are unchanged."
    return (f"could not write the outputs ({(name + ': ') if name else ''}{error.strerror or error}); the files in "
            "--out are unchanged.")


def _written_unrecorded(error) -> None:
    """End a run whose outputs are in place but not recorded in the folder's manifest (RecordNotUpdated): its
    message, exit 1 (as every command's)."""
    from ..cli import WRITE_FAILED, fail

    fail(str(error), WRITE_FAILED)


FORCE = click.option("--force", is_flag=True,
                     help="Replace files in --out of the outputs' names that actuary did not write there or that "
                          "were changed since it wrote them (without it such files are refused before anything is "
                          "read; actuary's own unchanged outputs are always replaced).")


def _source(location, table, date_format, encoding):
    from .sources import Source

    return Source(str(location), table=table, date_format=date_format, encoding=encoding)


def _check_date_format(date_format: str) -> None:
    """Refuse a --date-format that is not one (an unknown strptime code, a lone '%', empty, no year) before anything
    is read or written."""
    from ..validation import InputError
    from .sources import check_date_format

    try:
        check_date_format(date_format)
    except InputError as error:
        _fail(str(error))


def _templates(folder: Path, force: bool) -> None:
    """``actuary data --templates FOLDER``: the template CSVs written into FOLDER as one set of outputs (refused, with
    nothing written, where a file of their names is not actuary's or changed since, unless ``force``)."""
    from ..cli import console
    from ..io.files import RecordNotUpdated
    from ..validation import InputError
    from .layouts import write_templates

    def named(error) -> str:   # the output folder's messages call it --out: here it is --templates
        return str(error).replace("another --out", "another --templates folder").replace("--out", "--templates")

    try:
        written = write_templates(folder, force)
    except InputError as error:
        _fail(named(error))
    except RecordNotUpdated as error:   # the templates are in place, their record is not
        from ..cli import WRITE_FAILED, fail

        fail(named(error), WRITE_FAILED)
    except OSError as error:
        from ..cli import WRITE_FAILED, fail

        fail(f"--templates {folder}: could not write the templates ({error.strerror or error}); files there are "
             "unchanged.", WRITE_FAILED)
    for path in written:
        console.print(f"Wrote {path}")


@click.command("data")
@click.option("--members", "members", help="Insured persons: a .csv, .parquet or .xlsx file, or a database URL.")
@click.option("--pensioners", "pensioners", help="Pensions in payment: a file or a database URL.")
@click.option("--valuation-date", "valuation_date", help="Date of the extracts: 1 January of the workbook's year "
                                                          "(YYYY-MM-DD).")
@click.option("--into", "into", type=click.Path(path_type=Path),
              help="Valuation workbook whose initial state (Insured, Pensioners, salary scale) is filled or replaced.")
@click.option("--controls", "controls", help="Control totals from the financial statements (file or database URL).")
@click.option("--members-table",
              help="For a database URL: table name or SELECT query of the insured persons; for an .xlsx file: the "
                   "sheet (needed when the workbook has several).")
@click.option("--pensioners-table",
              help="For a database URL: table name or SELECT query of the pensions; for an .xlsx file: the sheet.")
@click.option("--controls-table",
              help="For a database URL: table name or SELECT query of the control totals; for an .xlsx file: the "
                   "sheet.")
@click.option("--weight", type=float, default=1.0, show_default=True,
              help="Persons each record stands for (a sample extract: 1 / sampling fraction; synth's manifest "
                   "gives it).")
@click.option("--max-excluded", type=float, default=0.05, show_default=True,
              help="Largest share of records the checks may exclude before the intake stops (rules X01, X02).")
@click.option("--outlier-factor", type=float, default=1.5, show_default=True,
              help="k of the outlier rules M501 (k x earnings ceiling) and P501 (k x maximum pension).")
@click.option("--date-format", default="%Y-%m-%d", show_default=True,
              help="strptime format of dates written as text, e.g. %d/%m/%Y (%d day, %m month, %Y year; "
                   "checked before anything is read).")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of CSV files (utf-8, latin-1, utf-16).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Folder of the checks workbook.")
@FORCE
@click.option("--templates", type=click.Path(path_type=Path),
              help="Write the template CSV of each record layout into this folder and stop (files of their names "
                   "there that actuary did not write, or that changed since, are refused unless --force).")
def data_command(members, pensioners, valuation_date, into, controls, members_table, pensioners_table,
                 controls_table, weight, max_excluded, outlier_factor, date_format, encoding, out, force, templates):
    """Check member records and build the initial state of a valuation workbook.

    Runs the data checks (rule codes in docs/data.md), writes OUT/<workbook>-data-checks.xlsx (summary by
    rule, every record hit, control totals) and fills the Insured and Pensioners sheets and the salary
    scale of the workbook, keeping the rest of it. Exits 0 (with warnings) or 2 when a fatal check fails.
    """
    from ..cli import console, errors
    from ..io.files import RecordNotUpdated
    from ..validation import InputError
    from .intake import parse_date, run_intake

    if templates is not None:
        _templates(templates, force)
        return
    for option, value in (("--members", members), ("--pensioners", pensioners),
                          ("--valuation-date", valuation_date), ("--into", into)):
        if value is None:
            _fail(f"{option} is required (see actuary data --help).")
    _check_date_format(date_format)
    stem = _stem(into)
    names = [f"{stem}-data-checks.xlsx", f"{stem}-data-checks-records.csv"]
    _check_out(out, names, force, inputs=[members, pensioners, controls, into])
    try:
        date = parse_date(valuation_date)
        with console.status("Reading, checking and aggregating the member records..."):
            result = run_intake(_source(members, members_table, date_format, encoding),
                                _source(pensioners, pensioners_table, date_format, encoding), date, into,
                                _source(controls, controls_table, date_format, encoding) if controls else None,
                                out, weight, max_excluded, outlier_factor, force)
    except InputError as error:
        _fail(str(error))
    except RecordNotUpdated as error:
        _written_unrecorded(error)
    except OSError as error:
        _write_failed(error, out)
    checks = result.checks
    from rich.markup import escape

    for warning in checks.warnings:   # (values from the extracts are text, not markup: '[conceal]' hides nothing)
        errors.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    console.print(f"Wrote {result.checks_path} (summary by rule, {checks.hits_total:,} record"
                  f"{'s' if checks.hits_total != 1 else ''} hit, controls, totals)")
    if checks.fatal:
        _fail("the intake stopped on a fatal check, the workbook was not changed: " + "; ".join(checks.fatal))
    state = result.state
    console.print(f"Filled {result.workbook}: {float(state.active.sum()):,.0f} active and "
                  f"{float(state.inactive.sum()):,.0f} inactive insured, {float(state.pensioners.sum()):,.0f} "
                  "pensions in payment, salary scale (Labour force)")


@click.command("synth")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--members", "members", type=int, required=True, help="Number of insured persons to draw.")
@click.option("--seed", type=click.IntRange(0, 2 ** 32 - 1), default=0, show_default=True,
              help="Random seed, 0 to 4294967295 (same seed, same files).")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--errors", type=float, default=0.0, show_default=True,
              help="Share of records with a planted error (every rule; listed in errors.csv).")
@click.option("--years", type=int, default=1, show_default=True,
              help="1: extracts at the valuation date; 2: also one year later (for actuary experience).")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True,
              help="Format of the insured and pensioner extracts (the control totals and errors.csv are CSV).")
@FORCE
def synth_command(workbook, members, seed, out, errors, years, fmt, force):
    """Synthetic member records drawn from a valuation case (test data; a way to try actuary data).

    Writes insured and pensioner extracts, control totals, errors.csv (planted errors) and
    manifest.json (sampling fraction, the weight to give actuary data, the files)."""
    from ..cli import console
    from ..io.files import RecordNotUpdated, check_replaceable
    from ..io.workbook import load_workbook
    from ..validation import InputError
    from .synth import extract_files, synthesize

    _check_out(out)
    try:
        with console.status(f"Drawing {members:,} members..."):
            valuation = load_workbook(workbook)
            names = [*extract_files(valuation.inputs.settings["valuation_year"], years, fmt).values(), "errors.csv",
                     "manifest.json"]
            check_replaceable(out, names, force)   # (the names depend on the workbook's valuation year)
            manifest = synthesize(valuation, members, seed, out, errors, years, fmt, str(workbook), force)
    except InputError as error:
        _fail(str(error))
    except RecordNotUpdated as error:
        _written_unrecorded(error)
    except OSError as error:
        _write_failed(error, out)
    console.print(f"Wrote {out}: {manifest['members']:,} insured and {manifest['pensioners']:,} pensioner records "
                  f"({', '.join(manifest['files'].values())}), errors.csv, manifest.json")
    console.print(f"Each record stands for {manifest['weight']:.4f} persons (sampling fraction "
                  f"{manifest['sampling_fraction']:.6f}). Try:\n  {manifest['data_command']}", highlight=False,
                  soft_wrap=True)


def _first_and_second(ctx, param, value):
    """An option of two values (FIRST SECOND) that took the next option as its second: said as such (click would
    report that next option as missing)."""
    if value and any(str(v).startswith("--") for v in value):
        raise click.BadParameter(f"takes two values, the first extract and the second (FIRST SECOND); got "
                                 f"{' and '.join(repr(str(v)) for v in value)}.")
    return value


@click.command("experience")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--members", "members", nargs=2, required=True, callback=_first_and_second,
              help="Insured persons at the valuation date and one year later: FIRST SECOND (files or database URLs).")
@click.option("--pensioners", "pensioners", nargs=2, required=True, callback=_first_and_second,
              help="Pensions in payment: FIRST SECOND.")
@click.option("--valuation-date", "valuation_date", required=True,
              help="Date of the first extract: 1 January of the workbook's year (YYYY-MM-DD).")
@click.option("--members-table", nargs=2, callback=_first_and_second,
              help="For database URLs: table names or SELECT queries (for .xlsx files: the sheets), FIRST "
                   "SECOND.")
@click.option("--pensioners-table", nargs=2, callback=_first_and_second,
              help="For database URLs: table names or SELECT queries (for .xlsx files: the sheets), FIRST "
                   "SECOND.")
@click.option("--level", type=float, default=0.95, show_default=True, help="Confidence level of the intervals.")
@click.option("--date-format", default="%Y-%m-%d", show_default=True,
              help="strptime format of dates written as text, e.g. %d/%m/%Y (%d day, %m month, %Y year; checked "
                   "before anything is read).")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of CSV files.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Output folder of the experience workbook (created if needed).")
@FORCE
def experience_command(workbook, members, pensioners, valuation_date, members_table, pensioners_table, level,
                       date_format, encoding, out, force):
    """Experience of the year between two extracts against the workbook's assumptions.

    Matches members by id and measures, by sex and age band, deaths, exits, re-entries, retirements
    and invalidity awards with their exposures, salary increases and contribution density: actual /
    expected with confidence intervals, and graduated rates (Whittaker-Henderson) in sheets laid out
    like the valuation workbook's, written to OUT/<workbook>-experience.xlsx."""
    from ..cli import console
    from ..io.files import RecordNotUpdated
    from ..validation import InputError
    from .experience import run_experience
    from .intake import parse_date

    _check_date_format(date_format)
    names = [f"{_stem(workbook)}-experience.xlsx"]
    _check_out(out, names, force, inputs=[workbook, *members, *pensioners])
    tables_m = members_table or (None, None)
    tables_p = pensioners_table or (None, None)
    try:
        date = parse_date(valuation_date)
        with console.status("Checking and matching the two extracts..."):
            result, path = run_experience(
                workbook, tuple(_source(m, t, date_format, encoding) for m, t in zip(members, tables_m)),
                tuple(_source(p, t, date_format, encoding) for p, t in zip(pensioners, tables_p)), date, out, level,
                force)
    except InputError as error:
        _fail(str(error))
    except RecordNotUpdated as error:
        _written_unrecorded(error)
    except OSError as error:
        _write_failed(error, out)
    from rich.table import Table

    from .graduation import binomial_interval

    shown_level = f"{100 * level:g}%"
    table = Table(title=f"Actual / expected, all ages, with {shown_level} intervals")
    for column in ("measure", "exposure", "observed", "expected", "A/E", f"A/E {shown_level} interval"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    totals = result.bands.groupby("measure")[["exposure", "observed", "expected"]].sum()
    for measure, row in totals.iterrows():
        ratio = row["observed"] / row["expected"] if row["expected"] > 0 else float("nan")
        # the exact interval of the observed rate over all ages, over the expected rate
        low, high = binomial_interval(row["observed"], row["exposure"], level)
        interval = (f"{float(low) * row['exposure'] / row['expected']:.3f} - "
                    f"{float(high) * row['exposure'] / row['expected']:.3f}") if row["expected"] > 0 else ""
        table.add_row(measure, f"{row['exposure']:,.0f}", f"{row['observed']:,.0f}", f"{row['expected']:,.1f}",
                      f"{ratio:.3f}", interval)
    console.print(table)
    console.print(f"{100 * result.coverage:.1f}% of the age bands have the workbook's assumption within their "
                  "interval")
    console.print(f"Wrote {path} (actual/expected, salary increases, density, proposed tables)")
