"""The ``actuary`` command line: thin wrappers that parse arguments, call the library, show
progress and say where the outputs went. Bad input exits with code 2 and a one-paragraph message."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from .io.files import atomic_path
from .validation import InputError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WPP_CANADA = PROJECT_ROOT / "assumptions" / "wpp2019_canada"

console = Console(width=None if sys.stdout.isatty() else 120)


def fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(2)


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
    from .io.results import write_results

    try:
        with console.status(f"Reading and validating {workbook or 'Demoland'}..."):
            _, valuation = _load_case(workbook)
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


def _load_case(workbook: Path | None):
    from .io.folder import read_valuation_folder
    from .io.workbook import load_workbook
    from .valuation import DEMOLAND

    source = workbook or DEMOLAND / "valuation.xlsx"
    valuation = read_valuation_folder(source) if source.is_dir() else load_workbook(source)
    return source, valuation


@main.command("sensitivity")
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@click.option("--scenarios", "scenarios_path", type=click.Path(path_type=Path),
              help="A workbook whose Scenarios sheet adds scenarios (default: the valuation workbook's own).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("out"), show_default=True)
@click.option("--workers", type=int, help="Run on a local Dask cluster of this many worker processes.")
@click.option("--scheduler", help="Run on an existing Dask distributed scheduler (address).")
def sensitivity_command(workbook, scenarios_path, out, workers, scheduler):
    """Standard sensitivity tests (each assumption down and up), combined optimistic and pessimistic
    scenarios and any scenarios of a Scenarios sheet; writes a workbook with the tornado table and chart."""
    from .batch import read_scenarios, sensitivity, tornado, write_sensitivity

    try:
        with console.status("Reading and validating..."):
            source, valuation = _load_case(workbook)
            extra = read_scenarios(scenarios_path or source) if (scenarios_path or source.suffix == ".xlsx") else []
        with console.status(f"Running {19 + len(extra)} scenarios..."):
            ds = sensitivity(valuation, workers=workers, scheduler=scheduler, extra=extra)
    except InputError as error:
        fail(str(error))
    path = out / f"{valuation.name}-sensitivity.xlsx"
    nc_path = out / f"{valuation.name}-sensitivity.nc"
    write_sensitivity(ds, path)
    with atomic_path(nc_path) as tmp:
        ds.to_netcdf(tmp)
    table = Table(title=f"{valuation.name}: general average premium over {ds.sizes['year']} years")
    for column in ("assumption", "down", "base", "up"):
        table.add_column(column, justify="left" if column == "assumption" else "right")
    for row in tornado(ds):
        table.add_row(row["assumption"], f"{100 * row['gap_down']:.2f}%", f"{100 * row['gap_base']:.2f}%",
                      f"{100 * row['gap_up']:.2f}%")
    for name in ("optimistic", "pessimistic"):
        table.add_row(name, "", "", f"{100 * float(ds.gap.sel(scenario=name).isel(horizon=-1)):.2f}%")
    console.print(table)
    if ds.attrs["failed"]:
        for name, status in zip(ds.scenario.values, ds.status.values):
            if status != "ok":
                console.print(f"[bold red]scenario failed:[/] {name}: {status}", highlight=False)
    console.print(f"Wrote {path} (tornado table and chart, every scenario)")
    console.print(f"Wrote {nc_path} (results by scenario)")


@main.command("stochastic")
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@click.option("--paths", "n_paths", type=int, default=1000, show_default=True, help="Number of paths.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same results).")
@click.option("--chunk-size", type=int, default=250, show_default=True, help="Paths per chunk sent to a worker.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("out"), show_default=True)
@click.option("--workers", type=int, help="Run on a local Dask cluster of this many worker processes.")
@click.option("--scheduler", help="Run on an existing Dask distributed scheduler (address).")
@click.option("--keep-paths", is_flag=True, help="Also write every path's yearly indicators (memory grows with paths).")
@click.option("--format", "fmt", type=click.Choice(["netcdf", "zarr"]), default="netcdf", show_default=True)
def stochastic_command(workbook, n_paths, seed, chunk_size, out, workers, scheduler, keep_paths, fmt):
    """Monte Carlo paths of the economy (correlated AR(1)), mortality improvement (random walk) and
    fertility (AR(1)): percentiles of every yearly indicator, probability of depletion, fan charts.
    Parameters come from the workbook's Stochastic sheet when it has one (defaults otherwise)."""
    from rich.progress import Progress

    from .stochastic import read_parameters, simulate, write_stochastic

    try:
        with console.status("Reading and validating..."):
            source, valuation = _load_case(workbook)
            params = read_parameters(source) if source.suffix == ".xlsx" else None
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"Simulating {n_paths:,} paths", total=n_paths)
            ds = simulate(valuation, n_paths, seed=seed, chunk_size=chunk_size, workers=workers, scheduler=scheduler,
                          params=params, keep_paths=keep_paths, progress=lambda n: progress.advance(task, n))
    except InputError as error:
        fail(str(error))
    xlsx_path = out / f"{valuation.name}-stochastic.xlsx"
    data_path = out / f"{valuation.name}-stochastic.{'nc' if fmt == 'netcdf' else 'zarr'}"
    write_stochastic(ds, xlsx_path)
    if fmt == "netcdf":
        with atomic_path(data_path) as tmp:
            ds.to_netcdf(tmp)
    else:
        import shutil
        import tempfile

        staging = Path(tempfile.mkdtemp(dir=out, prefix=".zarr-"))
        try:
            ds.to_zarr(staging / "data.zarr", mode="w", consolidated=False)
            if data_path.exists():
                shutil.rmtree(data_path)
            (staging / "data.zarr").rename(data_path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    years = ds.year.values
    table = Table(title=f"{valuation.name}: {n_paths:,} paths, seed {seed}")
    for column in ("year", "PAYG P5", "PAYG median", "PAYG P95", "reserve ratio median", "P(depleted)"):
        table.add_column(column, justify="right")
    for year in [years[0], *[y for y in years if (y - years[0]) % 10 == 9]]:
        s = ds.sel(year=year)
        table.add_row(str(year), *(f"{100 * float(s.paygo_cost_rate.sel(percentile=p)):.2f}%" for p in (5, 50, 95)),
                      f"{float(s.reserve_ratio.sel(percentile=50)):.2f}", f"{100 * float(s.probability_of_depletion):.1f}%")
    console.print(table)
    console.print(f"Wrote {xlsx_path} (percentiles and fan charts, probability of depletion)")
    console.print(f"Wrote {data_path} (percentiles{', every path' if keep_paths else ''})")


def print_summary(name, results) -> None:
    p, s = results.projection, results.summary
    table = Table(title=f"{name}: valuation at 1 January {p.attrs['valuation_year']}, {p.attrs['horizon']} years")
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
    gaps = ", ".join(f"{int(h)} years {100 * float(g):.2f}%" for h, g in zip(s.horizon.values, s.gap.values))
    console.print(f"General average premium: {gaps}")
    console.print(f"Actuarial balance over {s.actuarial_balance.attrs['period']} years: "
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


from .data.cli import data_command, experience_command, synth_command  # noqa: E402  (member-data commands)

main.add_command(data_command)
main.add_command(synth_command)
main.add_command(experience_command)

from .cli_change import change_command  # noqa: E402  (analysis of change)

main.add_command(change_command)

if __name__ == "__main__":
    main()
