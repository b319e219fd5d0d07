"""``actuary change PREVIOUS CURRENT``: the analysis of change between two valuations (the command's options are
declared in :mod:`actuary.cli`)."""

from __future__ import annotations

from pathlib import Path

from .validation import InputError


def _years(text: str | None):
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"--years '{text}': expected calendar years separated by commas, e.g. 2033,2048,2073.") \
            from None


def run_change(previous: Path, current: Path, steps_path, all_orders: bool, years, out: Path, name,
               force: bool = False):
    """``actuary change`` (:func:`actuary.cli.change_command`): the analysis, NAME-change.xlsx and NAME-change.nc
    written as one set, the reconciliation printed."""
    from rich.markup import escape
    from rich.table import Table

    from .change import analysis_of_change
    from .cli import _load_case, _provenance, _wrote, console, output_set
    from .io.change import write_change
    from .io.provenance import dataset_attributes

    output, (xlsx_name, nc_name) = output_set(out, current, name, ["change.xlsx", "change.nc"], force=force,
                                              inputs=[previous, steps_path])
    with output as outputs:
        with console.status("Reading and validating the two valuations..."):
            previous_source, before = _load_case(previous, named=True)
            source, after = _load_case(current, named=True)
            steps, steps_file = chosen_steps(source, steps_path)
        with console.status("Valuing each step (rolling the previous valuation forward first)..."):
            ds = analysis_of_change(before, after, steps, all_orders=all_orders, reserve_ratio_years=_years(years))
        record = _provenance(source, after, **change_provenance(previous_source, before, ds, steps_file, source))
        with console.status("Writing the analysis-of-change workbook and netCDF file..."):
            write_change(ds, outputs.path(xlsx_name), provenance=record)
            ds.attrs.update(dataset_attributes(record))
            ds.to_netcdf(outputs.path(nc_name))
        xlsx_path, nc_path = outputs.commit()
    horizon = int(ds.horizon.values[-1])
    table = Table(title=escape(f"Analysis of change: {before.name} ({ds.attrs['previous_valuation_year']}) -> "
                               f"{after.name} ({ds.attrs['current_valuation_year']})"))
    for column in ("", "actuarial balance", f"GAP {horizon} years", "depletion year"):
        table.add_column(column, justify="left" if not column else "right")
    # levels in percent of insurable earnings, the steps' effects in percentage points of them (pp)
    table.caption = "Levels in % of insurable earnings; effects of the steps in percentage points (pp) and years."
    first = ds.isel(step=0)
    table.add_row("previous valuation", f"{100 * float(first.actuarial_balance):.2f}%",
                  f"{100 * float(first.gap.sel(horizon=horizon)):.2f}%", _year(first))
    for step in ds.step.values[1:]:
        s = ds.sel(step=step)
        table.add_row(escape(f"  {step}"), f"{100 * float(s.effect_actuarial_balance):+.2f} pp",
                      f"{100 * float(s.effect_gap.sel(horizon=horizon)):+.2f} pp",
                      f"{float(s.effect_depletion_year):+.0f}")
    last = ds.isel(step=-1)
    table.add_row("current valuation", f"{100 * float(last.actuarial_balance):.2f}%",
                  f"{100 * float(last.gap.sel(horizon=horizon)):.2f}%", _year(last))
    console.print(table)
    _wrote(xlsx_path, "reconciliation table, waterfall charts, every measure at every step"
                      + (", all orders" if all_orders else ""))
    _wrote(nc_path, "the analysis-of-change Dataset")


def chosen_steps(source: Path, steps_path: Path | None):
    """(steps, the file they come from): those of ``--steps`` (a workbook's 'Analysis of change' sheet or a CSV
    file), else CURRENT's own 'Analysis of change' sheet if it has one, else the default steps (None, None)."""
    from .change import STEPS_SHEET, read_steps
    from .io.workbook import WorkbookReader

    if steps_path is not None:
        return read_steps(steps_path), steps_path
    if source.is_file():
        with WorkbookReader(source) as reader:
            own = STEPS_SHEET in reader.sheetnames
        if own:
            return read_steps(source), source
    return None, None


def change_provenance(previous_source: Path, before, ds, steps_file: Path | None, source: Path) -> dict:
    """What the run's provenance records of an analysis of change beside CURRENT's own: the previous file, its
    SHA-256 and case, what of its workbook was not used as it stands, the steps and the file they came from."""
    from .cli import not_read_as_given
    from .io.provenance import file_sha256

    extra = {"previous_file": previous_source.name,
             "previous_sha256": (before.source or {}).get("input_sha256") or file_sha256(previous_source),
             "previous_case": before.name, "steps": "; ".join(f"{s}: {i}" for s, i in
                                                              zip(ds.step.values[1:], ds.inputs.values[1:]))}
    extra.update(not_read_as_given(before, "previous_"))
    if steps_file is not None and steps_file != source:
        extra.update(steps_file=steps_file.name, steps_sha256=file_sha256(steps_file))
    return extra


def _year(s) -> str:
    year = int(float(s.depletion_year))
    return str(year) if bool(s.depleted) else f"after {year - 1}"
