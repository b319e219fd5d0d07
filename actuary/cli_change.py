"""``actuary change PREVIOUS CURRENT``: the analysis of change between two valuations (registered on the main
command group by :mod:`actuary.cli`)."""

from __future__ import annotations

from pathlib import Path

import click


def _years(text: str | None):
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        from .cli import fail

        fail(f"--years '{text}': expected calendar years separated by commas, e.g. 2033,2048,2073.")


@click.command("change")
@click.argument("previous", type=click.Path(path_type=Path))
@click.argument("current", type=click.Path(path_type=Path))
@click.option("--steps", "steps_path", type=click.Path(path_type=Path),
              help="Steps and their inputs: a workbook with an 'Analysis of change' sheet or a CSV file (columns "
                   "step, input, notes). Default: CURRENT's own 'Analysis of change' sheet if it has one, otherwise "
                   "valuation period, data, demographic, economic, behavioural, provisions, methods.")
@click.option("--all-orders", is_flag=True,
              help="Also value every order of the steps (at most 7: 128 cases) and report each step's Shapley effect "
                   "(its mean effect over all orders) with its lowest and highest.")
@click.option("--years", "years", help="Years of the reserve ratio, e.g. 2033,2048 (default: 10, 25 and 50 years "
                                       "after CURRENT's valuation year).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Output folder.")
def change_command(previous: Path, current: Path, steps_path, all_orders: bool, years, out: Path):
    """Analysis of change from the PREVIOUS valuation to the CURRENT one (valuation workbooks or case folders):
    each step replaces a set of the previous case's inputs by the current one's and values again; the effects
    add up exactly to the total change. Writes a workbook (reconciliation table, waterfall charts) and netCDF."""
    from rich.table import Table

    from .change import STEPS_SHEET, analysis_of_change, read_steps
    from .cli import _load_case, console, fail
    from .io.change import write_change
    from .io.files import atomic_path
    from .validation import InputError

    try:
        with console.status("Reading and validating the two valuations..."):
            _, before = _load_case(previous)
            source, after = _load_case(current)
            steps = None
            if steps_path is not None:
                steps = read_steps(steps_path)
            elif source.suffix.lower() == ".xlsx" and _has_sheet(source, STEPS_SHEET):
                steps = read_steps(source)
        with console.status("Valuing each step (rolling the previous valuation forward first)..."):
            ds = analysis_of_change(before, after, steps, all_orders=all_orders, reserve_ratio_years=_years(years))
    except InputError as error:
        fail(str(error))
    name = after.name if after.name == before.name else f"{before.name}-to-{after.name}"
    xlsx_path, nc_path = out / f"{name}-change.xlsx", out / f"{name}-change.nc"
    with console.status("Writing the analysis-of-change workbook and netCDF file..."):
        write_change(ds, xlsx_path)
        with atomic_path(nc_path) as tmp:
            ds.to_netcdf(tmp)
    table = Table(title=f"Analysis of change: {ds.attrs['previous_valuation_year']} -> "
                        f"{ds.attrs['current_valuation_year']}")
    horizon = int(ds.horizon.values[-1])
    for column in ("", "actuarial balance", f"GAP {horizon} years", "depletion year"):
        table.add_column(column, justify="left" if not column else "right")
    for i, step in enumerate(ds.step.values):
        s = ds.sel(step=step)
        prefix = "" if i == 0 else "effect_"
        label = "previous valuation" if i == 0 else f"  {step}"
        table.add_row(label, f"{100 * float(s[prefix + 'actuarial_balance']):+.2f}%" if i else
                      f"{100 * float(s.actuarial_balance):.2f}%",
                      f"{100 * float(s[prefix + 'gap'].sel(horizon=horizon)):+.2f}%" if i else
                      f"{100 * float(s.gap.sel(horizon=horizon)):.2f}%",
                      f"{float(s[prefix + 'depletion_year']):+.0f}" if i else _year(s))
    last = ds.isel(step=-1)
    table.add_row("current valuation", f"{100 * float(last.actuarial_balance):.2f}%",
                  f"{100 * float(last.gap.sel(horizon=horizon)):.2f}%", _year(last))
    console.print(table)
    console.print(f"Wrote {xlsx_path} (reconciliation table, waterfall charts, every measure at every step"
                  f"{', all orders' if all_orders else ''})")
    console.print(f"Wrote {nc_path} (the analysis-of-change Dataset)")


def _year(s) -> str:
    year = int(float(s.depletion_year))
    return str(year) if bool(s.depleted) else f"after {year - 1}"


def _has_sheet(path: Path, name: str) -> bool:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return name in wb.sheetnames
    finally:
        wb.close()
