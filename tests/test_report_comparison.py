"""The report's comparison chapter: its tables show the comparison Dataset's numbers (formatted here with
plain f-strings, independently of the presentation helpers), the base against itself differs by zero, a
higher contribution rate moves the contribution rate by exactly its step, the figures overlay every option,
and the command line adds the chapter from a Reforms sheet or from --compare workbooks."""

import re
import sys

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from actuary import Valuation
from actuary.cli import main
from actuary.compare import comparison
from markupsafe import Markup

from actuary.compare import Row
from actuary.report import Chapter, Figure, build, css_string
from actuary.report.comparison import adequacy_year, comparison_chapter, difference_text, header, in_words

from .test_compare import with_reforms  # noqa: F401 (a fixture: the workbook with a Reforms sheet)

STEP = 0.03


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo().replace(settings={"horizon": 50, "gap_horizons": (10, 25), "balance_sheet": "no"})


@pytest.fixture(scope="module")
def results(demo):
    return demo.run()


@pytest.fixture(scope="module")
def compared(demo, results):
    rates = demo.inputs.scheme["contribution_rate"]
    higher = demo.replace(scheme={"contribution_rate": xr.where(rates.year >= 2025, rates + STEP, rates)})
    return comparison(demo, {"higher rate": higher, "same": demo},
                      {"higher rate": "Contribution rate + 0.03 from 2025", "same": "nothing changed"},
                      base_results=results)


@pytest.fixture(scope="module")
def tables(compared):
    chapter = Chapter("comparison", "Reform options")
    comparison_chapter(chapter, compared, lambda key, caption, svg: (key, caption, svg), "millions")
    out = {}
    for kind, block in chapter.blocks:
        if kind == "table":
            out.setdefault(block.caption.replace(" (continued)", ""), []).append(block)
    figures = [block for kind, block in chapter.blocks if kind == "figure"]
    return out, figures


def _cells(tables, caption):
    """{first cell: {header: cell}} of a table (its parts joined)."""
    out = {}
    for part in tables[caption]:
        for row in part.rows:
            out.setdefault(row[0], {}).update(zip(part.headers[1:], row[1:]))
    return out


def _percent(value):
    return f"{100 * value:.2f}%"


def _points(value):
    """A difference of percentages, in percentage points: "+3.00 pp", "0.00 pp"."""
    text = f"{100 * value:+.2f}"
    return ("0.00" if float(text) == 0 else text) + " pp"


def test_key_measures_and_differences_are_the_dataset_numbers(compared, tables):
    tables, _ = tables
    key = _cells(tables, "Key measures of the base and each option")
    differences = _cells(tables, "Differences from the base (option - base)")
    for h in (10, 25):
        label = f"General average premium over {h} years (% of insurable earnings)"
        for option in ("base", "higher rate", "same"):
            assert key[label][option] == _percent(float(compared.gap.sel(option=option, horizon=h)))
        assert differences[label]["same - base"] == "0.00 pp"
        assert differences[label]["higher rate - base"] == _points(
            float(compared.gap.sel(option="higher rate", horizon=h) - compared.gap.sel(option="base", horizon=h)))
    balance = "Actuarial balance: summarized income rate - summarized cost rate (% of insurable earnings)"
    assert key[balance]["higher rate"] == _percent(float(compared.actuarial_balance.sel(option="higher rate")))
    assert differences[balance]["same - base"] == "0.00 pp"
    depletion = {o: float(compared.depletion_year.sel(option=o)) for o in ("base", "higher rate")}
    assert key["Reserve depletion year"]["base"] == ("" if np.isnan(depletion["base"]) else
                                                     f"{depletion['base']:.0f}")
    assert differences["Reserve depletion year"]["same - base"] in ("0 years", "")
    if not np.isnan(depletion["base"]) and not np.isnan(depletion["higher rate"]):
        change = depletion["higher rate"] - depletion["base"]
        assert differences["Reserve depletion year"]["higher rate - base"] == \
            f"{change:+.0f} year{'' if abs(change) == 1 else 's'}" and change > 0


def test_yearly_tables_and_adequacy(compared, tables):
    tables, _ = tables
    ratio = _cells(tables, "Reserve ratio (reserve at end of year, years of expenditure)")
    for year in ("2020", "2030", "2069"):
        for option in ("base", "higher rate"):
            assert ratio[year][option] == f"{float(compared.reserve_ratio.sel(option=option, year=int(year))):.2f}"
        assert ratio[year]["same - base"] == "0.00"
    rate = _cells(tables, "Contribution rate (% of insurable earnings)")
    assert rate["2020"]["higher rate - base"] == "0.00 pp" and rate["2030"]["higher rate - base"] == "+3.00 pp"
    year = adequacy_year(compared)
    assert year == 2040
    adequacy = tables[f"Gross replacement rate at award (pension / the worker's earnings in the year of retirement): "
                      f"stylized careers retiring in {year}"][0]
    men = [row for row in adequacy.rows if row[0] == "1x average wage" and row[1] == "men"][0]
    expected = float(compared.replacement_rate.sel(option="base", career="1x average wage", sex="male", year=year))
    assert men[2] == _percent(expected) and 0.2 < expected < 1.5
    assert men[adequacy.headers.index("higher rate - base")] == "0.00 pp"   # the rate changes no benefit
    assert len(adequacy.rows) == 8   # four careers, two sexes


def test_figures_overlay_every_option(compared, tables):
    _, figures = tables
    assert [key for key, _, _ in figures] == ["compare-ratio", "compare-paygo", "compare-replacement"]
    for _, _, svg in figures:
        legend = set(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
        assert {"base", "higher rate", "same"} <= legend
        assert svg.count("<path") >= 3   # a line per option at least


def test_the_chapter_says_which_options_keep_the_base_assumptions(demo, results, compared, tables):
    """Options that change provisions only are said to keep the base's assumptions, data and methods; an option
    that also changes an assumption (the investment return) is named with it, and no sentence claims the same
    assumptions for it."""
    def opening(ds):
        chapter = Chapter("comparison", "Reform options")
        comparison_chapter(chapter, ds, lambda key, caption, svg: (key, caption, svg), "millions")
        return chapter.blocks[0][1]

    assert "Each option is projected with the same assumptions, data and methods as the base" in opening(compared)
    returns = demo.inputs.economy["nominal_return"]
    ds = comparison(demo, {"higher return": demo.replace(economy={"nominal_return": returns + 0.02}), "same": demo},
                    base_results=results)
    text = opening(ds)
    chapter = Chapter("comparison", "Reform options")
    comparison_chapter(chapter, ds, lambda key, caption, svg: (key, caption, svg), "millions")
    table = chapter.blocks[1][1]
    assert table.headers == ["Option", "Definition", "Also changes assumptions, data or methods"]
    assert [row[2] for row in table.rows] == ["", "Nominal investment return", "no: provisions only"]
    assert table.rows[1][1] == ("no provision differs; also changes assumptions, data or methods: "
                                "Nominal investment return: 4%..4.5% -> 6%..6.5%")
    assert "Each option" not in text and "Option 'same' is projected with the same assumptions" in text
    assert "Option 'higher return' also changes assumptions, data or methods (Nominal investment return): its " \
           "differences from the base are not the effect of its provisions alone." in text


def test_report_html_has_the_chapter_after_the_valuation_chapters(demo, results, compared):
    html = build(demo, results, comparison=compared)
    titles = re.findall(r'<h2>\d+\. ([^<]+)</h2>', html)
    assert "Reform options" in titles and titles.index("Reform options") < titles.index("Run provenance")
    for key in ("compare-ratio", "compare-paygo", "compare-replacement"):
        assert f'data-figure="{key}"' in html
    assert "Contribution rate + 3 pp from 2025" in html


def test_report_command_with_a_reforms_sheet_and_option_workbooks(demo, tmp_path, monkeypatch, with_reforms):
    """The Reforms sheet's option and a --compare workbook both in the chapter; no PDF engine: HTML only."""
    monkeypatch.setenv("ACTUARY_CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    small = demo.replace(settings={"horizon": 20, "gap_horizons": (10,)})
    base = with_reforms(small, tmp_path,
                        [["rate up", "scheme.contribution_rate", "shift", 0.02, 2022, None, None, None, None]])
    small.replace(scheme={"ceiling_multiple": 3.0}).to_workbook(tmp_path / "ceiling.xlsx")
    result = CliRunner().invoke(main, ["report", str(base), "--compare", str(tmp_path / "ceiling.xlsx"),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "base-report.html").read_text()
    assert "Reform options" in html and "Contribution rate + 2 pp in 2022-" not in html
    assert "Contribution rate + 2 pp from 2022" in html and "the valuation workbook ceiling.xlsx" in html
    assert "scheme.ceiling_multiple" not in html and "Insurable earnings ceiling: " in html   # by its label
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".actuary-outputs.json", "base-report.html"]


def test_hostile_option_names_stay_text(demo, results):
    """Option names from a workbook: mathematics markers, a leading underscore and markup are shown as written
    (escaped in the HTML), never interpreted."""
    names = ["$x^2$ and a$b", "_hidden", "<script>alert(1)</script>"]
    ds = comparison(demo, {n: demo for n in names}, base_results=results)
    html = build(demo, results, comparison=ds)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for key in ("compare-ratio", "compare-paygo", "compare-replacement"):
        figure = html[html.index(f'data-figure="{key}"'):]
        figure = figure[:figure.index("</figure>")]
        legend = re.findall(r"<text[^>]*>([^<]*)</text>", figure)
        assert "$x^2$ and a$b" in legend and any(t.strip() == "_hidden" for t in legend), legend


def test_definitions_in_words_a_board_reads():
    """An option's definition names inputs by their labels and shows rates in percent, its changes of a rate in
    percentage points; a factor, ages, years and lists as written."""
    assert in_words("scheme.contribution_rate 0.18..0.22 -> 0.24 in 2025-2059") == \
        "Contribution rate: 18%..22% -> 24% in 2025-2059"
    assert in_words("scheme.vesting_years 15 -> 20; scheme.accrual: differs in 2030-2059") == \
        "Minimum service for an old-age pension: 15 -> 20; Accrued pension by years of service: differs in 2030-2059"
    assert in_words("no provision differs; also changes assumptions, data or methods: economy.inflation 0.02 -> "
                    "0.03 (the poverty line moved with prices)") == \
        "no provision differs; also changes assumptions, data or methods: Inflation: 2% -> 3% (the poverty line " \
        "moved with prices)"
    assert in_words("economy.nominal_return, economy.inflation") == "Nominal investment return, Inflation"
    # a Reforms sheet's definitions (labels already): the values of rates in their units
    assert in_words("Contribution rate + 0.03 from 2025; Normal retirement age by cohort + 1 for cohorts born "
                    "from 1970") == "Contribution rate + 3 pp from 2025; Normal retirement age by cohort + 1 for " \
                                   "cohorts born from 1970"
    assert in_words("Contribution rate set to 0.2 in 2025-2030; Contribution rate x 1.1") == \
        "Contribution rate set to 20% in 2025-2030; Contribution rate x 1.1"
    assert in_words("the base valuation") == "the base valuation"


def test_differences_of_percentages_in_points_and_of_years_with_the_unit():
    def row(fmt, kind):
        return Row("m", "m", fmt, kind, np.zeros(2), np.zeros(2))

    assert difference_text(0.06, row("0.00%", "share")) == "+6.00 pp"
    assert difference_text(-0.002, row("0.00%", "share")) == "-0.20 pp"
    assert difference_text(0.0, row("0.00%", "share")) == "0.00 pp"
    assert difference_text(6.0, row("0", "year")) == "+6 years"
    assert difference_text(-1.0, row("0", "year")) == "-1 year"
    assert difference_text(np.nan, row("0", "year")) == ""
    assert difference_text(0.25, row("0.00", "ratio")) == "+0.25"


def test_long_option_names_wrap_within_the_page(demo, results, compared):
    """Option names without spaces (file names) in the tables' headers: the tables stay within the page width
    (the headers break inside a long name rather than widening the table past the page)."""
    from actuary.report.pdf import find_chromium

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (a test dependency) is not installed")
    long = compared.assign_coords(option=["base", "option_a_contribution_rate_plus_three_points_from_2025",
                                          "option_b_nothing_changed_at_all_compared_with_the_base"])
    chapter = Chapter("comparison", "Reform options", number=1)
    comparison_chapter(chapter, long, lambda key, caption, svg: Figure(key, caption, Markup(""), 1), "millions")
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("actuary.report", "templates"), autoescape=select_autoescape(["j2"]))
    env.filters["css_string"] = css_string
    html = env.get_template("report.html.j2").render(case="c", t0=2020, chapters=[chapter], figures=[],
                                                     version="0", provenance=1, subject="actuarial valuation")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 800, "height": 1000})
            page.set_content(html)
            widths = page.eval_on_selector_all(
                "section.comparison table",
                "tables => tables.map(t => [t.getBoundingClientRect().width, t.parentElement.clientWidth])")
        finally:
            browser.close()
    assert widths and all(table <= section + 1 for table, section in widths), widths
    headers = chapter.blocks[2][1].headers        # a long name breaks after its underscores, its text escaped
    assert headers[2] == "_<wbr>".join("option a contribution rate plus three points from 2025".split())
    assert header("a_b") == "a_b" and header("<b>_long_option_name") == "&lt;b&gt;_<wbr>long_<wbr>option_<wbr>name"
