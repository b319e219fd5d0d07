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

console = Console()


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


if __name__ == "__main__":
    main()
