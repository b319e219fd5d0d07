"""The social protection floor in the valuation report: the chapter "Social protection floor and the
state's fiscal cost" shows the results' floor variables (every number recomputed here from the
projection's beneficiaries, costs, GDP, state subsidy and the government-expenditure input), its stacked
chart and findings; a floor costing alone gets a report without scheme chapters, from the command line
and from Python, and the command never shows a traceback."""

import re
from html import unescape
from html.parser import HTMLParser

import numpy as np
import pytest
from click.testing import CliRunner

from actuary import load_workbook
from actuary.cli import main
from actuary.io.presentation import MONEY_UNITS
from actuary.report import build
from actuary.report.findings import findings, headline
from actuary.valuation import DEMOLAND_FLOOR_ONLY, PROJECT_ROOT

CASE = PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx"
SCHEME_CHAPTERS = ["Scheme provisions", "Data", "Projected insured and pensioners", "Financial projection",
                   "Financing indicators", "Actuarial balance sheet"]
FLOOR_TITLE = "Social protection floor and the state's fiscal cost"


class Tables(HTMLParser):
    """Tables of an HTML document: {caption: (headers, rows)}; chapter titles (h2) in order."""

    def __init__(self, html: str):
        super().__init__()
        self.tables, self.chapters, self._text, self._cell = {}, [], None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in ("caption", "h2", "th", "td"):
            self._text = []
        if tag == "table":
            self._table = {"caption": "", "headers": [], "rows": []}
        if tag == "tr":
            self._row = []

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        text = "".join(self._text or []).strip()
        if tag == "caption":
            self._table["caption"] = text
        elif tag == "th":
            self._table["headers"].append(text)
        elif tag == "td":
            self._row.append(text)
        elif tag == "tr" and self._row:
            self._table["rows"].append(self._row)
        elif tag == "table":
            self.tables[self._table["caption"]] = (self._table["headers"], self._table["rows"])
        elif tag == "h2":
            self.chapters.append(re.sub(r"^\d+\. ", "", text))
        if tag in ("caption", "h2", "th", "td"):
            self._text = None


def column(tables, caption_start: str, header: str) -> dict[int, str]:
    """{year: cell} of one column of the table whose caption starts with ``caption_start``."""
    caption = next(c for c in tables.tables if c.startswith(caption_start))
    headers, rows = tables.tables[caption]
    k = headers.index(header)
    return {int(row[0]): row[k] for row in rows}


@pytest.fixture(scope="module")
def case():
    """The Demoland floor case over 30 years (the chapter's tables every 5 years and the last year)."""
    return load_workbook(CASE).replace(settings={"horizon": 30, "gap_horizons": (10, 30), "balance_sheet": "no"})


@pytest.fixture(scope="module")
def results(case):
    return case.run()


@pytest.fixture(scope="module")
def html(case, results):
    return build(case, results)


def test_floor_chapter_shows_the_floor_variables_of_the_results(case, results, html):
    p, s = results.projection, results.summary
    tables = Tables(html)
    assert tables.chapters.index(FLOOR_TITLE) == tables.chapters.index("Financing indicators") + 1
    t0 = int(p.year[0])
    years = list(range(t0, t0 + 30, 5)) + [t0 + 29]
    scale = MONEY_UNITS[case.inputs.settings["money_unit"]]
    cost = p.floor_cost.values                        # currency [year, benefit]
    gdp = p.gdp.values
    spending = case.inputs.economy["government_expenditure_pct_gdp"].values / 100 * gdp
    top_up = p.minimum_pension_top_up_paid.values if "minimum_pension_top_up_paid" in p else 0.0   # the state's, if any
    fiscal = cost.sum(axis=1) + p.state_subsidy.values + top_up
    for b, name in enumerate(p.floor_benefit.values):
        words = str(name).replace("_", " ")   # social_pension: Social pension; child_benefit: the child benefit
        label, the = words[:1].upper() + words[1:], words if words.endswith(" benefit") else f"{words} benefit"
        people = column(tables, "Beneficiaries of the floor", f"{label} beneficiaries, mean of the year (persons)")
        money = column(tables, "Cost of the floor by benefit", f"Cost of the {the}, administration "
                                                                "included (millions)")
        assert list(people) == years
        for year in years:
            i = year - t0
            assert people[year] == f"{float(p.floor_beneficiaries.values[i, b]):,.0f}"
            assert money[year] == f"{cost[i, b] / scale:,.0f}"
    share = column(tables, "Cost of the floor as a share of GDP", "Cost of the floor (% of GDP)")
    of_spending = column(tables, "Cost of the floor as a share of GDP",
                         "Cost of the floor (% of government expenditure)")
    total = column(tables, "The state's fiscal cost", "Fiscal cost (% of GDP)")
    amount = column(tables, "The state's fiscal cost", "Fiscal cost: floor, state subsidy to the scheme and "
                                                       "minimum-pension top-up (millions)")
    for year in years:
        i = year - t0
        assert share[year] == f"{100 * cost[i].sum() / gdp[i]:.2f}%"
        assert of_spending[year] == f"{100 * cost[i].sum() / spending[i]:.2f}%"
        assert total[year] == f"{100 * fiscal[i] / gdp[i]:.2f}%"
        assert amount[year] == f"{fiscal[i] / scale:,.0f}"
    caption = next(c for c in tables.tables if c.startswith("Present values"))
    items = dict(tables.tables[caption][1])
    for h in (10, 30):
        assert items[f"Cost of the floor over {h} years, level share of GDP (% of GDP)"] == \
            f"{float(s.floor_cost_level_pct_gdp.sel(horizon=h)):.2f}%"
        assert items[f"Fiscal cost over {h} years, present value (millions)"] == \
            f"{float(s.fiscal_cost_present_value.sel(horizon=h)) / scale:,.0f}"


def test_floor_chapter_has_the_stacked_chart_and_the_findings(results, html):
    p = results.projection
    chart = re.search(r'data-figure="floor">(.*?)</figure>', html, re.S).group(1)
    for name in p.floor_benefit.values:
        assert str(name) in chart                              # one stacked area (and legend entry) a benefit
    assert "Fiscal cost" in chart and "% of GDP" in chart
    said = " ".join(findings(results))
    assert f"costs {float(p.floor_cost_pct_gdp[0]):.2f}% of GDP in {int(p.year[0])}" in said
    assert p.fiscal_cost.attrs["description"].startswith("floor cost + state subsidy to the scheme")
    assert f"fiscal cost ({p.fiscal_cost.attrs['description']}) is {float(p.fiscal_cost_pct_gdp[0]):.2f}%" in said


@pytest.fixture(scope="module")
def floor_only_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("floor-report")
    template = out.parent / "national floor.xlsx"
    done = CliRunner().invoke(main, ["template", "--floor-only", str(template)])
    assert done.exit_code == 0, done.output
    done = CliRunner().invoke(main, ["report", str(template), "--out", str(out)])
    return out, done


def test_floor_only_report_from_the_command_line_has_no_scheme_chapter(floor_only_report):
    out, done = floor_only_report
    assert done.exit_code == 0 and done.exception is None and "Traceback" not in done.output, done.output
    html = (out / "national_floor-report.html").read_text()
    tables = Tables(html)
    assert tables.chapters == ["Executive summary", "Introduction", "Assumptions", "Demographic projection",
                               FLOOR_TITLE, "Conclusions and recommendations", "Actuarial opinion", "Run provenance",
                               "Appendix A. Methodology and conventions"]
    assert not set(SCHEME_CHAPTERS) & set(tables.chapters)
    text = " ".join(re.sub(r"<[^>]+>", " ", html[:html.index('id="methodology"')]).split()).lower()
    for words in ("contribution rate", "insurable earnings", "reserve", "pensioners", "general average premium",
                  "coverage", "investment return"):
        assert words not in text, words
    assert "Social protection floor costing as at 1 January 2020" in html
    assert "Nominal discount rate (%)" in html   # the economic assumptions' table: it discounts the floor's cost


def test_floor_only_report_numbers_from_python(floor_only_report):
    valuation = load_workbook(DEMOLAND_FLOOR_ONLY)
    results = valuation.run()
    p, s = results.projection, results.summary
    html = (floor_only_report[0] / "national_floor-report.html").read_text()
    numbers = headline(results)
    gdp, cost = p.gdp.values, p.floor_cost.values.sum(axis=1)
    spending = valuation.inputs.economy["government_expenditure_pct_gdp"].values / 100 * gdp
    assert numbers["floor_cost_pct_gdp_first"] == f"{100 * cost[0] / gdp[0]:.2f}%"
    assert numbers["floor_cost_pct_gdp_last"] == f"{100 * cost[-1] / gdp[-1]:.2f}%"
    assert numbers["floor_cost_pct_government_expenditure_last"] == f"{100 * cost[-1] / spending[-1]:.2f}%"
    # the level share of GDP: present values discounted mid-year at the projected returns, computed here
    v = np.cumprod(1 / (1 + p.investment_return.values)) * np.sqrt(1 + p.investment_return.values)
    assert numbers["floor_level_100"] == f"{100 * (v * cost).sum() / (v * gdp).sum():.2f}%"
    for key, value in numbers.items():
        if not key.startswith("fiscal"):   # the fiscal cost is the floor's: shown once
            assert f'data-headline="{key}">{value}<' in html, key
    assert "Life expectancy at 65" in html and 'data-figure="pyramids"' in html
    assert findings(results)[0].startswith("The social protection floor (4 benefits: ")
    assert int(p.year[-1]) == 2119 and np.allclose(float(s.fiscal_cost_level_pct_gdp[-1]),
                                                   float(s.floor_cost_level_pct_gdp[-1]))


def test_the_shares_tables_are_titled_for_what_they_hold(case, html):
    """'Cost of the floor as a share of GDP and of government spending' had no government column when the case gave
    no government expenditure or revenue: each title now names the shares its table holds."""
    captions = [c for c in Tables(html).tables if c.startswith(("Cost of the floor as a share", "The state's fiscal"))]
    revenue = case.inputs.economy.get("government_revenue_pct_gdp") is not None
    said = "GDP, of government expenditure and of government revenue" if revenue else \
        "GDP and of government expenditure"
    assert captions == [f"Cost of the floor as a share of {said}",
                        f"The state's fiscal cost (millions; shares of {said})"]
    bare = case.replace(economy={"government_expenditure_pct_gdp": None, "government_revenue_pct_gdp": None})
    p = bare.run().projection
    assert not [name for name in p.data_vars if "government" in name]
    tables = Tables(build(bare, bare.run()))
    captions = [c for c in tables.tables if c.startswith(("Cost of the floor as a share", "The state's fiscal"))]
    assert captions == ["Cost of the floor as a share of GDP", "The state's fiscal cost (millions; shares of GDP)"]
    for caption in captions:
        assert not [h for h in tables.tables[caption][0] if "government" in h]


# ------------------------------------------------------------------ the scheme's borrowing beside the fiscal cost

def borrowing_from_the_finance_table(p, depletion: float) -> np.ndarray:
    """The scheme's borrowing of a run derived from its yearly finance table alone: 0 before the depletion year
    (``depletion``, nan: never); in it, the part of the deficit the reserve left at its start does not pay,
    -min(0, net cash flow + reserve at its start); after it, -min(0, net cash flow) (the reserve's flow of the year,
    V_t - V_t-1, interest included; its total income counts a minimum-pension top-up the state pays the scheme)."""
    flow = p.net_cash_flow.values
    start = np.concatenate([[float(p.reserve_at_valuation)], p.reserve.values[:-1]])
    years = p.year.values
    out = np.zeros(years.size)
    if depletion == depletion:
        at = years == int(depletion)
        out[at] = -np.minimum(0.0, flow[at] + start[at])
        out[years > depletion] = -np.minimum(0.0, flow[years > depletion])
    return out


def own_deficit_from_the_finance_table(p, borrowing) -> np.ndarray:
    """Of the borrowing of each year, the year's own deficit at mid-year: without the interest on the debt carried
    in (i x the negative reserve at the start of the year), / (1 + i)^1/2. In a year of negative return the debt
    carried in shrinks by itself: a year whose debt falls (borrowing 0) by less than that has a deficit of its own,
    the fall of the debt less its shrinkage (a path's own return may be negative)."""
    rate = p.investment_return.values
    carried = np.maximum(-np.concatenate([[float(p.reserve_at_valuation)], p.reserve.values[:-1]]), 0.0)
    change = np.where(borrowing > 0, borrowing, np.maximum(-p.reserve.values, 0.0) - carried)   # of the debt
    return np.maximum(change - rate * carried, 0.0) / np.sqrt(1 + rate)


def test_the_fiscal_cost_including_borrowing_adds_the_deficit_financed_by_borrowing(results):
    p, s = results.projection, results.summary
    assert float(s.depletion_year) == 2031 and case_borrows(p)
    expected = borrowing_from_the_finance_table(p, float(s.depletion_year))
    assert expected[p.year.values < 2031].sum() == 0 and (expected[p.year.values >= 2031] > 0).all()
    np.testing.assert_allclose(p.scheme_borrowing.values, expected, rtol=1e-10, atol=1e-3)   # currency
    gdp = p.gdp.values
    np.testing.assert_allclose(p.scheme_borrowing_pct_gdp.values, 100 * expected / gdp, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(p.scheme_debt.values, np.maximum(-p.reserve.values, 0), rtol=0, atol=0)
    # of it, the interest on the debt carried in (i x the negative reserve at the start of the year)
    i = p.investment_return.values
    carried = np.maximum(-np.concatenate([[float(p.reserve_at_valuation)], p.reserve.values[:-1]]), 0.0)
    interest = np.minimum(i * carried, expected)
    assert interest[p.year.values <= 2031].sum() == 0 and (interest[p.year.values > 2031] > 0).all()
    np.testing.assert_allclose(p.scheme_debt_interest.values, interest, rtol=1e-10, atol=1e-3)
    # the fiscal cost including the borrowing adds the year's own deficit, without the interest on the debt (which
    # would count each deficit again every year it stays unpaid), at mid-year: max(D_t - (1+i) D_t-1, 0) / (1+i)^1/2
    own = np.maximum(np.maximum(-p.reserve.values, 0.0) - (1 + i) * carried, 0.0) / np.sqrt(1 + i)
    np.testing.assert_allclose(p.fiscal_cost_with_borrowing.values, p.fiscal_cost.values + own, rtol=1e-9,
                               atol=1e-3)
    np.testing.assert_allclose(p.fiscal_cost_with_borrowing_pct_gdp.values, 100 * (p.fiscal_cost.values + own) / gdp,
                               rtol=1e-9, atol=1e-12)
    v_mid = np.concatenate([[1.0], np.cumprod(1 / (1 + i))[:-1]]) / np.sqrt(1 + i)
    # present values: each deficit once, without the debt's interest: the debt at the horizon's end, discounted
    v_end = np.cumprod(1 / (1 + p.investment_return.values))
    for h in s.horizon.values:
        n = int(h)
        assert float(s.scheme_borrowing_present_value.sel(horizon=h)) == pytest.approx(
            v_end[n - 1] * max(-float(p.reserve.values[n - 1]), 0.0), rel=1e-10, abs=1e-3)
        np.testing.assert_allclose(float(s.fiscal_cost_with_borrowing_present_value.sel(horizon=h)),
                                   float(s.fiscal_cost_present_value.sel(horizon=h))
                                   + float(s.scheme_borrowing_present_value.sel(horizon=h)), rtol=1e-12)
        # the yearly figures are those the present value sums
        np.testing.assert_allclose(float(s.fiscal_cost_with_borrowing_present_value.sel(horizon=h)),
                                   (v_mid * p.fiscal_cost_with_borrowing.values)[:n].sum(), rtol=1e-10)
    for name in ("scheme_borrowing", "scheme_debt", "fiscal_cost_with_borrowing"):
        assert p[name].attrs["units"] == "currency" and p[name].attrs["description"]


def case_borrows(p) -> bool:
    return bool((p.reserve.values < 0).any())


def test_a_case_that_never_depletes_borrows_nothing(case):
    """Over 10 years the Demoland floor case's reserve lasts (it runs out in 2031): no borrowing, no debt, the total
    equals the fiscal cost, and the chapter shows no borrowing table nor figure."""
    short = case.replace(settings={"horizon": 10, "gap_horizons": (10,)})
    results = short.run()
    p, s = results.projection, results.summary
    assert float(s.depletion_year) != float(s.depletion_year)   # NaN: never depleted
    assert (p.scheme_borrowing.values == 0).all() and (p.scheme_debt.values == 0).all()
    np.testing.assert_array_equal(p.fiscal_cost_with_borrowing.values, p.fiscal_cost.values)
    assert (s.scheme_borrowing_present_value.values == 0).all()
    html = build(short, results)
    assert 'data-figure="fiscal-borrowing"' not in html
    assert not [c for c in Tables(html).tables if c.startswith("The scheme's borrowing")]
    assert "The reserve is not exhausted within the projection: the scheme borrows nothing" in html


def test_benefits_cut_after_depletion_borrow_nothing_and_the_report_says_so(case):
    payable = case.replace(settings={"after_depletion": "payable"})
    results = payable.run()
    p = results.projection
    assert (p.payable_share.values < 1).any()
    assert (p.scheme_borrowing.values == 0).all() and "fiscal_cost_with_borrowing" not in p
    said = " ".join(findings(results))
    assert "the scheme does not borrow: benefits are then cut to what its income can pay" in said
    html = build(payable, results)
    assert "benefits are cut to what its income and the reserve left can pay" in html
    assert 'data-figure="fiscal-borrowing"' not in html


def test_the_report_names_the_borrowing_with_the_workbooks_figure(case, results, html, tmp_path):
    """Chapter 11 says what the fiscal cost leaves out and shows the borrowing beside it, with the results
    workbook's figures; it never calls the fiscal cost the state's whole cost."""
    import openpyxl

    from actuary.io.results import write_results

    write_results(results, case, tmp_path / "results.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "results.xlsx")["Social protection floor"]
    headers = [c.value for c in ws[2]]
    t0 = int(results.projection.year[0])
    rows = {int(r[0]): r for r in ws.iter_rows(min_row=3, max_row=2 + results.projection.sizes["year"],
                                                values_only=True)}
    tables = Tables(html)
    caption = "Fiscal cost including the scheme's borrowing as a share of"
    label = "Scheme borrowing: deficit financed by borrowing after depletion, interest included (millions)"
    money = column(tables, "The scheme's borrowing after depletion and the fiscal cost including it (millions)", label)
    assert money[2035] == f"{rows[2035][headers.index(label)]:,.0f}"
    for header in ("Scheme borrowing (% of GDP)", "of which interest on the scheme's debt (% of GDP)",
                   "Fiscal cost including the scheme's borrowing (% of GDP)", "Scheme debt, end of year (% of GDP)"):
        shown = column(tables, caption, header)
        for year in (2035, t0 + 29):
            assert shown[year] == f"{100 * rows[year][headers.index(header)]:.2f}%", (header, year)
    assert 'data-figure="fiscal-borrowing"' in html
    last = t0 + 29
    borrowing = f"{100 * rows[last][headers.index('Scheme borrowing (% of GDP)')]:.2f}%"
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    of_which = headers.index("of which interest on the scheme's debt (% of GDP)")
    interest = f"{100 * rows[last][of_which]:.2f}%"
    assert f"in {last} its deficit financed by borrowing, the interest on its debt included, is {borrowing} of GDP " \
           f"(of which interest {interest})" in text
    assert "It leaves out the scheme's own deficit once its reserve is exhausted." in text
    assert "fiscal cost is the state's whole cost" not in text   # (the appendix: whole = fiscal cost + borrowing)
    notes = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "leaves out the scheme's own deficit" in " ".join(notes)   # the notes' lines wrap at 110 characters
    assert any(n.startswith("Present values at 1 January") for n in notes)   # below the notes, not over them
