"""The valuation report: one self-contained HTML file (figures embedded as SVG, no network) and its PDF,
structured as the ILO-ISSA actuarial guidelines describe the content of a valuation report:
executive summary, introduction, scheme provisions, data, assumptions, demographic projection, insured and
pensioners, financial projection, financing indicators, balance sheet, sensitivity and stochastic
results and the analysis of change from a previous valuation when asked, conclusions and recommendations, the
actuarial opinion, run provenance, and the methodology as an appendix (rendered from ``docs/methodology.md``:
:func:`methodology_markdown`). What only the actuary can write (the workbook's Report text sheet,
:mod:`actuary.io.report_text`) is placed in its chapters by :mod:`actuary.report.narrative`; a section not written
is marked and makes the report a draft.

>>> html, pdf = write_report(valuation, valuation.run(), "out")
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from markupsafe import Markup

from ..io import presentation as pres
from .findings import findings, headline, level_rate_for_reserve_ratio

METHODOLOGY = Path(__file__).resolve().parents[2] / "docs" / "methodology.md"


@dataclass
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    wrap: bool = False      # text cells that wrap (provisions, notes), left-aligned
    note: str = ""


@dataclass
class Figure:
    key: str
    caption: str
    svg: Markup
    number: int = 0


@dataclass
class Chapter:
    key: str
    title: str
    blocks: list = field(default_factory=list)
    number: int | str = 0       # a letter for an appendix

    def text(self, paragraph: str):
        self.blocks.append(("p", paragraph))

    def table(self, table: Table, most: int = 9):
        """A table; one with more than ``most`` columns after the first is split (the first repeated) so
        that it fits the page."""
        columns = len(table.headers) - 1
        parts = max(1, -(-columns // most))
        size = -(-columns // parts)          # parts of equal width
        for k in range(1, columns + 1, size):
            part = [0] + list(range(k, min(k + size, columns + 1)))
            caption = table.caption + (" (continued)" if k > 1 else "")
            self.blocks.append(("table", Table(caption, [table.headers[i] for i in part],
                                               [[row[i] for i in part] for row in table.rows], table.wrap,
                                               table.note if k + size > columns else "")))

    def figure(self, figure: Figure):
        self.blocks.append(("figure", figure))

    def heading(self, text: str):
        """A heading within the chapter (h3)."""
        self.blocks.append(("heading", text))


def _every(p, step: int = 5) -> list[int]:
    """Row positions of the yearly tables: the valuation year, every ``step`` years, and the last year."""
    n = p.sizes["year"]
    positions = list(range(0, n, step))
    return positions + ([n - 1] if positions[-1] != n - 1 else [])


def yearly_table(p, names, unit: str, caption: str, step: int = 5, note: str = "") -> Table:
    columns = pres.yearly_columns(p, None, unit, names=names)
    rows = [[str(int(p.year.values[i]))] + [pres.display(c.values[i], c.format) for c in columns]
            for i in _every(p, step)]
    return Table(caption, ["Year"] + [c.header for c in columns], rows, note=note)


def _age_groups(ages, width: int = 5, top: int = 70) -> list[tuple[str, np.ndarray]]:
    groups = []
    for low in range(int(ages[0]) - int(ages[0]) % width, top, width):
        groups.append((f"{low}-{low + width - 1}", (ages >= low) & (ages < low + width)))
    groups.append((f"{top}+", ages >= top))
    return groups


def data_tables(valuation, p) -> list[Table]:
    """Initial insured and pensioners by age group and sex, with totals; pensioners by benefit."""
    ages = p.age.values
    columns = [("Active", "active_at_valuation"), ("Inactive", "inactive_at_valuation")]
    headers = ["Age at 1 January"]
    series = []
    for label, name in columns:
        for sex in ("male", "female"):
            headers.append(f"{label} insured, {pres.SEX_LABELS[sex]}")
            series.append(p[name].sel(sex=sex).values)
    for sex in ("male", "female"):
        headers.append(f"Pensioners, {pres.SEX_LABELS[sex]}")
        series.append(p.pensioners_at_valuation.sum("benefit").sel(sex=sex).values)
    rows = []
    for label, mask in _age_groups(ages):
        values = [float(s[mask].sum()) for s in series]
        if any(values):
            rows.append([label] + [f"{v:,.0f}" for v in values])
    rows.append(["Total"] + [f"{float(s.sum()):,.0f}" for s in series])
    t0 = int(p.year.values[0])
    by_age = Table(f"Insured and pensioners at 1 January {t0} by age and sex (persons)", headers, rows)
    counts = p.pensioners_at_valuation
    amounts = valuation.inputs.initial["average_pension"].reindex_like(counts).fillna(0.0) * counts
    rows = []
    for b in counts.benefit.values:
        men, women = (float(counts.sel(benefit=b, sex=s).sum()) for s in ("male", "female"))
        total = men + women
        average = float(amounts.sel(benefit=b).sum()) / total if total else float("nan")
        rows.append([pres.BENEFIT_LABELS[b].capitalize(), f"{men:,.0f}", f"{women:,.0f}", f"{total:,.0f}",
                     "" if total == 0 else f"{average:,.0f}"])
    total = float(counts.sum())
    rows.append(["Total", f"{float(counts.sel(sex='male').sum()):,.0f}", f"{float(counts.sel(sex='female').sum()):,.0f}",
                 f"{total:,.0f}", f"{float(amounts.sum()) / total:,.0f}" if total else ""])
    by_benefit = Table(f"Pensions in payment at 1 January {t0} by benefit", ["Benefit", "Men", "Women", "Total",
                                                                               "Average pension (currency a year)"],
                       rows)
    return [by_age, by_benefit]


def behaviour_table(valuation) -> Table:
    beh = valuation.inputs.behaviour
    t0 = int(valuation.inputs.coords["year"][0])
    names = {"participation": "Participation", "coverage": "Coverage", "exit_rate": "Exit rate",
             "retirement_rate": "Retirement rate", "salary_scale": "Salary scale"}
    headers = ["Age"]
    series = []
    for name, short in names.items():
        if beh.get(name) is None:   # participation and coverage: not in a scheme-only valuation
            continue
        for sex in ("male", "female"):
            headers.append(f"{short}, {pres.SEX_LABELS[sex]}")
            da = beh[name]
            series.append((name, (da.sel(year=t0) if "year" in da.dims else da).sel(sex=sex)))
    rows = []
    for age in range(int(series[0][1].age.values[0]), int(valuation.inputs.settings["max_retirement_age"]) + 1, 5):
        row = [str(age)]
        for name, da in series:
            value = float(da.sel(age=age))
            row.append(f"{value:,.0f}" if name == "salary_scale" else f"{100 * value:.1f}%")
        rows.append(row)
    notes = {"participation": "participation: labour force / population", "coverage": "coverage: insured / employed",
             "exit_rate": "exit rate: actives becoming inactive in a year",
             "retirement_rate": "retirement rate: eligible actives retiring in a year",
             "salary_scale": f"salary scale: average salary in {t0} (currency a year)"}
    note = "; ".join(text for name, text in notes.items() if beh.get(name) is not None)
    return Table(f"Behavioural assumptions by age in {t0}, every fifth age", headers, rows,
                 note=note[:1].upper() + note[1:] + ".")


def economic_table(valuation, p) -> Table:
    eco = valuation.inputs.economy
    names = ("inflation", "real_wage_growth", "productivity_growth", "nominal_return", "unemployment_rate")
    indexation = "pension_indexation" in p   # not in a floor costing alone
    headers = ["Year"] + [f"{pres.field_label(n, valuation.inputs)} (%)" for n in names] \
        + ["Pension indexation (%)"] * indexation
    rows = []
    for i in _every(p):
        rows.append([str(int(p.year.values[i]))] + [f"{100 * float(eco[n].values[i]):.2f}%" for n in names]
                    + ([f"{100 * float(p.pension_indexation.values[i]):.2f}%"] if indexation else []))
    where = "the results workbook's Assumptions sheet" if valuation.inputs.has_scheme else "the input workbook"
    return Table(f"Economic assumptions (year by year in {where})", headers, rows)


def demographic_table(valuation, p) -> Table:
    """Total fertility rate, net migration and life expectancy at 65 by year (those the case has)."""
    demo = valuation.inputs.demography
    headers, columns = ["Year"], []
    if demo.get("fertility") is not None:
        headers.append("Total fertility rate (births per woman)")
        columns.append([f"{v:.3f}" for v in demo["fertility"].sum("age").values])
    if demo.get("net_migration") is not None:
        headers.append("Net migration (persons)")
        columns.append([f"{v:,.0f}" for v in demo["net_migration"].sum(["sex", "age"]).values])
    if "life_expectancy_65" in p:
        for k, sex in enumerate(("male", "female")):
            headers.append(f"Period life expectancy at 65, {pres.SEX_LABELS[sex]} (years)")
            columns.append([f"{v:.1f}" for v in p.life_expectancy_65.values[:, k]])
    rows = [[str(int(p.year.values[i]))] + [c[i] for c in columns] for i in _every(p)]
    return Table("Demographic assumptions", headers, rows)


def demographic_and_economic(c: Chapter, figure, valuation, p, writer, economic_inputs=None) -> None:
    """The demographic and economic assumptions: each under its heading with the actuary's justification
    (``writer``: :class:`actuary.report.narrative.ReportWriter`), then their tables and figures
    (``economic_inputs``: a table of the economic inputs added after them)."""
    from . import figures   # matplotlib: imported when a report is drawn, not by the results workbook

    writer.place(c, "demographic_assumptions")
    c.table(demographic_table(valuation, p))
    c.figure(figure("demographic", "Total fertility rate and period life expectancy at 65",
                    figures.demographic_assumptions(valuation, p)))
    writer.place(c, "economic_assumptions")
    c.table(economic_table(valuation, p))
    c.figure(figure("economic", "Main economic assumptions", figures.economic_assumptions(valuation)))
    if economic_inputs is not None:
        c.table(economic_inputs)


def _spread_years(stochastic) -> list[int]:
    """The years whose spread across paths the report states: 2050, 2070 and the last year (those after the
    valuation year and within the projection)."""
    years = [int(y) for y in stochastic.year.values]
    return sorted({y for y in (2050, 2070, years[-1]) if years[0] < y <= years[-1]})


def _persons(value: float) -> str:
    """A number of persons as a board reads it: 1.24 million, 385,000."""
    return f"{value / 1e6:,.2f} million" if value >= 1e6 else f"{value:,.0f}" if value < 1e4 else \
        f"{round(value, -3):,.0f}"


def demographic_fans(c: Chapter, figure, stochastic, p) -> None:
    """What the mortality model (and fertility) do to the paths: fan charts of the pensioners and of the period
    life expectancy at 65 (a stochastic run that carries it, :data:`actuary.stochastic.LIFE_EXPECTANCY_INDICATORS`),
    the valuation's projection beside them, with their spread in 2050, 2070 and the last year in words and in a
    table (``p``: the valuation's projection)."""
    from . import figures

    years = _spread_years(stochastic)
    if "pensioners" not in stochastic or not years:
        return
    expectancy = [(sex, f"life_expectancy_65_{sex}") for sex in ("male", "female")
                  if f"life_expectancy_65_{sex}" in stochastic]

    def band(name, year, show):
        """The median and the P5 and P95 of ``name`` in ``year``, shown."""
        q = stochastic[name].sel(year=year)
        return tuple(show(float(q.sel(percentile=k))) for k in (50, 5, 95))

    national = "population" in p
    moved = ("how long pensioners live (mortality) and, once the births of the projection reach pension age, "
             "fertility" if national else "how long pensioners live (mortality)")
    spread = ["between {3} and {4} in {1} (median {2}; the valuation projects {0})".format(
        _persons(float(p.pensioners.sel(year=y))), y, *band("pensioners", y, _persons)) for y in years]
    c.text(f"The number of pensioners moves with {moved}; the economic paths do not move it. On nine paths in ten "
           "it lies " + (", ".join(spread[:-1]) + " and " if len(spread) > 1 else "") + spread[-1] + ".")
    top = float(stochastic.pensioners.sel(percentile=95).max())
    scale, word = (1e6, "millions") if top >= 1e6 else (1e3, "thousands")
    c.figure(figure("fan-pensioners", "Pensioners, all benefits, at the end of the year: median and percentile "
                                      "bands, and the valuation's projection",
                    figures.fans(stochastic, "pensioners", {"Pensioners": "pensioners"}, f"Persons ({word})", scale,
                                 {"Valuation's projection": p.pensioners.values})))
    if expectancy:
        last = years[-1]
        said = ["{0} {2} to {3} years (median {1})".format(pres.SEX_LABELS[sex], *band(name, last, "{:.1f}".format))
                for sex, name in expectancy]
        c.text("The period life expectancy at 65 (from each year's mortality rates) shows what the mortality model "
               f"does, free of the other assumptions: in {last} it is, on nine paths in ten, "
               + " and ".join(said) + "; the wider the band, the more a longer life than assumed can raise the cost "
               "of pensions.")
        reference = {}
        if "life_expectancy_65" in p:
            reference = {f"Valuation's projection, {pres.SEX_LABELS[sex]}": p.life_expectancy_65.sel(sex=sex).values
                         for sex, _ in expectancy}
        c.figure(figure("fan-life-expectancy", "Period life expectancy at 65 by sex: median and percentile bands, "
                                               "and the valuation's projection",
                        figures.fans(stochastic, "life-expectancy",
                                     {pres.upper_first(pres.SEX_LABELS[sex]): name for sex, name in expectancy},
                                     "Years", projection=reference)))
    headers = ["Year", "Pensioners, median", "Pensioners, P5", "Pensioners, P95"]
    for sex, _ in expectancy:
        headers += [f"{pres.upper_first(pres.SEX_LABELS[sex])} at 65, {k} (years)" for k in ("median", "P5", "P95")]
    rows = [[str(y), *band("pensioners", y, "{:,.0f}".format)]
            + [v for _, name in expectancy for v in band(name, y, "{:.1f}".format)] for y in years]
    c.table(Table("Pensioners" + (" and period life expectancy at 65 of men and women" if expectancy else "")
                  + " across paths", headers, rows))


def introduction(chapter, writer) -> None:
    """The introduction: purpose and scope, legal basis and the previous valuation, as the actuary wrote them."""
    c = chapter("introduction", "Introduction")
    for key in ("purpose_and_scope", "legal_basis", "previous_valuation"):
        writer.place(c, key)


def demography_chapter(chapter, figure, p, unit: str) -> None:
    """The demographic projection: the national population by year, pyramids and dependency ratios."""
    from . import figures

    c = chapter("demography", "Demographic projection")
    if "population" in p:
        c.table(yearly_table(p, ["population", "population_65_plus", "births", "deaths",
                                 "demographic_dependency_ratio", "life_expectancy_65"], unit,
                             "National population (end of year)"))
        labels = ", ".join(label for label, _ in figures.pyramid_years(p))
        c.figure(figure("pyramids", f"Population pyramids at {labels}", figures.pyramids(p)))
    else:
        c.text("This valuation projects the scheme's members without a national population.")
    caption = " and ".join(text for name, text in (
        ("demographic_dependency_ratio", "demographic dependency ratio (population 65+ / 15-64)"),
        ("system_dependency_ratio", "system dependency ratio (pensioners / contributors)")) if name in p)
    c.figure(figure("dependency", caption[:1].upper() + caption[1:], figures.dependency_ratios(p)))


# the sections of docs/methodology.md shown only with a chapter of the report (heading text -> chapter key)
CONDITIONAL_SECTIONS = {"Social protection floor": "floor", "Rolling forward": "change", "Reform options": "comparison"}
# a parenthesis, with at most one level of parentheses inside it
_PARENTHESIS = r"\((?:[^()]|\([^()]*\))*\)"
# text about the repository rather than the valuation: a sentence that says it is dropped
_REPOSITORY = re.compile(r"this file|\.md\b|README|`actuary[/.]|from the code|\bimplementation\b")
_SENTENCE_END = re.compile(r"((?<=\.)\s+(?=[A-Z*-]))")


def _code_only(parenthesis: str) -> bool:
    """Whether a parenthesis names code only: code paths, functions, a README, e.g. "(`actuary/floor.py`, kernel
    `actuary/kernels/floor.py`)" or "(see the README)", and no input of the workbook."""
    inner = parenthesis[1:-1]
    if "README" in inner or re.search(r"`(actuary[/.]|Valuation\.)", inner):
        return True
    rest = re.sub(r"`[^`]*`|\bkernel\b|\bNumPy reference\b|,", "", inner)
    return "`" in inner and not rest.strip() and not re.search(r"`[a-z]+\.[a-z_]+`", inner)


def _input_label(match) -> str:
    """`group.field` of a workbook input as the input's label, as the report's tables name it."""
    from ..inputs import FIELDS

    group, name = match.group(1), match.group(2)
    if name not in FIELDS.get(group, {}):
        return match.group(0)
    return f"the input *{pres.field_label(name, None, group)}*"   # "H = the input *Projection horizon*"


def _drop_sentences(paragraph: str, drop) -> str:
    """``paragraph`` without its sentences for which ``drop(sentence)`` is true (kept as it is when none is)."""
    pieces = _SENTENCE_END.split(paragraph)    # sentence, space, sentence ...: a list keeps its lines
    out = ""
    for k in range(0, len(pieces), 2):
        if not drop(pieces[k]):
            out += (pieces[k - 1] if out else "") + pieces[k]
    return out


def methodology_markdown(text: str, chapters=(), letter: str = "A") -> str:
    """docs/methodology.md rewritten as the report's appendix ``letter``: the sections that do not apply to
    this report left out (the social protection floor without a floor chapter, rolling forward and the
    analysis of change without the analysis-of-change chapter, reform options and solvers without the options
    chapter: :data:`CONDITIONAL_SECTIONS`), the others numbered A.1, A.2 ... and references to them ("§9",
    "section 9") renumbered, a sentence that refers to a section left out dropped, and what is written for a
    reader of the repository (its title, code paths, files, the README) left out, workbook inputs named by
    their labels. ``chapters``: the keys of the report's chapters."""
    text = re.sub(r"\A# [^\n]*\n", "", text)
    parts = re.split(r"^## (\d+)\. ([^\n]*)\n", text, flags=re.M)
    preamble, sections = parts[0], [(int(parts[i]), parts[i + 1], parts[i + 2]) for i in range(1, len(parts), 3)]
    kept = [(n, title, body) for n, title, body in sections
            if all(key in chapters for start, key in CONDITIONAL_SECTIONS.items() if title.startswith(start))]
    number = {n: f"{letter}.{k}" for k, (n, _, _) in enumerate(kept, 1)}
    reference = re.compile(r"(§|\bsections? )(\d+)((?: and |, )(\d+))?\b")
    dropped_reference = lambda sentence: any(  # noqa: E731
        int(m.group(2)) not in number or m.group(4) and int(m.group(4)) not in number
        for m in reference.finditer(sentence))

    def renumber(m):
        word = "section" if m.group(1) == "§" else m.group(1).rstrip()
        return f"{word} {number[int(m.group(2))]}" + (m.group(3).replace(m.group(4), number[int(m.group(4))])
                                                         if m.group(3) else "")

    left_out = tuple(f"- {start}" for start, key in CONDITIONAL_SECTIONS.items() if key not in chapters)
    out = []
    for paragraph in re.split(r"\n{2,}", preamble.strip() + "".join(
            f"\n\n## {number[n]} {title}\n\n{body}" for n, title, body in kept)):
        if paragraph.startswith("    "):        # equations: as written
            out.append(paragraph)
            continue
        if not paragraph.startswith("|"):       # a table's rows are not sentences
            paragraph = re.sub(r"\s*" + _PARENTHESIS,
                               lambda m: "" if _code_only(m.group(0).strip()) else m.group(0), paragraph)
            paragraph = _drop_sentences(paragraph, lambda s: bool(_REPOSITORY.search(s)) or dropped_reference(s)
                                        or s.startswith(left_out))   # a simplification of a section left out
        paragraph = reference.sub(renumber, paragraph)
        paragraph = re.sub(r"`([a-z]+)\.([a-z_]+)`", _input_label, paragraph)
        if paragraph.strip():
            out.append(paragraph)
    return "\n\n".join(out) + "\n"


def methodology_html(path: Path = METHODOLOGY, chapters=(), letter: str = "A") -> Markup:
    """docs/methodology.md as the report's appendix (:func:`methodology_markdown`) in HTML: its headings one
    level down (the appendix is h2)."""
    from markdown_it import MarkdownIt

    text = methodology_markdown(path.read_text(encoding="utf-8"), chapters, letter)
    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
    tokens = md.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
        if token.children:  # links to other files of docs/ do not exist beside the report: keep their text
            token.children = [t for t in token.children if t.type not in ("link_open", "link_close")]
    return Markup(md.renderer.render(tokens, md.options, {}))


def css_string(text: str) -> str:
    """Text inside a CSS string: every character other than letters, digits and spaces escaped."""
    return "".join(c if c.isalnum() and c.isascii() or c == " " else f"\\{ord(c):x} " for c in str(text))


def bases_in_words(p) -> str:
    """Which rates of the report are statutory and which gross, in a sentence a board member reads (the executive
    summary's note on its key figures)."""
    t0 = int(p.year.values[0])
    collected = float(p.collection_rate.values[0])
    charged = float(p.attrs.get("admin_share_of_contributions", 0.0))
    return ("The contribution rate, the break-even rate, the general average premium and the level contribution "
            f"rate are statutory rates: rates of contributions due, of which {100 * collected:.1f}% is collected "
            f"and {100 * charged:.1f}% of that goes to administration in {t0} (a point of rate brings the scheme "
            f"{collected * (1 - charged):.3f} of a point of insurable earnings), set against the cost of benefits net "
            "of the state subsidy. The PAYG cost rate and the actuarial balance are gross: shares of the insurable "
            "wage bill, the expenditure in full, without the subsidy.")


def indicators_in_words(valuation, p, s) -> list[str]:
    """The financing indicators chapter's text: what each measure is and its basis, the relation between the
    bases, and the GAP over the full horizon from its gross (textbook) counterpart, so that a reader checking the
    GAP by hand as (PV of expenditure - reserve) / PV of the wage bill finds where the difference comes from."""
    from ..indicators import gap_on_both_bases

    settings = valuation.inputs.settings
    terminal = float(settings["gap_terminal_reserve"])
    ending = "a reserve of zero" if not terminal else f"a reserve of {terminal:g} times that year's expenditure"
    scaled = f" The scaled premium is the {s.scaled_premium.attrs['description']}." if "scaled_premium" in s else ""
    out = [f"The general average premium (GAP) is the level contribution rate that balances the reserve, the "
           f"contributions and the expenditure over a horizon, leaving {ending} at its end.{scaled} "
           + ("Both are statutory rates" if scaled else "It is a statutory rate") + ", like the contribution rate "
           f"and the break-even rate: {pres.BASIS_MEANING[pres.STATUTORY]}.",
           "The actuarial balance is the summarized income rate minus the summarized cost rate, with a target reserve "
           "of one year's expenditure at the end. Like the PAYG cost rate it is on the gross basis: "
           f"{pres.BASIS_MEANING[pres.GROSS]}.",
           f"Between the two bases, {pres.BASIS_RELATION}: the textbook (PV of expenditure - reserve) / PV of the "
           f"insurable wage bill is the GAP on the gross basis; and, {pres.BALANCE_RELATION}."]
    if not terminal:
        n = int(s.horizon.values[-1])
        both = gap_on_both_bases(p, n)
        out.append(f"Over {n} years the gross (textbook) rate is {100 * both['gross']:.2f}% of insurable earnings; "
                   f"less the administration charged on contributions ({100 * both['admin_contributions']:.2f}%) and "
                   f"the state subsidy{' and top-up' if 'minimum_pension_top_up' in p else ''} "
                   f"({100 * both['subsidy']:.2f}%), each a share of the PV of the wage bill, divided by the "
                   f"contribution base's share of the insurable wage bill ({both['base']:.4f}: collection rate x (1 - "
                   "administration share of contributions), in present values), it gives the statutory GAP of "
                   f"{100 * both['statutory']:.2f}%.")
    return out


def build(valuation, results, sensitivity=None, stochastic=None, record: dict | None = None, change=None,
          comparison=None, text=None) -> str:
    """The report's HTML (one self-contained document); ``record`` is the run's provenance
    (:func:`actuary.io.provenance.collect`; by default the valuation's source and this API call); ``change``:
    an analysis of change from a previous valuation to this one (:func:`actuary.analysis_of_change`), its
    chapter in :mod:`actuary.report.change_chapter`; ``comparison``: reform options side by side
    (:func:`actuary.compare.comparison`), a chapter of their own (:mod:`actuary.report.comparison`); ``text``: the
    actuary's own text (:class:`actuary.io.report_text.ReportText`, :func:`actuary.io.report_text.read_report_text`),
    by default the one the valuation was read with (``valuation.report_text``), placed in its chapters; without it,
    or with sections left blank, the report is a draft that marks each gap."""
    from ..batch import tornado as tornado_rows
    from ..inputs import FIELDS
    from . import figures
    from .narrative import ReportWriter
    from .provisions import provision_rows

    p, s = results.projection, results.summary
    unit = valuation.inputs.settings["money_unit"]
    money = pres.MONEY_WORDS[unit]
    t0, last, n = int(p.year.values[0]), int(p.year.values[-1]), p.sizes["year"]
    chapters: list[Chapter] = []
    figure_list: list[Figure] = []
    writer = ReportWriter(valuation.report_text if text is None else text, valuation.inputs.has_scheme)

    def chapter(key, title):
        chapters.append(Chapter(key, title, number=len(chapters) + 1))
        return chapters[-1]

    def figure(key, caption, svg):
        figure_list.append(Figure(key, caption, Markup(svg), len(figure_list) + 1))
        return figure_list[-1]

    if not valuation.inputs.has_scheme:   # a floor costing alone: no scheme chapters
        from .floor_chapter import floor_only_chapters

        floor_only_chapters(valuation, results, chapter, figure, writer, sensitivity, stochastic)
        if sensitivity is not None:   # the Scenarios sheet's scenarios after the floor's sensitivities
            from .own_scenarios import own_scenarios_blocks

            own_scenarios_blocks(next(c for c in chapters if c.key == "floor"), figure, sensitivity)
        return _render(valuation, chapter, chapters, figure_list, record, writer)

    c = chapter("summary", "Executive summary")
    c.blocks.append(("findings", findings(results, stochastic, sensitivity)))
    numbers = headline(results, stochastic)
    level = level_rate_for_reserve_ratio(p)
    key_figures = [
        (f"Contribution rate in {t0} (statutory)", "contribution_rate_first"),
        (f"PAYG cost rate in {t0} (gross)", "paygo_first"),
        (f"PAYG cost rate in {last} (gross)", "paygo_last"),
    ] + [(label, key) for label, key in ((f"Break-even contribution rate in {t0} (statutory)", "breakeven_first"),
                                         (f"Break-even contribution rate in {last} (statutory)", "breakeven_last"))
         if key in numbers] + [
        (f"Reserve ratio at the end of {t0} (years of expenditure)", "reserve_ratio_first"),
        ("Reserve depletion year", "depletion_year"),
    ] + [(f"General average premium over {int(h)} years (statutory)", f"gap_{int(h)}")
         for h in s.horizon.values] + [
        (f"Actuarial balance over {s.actuarial_balance.attrs.get('period', n)} years (gross)", "actuarial_balance"),
        (f"Level contribution rate from {t0} keeping the reserve ratio at or above 1 for {level.years} years "
         "(statutory)", "level_rate"),
    ]
    if "funded_ratio" in numbers:
        key_figures.append(("Funded ratio (reserve / accrued liability)", "funded_ratio"))
    if "probability_of_depletion" in numbers:
        year = min(t0 + 49, last)
        key_figures.append((f"Probability of depletion by the end of {year}", "probability_of_depletion"))
    c.blocks.append(("keyfigures", [(label, numbers[key], key) for label, key in key_figures]))
    c.text("Rates are percentages of insurable earnings unless stated otherwise; money amounts are in "
           f"{pres.money_phrase(unit)}. " + bases_in_words(p))

    introduction(chapter, writer)

    c = chapter("provisions", "Scheme provisions")
    writer.place(c, "provisions_summary")
    writer.place(c, "provision_changes")
    c.heading("Provisions as valued")
    c.text("The provisions of the scheme as valued, read from the valuation inputs.")
    c.table(Table("Scheme provisions", ["Provision", "Value", "Notes"], provision_rows(valuation.inputs, ("scheme",)),
                  wrap=True))
    c.table(Table("Valuation settings", ["Setting", "Value", "Notes"], provision_rows(valuation.inputs, ("settings",)),
                  wrap=True))

    c = chapter("data", "Data")
    writer.place(c, "data_sources")
    writer.place(c, "data_checks")
    c.heading("Data at the valuation date")
    c.text(f"The insured population, the pensions in payment and the reserve at the valuation date, 1 January {t0}. "
           f"The reserve at that date is {pres.show(float(p.reserve_at_valuation), 'money', unit)} {money}.")
    for table in data_tables(valuation, p):
        c.table(table)
    c.figure(figure("initial", f"Active insured and pensioners at 1 January {t0} by age and sex",
                    figures.initial_data(p)))

    c = chapter("assumptions", "Assumptions")
    c.text("Demographic assumptions (fertility, mortality and its improvement, migration), economic assumptions "
           "(inflation, wages, productivity, investment return, unemployment) and behavioural assumptions "
           "(participation, coverage, exits, retirement, salary scale). Every year-dependent input is listed year "
           "by year in the results workbook's Assumptions sheet.")
    scalars = {pres.field_label(k) for k, f in FIELDS["economy"].items() if not f.dims}
    demographic_and_economic(c, figure, valuation, p, writer, Table(
        "Economic inputs of the valuation year", ["Input", "Value", "Notes"],
        [row for row in provision_rows(valuation.inputs, ("economy",)) if row[0] in scalars], wrap=True))
    writer.place(c, "behavioural_assumptions")
    c.table(behaviour_table(valuation))
    c.figure(figure("behaviour", f"Participation, coverage and retirement rates by age and sex in {t0}",
                    figures.behavioural_assumptions(valuation)))

    demography_chapter(chapter, figure, p, unit)

    c = chapter("insured", "Projected insured and pensioners")
    c.table(yearly_table(p, ["contributors", "active", "inactive", "new_entrants", "pensioners_by_benefit",
                             "system_dependency_ratio"], unit, "Insured and pensioners by benefit"))
    c.table(yearly_table(p, ["new_pensioners", "replacement_rate", "benefit_ratio", "average_insurable_earnings"],
                         unit, "New pensions and replacement rates"))
    c.text("The replacement rate here is that of the new old-age pensions of each year as projected, whatever the "
           "pensioners' careers (gaps in contributions, early retirement, earnings above or below the average); it "
           "differs from that of a stylized worker with a full career at the average wage, which has none of these.")
    c.figure(figure("insured", "Contributors and pensioners by benefit", figures.insured_and_pensioners(p)))

    c = chapter("finance", "Financial projection")
    top_up = "minimum_pension_top_up_paid" in p   # the state pays the minimum-pension top-up to the scheme
    c.text(f"Nominal amounts in {money}; the reserve is also shown in real terms, at constant prices of {t0}. "
           "Total income is contributions, state subsidy"
           + (", the minimum-pension top-up the state pays to the scheme" if top_up else "")
           + " and investment income; total expenditure is pensions" + (" (with their top-up)" if top_up else "")
           + ", grants and administrative expenses.")
    c.table(yearly_table(p, ["contributions", "state_subsidy", "minimum_pension_top_up_paid", "investment_income",
                             "total_income", "benefit_expenditure", "grants", "admin_expenses", "total_expenditure",
                             "net_cash_flow"], unit, f"Income and expenditure ({money})"))
    c.table(yearly_table(p, ["reserve", "reserve_real", "reserve_ratio", "trust_fund_ratio", "payable_share"], unit,
                         "Reserve"))
    c.table(yearly_table(p, ["contribution_rate", "breakeven_contribution_rate", "paygo_cost_rate",
                             "terminal_funding_rate", "expenditure_pct_gdp", "total_expenditure_pct_gdp",
                             "income_pct_gdp"], unit, "Cost and contribution rates; expenditure and income as a share "
                                                      "of GDP",
                         note="The contribution rate and the break-even rate are statutory rates; the PAYG cost rate "
                              "and the terminal funding rate are gross (shares of the insurable wage bill). "
                              f"{pres.upper_first(pres.BASIS_RELATION)}."))
    c.figure(figure("income", f"Income and expenditure at constant {t0} prices", figures.income_and_expenditure(p)))
    c.figure(figure("reserve", f"Reserve at the end of the year at constant {t0} prices", figures.reserve(p)))
    c.figure(figure("paygo", "Contribution rate, break-even rate and general average premium (statutory basis: "
                             "contributions due, before collection losses and the administration charged on them, "
                             "against the cost net of the state subsidy) and PAYG cost rate (gross basis: expenditure "
                             "/ insurable wage bill)", figures.paygo_and_contribution_rate(p, s)))
    c.figure(figure("ratio", "Reserve ratio (reserve at the end of the year / expenditure of the year)",
                    figures.reserve_ratio(p)))
    if "expenditure_pct_gdp" in p:
        c.figure(figure("gdp", "Expenditure and income as a share of GDP", figures.share_of_gdp(p)))

    c = chapter("indicators", "Financing indicators")
    for paragraph in indicators_in_words(valuation, p, s):
        c.text(paragraph)
    c.table(Table("General average premium by horizon (statutory basis)",
                  ["Horizon (years)", "Years", "GAP, statutory (% of insurable earnings)"],
                  [[str(int(h)), f"{t0}-{t0 + int(h) - 1}", f"{100 * float(g):.2f}%"]
                   for h, g in zip(s.horizon.values, s.gap.values)]))
    if "scaled_premium" in s:
        c.table(Table("Scaled premium by period (statutory basis)",
                      ["Period", "Scaled premium, statutory (% of insurable earnings)"],
                      [[f"{int(a)}-{int(b)}", f"{100 * float(r):.2f}%"]
                       for a, b, r in zip(s.period.values, s.period_end.values, s.scaled_premium.values)]))
    rows = [[label, pres.display(value, fmt)] for _, label, value, fmt in pres.summary_items(s, "Summary", unit)]
    rows = [[label, "none within the horizon" if "depletion" in label and value == "" else value]
            for label, value in rows]
    rows.append([f"Level contribution rate from {t0} keeping the reserve ratio at or above 1 for {level.years} years "
                 "(% of insurable earnings)", numbers["level_rate"]])
    c.table(Table("Other financing indicators", ["Indicator", "Value"], rows, wrap=True,
                  note="Basis of each rate: the general average premium, the average premiums and the level "
                       "contribution rate are statutory; the actuarial balance and the terminal funding rate are "
                       "gross (shares of the insurable wage bill)."))

    items = pres.summary_items(s, "Balance sheet", unit)
    if items:
        c = chapter("balance", "Actuarial balance sheet")
        c.text(f"Present values at 1 January {t0}, in {money}, discounted at the projected investment returns. "
               "Liabilities of current pensioners, current insured (past and future service) and future entrants "
               "are found by closed-group projections: the items of current pensioners and current insured cover "
               "every year until the last of them has left the scheme, those of future entrants, administrative "
               f"expenses and the state subsidy the {n}-year horizon. The balance is therefore the reserve plus the "
               "present value of contributions and subsidy less expenditure over the horizon (the identity of the "
               "general average premium) plus the current group's contributions less benefits after the horizon; "
               "both parts are shown. The accrued liability is that of the closed group without future service.")
        c.table(Table(f"Open-group balance sheet and accrued liability ({money})", ["Item", "Value"],
                      [[label, pres.display(value, fmt)] for _, label, value, fmt in items]))

    if "floor_cost" in p:   # a social protection floor beside the scheme
        from .floor_chapter import floor_chapter

        floor_chapter(valuation, results, chapter, figure, sensitivity, stochastic)

    if sensitivity is not None:
        rows = tornado_rows(sensitivity)
        c = chapter("sensitivity", "Sensitivity")
        from ..batch import own_scenarios

        c.text("Each assumption is moved down and up while the others keep their values; the optimistic and "
               "pessimistic scenarios combine the moves that lower or raise the general average premium."
               + (" The scenarios of the workbook's Scenarios sheet follow them." if own_scenarios(sensitivity)
                  else ""))
        c.figure(figure("tornado", f"Change in the general average premium over {n} years when each assumption "
                                   "moves down or up", figures.tornado(rows)))
        c.table(Table(f"General average premium over {n} years by assumption (statutory basis)",
                      ["Assumption", "Down", "Base", "Up", "Depletion year, down", "Depletion year, up"],
                      [[pres.upper_first(r["assumption"]), f"{100 * r['gap_down']:.2f}%", f"{100 * r['gap_base']:.2f}%",
                        f"{100 * r['gap_up']:.2f}%", pres.show(r["depletion_down"], "year"),
                        pres.show(r["depletion_up"], "year")] for r in rows]))
        from ..batch import moves_of

        c.table(Table("The moves of each assumption (a move held within 0% to 100% with the values it gave)",
                      ["Assumption", "Down", "Up"],
                      [[pres.upper_first(name), down, up] for name, down, up in moves_of(sensitivity)], wrap=True))
        combined = [f"{name} {100 * float(sensitivity.gap.sel(scenario=name).isel(horizon=-1)):.2f}%"
                    for name in ("optimistic", "pessimistic") if name in sensitivity.scenario.values]
        if combined:
            base_gap = 100 * float(sensitivity.gap.sel(scenario="base").isel(horizon=-1))
            c.text(f"General average premium over {int(sensitivity.horizon[-1])} years: base {base_gap:.2f}%, "
                   + ", ".join(combined) + ".")
        c.figure(figure("scenarios", "Reserve ratio in the base, optimistic and pessimistic scenarios",
                        figures.scenarios_reserve_ratio(sensitivity)))
        from .own_scenarios import own_scenarios_blocks

        own_scenarios_blocks(c, figure, sensitivity)

    if stochastic is not None:
        c = chapter("stochastic", "Stochastic projections")
        # runs from before the mortality model was a parameter had the improvement model
        level = stochastic.attrs.get("parameter_mortality_model", "improvement") == "level"
        trend = ", with an uncertain trend" if stochastic.attrs.get("parameter_mortality_drift_volatility", 0) else ""
        mortality = (f"of mortality (a random walk on its level, as in the Lee-Carter model{trend})" if level
                     else "of mortality improvement (a random walk on the improvement rates)")
        c.text(f"{stochastic.attrs['paths']:,} paths (seed {stochastic.attrs['seed']}) of the economy (correlated "
               f"autoregressive deviations of wage growth, inflation and the real return), {mortality} and of "
               "fertility (autoregressive); the bands hold the middle 50% and 90% of paths.")
        from ..stochastic import parameter_shown

        parameters = [[pres.upper_first(key[len("parameter_"):].replace("_", " ")),
                       *parameter_shown(key[len("parameter_"):], value)]
                      for key, value in stochastic.attrs.items() if key.startswith("parameter_")]
        if parameters:
            c.table(Table("Parameters of the stochastic model (volatilities: standard deviations of the yearly "
                          "deviations; persistence: their autoregressive coefficients)",
                          ["Parameter", "Value", "Units"], parameters))
        c.figure(figure("fan-ratio", "Reserve ratio: median and percentile bands",
                        figures.fan(stochastic, "reserve_ratio", "Years of expenditure")))
        c.figure(figure("fan-paygo", "PAYG cost rate (gross basis: expenditure / insurable wage bill): median and "
                                     "percentile bands",
                        figures.fan(stochastic, "paygo_cost_rate", "% of insurable earnings", percent=True)))
        c.figure(figure("depletion", "Probability that the reserve has been depleted by the end of each year",
                        figures.depletion_probability(stochastic)))
        rows = []
        for i in _every(p, 10):
            year = int(stochastic.year.values[i])
            q = stochastic.sel(year=year)
            rows.append([str(year)] + [f"{float(q.reserve_ratio.sel(percentile=k)):.2f}" for k in (5, 50, 95)]
                        + [f"{100 * float(q.paygo_cost_rate.sel(percentile=k)):.2f}%" for k in (5, 50, 95)]
                        + [f"{100 * float(q.probability_of_depletion):.1f}%"])
        c.table(Table("Percentiles across paths", ["Year", "Reserve ratio P5", "Reserve ratio median",
                                                   "Reserve ratio P95", "PAYG cost rate P5", "PAYG cost rate median",
                                                   "PAYG cost rate P95", "Probability of depletion"], rows))
        demographic_fans(c, figure, stochastic, p)

    if comparison is not None:
        from .comparison import comparison_chapter

        comparison_chapter(chapter("comparison", "Reform options"), comparison, figure, unit)

    if change is not None:
        from .change_chapter import change_chapter

        change_chapter(change, chapter, figure)

    return _render(valuation, chapter, chapters, figure_list, record, writer)


def _render(valuation, chapter, chapters: list[Chapter], figure_list: list[Figure], record: dict | None,
            writer) -> str:
    """The closing chapters added with ``chapter`` (conclusions and recommendations, the actuarial opinion with the
    signature block, as the actuary wrote them: ``writer``; then run provenance), the methodology as appendix A
    after them, and the document rendered: a draft, saying so on its first page and every page's foot, when a
    section of the actuary's is not written."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from ..io.provenance import for_api, label
    from ..io.report_text import where_given

    c = chapter("conclusions", "Conclusions and recommendations")
    writer.place(c, "conclusions")
    writer.place(c, "recommendations")
    c = chapter("statement", "Actuarial opinion")
    writer.place(c, "limitations")
    writer.place(c, "opinion")
    writer.statement(c)

    c = chapter("provenance", "Run provenance")
    record = record or for_api(valuation, "report.build")
    c.table(Table("What produced this report", ["Item", "Value"],
                  [[pres.upper_first(label(k)), str(v)] for k, v in record.items()],
                  wrap=True))
    provenance = c.number

    c = Chapter("methodology", "Methodology and conventions", number="A")   # an appendix: lettered
    c.blocks.append(("html", methodology_html(chapters={other.key for other in chapters})))
    chapters.append(c)

    env = Environment(loader=PackageLoader("actuary.report", "templates"), autoescape=select_autoescape(["j2", "html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = css_string
    return env.get_template("report.html.j2").render(
        case=valuation.name, t0=int(valuation.inputs.coords["year"][0]), chapters=chapters,
        figures=figure_list, version=record["actuary_version"], provenance=provenance, gaps=writer.gaps,
        given_in=where_given(writer.text, getattr(valuation, "source", None)),
        subject="actuarial valuation" if valuation.inputs.has_scheme else "social protection floor costing")


def safe_stem(name: str) -> str:
    """A file-name stem from a case name: letters, digits, '.', '_' and '-' only (never a path)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", str(name)).strip(".-")
    return stem or "valuation"


def write_report(valuation, results, out, sensitivity=None, stochastic=None, record: dict | None = None,
                 pdf: bool = True, name: str | None = None, change=None,
                 comparison=None, text=None) -> tuple[Path, Path | None]:
    """Write ``<name>-report.html`` and (with a PDF engine) ``<name>-report.pdf`` into ``out`` (``name``:
    by default a file-name stem of the case name); returns their paths (None for a PDF that could not be
    printed: see :func:`actuary.report.pdf.engine`). ``record``: the run's provenance; ``comparison``: see
    :func:`build`; ``text``: the actuary's own text (see :func:`build`)."""
    from ..io.files import atomic_path
    from .pdf import PdfUnavailable, print_pdf

    out = Path(out)
    stem = name or safe_stem(valuation.name)
    html_path, pdf_path = out / f"{stem}-report.html", out / f"{stem}-report.pdf"
    html = build(valuation, results, sensitivity, stochastic, record, change=change, comparison=comparison, text=text)
    with atomic_path(html_path) as temporary:
        temporary.write_text(html, encoding="utf-8")
    if not pdf:
        return html_path, None
    try:
        print_pdf(html_path, pdf_path)
    except PdfUnavailable:
        return html_path, None
    return html_path, pdf_path
