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
from actuary.report import Chapter, build
from actuary.report.comparison import adequacy_year, comparison_chapter

from .test_compare import _with_reforms

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


def test_key_measures_and_differences_are_the_dataset_numbers(compared, tables):
    tables, _ = tables
    key = _cells(tables, "Key measures of the base and each option")
    differences = _cells(tables, "Differences from the base (option - base)")
    for h in (10, 25):
        label = f"General average premium over {h} years (% of insurable earnings)"
        for option in ("base", "higher rate", "same"):
            assert key[label][option] == _percent(float(compared.gap.sel(option=option, horizon=h)))
        assert differences[label]["same - base"] == "0.00%"
        assert differences[label]["higher rate - base"] == _percent(
            float(compared.gap.sel(option="higher rate", horizon=h) - compared.gap.sel(option="base", horizon=h)))
    balance = "Actuarial balance: summarized income rate - summarized cost rate (% of insurable earnings)"
    assert key[balance]["higher rate"] == _percent(float(compared.actuarial_balance.sel(option="higher rate")))
    assert differences[balance]["same - base"] == "0.00%"
    depletion = {o: float(compared.depletion_year.sel(option=o)) for o in ("base", "higher rate")}
    assert key["Reserve depletion year"]["base"] == ("" if np.isnan(depletion["base"]) else
                                                     f"{depletion['base']:.0f}")
    assert differences["Reserve depletion year"]["same - base"] in ("0", "")


def test_yearly_tables_and_adequacy(compared, tables):
    tables, _ = tables
    ratio = _cells(tables, "Reserve ratio (reserve at end of year, years of expenditure)")
    for year in ("2020", "2030", "2069"):
        for option in ("base", "higher rate"):
            assert ratio[year][option] == f"{float(compared.reserve_ratio.sel(option=option, year=int(year))):.2f}"
        assert ratio[year]["same - base"] == "0.00"
    rate = _cells(tables, "Contribution rate (% of insurable earnings)")
    assert rate["2020"]["higher rate - base"] == "0.00%" and rate["2030"]["higher rate - base"] == "3.00%"
    year = adequacy_year(compared)
    assert year == 2040
    adequacy = tables[f"Gross replacement rate at award (pension / the worker's earnings in the year of retirement): "
                      f"stylized careers retiring in {year}"][0]
    men = [row for row in adequacy.rows if row[0] == "1x average wage" and row[1] == "men"][0]
    expected = float(compared.replacement_rate.sel(option="base", career="1x average wage", sex="male", year=year))
    assert men[2] == _percent(expected) and 0.2 < expected < 1.5
    assert men[adequacy.headers.index("higher rate - base")] == "0.00%"   # the rate changes no benefit
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
    assert [row[2] for row in table.rows] == ["", "economy.nominal_return", "no: provisions only"]
    assert table.rows[1][1].startswith("no provision differs; also changes assumptions, data or methods: "
                                       "economy.nominal_return ")
    assert "Each option" not in text and "Option 'same' is projected with the same assumptions" in text
    assert "Option 'higher return' also changes assumptions, data or methods (economy.nominal_return): its " \
           "differences from the base are not the effect of its provisions alone." in text


def test_report_html_has_the_chapter_after_the_valuation_chapters(demo, results, compared):
    html = build(demo, results, comparison=compared)
    titles = re.findall(r'<h2>\d+\. ([^<]+)</h2>', html)
    assert "Reform options" in titles and titles.index("Reform options") < titles.index("Run provenance")
    for key in ("compare-ratio", "compare-paygo", "compare-replacement"):
        assert f'data-figure="{key}"' in html
    assert "Contribution rate + 0.03 from 2025" in html


def test_report_command_with_a_reforms_sheet_and_option_workbooks(demo, tmp_path, monkeypatch):
    """The Reforms sheet's option and a --compare workbook both in the chapter; no PDF engine: HTML only."""
    monkeypatch.setenv("ACTUARY_CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    small = demo.replace(settings={"horizon": 20, "gap_horizons": (10,)})
    base = _with_reforms(small, tmp_path,
                         [["rate up", "scheme.contribution_rate", "shift", 0.02, 2022, None, None, None, None]])
    small.replace(scheme={"ceiling_multiple": 3.0}).to_workbook(tmp_path / "ceiling.xlsx")
    result = CliRunner().invoke(main, ["report", str(base), "--compare", str(tmp_path / "ceiling.xlsx"),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "base-report.html").read_text()
    assert "Reform options" in html and "Contribution rate + 0.02 in 2022-" not in html
    assert "Contribution rate + 0.02 from 2022" in html and "the valuation workbook ceiling.xlsx" in html
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["base-report.html"]


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
