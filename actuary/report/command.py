"""``actuary report [WORKBOOK] [--out DIR] [--with-sensitivity] [--with-stochastic N]``: the valuation
report as one self-contained HTML file and its PDF."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click


@click.command("report")
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Output folder.")
@click.option("--with-sensitivity", is_flag=True,
              help="Add the sensitivity chapter (standard sensitivities, optimistic and pessimistic scenarios and "
                   "the workbook's Scenarios sheet).")
@click.option("--with-stochastic", "paths", type=int, metavar="N",
              help="Add the stochastic chapter with N paths (parameters from the workbook's Stochastic sheet).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the stochastic paths.")
def report(workbook: Path | None, out: Path, with_sensitivity: bool, paths: int | None, seed: int):
    """Write the valuation report: <name>-report.html (self-contained, figures embedded) and <name>-report.pdf
    (printed by headless Chromium, else WeasyPrint).

    WORKBOOK is a valuation workbook (.xlsx) or a case folder; without it, the embedded Demoland case runs.
    """
    from ..cli import _load_case, console, fail
    from ..validation import InputError
    from . import safe_stem, write_report
    from .pdf import PdfFailed, engine

    if paths is not None and paths < 1:
        fail(f"--with-stochastic: value {paths} must be at least 1 path.")
    try:
        with console.status(f"Reading and validating {workbook or 'Demoland'}..."):
            source, valuation = _load_case(workbook)
        with console.status("Projecting..."):
            results = valuation.run()
        sensitivity = stochastic = None
        with ThreadPoolExecutor(max_workers=1) as pool, console.status("Running the requested projections..."):
            # the stochastic paths (a Numba kernel that releases the GIL) run beside the sensitivity scenarios
            # (mostly Python): on two cores the two overlap instead of waiting for each other
            future = None
            if paths is not None:
                from ..stochastic import read_parameters, simulate

                params = read_parameters(source) if source.suffix.lower() == ".xlsx" else None
                future = pool.submit(simulate, valuation, paths, seed=seed, params=params)
            if with_sensitivity:
                from ..batch import read_scenarios, sensitivity as run_sensitivity

                extra = read_scenarios(source) if source.suffix.lower() == ".xlsx" else []
                sensitivity = run_sensitivity(valuation, extra=extra)
            if future is not None:
                stochastic = future.result()
    except InputError as error:
        fail(str(error))
    try:
        with console.status("Writing the report..."):
            html, pdf = write_report(valuation, results, out, sensitivity=sensitivity, stochastic=stochastic,
                                     source=source, command=["actuary", *sys.argv[1:]])
    except PdfFailed as error:
        console.print(f"Wrote {out / (safe_stem(valuation.name) + '-report.html')}", highlight=False)
        console.print(f"[bold red]PDF not written:[/] {error}", highlight=False)
        sys.exit(1)
    console.print(f"Wrote {html} (self-contained: figures embedded, no network)")
    if pdf is not None:
        console.print(f"Wrote {pdf} (printed by {engine()})")
    else:
        console.print("[bold yellow]PDF not written:[/] neither Chromium nor WeasyPrint is installed (Debian: "
                      "apt-get install chromium); print the HTML file from a browser instead.", highlight=False)
