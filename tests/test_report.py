"""actuary report: the HTML opened in headless Chromium (no console errors, no network, every figure
present and non-blank, headline numbers equal to the results Dataset), the PDF's sections and
figures, the closed-form level contribution rate against full valuations, findings and provisions
in words, hostile case names, the methodology appendix rendered from docs/methodology.md."""

import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from actuary import Valuation
from actuary.cli import main
from actuary.io.presentation import schedule_text
from actuary.report import build, safe_stem, write_report
from actuary.report.findings import findings, level_rate_for_reserve_ratio
from actuary.report.pdf import find_chromium

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ["Executive summary", "Introduction", "Scheme provisions", "Data", "Assumptions", "Demographic projection",
            "Projected insured and pensioners", "Financial projection", "Financing indicators",
            "Actuarial balance sheet", "Sensitivity", "Stochastic projections", "Conclusions and recommendations",
            "Actuarial opinion", "Run provenance"]
APPENDIX = "Appendix A. Methodology and conventions"   # after the numbered chapters
# figure key -> the title of its horizontal axis (at the bottom of the drawing)
FIGURES = {"initial": "Age at 1 January", "demographic": "Year", "economic": "Year", "behaviour": "Age",
           "pyramids": "Persons", "dependency": "Year", "insured": "Year", "income": "Year", "reserve": "Year",
           "paygo": "Year", "ratio": "Year", "gdp": "Year", "tornado": "Change in the general average premium",
           "scenarios": "Year", "fan-ratio": "Year", "fan-paygo": "Year", "depletion": "Year",
           "fan-pensioners": "Year", "fan-life-expectancy": "Year"}


@pytest.fixture(scope="module")
def demo():
    """Demoland over 50 years (the sensitivity runs of the command take a fraction of the full case's time)."""
    return Valuation.demo().replace(settings={"horizon": 50, "gap_horizons": (10, 25)})


@pytest.fixture(scope="module")
def results(demo):
    return demo.run()


@pytest.fixture(scope="module")
def html(demo, results):
    return build(demo, results)


@pytest.fixture(scope="module")
def report(demo, tmp_path_factory):
    """The command end to end on the case's workbook, with the sensitivity and stochastic chapters."""
    out = tmp_path_factory.mktemp("report")
    workbook = out.parent / "demoland-50.xlsx"
    demo.to_workbook(workbook)
    done = CliRunner().invoke(main, ["report", str(workbook), "--out", str(out), "--with-sensitivity",
                                     "--with-stochastic", "60", "--seed", "2", "--name", "demoland"])
    assert done.exit_code == 0, done.output
    return out, " ".join(done.stdout.split()), " ".join(done.stderr.split())


def _pct(value):
    return f"{100 * float(value):.2f}%"


def _expected_headline(results):
    """The headline numbers, formatted here from the results Dataset."""
    p, s = results.projection, results.summary
    reserve = p.reserve.values
    depleted = p.year.values[reserve < 0]
    expected = {"contribution_rate_first": _pct(p.contribution_rate[0]), "paygo_first": _pct(p.paygo_cost_rate[0]),
                "paygo_last": _pct(p.paygo_cost_rate[-1]), "gap_full": _pct(s.gap[-1]),
                "actuarial_balance": _pct(s.actuarial_balance),
                "depletion_year": str(depleted[0]) if depleted.size else "none",
                "reserve_ratio_first": f"{float(p.reserve_ratio[0]):.2f}", "funded_ratio": _pct(s.funded_ratio)}
    expected.update({f"gap_{int(h)}": _pct(g) for h, g in zip(s.horizon.values, s.gap.values)})
    return expected


def test_command_writes_the_html_and_the_pdf(report):
    out, stdout, stderr = report
    assert sorted(p.name for p in out.iterdir()) == [".actuary-outputs.json", "demoland-report.html",
                                                     "demoland-report.pdf"] \
        or find_chromium() is None
    assert f"Wrote {out / 'demoland-report.html'}" in stdout
    # the workbook's Report text sheet is blank: the command says the report is a draft, and which sections to write
    # (a note, on standard error as the others)
    assert "Draft: 17 sections of the actuary's text are not written (purpose_and_scope, legal_basis," in stderr
    assert "Give them in the 'Report text' sheet of demoland-50.xlsx." in stderr and "Draft" not in stdout


def test_sensitivity_chapter_says_how_far_each_assumption_moves(report):
    """The size of each move (not only in the sensitivity workbook) and the combined scenarios' GAPs."""
    out, _, _ = report
    html = (out / "demoland-report.html").read_text()
    assert "The moves of each assumption" in html
    assert "Change in the general average premium (percentage points" in html and "<function" not in html
    assert "Fertility rates x 0.8" in html and "Nominal investment return +1.00 percentage points" in html
    assert re.search(r"General average premium over 50 years: base \d+\.\d\d%, optimistic \d+\.\d\d%, "
                     r"pessimistic \d+\.\d\d%\.", html)
    # and the stochastic chapter its model's parameters (the defaults here)
    from actuary.stochastic import StochasticParameters

    assert "Parameters of the stochastic model" in html
    # a volatility in a rate's units as a percentage, as every rate of the report
    assert f"<td>Wage volatility</td><td>{100 * StochasticParameters().wage_volatility:.2f}%</td>" in \
        html.replace("\n", "")
    # the mortality model by name (a text parameter) and in words
    assert "<td>Mortality model</td><td>level</td>" in html.replace("\n", "")
    assert "of mortality (a random walk on its level, as in the Lee-Carter model" in " ".join(html.split())


def test_stochastic_chapter_shows_what_the_mortality_model_does(report, demo, results):
    """Fan charts of the pensioners and of the period life expectancy at 65 by sex, with the spread in words and in
    a table in 2050 and the last year (the 50-year case ends in 2069), the valuation's projection beside; the sensitivity
    chapter says the values a move held within 0% to 100% gave (Demoland collects 96%: +5 points gives 100%)."""
    import html as markup

    page = markup.unescape(" ".join((report[0] / "demoland-report.html").read_text().split()))
    chapter = page[page.index("Stochastic projections</h2>"):]
    p = results.projection
    assert ("The number of pensioners moves with how long pensioners live (mortality) and, once the births of the "
            "projection reach pension age, fertility; the economic paths do not move it. On nine paths in ten it "
            "lies between ") in chapter
    assert f"in 2050 (median " in chapter and f"the valuation projects {float(p.pensioners.sel(year=2069)) / 1e6:.2f} " \
                                             "million)." in chapter
    assert "The period life expectancy at 65 (from each year's mortality rates) shows what the mortality model does" \
        in chapter and re.search(r"in 2069 it is, on nine paths in ten, men \d\d\.\d to \d\d\.\d years \(median "
                                 r"\d\d\.\d\) and women", chapter)
    table = re.search(r"<caption>Pensioners and period life expectancy at 65 of men and women across paths</caption>"
                      r"(.*?)</table>", chapter).group(1)
    assert re.findall(r"<tr><td>(\d+)</td>", table) == ["2050", "2069"]
    assert "<th scope=\"col\">Women at 65, P95 (years)</th>" in table
    c0 = 100 * float(demo.inputs.scheme["collection_rate"][0])
    assert f"Collection rate +5.00 percentage points (at most 100%): {c0:.1f}% -> 100.0%" in page


def test_short_tables_are_kept_whole_on_a_page(report):
    """A table of at most 16 rows moves whole to the next page (the stochastic chapter's percentiles every ten years
    left their last row alone under a repeated header); a longer one keeps its first and last two rows together."""
    page = (report[0] / "demoland-report.html").read_text()
    assert "table.whole { break-inside: avoid;" in page
    assert re.search(r'<table class="whole">\s*<caption>Percentiles across paths</caption>', page)
    assert "tbody tr:first-child, tbody tr:nth-last-child(2) { break-after: avoid;" in page
    tables = re.findall(r"<table([^>]*)>\s*<caption>.*?</caption>(.*?)</table>", page, flags=re.S)
    tables = [(attributes, body) for attributes, body in tables if "keyfigures" not in attributes]   # the tables
    assert tables and all(("whole" in attributes) == (body.count("<tr>") - 1 <= 16) for attributes, body in tables)


def test_html_is_one_self_contained_file(report):
    html = (report[0] / "demoland-report.html").read_text()
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", html)     # nothing to fetch, only in-page links
    assert html.count("<svg") == len(FIGURES)


def _blank(png: bytes) -> bool:
    """True when a screenshot is (almost) one colour."""
    import matplotlib.image

    pixels = matplotlib.image.imread(io.BytesIO(png))[..., :3].reshape(-1, 3)
    values, counts = np.unique((pixels * 255).astype(np.uint8), axis=0, return_counts=True)
    return len(values) < 3 or counts.max() / counts.sum() > 0.995


def test_html_in_headless_chromium(report, results):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium'; .ci/run installs it where it can)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (a test dependency) is not installed")
    html = report[0] / "demoland-report.html"
    messages, errors, requests = [], [], []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(html.as_uri(), wait_until="load")
            assert not _blank(page.screenshot())    # the first screen: title, contents, summary
            figures = page.locator("figure[data-figure]")
            keys = [figures.nth(i).get_attribute("data-figure") for i in range(figures.count())]
            assert keys == list(FIGURES)
            for i, key in enumerate(keys):
                figure = figures.nth(i)
                box = figure.locator("svg").bounding_box()
                assert box and box["width"] > 300 and box["height"] > 150, key
                assert not _blank(figure.locator("svg").screenshot()), key
            headline = {cell.get_attribute("data-headline"): cell.inner_text().strip()
                        for cell in page.locator("[data-headline]").all()}
            headings = [h.inner_text() for h in page.locator("h2").all()]
        finally:
            browser.close()
    assert not errors and not [m for m in messages if m.startswith(("error", "warning"))], (errors, messages)
    assert requests == [html.as_uri()]                     # the page fetched nothing but itself
    expected = _expected_headline(results)
    del expected["gap_full"]   # the full horizon's GAP is gap_100 in the key figures
    for key, value in expected.items():
        assert headline[key] == value, key
    assert headings == [f"{k}. {title}" for k, title in enumerate(CHAPTERS, start=1)] + [APPENDIX]


def test_pdf_has_every_section_and_figure_unbroken(report):
    if find_chromium() is None:
        pytest.skip("Chromium is not installed: no PDF to check")
    from pypdf import PdfReader

    pages = [" ".join((page.extract_text() or "").split()) for page in PdfReader(report[0] / "demoland-report.pdf").pages]
    text = " ".join(pages)
    positions = [text.find(f"{k}. {title}") for k, title in enumerate(CHAPTERS, start=1)] + [text.find(APPENDIX)]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), positions
    for number, (key, axis) in enumerate(FIGURES.items(), start=1):
        caption = f"Figure {number}."
        holding = [i for i, page in enumerate(pages) if caption in page]
        assert len(holding) == 1, (key, holding)
        page = pages[holding[0]]
        assert axis in page[page.index(caption):], key   # the drawing's bottom is on the caption's page
    assert "Page 1 of" in pages[0]


def test_headline_numbers_and_findings_follow_the_results(results, html):
    sentences = " ".join(findings(results))
    expected = _expected_headline(results)
    assert f"depleted in {expected['depletion_year']}" in sentences
    assert f"is {expected['gap_full']} of insurable earnings" in sentences
    assert f"{expected['paygo_first']} in 2020 and {expected['paygo_last']} in 2069" in sentences
    del expected["gap_full"]
    for key, value in expected.items():
        assert re.search(rf'data-headline="{key}">{re.escape(value)}<', html), key
    assert "Sensitivity" not in re.findall(r"<h2>[^<]*</h2>", html)
    # the projection's replacement rate is told apart from the stylized full career's (the reviewer found 54.76% in
    # one chapter and 60.50% in another, unexplained)
    assert "differs from that of a stylized worker with a full career at the average wage" in html


def test_the_findings_say_the_schedule_what_it_takes_and_the_scenarios_range(demo, results):
    """A board reads in the summary the legislated schedule (it gave only the first year's rate), what level rate
    would finance the scheme beside the rate scheduled last, and the depletion years with every assumption on the
    side that raises the general average premium and on the other (the pessimistic and optimistic scenarios),
    computed here from the results and the sensitivity Dataset."""
    from actuary.batch import sensitivity

    p, s = results.projection, results.summary
    rates, years = p.contribution_rate.values, p.year.values
    changes = [f"{100 * rates[i]:.2f}% in {years[i]}" for i in range(1, years.size) if rates[i] != rates[i - 1]]
    assert changes == ["20.00% in 2025", "22.00% in 2030"]
    level = level_rate_for_reserve_ratio(p)
    ds = sensitivity(demo.replace(settings={"balance_sheet": "no"}))
    text = " ".join(findings(results, sensitivity=ds))
    assert f"(scheduled to change to {changes[0]} and {changes[1]})" in text
    assert (f"a level rate of about {100 * float(s.gap.values[-1]):.2f}% of insurable earnings from 2020 would balance "
            f"the {years.size}-year period as a whole, and {100 * level.rate:.2f}% would keep a reserve") in text
    low, high = (int(ds.depletion_year.sel(scenario=k)) for k in ("pessimistic", "optimistic"))
    assert low < int(s.depletion_year) < high
    assert f"(the pessimistic scenario) the reserve is depleted in {low}; with every one on the other side (the " \
           f"optimistic scenario), in {high}" in text


def test_the_findings_say_benefits_are_paid_from_borrowing_after_depletion(demo, results):
    """Under settings.after_depletion = borrow (the default) the reserve turns into a debt and total income goes
    negative: the summary says so (it spoke only of the share payable); under payable the reserve stays at zero and
    the sentence is not there."""
    borrowing = "paid in full after depletion, from borrowing"
    assert float(results.projection.reserve.min()) < 0 and borrowing in " ".join(findings(results))
    payable = demo.replace(settings={"after_depletion": "payable", "balance_sheet": "no"}).run()
    assert float(payable.projection.reserve.min()) >= 0 and borrowing not in " ".join(findings(payable))


def test_level_rate_keeps_the_reserve_ratio_at_one_in_full_valuations(demo, results):
    """The closed form against full projections: at the rate the lowest reserve ratio of the first 50
    years is 1 (the condition binds), and a slightly lower rate falls short."""
    level = level_rate_for_reserve_ratio(results.projection, years=50)
    assert 0 < level.rate < 1 and level.years == 50

    def lowest(rate):
        run = demo.replace(scheme={"contribution_rate": rate}, settings={"balance_sheet": "no"}).run()
        return run.projection.reserve_ratio.values[:50].min()

    assert lowest(level.rate) == pytest.approx(1.0, abs=1e-9)
    assert lowest(level.rate - 0.001) < 0.99


def test_level_rate_is_zero_when_the_reserve_suffices(demo):
    rich = demo.replace(initial={"reserve": 1e16}, settings={"balance_sheet": "no", "horizon": 30,
                                                             "gap_horizons": (10,)})
    level = level_rate_for_reserve_ratio(rich.run().projection, years=50)
    assert level.rate == 0.0 and level.years == 30


def test_schedules_read_with_every_step():
    years = np.arange(2020, 2030)
    steps = np.array([0.18] * 3 + [0.2] * 1 + [0.22] * 6)
    fmt = lambda v: f"{100 * v:.2f}%"  # noqa: E731
    assert schedule_text(steps, years, fmt) == "18.00% in 2020-2022, 20.00% in 2023 and 22.00% from 2024"
    assert schedule_text(np.full(10, 0.96), years, fmt) == "96.00% in every year"
    assert "year-by-year table" in schedule_text(np.linspace(0.01, 0.05, 10), years, fmt)


def test_report_without_a_pdf_engine_still_writes_the_html(demo, monkeypatch, tmp_path):
    monkeypatch.setenv("ACTUARY_CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.setitem(sys.modules, "weasyprint", None)     # import fails as if not installed
    small = demo.replace(settings={"horizon": 20, "gap_horizons": (10,), "balance_sheet": "no"})
    html, pdf = write_report(small, small.run(), tmp_path / "out")
    assert pdf is None and html.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["demoland-report.html"]


def test_a_hostile_case_name_stays_text_and_in_the_folder(demo, tmp_path):
    name = '../../x</title><script>alert("}")</script>'
    hostile = Valuation(**{**demo.raw, "settings": {**demo.raw["settings"], "horizon": 20, "gap_horizons": (10,),
                                                    "balance_sheet": "no"}}, name=name)
    html, _ = write_report(hostile, hostile.run(), tmp_path / "out", pdf=False)
    assert html.parent == tmp_path / "out" and html.name == f"{safe_stem(name)}-report.html"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    text = html.read_text()
    assert "<script" not in text and "&lt;script&gt;" in text
    page_rule = re.search(r"@bottom-left \{ content: \"([^\"]*)\"", text).group(1)
    assert "<" not in page_rule and "}" not in page_rule


def test_provenance_labels_keep_their_capitals(html):
    """"NumPy version" and "(UTC)" as written, not "Numpy version" and "(utc)" (str.capitalize lowers the rest)."""
    assert ">NumPy version<" in html and ">Run date and time (UTC)<" in html
    assert "Numpy version" not in html and "(utc)" not in html


def test_provisions_chapter_gives_the_accrual_rate_and_defaults(html):
    """The benefit formula can be read: the accrual rate is a provision; no input is "the default (see the
    notes)" without its value."""
    provisions = html[html.index('id="provisions"'):html.index('id="data"')]
    assert "<td>Accrual rate (benefit formula)</td><td>1.333% of reference earnings per year of service up to 15 " \
           "years, then 1.5%" in provisions
    assert "see the notes" not in provisions and "normal_retirement_age_by_cohort" not in provisions


def test_methodology_appendix_is_docs_methodology(html):
    """Every section of docs/methodology.md that applies to this report (no floor, no analysis of change, no
    options: those three left out), numbered as the appendix's, with its subsections."""
    source = (ROOT / "docs" / "methodology.md").read_text()
    headings = re.findall(r"^## \d+\. (.+)$", source, flags=re.M)
    assert len(headings) >= 9
    shown = [h for h in headings if not h.startswith(("Social protection floor", "Rolling forward", "Reform options"))]
    assert len(shown) == len(headings) - 3
    appendix = html[html.index('id="methodology"'):]
    assert re.findall(r"<h3>(.+?)</h3>", appendix) == [f"A.{k} {h}" for k, h in enumerate(shown, 1)]
    for sub in re.findall(r"^### (.+)$", source, flags=re.M):   # all within the sections always shown
        assert f"<h4>{sub}</h4>" in appendix, sub


def test_a_failing_pdf_engine_exits_1_after_writing_the_html(demo, tmp_path):
    """A Chromium that fails: the HTML is written, no PDF (not even a partial one), a one-line reason."""
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
    fake.chmod(0o755)
    workbook = tmp_path / "case.xlsx"
    demo.replace(settings={"horizon": 20, "gap_horizons": (10,), "balance_sheet": "no"}).to_workbook(workbook)
    done = CliRunner().invoke(main, ["report", str(workbook), "--out", str(tmp_path / "o")],
                              env={"ACTUARY_CHROMIUM": str(fake)}, terminal_width=200)
    assert done.exit_code == 1 and isinstance(done.exception, SystemExit), done.output   # an exit, not an error
    assert "Traceback" not in done.output
    assert "PDF not written" in done.stderr and "cannot open display" in done.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [".actuary-outputs.json",
                                                                   "case-report.html"]   # named from the file


def test_scheme_only_valuation_gets_its_workbook_and_report(tmp_path):
    """A valuation without a national population: no population, GDP or pyramids anywhere, the rest shown."""
    import openpyxl

    from actuary.io.results import write_results
    from tests.test_scheme_only import scheme_only_stationary

    valuation = scheme_only_stationary()
    results = valuation.run()
    write_results(results, valuation, tmp_path / "results.xlsx")
    sheets = openpyxl.load_workbook(tmp_path / "results.xlsx").sheetnames
    assert "Population by age" not in sheets and {"Financial projection", "Assumptions", "Charts"} <= set(sheets)
    html = build(valuation, results)
    assert 'data-figure="pyramids"' not in html and "% of GDP" not in html
    assert "without a national population" in html and 'data-headline="gap_30"' in html
