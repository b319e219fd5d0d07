"""``actuary report [WORKBOOK] [--out DIR] [--name NAME] [--with-sensitivity] [--with-stochastic N]``: the
valuation report as one self-contained HTML file and its PDF (the command's options are declared in
:mod:`actuary.cli`)."""

from __future__ import annotations

import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def run_report(workbook: Path | None, out: Path, name: str | None, with_sensitivity: bool, paths: int | None,
               seed: int, previous: Path | None = None, steps: Path | None = None, compare: tuple = (),
               force: bool = False):
    """Write the valuation report: NAME-report.html (self-contained, figures embedded) and NAME-report.pdf
    (printed by headless Chromium, else WeasyPrint), NAME from the workbook's file name (or --name).

    WORKBOOK is a valuation workbook (.xlsx) or a case folder; without it, the embedded Demoland case runs.
    ``previous``: the previous valuation, for the analysis-of-change chapter (``steps``: its steps file; default
    the workbook's own 'Analysis of change' sheet, else the default steps).
    ``compare``: option workbooks; with them or a Reforms sheet, the comparison chapter.
    The actuary's own text comes from the workbook's 'Report text' sheet (:mod:`actuary.io.report_text`), or a case
    folder's report_text.csv; without it, or with sections left blank, the report is a draft that marks each gap, and the command says so.
    ``force``: replace files of the outputs' names that actuary did not write or that changed since (--force).
    """
    from .. import cli_interrupt as ctrl_c
    from ..cli import (_load_case, _provenance, console, errors, first_compile_note, gather_options, not_into_the_case,
                       output_stem)
    from ..io.files import OutputSet
    from . import write_report
    from .pdf import PdfFailed, engine

    if workbook is not None:
        not_into_the_case(out, workbook)
    stem = output_stem(workbook, name)
    html_name, pdf_name = f"{stem}-report.html", f"{stem}-report.pdf"
    chosen = engine()
    names = [html_name, pdf_name] if chosen else [html_name]
    with OutputSet(out, names, source=workbook if name is None else None, force=force,
                   inputs=[workbook, previous, steps, *compare]) as outputs:
        first_compile_note(stochastic=bool(paths))
        with console.status(f"Reading and validating {workbook or 'Demoland'}..."):
            source, valuation = _load_case(workbook, named=bool(previous or compare))
            text = valuation.report_text   # read with the case: the Report text sheet, or report_text.csv
        with console.status("Projecting..."):
            results = valuation.run()
        sensitivity = stochastic = None
        params = None
        # the stochastic paths (a Numba kernel that releases the GIL) run beside the sensitivity scenarios (mostly
        # Python): on two cores the two overlap instead of waiting for each other. A run stopped on the way (a
        # Ctrl-C, a bad Scenarios sheet) does not wait for the paths: the command line's end stops them.
        pool = ThreadPoolExecutor(max_workers=1, initializer=_signals_to_the_main_thread)
        try:
            with console.status("Running the requested projections..."):
                future = None
                if paths is not None:
                    from ..stochastic import read_parameters, simulate

                    params = read_parameters(source) if source.suffix.lower() == ".xlsx" else None
                    future = pool.submit(simulate, valuation, paths, seed=seed, params=params,
                                         progress=lambda _: ctrl_c.stop_if_pressed())
                if with_sensitivity:
                    from ..batch import read_scenarios, sensitivity as run_sensitivity

                    extra = read_scenarios(source, base=valuation) if source.suffix.lower() == ".xlsx" else []
                    sensitivity = run_sensitivity(valuation, extra=extra)
                if future is not None:
                    stochastic = _result(future)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        extra = {"seed": seed, "paths": paths} if paths is not None else {}
        change = None
        if previous is not None:
            change, more = _analysis_of_change(previous, steps, source, valuation)
            extra.update(more)
        comparison = None
        options, definitions, files = gather_options(source, valuation, compare)
        if options:
            from ..compare import comparison as compare_options

            with console.status(f"Running {len(options)} reform option(s)..."):
                comparison = compare_options(valuation, options, definitions, base_results=results)
            extra.update(options=", ".join(options), **files)
        record = _provenance(source, valuation, **extra)
        failure = None
        with console.status("Writing the report..."):
            try:
                html, pdf = write_report(valuation, results, outputs.staging, sensitivity=sensitivity,
                                         stochastic=stochastic, record=record, pdf=bool(chosen), name=stem,
                                         change=change, comparison=comparison, text=text)
            except PdfFailed as error:
                failure = error
                outputs.names.remove(pdf_name)   # the HTML is still delivered; no partial PDF
        written = outputs.commit()
    console.print(f"Wrote {written[0]} (self-contained: figures embedded, no network)", highlight=False)
    if failure is not None:
        errors.print(f"[bold red]PDF not written:[/] {failure}", highlight=False)
        _say_draft(text, valuation, source)
        sys.exit(1)
    if chosen:
        console.print(f"Wrote {written[1]} (printed by {chosen})", highlight=False)
        _say_missing_fonts(written[0])
    else:
        errors.print("[bold yellow]PDF not written:[/] neither Chromium nor WeasyPrint is installed (Debian: "
                      "apt-get install chromium); print the HTML file from a browser instead.", highlight=False)
    _say_draft(text, valuation, source)


def _signals_to_the_main_thread() -> None:
    """In the thread that runs the stochastic paths: block SIGINT and SIGTERM, so that the system delivers a Ctrl-C
    to the main thread (whose wait it then interrupts) and never to this one, where Python would only note it."""
    from ..cli_interrupt import STOPPING

    signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)


def _result(future):
    """The stochastic paths' result, waited for in short steps: a Ctrl-C recorded but swallowed on the way (during a
    Numba compilation of the sensitivity scenarios, say) stops the run here, not after the last of the paths."""
    from concurrent.futures import TimeoutError as NotYet

    from ..cli_interrupt import stop_if_pressed

    while True:
        stop_if_pressed()
        try:
            return future.result(timeout=0.2)
        except NotYet:
            continue


def _say_missing_fonts(html: Path) -> None:
    """Say which characters of the report no installed font has (the PDF shows them as empty boxes): text in a
    script the machine has no font for (the actuary's text, names of options or benefits)."""
    from rich.markup import escape

    from ..cli import errors
    from .pdf import characters_without_font_by_script

    groups = characters_without_font_by_script(html.read_text(encoding="utf-8", errors="replace"))
    if groups:
        count = sum(len(characters) for _, characters, _ in groups)
        parts = [f"{script}: {' '.join(characters[:8])}{' ...' if len(characters) > 8 else ''}"
                 + (f", first in chapter '{chapter}'" if chapter else ", first on the title page")
                 for script, characters, chapter in groups[:4]]
        more = f"; and {len(groups) - 4} other scripts" if len(groups) > 4 else ""
        errors.print(f"[bold yellow]note:[/] no font on this machine has {count} of the report's characters "
                     f"({escape('; '.join(parts) + more)}): the PDF shows them as empty boxes. "
                     "Install a font that has them (Debian: fonts-noto-cjk for Chinese, Japanese and Korean, "
                     "fonts-noto-core for most other scripts) and run the report again; the HTML file shows them on "
                     "any computer with such a font.", highlight=False, soft_wrap=True)


def _say_draft(text, valuation, source: Path) -> None:
    """Say which sections of the actuary's text the report marks as to be written (nothing when none is)."""
    from rich.markup import escape

    from ..cli import errors
    from ..io.report_text import SHEET, ReportText, where_given

    gaps = (text or ReportText()).missing(valuation.inputs.has_scheme)
    if gaps:
        from ..valuation import DEMOLAND

        if source.resolve().parent == DEMOLAND.resolve():
            where = (f"the '{SHEET}' sheet of your own copy of the case (actuary template --demo valuation.xlsx "
                     "writes one; then actuary report valuation.xlsx)")
        elif source.is_dir():
            where = f"{source.name}/report_text.csv (columns section,text: one line per section)"
        elif text is not None:
            where = f"the '{SHEET}' sheet of {source.name}"
        else:
            where = where_given(text, getattr(valuation, "source", None))
        errors.print(f"[bold yellow]Draft:[/] {len(gaps)} section{'s' if len(gaps) > 1 else ''} of the actuary's "
                      f"text {'are' if len(gaps) > 1 else 'is'} not written ({', '.join(s.key for s in gaps)}); the "
                      f"report marks {'them' if len(gaps) > 1 else 'it'} as to be written. Give "
                      f"{'them' if len(gaps) > 1 else 'it'} in {escape(where)}.", highlight=False)


def _analysis_of_change(previous: Path, steps: Path | None, source: Path, valuation):
    """The analysis of change from ``previous`` to the report's valuation and what provenance records of it."""
    from ..change import analysis_of_change
    from ..cli import _load_case, console
    from ..cli_change import change_provenance, chosen_steps

    with console.status("Valuing each step of the analysis of change from the previous valuation..."):
        previous_source, before = _load_case(previous, named=True)
        chosen, steps_file = chosen_steps(source, steps)
        ds = analysis_of_change(before, valuation, chosen)
    return ds, change_provenance(previous_source, before, ds, steps_file, source)
