"""The results workbooks (valuate, sensitivity, stochastic) a board can read: labels in words with units,
money in the chosen unit, a number format on every numeric cell, columns wide enough for what they
show, frozen headers, print setup, charts with titles and axis titles on pages of their own, input
text written as text, the year-by-year Assumptions sheet; and the same value everywhere for rates."""

import math
import re
import shutil
import subprocess

import numpy as np
import openpyxl
import pytest

from actuary import Valuation
from actuary.batch import Scenario, Shift, sensitivity, write_sensitivity
from actuary.io import presentation as pres
from actuary.io.results import write_results
from actuary.stochastic import simulate, write_stochastic

# number format -> how Excel and LibreOffice print a value with it (written here, independently of the code)
SHOWN = {
    "#,##0": lambda v: f"{v:,.0f}",
    "#,##0.00": lambda v: f"{v:,.2f}",
    "#,##0.0": lambda v: f"{v:,.1f}",
    "+0.00;-0.00;0.00": lambda v: f"{v:+.2f}",
    "0.00%": lambda v: f"{100 * v:.2f}%",
    "0.000%": lambda v: f"{100 * v:.3f}%",
    "0.0%": lambda v: f"{100 * v:.1f}%",
    "0.00": lambda v: f"{v:.2f}",
    "0.0": lambda v: f"{v:.1f}",
    "0.000": lambda v: f"{v:.3f}",
    "0.0000": lambda v: f"{v:.4f}",
    "0": lambda v: f"{v:.0f}",
    "+0.00%;-0.00%;0.00%": lambda v: f"{100 * v:+.2f}%",
}


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


@pytest.fixture(scope="module")
def results(demo):
    return demo.run()


@pytest.fixture(scope="module")
def workbooks(demo, results, tmp_path_factory):
    """The three workbooks of Demoland (a small sensitivity set and 40 stochastic paths)."""
    folder = tmp_path_factory.mktemp("results")
    paths = {"valuate": folder / "demoland-results.xlsx", "sensitivity": folder / "demoland-sensitivity.xlsx",
             "stochastic": folder / "demoland-stochastic.xlsx"}
    write_results(results, demo, paths["valuate"])
    write_sensitivity(_small_sensitivity(demo), paths["sensitivity"])
    write_stochastic(simulate(demo, 40, seed=3), paths["stochastic"])
    return paths


HOSTILE = "=1+1 (a scenario name that looks like a formula)"


def _small_sensitivity(demo):
    """The standard sensitivity set and one scenario of a Scenarios sheet, on a 30-year horizon (fast)."""
    short = demo.replace(settings={"horizon": 30, "gap_horizons": (10, 25)})
    return sensitivity(short, extra=[Scenario(HOSTILE, {"economy.nominal_return": Shift(0.01)})])


_LOADED = {}


def _sheets(path):
    """The workbook at ``path``, loaded once (tests only read it)."""
    if path not in _LOADED:
        _LOADED[path] = openpyxl.load_workbook(path)
    return _LOADED[path]


def _numeric_cells(ws):
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                yield cell


@pytest.mark.parametrize("which", ["valuate", "sensitivity", "stochastic"])
def test_every_numeric_cell_has_a_format_and_room_for_it(workbooks, which):
    wb = _sheets(workbooks[which])
    checked = 0
    for ws in wb:
        for cell in _numeric_cells(ws):
            assert cell.number_format in SHOWN, (ws.title, cell.coordinate, cell.number_format)
            text = SHOWN[cell.number_format](cell.value)
            width = ws.column_dimensions[cell.column_letter].width
            assert width is not None and len(text) + 1 <= width, (ws.title, cell.coordinate, text, width)
            checked += 1
    assert checked > 1000


def test_headers_are_words_with_units(workbooks):
    wb = _sheets(workbooks["valuate"])
    for name in ("Demography", "Insured", "Pensioners", "Financial projection", "Financing indicators",
                 "Assumptions"):
        ws = wb[name]
        headers = [c.value for c in ws[2] if c.value is not None]
        assert headers[0] == "Year" and len(headers) > 4
        for header in headers:
            assert "_" not in header, (name, header)   # code names only in the netCDF
    finance = [c.value for c in wb["Financial projection"][2][1:] if c.value]
    assert all(h.endswith("(millions)") or "(millions," in h for h in finance), finance
    rates = [c.value for c in wb["Financing indicators"][2][1:] if c.value]
    assert "PAYG cost rate (% of insurable earnings)" in rates
    assert any(h.startswith("Pension expenditure, benefits only") and h.endswith("(% of GDP)") for h in rates)
    assert any(h.startswith("Total income: contributions, subsidy, state top-up, investment income") for h in rates)


def _column(ws, header_start):
    headers = [c.value or "" for c in ws[2]]
    k = next(i for i, h in enumerate(headers) if h.startswith(header_start))
    return [row[k] for row in ws.iter_rows(min_row=3, values_only=True) if isinstance(row[0], int)]   # not the notes


def test_money_in_the_unit_of_the_settings(demo, results, workbooks, tmp_path):
    for unit, scale in (("millions", 1e6), ("thousands", 1e3)):
        if unit == "millions":   # the default: the Demoland workbook of the fixture
            wb = _sheets(workbooks["valuate"])
        else:
            path = tmp_path / f"{unit}.xlsx"
            write_results(results, demo.replace(settings={"money_unit": unit}), path)
            wb = _sheets(path)
        reserve = _column(wb["Financial projection"], f"Reserve, end of year ({unit})")
        np.testing.assert_allclose(reserve, results.projection.reserve.values / scale, rtol=1e-12)
        contributions = _column(wb["Financial projection"], f"Contributions ({unit})")
        np.testing.assert_allclose(contributions, results.projection.contributions.values / scale, rtol=1e-12)


def test_one_rate_convention_everywhere(results, workbooks):
    """Rates are fractions in the data, percent-formatted in the workbook: the cell holds the same value;
    a _pct_ variable (percent in the data) is shown / 100 under the same format, so both read alike."""
    p = results.projection
    ws = _sheets(workbooks["valuate"])["Financing indicators"]
    headers = [c.value or "" for c in ws[2]]
    paygo = headers.index("PAYG cost rate (% of insurable earnings)") + 1
    gdp = next(i for i, h in enumerate(headers) if h.startswith("Pension expenditure")) + 1
    first = ws.cell(row=3, column=paygo)
    assert first.value == pytest.approx(float(p.paygo_cost_rate[0]), rel=1e-12) and first.number_format == "0.00%"
    share = ws.cell(row=3, column=gdp)
    assert share.value == pytest.approx(float(p.expenditure_pct_gdp[0]) / 100, rel=1e-12)
    assert share.number_format == "0.00%"
    assert SHOWN["0.00%"](share.value) == f"{float(p.expenditure_pct_gdp[0]):.2f}%"


def _printed_scale(ws) -> float:
    """The scale at which a sheet fitted to its pages wide prints on A4 landscape within the default margins (986
    pixels; a column of width w characters is 7 w + 5 pixels, Excel's default width 8.43 where the file gives
    none; the file gives widths by ranges of columns)."""
    widths = {}
    for dimension in ws.column_dimensions.values():
        for column in range(dimension.min or 1, (dimension.max or dimension.min or 1) + 1):
            widths[column] = dimension.width
    pixels = sum(7 * (widths.get(c) or 8.43) + 5 for c in range(1, ws.max_column + 1))
    return 986 * ws.page_setup.fitToWidth / pixels   # above 1: the pages have room to spare


def _rows_points(ws) -> float:
    """The height of a sheet's rows in points at 100% (15 where the file gives none)."""
    return sum((ws.row_dimensions[r].height if r in ws.row_dimensions else None) or 15.0
               for r in range(1, ws.max_row + 1))


def _whole_on_one_page(ws, scale: float) -> bool:
    """A short table: printed one page wide at ``scale`` (60% or more), its rows fit on one page of A4 landscape
    (451 points tall within the default margins)."""
    return scale >= 0.6 - 1e-9 and min(scale, 1.0) * _rows_points(ws) <= 451


def _check_pages_wide(ws, where) -> bool:
    """A table of six columns or more: a short one (its rows on one page tall when printed one page wide at 60% or
    more) prints one page wide; another on as many pages wide as keep it at 75% or more, and no more. Returns
    whether it prints on pages wide."""
    setup = ws.page_setup
    one_page_scale = _printed_scale(ws) / setup.fitToWidth
    if _whole_on_one_page(ws, one_page_scale):
        assert setup.fitToWidth == 1, where
        return False
    assert _printed_scale(ws) >= 0.75 - 1e-9, (where, setup.fitToWidth)
    # no more pages than needed: one fewer would print below 75%
    fewer = _printed_scale(ws) * (setup.fitToWidth - 1) / setup.fitToWidth
    assert setup.fitToWidth == 1 or fewer < 0.75, (where, setup.fitToWidth)
    return setup.fitToWidth > 1


def test_frozen_headers_and_print_setup(workbooks):
    """Every sheet prints landscape, as many pages tall as it needs; a table of six columns or more prints on as
    many pages wide as keep it at 75% or more, its first column repeated (one page wide, the Financial projection's
    22 columns printed at about 40%: 4-point figures), unless it is short (its rows fit on one page tall printed one
    page wide at 60% or more: it prints whole on that page); sheets of a few text columns and of charts stay one page
    wide."""
    wide = 0
    for which in ("valuate", "sensitivity", "stochastic"):
        for ws in _sheets(workbooks[which]):
            setup = ws.page_setup
            assert setup.orientation == "landscape", (which, ws.title)
            assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.fitToHeight == 0, (which, ws.title)
            if ws.max_column >= 6 and not ws._charts:
                _check_pages_wide(ws, (which, ws.title))
            else:
                assert setup.fitToWidth == 1, (which, ws.title)
            if setup.fitToWidth > 1:
                wide += 1
                assert ws.print_title_cols.replace("$", "") == "A:A", (which, ws.title)
            assert "demoland" in ws.oddHeader.left.text and ws.oddFooter.center.text == "&A"
            assert ws.oddFooter.right.text == "Page &P of &N"
            if ws.title != "Charts":
                assert ws.freeze_panes is not None, (which, ws.title)
                assert ws.print_title_rows.replace("$", "") == "1:2", (which, ws.title)
    assert wide >= 5   # the projection tables, assumptions by age


@pytest.mark.parametrize("rows,width,pages", [
    (6, 17, 1),     # 12 columns of 17 characters, 1,488 pixels: 66% one page wide, its 6 rows (90 points) whole on it
    (44, 17, 1),    # 44 rows: 660 points, 438 at 66%: still whole on one page
    (60, 17, 2),    # 60 rows: 900 points, 596 at 66%: a long table, 2 pages wide at 75% or more
    (6, 20, 2),     # 12 columns of 20 characters, 1,740 pixels: 57% one page wide, too small: 2 pages wide
    (6, 12, 1),     # 1,068 pixels: 92% on one page, as for any table that fits at 75%
])
def test_a_short_wide_table_prints_one_page_wide_a_long_one_on_pages_wide(rows, width, pages, tmp_path):
    """The sheet's shape decides its pages wide: a short table whose rows, printed one page wide at 60% or more,
    fit on one page prints so (landscape, fitted to width); a long one, or one that would print below 60%, on as
    many pages wide as keep it at 75% or more, its first column repeated (read back from the file openpyxl
    writes)."""
    from openpyxl.utils import get_column_letter

    from actuary.io.results import print_setup
    from actuary.io.workbook import _atomic_save

    wb = openpyxl.Workbook()
    ws = wb.active
    for column in range(1, 13):
        ws.column_dimensions[get_column_letter(column)].width = width
        for row in range(1, rows + 1):
            ws.cell(row, column, row * column)
    ws.freeze_panes = "B3"
    print_setup(ws, "case")
    _atomic_save(wb, tmp_path / "t.xlsx")
    written = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    setup = written.page_setup
    assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", pages, 0)
    assert written.sheet_properties.pageSetUpPr.fitToPage
    assert (written.print_title_cols or "").replace("$", "") == ("A:A" if pages > 1 else "")
    assert _check_pages_wide(written, (rows, width)) == (pages > 1)


def test_charts_have_titles_axis_titles_and_a_page_each(workbooks):
    for which in ("valuate", "sensitivity", "stochastic"):
        ws = _sheets(workbooks[which])["Charts"]
        charts = ws._charts
        assert len(charts) >= 3
        for chart in charts:
            assert chart.title is not None and chart.x_axis.title is not None and chart.y_axis.title is not None
        rows = sorted(chart.anchor._from.row for chart in charts)
        breaks = sorted(b.id for b in ws.row_breaks.brk)
        assert len(breaks) == len(charts)
        for top, brk, following in zip(rows, breaks, rows[1:] + [math.inf]):
            assert top < brk < following   # a page break between every two charts


def _axis_title(chart):
    return "".join(r.t for p in chart.y_axis.title.tx.rich.p for r in (p.r or []))


def test_money_charts_use_a_readable_scale(workbooks):
    ws = _sheets(workbooks["valuate"])["Charts"]
    titles = {"".join(r.t for p in c.title.tx.rich.p for r in (p.r or [])): c for c in ws._charts}
    reserve = next(c for t, c in titles.items() if t.startswith("Reserve at the end of the year"))
    assert re.match(r"(trillions|billions|millions|thousands) of currency, 2020 prices", _axis_title(reserve))
    series = reserve.series[0].val.numRef.f          # e.g. 'Charts'!$R$2:$R$101
    column = re.search(r"\$([A-Z]+)\$", series).group(1)
    values = [c.value for c in ws[column][1:] if isinstance(c.value, (int, float))]
    assert 1 <= max(abs(v) for v in values) < 1e4 * 1000


def test_text_from_the_inputs_is_never_a_formula(demo, results, workbooks, tmp_path):
    hostile = Valuation(**demo.raw, name='=HYPERLINK("http://example.invalid","x")')
    path = tmp_path / "hostile.xlsx"
    write_results(results, hostile, path)
    cell = openpyxl.load_workbook(path)["Summary"]["A1"]
    assert cell.data_type == "s" and cell.value.startswith('=HYPERLINK("http://example.invalid"')
    ws = openpyxl.load_workbook(workbooks["sensitivity"])["Scenarios"]
    cells = [c for c in ws["A"] if c.value == HOSTILE]
    assert len(cells) == 1 and cells[0].data_type == "s"


def test_assumptions_sheet_has_every_year_dependent_input_year_by_year(demo, workbooks):
    ws = _sheets(workbooks["valuate"])["Assumptions"]
    years = [r[0] for r in ws.iter_rows(min_row=3, values_only=True) if r[0] is not None]
    assert years == list(range(2020, 2120))
    rate = _column(ws, "Contribution rate")
    expected = [0.18] * 5 + [0.20] * 5 + [0.22] * 90   # Demoland's schedule (valuations/demoland/PROVENANCE.md)
    np.testing.assert_allclose(rate, expected, rtol=1e-12)
    women = _column(ws, "Normal retirement age, women")
    np.testing.assert_allclose(women, demo.inputs.scheme["normal_retirement_age"].sel(sex="female").values)
    for label in ("Inflation", "Real wage growth", "Nominal investment return", "Unemployment rate",
                  "Total fertility rate", "Net migration, men", "Pension indexation on 1 January"):
        assert len(_column(ws, label)) == 100, label
    titles = ["".join(r.t for p in c.title.tx.rich.p for r in (p.r or [])) for c in
              _sheets(workbooks["valuate"])["Charts"]._charts]
    assert "Main economic assumptions" in titles


def test_a_year_varying_age_profile_gets_its_year_by_year_sheet(demo, tmp_path):
    coverage = demo.inputs.behaviour["coverage"].copy()
    coverage.loc[dict(year=slice(2040, None))] *= 0.9
    changed = demo.replace(behaviour={"coverage": coverage}, settings={"balance_sheet": "no", "horizon": 30,
                                                                       "gap_horizons": (10,)})
    path = tmp_path / "varying.xlsx"
    write_results(changed.run(), changed, path)
    ws = openpyxl.load_workbook(path)["Coverage by year"]
    row_2040 = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[0] == 2040)
    headers = [c.value for c in ws[2]]
    k = headers.index("men 40")
    assert row_2040[k] == pytest.approx(float(coverage.sel(year=2040, sex="male", age=40)), rel=1e-12)


def test_workbooks_show_no_hashes_in_libreoffice(workbooks, tmp_path):
    """LibreOffice prints ### where a column is too narrow for its number: convert each workbook to PDF
    and read the text."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    from pypdf import PdfReader

    files = [str(workbooks[k]) for k in ("valuate", "sensitivity")]
    converted = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                                "--convert-to", "pdf", "--outdir", str(tmp_path), *files],
                               capture_output=True, text=True, timeout=600)
    assert converted.returncode == 0, converted.stderr
    for name in ("demoland-results", "demoland-sensitivity"):
        pdf = tmp_path / f"{name}.pdf"
        assert pdf.exists() and pdf.stat().st_size > 10_000
        text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
        assert "###" not in text, name
        assert "Reserve" in text


def test_money_amounts_in_the_provisions_read_with_thousands_separators(demo, workbooks):
    """The Provisions sheet puts money in words as the money cells read: 13,750 and 82,500 (not 13750), and a
    poverty line growing with prices from 12,000 to a whole amount (not 86068.8)."""
    rows = {r[1]: r[2] for r in _sheets(workbooks["valuate"])["Provisions"].iter_rows(min_row=3, values_only=True)}
    assert rows["Minimum pension"] == "13,750 in every year (currency a year at 2020 levels)"
    assert rows["Maximum pension"] == "82,500 in every year (currency a year at 2020 levels)"
    from actuary import load_workbook
    from actuary.io import presentation as pres
    from actuary.valuation import PROJECT_ROOT

    floor = load_workbook(PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx")
    text = {label: text for _, label, text, _ in pres.provisions(floor.inputs, ("economy",))}["Poverty line"]
    line = floor.inputs.economy["poverty_line"].values
    assert text.startswith(f"{line[0]:,.0f} in {floor.inputs.coords['year'][0]}") and f"{line[-1]:,.0f} in " in text
    assert not re.search(r"\d{4}\.\d|\d{5}", text.replace(str(floor.inputs.coords["year"][0]), "").replace(
        str(floor.inputs.coords["year"][-1]), "")), text


def test_life_expectancy_says_period_and_sheet_names_read_whole(workbooks):
    """The Demography sheet's life expectancy is the period life expectancy (as the methodology says); the
    stochastic workbook's sheet of the replacement rate has a short name that reads whole, not the label cut at
    31 characters ("Replacement rate of new old-age")."""
    headers = [c.value for c in _sheets(workbooks["valuate"])["Demography"][2]]
    assert "Period life expectancy at 65, men (years)" in headers
    assert not [h for h in headers if h and h.startswith("Life expectancy")]
    names = _sheets(workbooks["stochastic"]).sheetnames
    assert "Replacement rate, new pensions" in names and "Replacement rate of new old-age" not in names
    sensitivity = _sheets(workbooks["sensitivity"]).sheetnames
    assert all(len(n) <= 31 and not n.endswith(" ") for n in sensitivity) and "Reserve ratio by scenario" in sensitivity


def test_the_insured_sheet_says_what_its_retirements_count(results, workbooks):
    """"Retirements of actives" counts those leaving at retirement age with a grant as well as the new pensioners,
    and the heading says so; the first year's inactive insured reaching retirement age include every initial
    inactive insured already past it (why 2020's number is several times 2021's): the sheet's notes and the
    variables' descriptions say both."""
    ws = _sheets(workbooks["valuate"])["Insured"]
    headers = [c.value for c in ws[2]]
    assert "Retirements of actives (pensions and grants) (persons)" in headers
    notes = _notes(ws, results.projection.sizes["year"])
    assert "Retirements of actives: actives retiring with an old-age pension, and those reaching retirement age " \
           "without the service for one, who leave with the grant" in notes
    assert "Inactive insured reaching retirement age: a deferred pension if vested, else the grant; in 2020 also " \
           "every inactive insured of the valuation date already at or past the normal retirement age" in notes
    p = results.projection
    assert "with the grant" in p.retirements.attrs["description"]
    assert "first year also every initial inactive insured" in p.inactive_retirements.attrs["description"]
    ages = p.inactive_at_valuation.sel(sex="male").sel(age=slice(64, None)).sum().item()
    assert p.inactive_retirements.sel(year=2020, sex="male").sum().item() > 0.9 * ages


def _notes(ws, years: int) -> str:
    """The notes below a yearly sheet's table (after the heading "Notes"), their lines joined."""
    cells = [r[0] for r in ws.iter_rows(min_row=3 + years, values_only=True) if r[0]]
    assert cells[0] == "Notes"
    return " ".join(cells[1:])


def test_notes_say_how_benefits_are_paid_after_depletion_under_borrow(results, workbooks):
    """Demoland's reserve is exhausted in 2032 under settings.after_depletion "borrow" (the default): the Financial
    projection's, Financing indicators' and Summary's notes say that benefits are then paid in full from debt (a
    negative reserve bearing the return) and what "payable" means."""
    p = results.projection
    first = int(p.year.values[int(np.argmax(p.reserve.values < 0))])
    borrowed = (f"The reserve is exhausted in {first}: under settings.after_depletion \"borrow\" benefits and grants "
                "are paid in full from then on by borrowing, the debt shown as a negative reserve that bears the "
                "investment return")
    payable = "Payable: what the year's income and the reserve left at its start could pay"
    for sheet in ("Financial projection", "Financing indicators"):
        notes = _notes(_sheets(workbooks["valuate"])[sheet], p.sizes["year"])
        assert borrowed in notes and payable in notes and "this measures the shortfall, not what is paid" in notes
    summary = " ".join(r[0] for r in _sheets(workbooks["valuate"])["Summary"].iter_rows(values_only=True) if r[0])
    assert borrowed in summary and payable in summary
    titles = ["".join(r.t for p in c.title.tx.rich.p for r in (p.r or []))
              for c in _sheets(workbooks["valuate"])["Charts"]._charts]
    assert "Income and expenditure as a share of GDP (after depletion, income net of the interest on the debt)" \
        in titles
    assert "Reserve at the end of the year, at 2020 prices (below zero: debt, borrowing to pay benefits in full)" \
        in titles


def test_provisions_an_option_leaves_unused_say_so(demo, workbooks):
    """Demoland's grants are refunds of contributions (grant_type refund), so its refunded contribution rate
    applies and reads as a rate, while the grant multiple, the exit vesting years (leavers keep deferred rights)
    and the other unused provisions say "not used: ..." and why, instead of looking like they apply. Under a grant
    multiple with refunds to leavers (exit_benefit refund) the refund rate applies again."""
    rows = {r[1]: r[2] for r in _sheets(workbooks["valuate"])["Provisions"].iter_rows(min_row=3, values_only=True)}
    assert rows["Refunded contribution rate"] == "7.00% in every year (of insurable earnings)"
    assert rows["Interest credited on refunds"] == "the nominal investment return (the default)"
    assert rows["Grant: multiple of reference earnings per year of service"].startswith(
        "not used: grants are refunds of contributions")
    assert rows["Exit vesting years"] == "not used: every leaver keeps deferred rights (exit benefit deferred)"
    assert rows["Exit benefit"].startswith("deferred rights")
    assert rows["Flat pension service"] == "not used: no flat pension"
    assert rows["Poverty line"] == "not used: no floor benefit on the poverty-line basis"
    from actuary.io import presentation as pres

    raw = {group: dict(values) for group, values in demo.raw.items()}
    raw["scheme"].pop("refund_contribution_rate")
    raw["scheme"].update(grant_type="multiple", grant_multiple=0.1)
    multiple = Valuation(**raw, name="multiple")
    words = {label: text for _, label, text, _ in pres.provisions(multiple.inputs)}
    assert words["Refunded contribution rate"].startswith("not used: grants are a multiple of reference earnings")
    assert words["Grant: multiple of reference earnings per year of service"] == \
        "0.1 x reference earnings per year of service"
    leavers = multiple.replace(scheme={"exit_benefit": "refund", "refund_contribution_rate": 0.08})
    words = {label: text for _, label, text, _ in pres.provisions(leavers.inputs)}
    assert words["Refunded contribution rate"] == "8.00% in every year (of insurable earnings)"


def test_definitions_sheet_defines_every_heading_of_every_table(results, workbooks):
    """The Definitions sheet lists, for every column of every table sheet (and every item of the Summary and the
    Balance sheet), its heading, units and definition, from the results variables' descriptions and the inputs'
    documentation; the Summary's footer points to it before docs/methodology.md."""
    written = _sheets(workbooks["valuate"])
    assert written.sheetnames[-2:] == ["Definitions", "About this run"]
    ws = written["Definitions"]
    assert [c.value for c in ws[2]] == ["Sheet", "Heading", "Units", "Definition"]
    defined = {(r[0], r[1]): (r[2], r[3]) for r in ws.iter_rows(min_row=3, values_only=True)}
    assert all(text and text != "see the sheet's title" for _, text in defined.values())
    for sheet in written.sheetnames:
        if sheet in ("Charts", "About this run", "Definitions"):
            continue
        for heading in (c.value for c in written[sheet][2] if isinstance(c.value, str)):
            if heading not in ("Indicator", "Item", "Value") or sheet == "Provisions":
                assert (sheet, heading) in defined, (sheet, heading)
    p, s = results.projection, results.summary
    assert defined[("Financial projection", "Contributions (millions)")] == (
        "millions of currency units", f"{p.contributions.attrs['description']} (results variable contributions)")
    assert defined[("Summary", "General average premium over 10 years (% of insurable earnings)")] == (
        "% of insurable earnings", f"{s.gap.attrs['description']} (results variable gap); {pres.basis_text('gap')}")
    for item in ("Actuarial balance", "Scaled premium 2020-2029", "Reserve depletion year", "Funded ratio"):
        assert [k for k in defined if k[0] == "Summary" and k[1].startswith(item)], item
    assert defined[("Balance sheet", "Total liabilities (millions)")][1].endswith(
        "(results variable total_liabilities)")
    assert defined[("Insured", "Retirements of actives (pensions and grants) (persons)")][1].startswith(
        p.retirements.attrs["description"])
    footer = [r[0] for r in written["Summary"].iter_rows(values_only=True) if r[0] and r[0].startswith("Money")][0]
    assert footer.index("Definitions sheet") < footer.index("docs/methodology.md")
    # a heading is defined for its own sheet: the yearly state subsidy and administrative expenses of the Financial
    # projection are not the Balance sheet's present values (the review found them defined as such)
    for heading, name in (("State subsidy (millions)", "state_subsidy"),
                          ("Administrative expenses (millions)", "admin_expenses")):
        assert defined[("Financial projection", heading)][1].endswith(f"(results variable {name})"), heading
        assert "present value" in defined[("Balance sheet", heading)][1], heading
    assert defined[("Balance sheet", "Balance: assets - liabilities (millions)")][1].startswith(
        "total assets - total liabilities")
    assert defined[("Demography", "Population aged 65 and over (persons)")][1].endswith(
        "this column: Population aged 65 and over")


def test_the_financial_projection_says_what_its_grants_are(demo, results, workbooks, tmp_path):
    """Demoland's grants are refunds of contributions at retirement age and its leavers keep deferred rights: the
    Financial projection's notes say so, and it has no column of refunds to leavers (zero in every year under
    exit_benefit deferred, it looked like refunds were not paid); with refunds on leaving the column is there."""
    ws = _sheets(workbooks["valuate"])["Financial projection"]
    headers = [c.value for c in ws[2]]
    assert not [h for h in headers if h and "refunds of contributions to leavers" in h]
    notes = _notes(ws, results.projection.sizes["year"])
    assert ("Withdrawal grants: paid to insured reaching retirement age without the service for a pension, as a "
            "refund of their contributions with interest (grant type refund); leavers keep deferred rights (exit "
            "benefit deferred), so no refund is paid on leaving.") in notes
    leavers = demo.replace(settings={"horizon": 20, "gap_horizons": (10,), "balance_sheet": "no"},
                           scheme={"exit_benefit": "refund"})
    path = tmp_path / "leavers.xlsx"
    write_results(leavers.run(), leavers, path)
    ws = openpyxl.load_workbook(path)["Financial projection"]
    assert "of which refunds of contributions to leavers (millions)" in [c.value for c in ws[2]]
    assert "they include the refunds to actives leaving before retirement age" in _notes(ws, 20)


def test_the_provisions_sheet_gives_the_accrual_rate_and_every_default_in_words(workbooks):
    """The results workbook's Provisions say what the report's provisions chapter says: the benefit formula's
    accrual rate (Demoland: 1.333% a year of service up to 15 years, then 1.5%; the sheet had no such row) and an
    input left to its default in words ('none: ...', 'not given: ...'; it said 'the default (see the notes)')."""
    ws = _sheets(workbooks["valuate"])["Provisions"]
    rows = {r[1]: r[2] for r in ws.iter_rows(min_row=3, values_only=True) if r[1]}
    assert rows["Accrual rate (benefit formula)"].startswith(
        "1.333% of reference earnings per year of service up to 15 years, then 1.5%")
    assert not [label for label, value in rows.items() if "see the notes" in str(value)]
    assert rows["Bend points"].startswith("none")
