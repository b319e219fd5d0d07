"""The ``actuary`` command line: thin wrappers that parse arguments, call the library, show
progress and say where the outputs went. Bad input exits with code 2 and a one-paragraph message."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from .validation import InputError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WPP_CANADA = PROJECT_ROOT / "assumptions" / "wpp2019_canada"

console = Console(width=None if sys.stdout.isatty() else 120)


def fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(2)


@contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


@click.group()
@click.version_option(package_name="actuary")
def main():
    """Actuarial valuation engine for social insurance pension schemes."""


@main.command()
@click.option("--data", "data", type=click.Path(path_type=Path), default=WPP_CANADA, show_default=True,
              help="Folder of WPP-format CSV inputs.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Output folder.")
@click.option("--migration-timing", type=click.Choice(["end", "even"]), default="end", show_default=True)
def population(data: Path, out: Path, migration_timing: str):
    """Project a national population by sex and single age (cohort-component method)."""
    from .demography import project_population
    from .io.wpp import read_wpp_folder

    try:
        with console.status("Reading inputs and compiling the kernel (first run only)..."):
            inputs = read_wpp_folder(data)
            result = project_population(inputs["base"], inputs["survival"], inputs["fertility"],
                                        inputs["sex_ratio_at_birth"], inputs["net_migration"], migration_timing)
    except InputError as error:
        fail(str(error))
    name = data.name
    nc_path = out / f"{name}-population.nc"
    csv_path = out / f"{name}-population-totals.csv"
    with atomic_path(nc_path) as tmp:
        result.to_netcdf(tmp)
    totals = result.population.sum("age").to_pandas()
    totals["total"] = totals.sum(axis=1)
    totals = totals.join(result.births.to_pandas().add_prefix("births_")).join(
        result.deaths.to_pandas().add_prefix("deaths_"))
    with atomic_path(csv_path) as tmp:
        totals.to_csv(tmp, float_format="%.1f")

    table = Table(title=f"Population projection from {data}")
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
    console.print(f"Wrote {nc_path} (population by year, sex, age; births; deaths)")
    console.print(f"Wrote {csv_path} (totals by year)")


@main.command()
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Output folder.")
def valuate(workbook: Path | None, out: Path):
    """Run a valuation and write its results workbook and netCDF file.

    WORKBOOK is a valuation workbook (.xlsx, see 'actuary template') or a case folder of CSV tables;
    without it, the embedded Demoland case runs.
    """
    from .io.folder import read_valuation_folder
    from .io.results import write_results
    from .io.workbook import load_workbook
    from .valuation import DEMOLAND

    source = workbook or DEMOLAND / "valuation.xlsx"
    try:
        with console.status(f"Reading and validating {source}..."):
            valuation = read_valuation_folder(source) if source.is_dir() else load_workbook(source)
        with console.status("Projecting (the first run compiles the kernels; later runs use the cache)..."):
            results = valuation.run()
    except InputError as error:
        fail(str(error))
    name = valuation.name
    xlsx_path = out / f"{name}-results.xlsx"
    nc_path = out / f"{name}-results.nc"
    with console.status("Writing the results workbook and netCDF file..."):
        write_results(results, valuation, xlsx_path)
        with atomic_path(nc_path) as tmp:
            results.projection.merge(results.summary.rename({k: f"summary_{k}" for k in results.summary.data_vars}),
                                     compat="override").to_netcdf(tmp)
    print_summary(name, results)
    console.print(f"Wrote {xlsx_path} (summary, projection and financing tables, balance sheet, charts)")
    console.print(f"Wrote {nc_path} (the full results Dataset, summary values prefixed summary_)")


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--demo", is_flag=True, help="Fill the workbook with the Demoland case instead of leaving it blank.")
def template(path: Path, demo: bool):
    """Write a valuation workbook: blank (laid out for Demoland's years and ages) or, with --demo,
    filled with the Demoland case."""
    from .valuation import Valuation

    if path.suffix.lower() != ".xlsx":
        fail(f"{path}: the template is an Excel workbook; give a path ending in .xlsx.")
    Valuation.demo().to_workbook(path, blank=not demo)
    console.print(f"Wrote {path} ({'the Demoland case' if demo else 'blank inputs'}; yellow cells are inputs)")


def print_summary(name, results) -> None:
    p, s = results.projection, results.summary
    table = Table(title=f"{name}: valuation at 1 January {p.attrs['valuation_year']}, {p.attrs['horizon']} years")
    for column, justify in (("year", "right"), ("contributors", "right"), ("pensioners", "right"),
                            ("contribution rate", "right"), ("PAYG cost rate", "right"),
                            ("reserve ratio", "right"), ("expenditure % GDP", "right")):
        table.add_column(column, justify=justify)
    years = p.year.values
    for year in [years[0], *[y for y in years if (y - years[0]) % 10 == 9]]:
        row = p.sel(year=year)
        table.add_row(str(year), f"{float(row.contributors):,.0f}", f"{float(row.pensioners):,.0f}",
                      f"{100 * float(row.contribution_rate):.2f}%", f"{100 * float(row.paygo_cost_rate):.2f}%",
                      f"{float(row.reserve_ratio):.2f}", f"{float(row.expenditure_pct_gdp):.2f}%")
    console.print(table)
    gaps = ", ".join(f"{int(h)} years {100 * float(g):.2f}%" for h, g in zip(s.horizon.values, s.gap.values))
    console.print(f"General average premium: {gaps}")
    depletion = float(s.depletion_year)
    console.print("Reserve depletion year: " + ("none within the horizon" if depletion != depletion
                                                else f"{int(depletion)} (afterwards income covers at least "
                                                     f"{100 * float(s.payable_share_after_depletion):.0f}% of expenditure)"))


if __name__ == "__main__":
    main()
