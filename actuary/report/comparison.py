"""The report's comparison chapter: reform options side by side with the base valuation.

Shown when the report is given a comparison Dataset (:func:`actuary.compare.comparison`: the base workbook's
Reforms sheet, or ``actuary report BASE.xlsx --compare OPTION.xlsx ...``): the options and their definitions,
the key measures of every option (GAP by horizon, depletion year, actuarial balance, balance-sheet items), their
differences from the base (option - base), the reserve ratio and PAYG cost rate by year with figures overlaying
the options, with a social protection floor the floor's cost and the fiscal cost (by year in % of GDP, by horizon
in the key measures), the scheme's borrowing once its reserve is exhausted and with a floor the fiscal cost including
it (:func:`borrowing_section`), and the adequacy of the stylized careers (replacement rate at award, benefit ratios
after 10 and 20 years). Every number is a value of the comparison Dataset in the format of the results workbooks
(:mod:`actuary.io.presentation`), the same rows as the comparison workbook (:mod:`actuary.compare`).
"""

from __future__ import annotations

import math
import re

import numpy as np
from markupsafe import Markup, escape

from ..compare import BORROWING_YEARLY, FISCAL_YEARLY, Row, adequacy_rows, adequacy_year, other_inputs_sentence, \
    summary_rows, yearly_rows
from ..io import presentation as pres
from . import Table, _every, figures


def _options(ds) -> list[str]:
    return [str(o) for o in ds.option.values]


def header(option: str, suffix: str = "") -> Markup:
    """An option's name heading a column: a long name without spaces (a file name: option_a_higher_rate) may break
    after its underscores and dots (<wbr>) rather than anywhere or not at all; the name itself escaped."""
    text = str(escape(str(option) + suffix))
    return Markup(re.sub(r"(?<=[_.])(?=[^_.\s])", "<wbr>", text) if len(str(option)) > 12 else text)


def _headers(ds) -> list[Markup]:
    """Headers of the options' columns then of their differences from the base."""
    options = _options(ds)
    return [header(o) for o in options] + [header(o, " - base") for o in options[1:]]


def difference_text(value, row) -> str:
    """An option's difference from the base as a board reads it: a difference of percentages in percentage
    points ("+6.00 pp", not "6.00%", which would read as a relative change), a difference of years with its
    unit ("+6 years"), others signed in the format of their measure; blank where either has no value."""
    if value is None or not math.isfinite(float(value)):
        return ""
    value = float(value)
    if row.format.endswith("%"):
        digits = len(row.format.split(".")[1].rstrip("%")) if "." in row.format else 0
        text = f"{100 * value:+,.{digits}f}"
        return ("0" + text[2:] if float(text.replace(",", "")) == 0 else text) + " pp"
    if row.kind == "year":
        return "0 years" if value == 0 else f"{value:+,.0f} year{'' if abs(value) == 1 else 's'}"
    text = pres.display(value, row.format)
    return text if value <= 0 or float(text.replace(",", "") or 0) == 0 else "+" + text


# a row of rates (to say a difference of percentages in words)
_PERCENT = Row("", "", pres.number_format("percent"), "percent", np.array([]), np.array([]))

# an input as the comparison names it: group.field
_INPUT = re.compile(r"\b([a-z]+)\.([a-z][a-z_0-9]*)\b")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def _field(group: str, name: str):
    from ..inputs import FIELDS

    return FIELDS.get(group, {}).get(name)


def _values_in_words(text: str, kind: str) -> str:
    """Values of an input as the comparison writes them (fractions: "0.18..0.22") in the input's units:
    "18%..22%" for a rate; other values as they are."""
    if kind == "percent":
        return _NUMBER.sub(lambda m: f"{100 * float(m.group(0)):.4g}%", text)
    if kind == "percent_points":
        return _NUMBER.sub(lambda m: f"{float(m.group(0)):.4g}%", text)
    return text


def _difference_in_words(part: str) -> str:
    """One input's difference as :func:`actuary.compare.input_differences` writes it ("scheme.contribution_rate
    0.18..0.22 -> 0.24 in 2025-2059") with the input's label and its values in its units ("Contribution rate:
    18%..22% -> 24% in 2025-2059")."""
    m = _INPUT.search(part)
    field = m and _field(m.group(1), m.group(2))
    if field is None:
        return part
    label = pres.field_label(m.group(2), None, m.group(1))
    rest = part[m.end():]
    change = re.match(r" (?P<was>.+?) -> (?P<now>.+?)(?P<where>(?: (?:in|for|at) .*| \(.*)?)$", rest)
    if change and "," not in change["was"] + change["now"]:   # one value or a range each (not a list)
        kind = pres.field_kind(field)
        rest = f": {_values_in_words(change['was'], kind)} -> {_values_in_words(change['now'], kind)}" \
            + change["where"]
    elif change:
        rest = ":" + rest
    return part[:m.start()] + label + rest


def _labels() -> dict:
    """Input label -> (group, field), to read the definitions of a Reforms sheet's options (which name inputs by
    label: :func:`actuary.compare.describe_reform`)."""
    from ..inputs import FIELDS

    out = {}
    for group, fields in FIELDS.items():
        for name in fields:
            out.setdefault(pres.field_label(name, None, group), (group, name))
    return out


def _reform_in_words(part: str) -> str:
    """One change of a Reforms sheet's option ("Contribution rate + 0.03 from 2025", "... set to 0.2") with a
    rate's value in its units: "Contribution rate + 3 pp from 2025", "... set to 20%"; a factor ("x 1.1") and
    other inputs as written."""
    m = re.match(r"(?P<label>.+?) (?P<op>[+-]|set to) (?P<value>-?\d+(?:\.\d+)?(?:e-?\d+)?)(?P<rest>(?: .*)?)$", part)
    key = m and _labels().get(m["label"])
    if key is None:
        return part
    kind = pres.field_kind(_field(*key))
    value = float(m["value"])
    if kind not in ("percent", "percent_points"):
        return part
    value = 100 * value if kind == "percent" else value
    shown = f"{value:.4g} pp" if m["op"] in "+-" else f"{value:.4g}%"
    return f"{m['label']} {m['op']} {shown}{m['rest']}"


def in_words(text: str) -> str:
    """An option's definition, or a list of inputs, with every input (group.field) named by its label, as the
    provisions and assumptions chapters name it; the values of a changed input in its units."""
    parts = re.split(r"(; |: (?=[a-z]+\.))", str(text))   # the differences, and "also changes ...: " before some
    text = "".join(_reform_in_words(_difference_in_words(part)) if k % 2 == 0 else part
                   for k, part in enumerate(parts))
    return _INPUT.sub(lambda m: pres.field_label(m.group(2), None, m.group(1)) if _field(*m.groups()) else m.group(0),
                      text)


def options_table(ds) -> Table:
    """The options, how each differs from the base and the inputs other than provisions (assumptions, data,
    methods) each changes (as the comparison workbook's Options sheet)."""
    definitions = ds["definition"].values if "definition" in ds.coords else [""] * ds.sizes["option"]
    beyond = [""] + [in_words(b) if str(b) else "no: provisions only"
                     for b in ds["changes_beyond_provisions"].values[1:]]
    return Table("The base and the reform options",
                 ["Option", "Definition", "Also changes assumptions, data or methods"],
                 [[o, in_words(d), b] for o, d, b in zip(_options(ds), definitions, beyond)], wrap=True)


def key_measures_table(ds, unit: str) -> Table:
    """The one-number measures of every option (the base first)."""
    rows = [[row.label] + [pres.display(v, row.format) for v in row.values] for row in summary_rows(ds, unit)]
    return Table("Key measures of the base and each option", ["Measure"] + [header(o) for o in _options(ds)], rows,
                 note="The general average premium is a statutory rate (of contributions due, net of collection "
                      "losses, of the administration charged on contributions and of the state subsidy); the "
                      "actuarial balance is gross (a share of the insurable wage bill).")


def differences_table(ds, unit: str) -> Table:
    """The one-number measures of each option less those of the base."""
    rows = [[row.label] + [difference_text(v, row) for v in row.differences[1:]] for row in summary_rows(ds, unit)]
    return Table("Differences from the base (option - base)",
                 ["Measure"] + [header(o, " - base") for o in _options(ds)[1:]], rows)


def yearly_table(ds, name: str, unit: str, step: int = 10) -> Table:
    """A yearly measure every ``step`` years: each option, then each option's difference from the base."""
    label, rows = yearly_rows(ds, name, unit)
    shown = [rows[i] for i in _every(ds, step)]
    return Table(label, ["Year"] + _headers(ds),
                 [[row.name] + [pres.display(v, row.format) for v in row.values]
                  + [difference_text(v, row) for v in row.differences[1:]] for row in shown])


def adequacy_table(ds, name: str) -> Table:
    """An adequacy measure of every stylized career and sex, retiring in :func:`adequacy_year`."""
    year = adequacy_year(ds)
    label, rows = adequacy_rows(ds, name, [year])
    return Table(f"{label}: stylized careers retiring in {year}",
                 ["Career", "Sex"] + _headers(ds),
                 [[career, sex] + [pres.display(v, row.format) for v in row.values]
                  + [difference_text(v, row) for v in row.differences[1:]] for career, sex, row in rows])


def _overlay(ds, key: str, name: str, y_title: str, **style) -> str:
    return figures._lines(key, ds.year.values, {figures.legend_label(o): ds[name].sel(option=o).values
                                                for o in ds.option.values}, y_title, **style)


def _levels_in_words(ds, name: str, horizon: int) -> str:
    """A measure by horizon of the base and each option over ``horizon`` years, with each option's difference in pp:
    "1.23% in the base and 0.98% in 'later' (-0.25 pp)"."""
    options = _options(ds)
    level = ds[name].sel(horizon=horizon).values
    return f"{level[0]:.2f}% in the base and " + ", ".join(
        f"{v:.2f}% in '{o}' ({difference_text((v - level[0]) / 100, _PERCENT)})"
        for o, v in zip(options[1:], level[1:]))


def borrowing_section(chapter, ds, unit: str) -> None:
    """The scheme's borrowing once its reserve is exhausted, and with a floor the fiscal cost including it (each
    option's own; :data:`actuary.compare.BORROWING_YEARLY`): what it is, its level share of GDP over the longest
    horizon for every option, and the yearly tables, when some option borrows; a sentence when, with a floor, none
    does. Nothing when the comparison has no borrowing (the reserves last, or benefits are cut instead)."""
    if "scheme_borrowing_pct_gdp" not in ds:
        return
    if not bool((ds.scheme_borrowing_pct_gdp.values > 0).any()):
        chapter.text("No option's reserve runs out within the projection while the scheme borrows to pay benefits "
                     "in full: none borrows, and the fiscal cost including the scheme's borrowing is the fiscal cost.")
        return
    last = int(ds.horizon.values[-1])
    floor = "fiscal_cost_with_borrowing_pct_gdp" in ds
    depleted = [f"in {int(y)} in {'the base' if o == 'base' else repr(o)}"
                for o, y in zip(_options(ds), ds.depletion_year.values) if y == y] if "depletion_year" in ds else []
    said = ("Once its reserve is exhausted the scheme borrows to pay benefits in full (settings.after_depletion "
            "borrow), a debt the state stands behind whoever lends" + (f"; the reserve runs out {', '.join(depleted)}"
                                                                      if depleted else "") + ". ")
    said += ("Scheme borrowing is the year's deficit financed by borrowing, the interest on the debt included, in % "
             "of GDP, each option's own" + ("; the fiscal cost including it adds it to the fiscal cost above, the "
                                            "state's whole cost" if floor else
                                            " (worked out from each option's reserve as a valuation with a social "
                                            "protection floor gives it)") + ". ")
    said += ("The key measures give their present values and level shares of GDP by horizon, which count each "
             "deficit once, without the interest on the debt. ")
    if floor:
        said += (f"Over {last} years the level share of GDP of the fiscal cost including the scheme's borrowing is "
                 f"{_levels_in_words(ds, 'fiscal_cost_with_borrowing_level_pct_gdp', last)}.")
    else:
        said += (f"Over {last} years the level share of GDP of the scheme's deficits financed by borrowing is "
                 f"{_levels_in_words(ds, 'scheme_borrowing_level_pct_gdp', last)}.")
    chapter.text(said)
    for name in BORROWING_YEARLY:
        if name in ds:
            chapter.table(yearly_table(ds, name, unit))


def comparison_chapter(chapter, ds, figure, unit: str) -> None:
    """Fill ``chapter`` (a :class:`actuary.report.Chapter`) with the comparison of ``ds``; ``figure(key,
    caption, svg)`` numbers and returns a report figure."""
    options = _options(ds)
    entry = ds.attrs.get("entry_age", "")
    chapter.text(f"The base valuation and {len(options) - 1} reform option{'s' if len(options) > 2 else ''}, "
                 "defined below. " + in_words(other_inputs_sentence(ds)) + " Differences are the option's value "
                 "less the base's; differences of percentages are in percentage points (pp).")
    chapter.table(options_table(ds))
    chapter.table(key_measures_table(ds, unit))
    chapter.table(differences_table(ds, unit))
    chapter.table(yearly_table(ds, "reserve_ratio", unit))
    chapter.figure(figure("compare-ratio", "Reserve ratio of the base and each option (reserve at the end of the "
                                           "year / expenditure of the year)",
                          _overlay(ds, "compare-ratio", "reserve_ratio", "Years of expenditure", reference=1.0)))
    chapter.table(yearly_table(ds, "paygo_cost_rate", unit))
    chapter.figure(figure("compare-paygo", "PAYG cost rate of the base and each option (gross basis: expenditure / "
                                           "insurable wage bill)",
                          _overlay(ds, "compare-paygo", "paygo_cost_rate", "% of insurable earnings", percent=True)))
    chapter.table(yearly_table(ds, "contribution_rate", unit))
    if all(name in ds for name in FISCAL_YEARLY):   # a social protection floor beside the scheme
        last = int(ds.horizon.values[-1])
        level = ds.fiscal_cost_level_pct_gdp.sel(horizon=last).values
        chapter.text("The state's cost beside the scheme, each option's own valuation result: the cost of the social "
                     "protection floor, and the fiscal cost (the floor, the state subsidy to the scheme and the "
                     "minimum-pension top-up the state pays), in % of GDP; the key measures above give their present "
                     f"values and level shares of GDP by horizon. Over {last} years the fiscal cost's level share of "
                     f"GDP is {level[0]:.2f}% in the base and "
                     + ", ".join(f"{v:.2f}% in '{o}' ({difference_text((v - level[0]) / 100, _PERCENT)})"
                                 for o, v in zip(options[1:], level[1:])) + ".")
        for name in FISCAL_YEARLY:
            chapter.table(yearly_table(ds, name, unit))
    borrowing_section(chapter, ds, unit)
    chapter.text(f"Adequacy for typical workers, computed with each option's own benefit rules: workers entering "
                 f"at {entry} and earning 0.5, 1 and 2 times the average wage every year (full careers), and 1 times "
                 f"the average wage with credits in {100 * float(ds.attrs.get('density', np.nan)):.0f}% of the "
                 "years (a career with gaps), retiring at the normal retirement age of their cohort. The "
                 "replacement rate is the pension at award over the worker's earnings in the year of retirement; "
                 "the benefit ratios, the pension after 10 and 20 years of payment over the average wage of "
                 "that year. These are careers by construction: the projection's replacement rate of new old-age "
                 "pensions (chapter on the insured and pensioners) differs from them, as it averages the careers "
                 "actually projected, with their gaps, early retirements and earnings.")
    for name in ("replacement_rate", "benefit_ratio_10", "benefit_ratio_20"):
        chapter.table(adequacy_table(ds, name))
    career = str(ds.career.values[1])
    chapter.figure(figure("compare-replacement", f"Gross replacement rate at award, {career}, men, by year of "
                                                 "retirement",
                          figures._lines("compare-replacement", ds.year.values,
                                         {figures.legend_label(o): ds.replacement_rate.sel(option=o, career=career,
                                                                                   sex="male").values
                                          for o in ds.option.values},
                                         "Pension / earnings in the year of retirement", percent=True)))
