"""The report's comparison chapter: reform options side by side with the base valuation.

Shown when the report is given a comparison Dataset (:func:`actuary.compare.comparison`: the base workbook's
Reforms sheet, or ``actuary report BASE.xlsx --compare OPTION.xlsx ...``): the options and their definitions,
the key measures of every option (GAP by horizon, depletion year, actuarial balance, balance-sheet items), their
differences from the base (option - base), the reserve ratio and PAYG cost rate by year with figures overlaying
the options, and the adequacy of the stylized careers (replacement rate at award, benefit ratios after 10 and
20 years). Every number is a value of the comparison Dataset in the format of the results workbooks
(:mod:`actuary.io.presentation`), the same rows as the comparison workbook (:mod:`actuary.compare`).
"""

from __future__ import annotations

import numpy as np

from ..compare import adequacy_rows, other_inputs_sentence, summary_rows, yearly_rows
from ..io import presentation as pres
from . import Table, _every, figures

# the retirement year of the adequacy tables: this many years after the valuation year (or the last year)
ADEQUACY_AFTER = 20


def _options(ds) -> list[str]:
    return [str(o) for o in ds.option.values]


def options_table(ds) -> Table:
    """The options, how each differs from the base and the inputs other than provisions (assumptions, data,
    methods) each changes (as the comparison workbook's Options sheet)."""
    definitions = ds["definition"].values if "definition" in ds.coords else [""] * ds.sizes["option"]
    beyond = [""] + [str(b) or "no: provisions only" for b in ds["changes_beyond_provisions"].values[1:]]
    return Table("The base and the reform options",
                 ["Option", "Definition", "Also changes assumptions, data or methods"],
                 [[o, str(d), b] for o, d, b in zip(_options(ds), definitions, beyond)], wrap=True)


def key_measures_table(ds, unit: str) -> Table:
    """The one-number measures of every option (the base first)."""
    rows = [[row.label] + [pres.display(v, row.format) for v in row.values] for row in summary_rows(ds, unit)]
    return Table("Key measures of the base and each option", ["Measure"] + _options(ds), rows)


def differences_table(ds, unit: str) -> Table:
    """The one-number measures of each option less those of the base."""
    rows = [[row.label] + [pres.display(v, row.format) for v in row.differences[1:]]
            for row in summary_rows(ds, unit)]
    return Table("Differences from the base (option - base)", ["Measure"] + [f"{o} - base" for o in _options(ds)[1:]],
                 rows)


def yearly_table(ds, name: str, unit: str, step: int = 10) -> Table:
    """A yearly measure every ``step`` years: each option, then each option's difference from the base."""
    label, rows = yearly_rows(ds, name, unit)
    options = _options(ds)
    shown = [rows[i] for i in _every(ds, step)]
    return Table(label, ["Year"] + options + [f"{o} - base" for o in options[1:]],
                 [[row.name] + [pres.display(v, row.format) for v in [*row.values, *row.differences[1:]]]
                  for row in shown])


def adequacy_year(ds) -> int:
    years = ds.year.values
    return int(years[min(ADEQUACY_AFTER, years.size - 1)])


def adequacy_table(ds, name: str) -> Table:
    """An adequacy measure of every stylized career and sex, retiring in :func:`adequacy_year`."""
    year = adequacy_year(ds)
    label, rows = adequacy_rows(ds, name, [year])
    options = _options(ds)
    return Table(f"{label}: stylized careers retiring in {year}",
                 ["Career", "Sex"] + options + [f"{o} - base" for o in options[1:]],
                 [[career, sex] + [pres.display(v, row.format) for v in [*row.values, *row.differences[1:]]]
                  for career, sex, row in rows])


def legend_label(option) -> str:
    """An option's name as a legend label: plain text (matplotlib would read $...$ as mathematics and hide a
    label that starts with an underscore)."""
    text = str(option).replace("$", r"\$")
    return " " + text if text.startswith("_") else text


def _overlay(ds, key: str, name: str, y_title: str, **style) -> str:
    return figures._lines(key, ds.year.values, {legend_label(o): ds[name].sel(option=o).values
                                                for o in ds.option.values}, y_title, **style)


def comparison_chapter(chapter, ds, figure, unit: str) -> None:
    """Fill ``chapter`` (a :class:`actuary.report.Chapter`) with the comparison of ``ds``; ``figure(key,
    caption, svg)`` numbers and returns a report figure."""
    options = _options(ds)
    entry = ds.attrs.get("entry_age", "")
    chapter.text(f"The base valuation and {len(options) - 1} reform option{'s' if len(options) > 2 else ''}, "
                 "defined below. " + other_inputs_sentence(ds) + " Differences are the option's value less the "
                 "base's.")
    chapter.table(options_table(ds))
    chapter.table(key_measures_table(ds, unit))
    chapter.table(differences_table(ds, unit))
    chapter.table(yearly_table(ds, "reserve_ratio", unit))
    chapter.figure(figure("compare-ratio", "Reserve ratio of the base and each option (reserve at the end of the "
                                           "year / expenditure of the year)",
                          _overlay(ds, "compare-ratio", "reserve_ratio", "Years of expenditure", reference=1.0)))
    chapter.table(yearly_table(ds, "paygo_cost_rate", unit))
    chapter.figure(figure("compare-paygo", "PAYG cost rate of the base and each option",
                          _overlay(ds, "compare-paygo", "paygo_cost_rate", "% of insurable earnings", percent=True)))
    chapter.table(yearly_table(ds, "contribution_rate", unit))
    chapter.text(f"Adequacy for typical workers, computed with each option's own benefit rules: workers entering "
                 f"at {entry} and earning 0.5, 1 and 2 times the average wage every year (full careers), and 1 times "
                 f"the average wage with credits in {100 * float(ds.attrs.get('density', np.nan)):.0f}% of the "
                 "years (a career with gaps), retiring at the normal retirement age of their cohort. The "
                 "replacement rate is the pension at award over the worker's earnings in the year of retirement; "
                 "the benefit ratios, the pension after 10 and 20 years of payment over the average wage of "
                 "that year.")
    for name in ("replacement_rate", "benefit_ratio_10", "benefit_ratio_20"):
        chapter.table(adequacy_table(ds, name))
    career = str(ds.career.values[1])
    chapter.figure(figure("compare-replacement", f"Gross replacement rate at award, {career}, men, by year of "
                                                 "retirement",
                          figures._lines("compare-replacement", ds.year.values,
                                         {legend_label(o): ds.replacement_rate.sel(option=o, career=career,
                                                                                   sex="male").values
                                          for o in ds.option.values},
                                         "Pension / earnings in the year of retirement", percent=True)))
