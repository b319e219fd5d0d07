"""The user's own scenarios (a Scenarios sheet) in `actuary report --with-sensitivity` and in the sensitivity
workbook: run with the standard sensitivities, they were never shown. The report's sensitivity chapter now says what
each changes and its key measures beside the base's (numbers formatted here with plain f-strings from the
sensitivity Dataset the command ran), with its names escaped; without a Scenarios sheet the chapter is as before."""

import re

import openpyxl
import pytest
from click.testing import CliRunner

import actuary.batch
import actuary.report.pdf
from actuary import Valuation
from actuary.batch import own_scenarios, write_sensitivity
from actuary.cli import main
from actuary.report import build

from .test_batch import _with_scenarios

HOSTILE = "wage growth -1 pp and return -1 pp <script>alert('board')</script> $x$"
LATER = "rate 25% from 2030"


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo().replace(settings={"horizon": 30, "gap_horizons": (10, 30), "balance_sheet": "no"})


@pytest.fixture(scope="module")
def reported(demo, tmp_path_factory, workbook_copy):
    """`actuary report --with-sensitivity` on a workbook whose Scenarios sheet has two scenarios: the report's HTML
    and the sensitivity Dataset the command ran (caught on its way to the report)."""
    tmp_path = tmp_path_factory.mktemp("own")
    path = _with_scenarios(workbook_copy, demo, tmp_path, [
        [HOSTILE, "economy.real_wage_growth", "shift", -0.01],
        [HOSTILE, "economy.nominal_return", "shift", -0.01],
        [LATER, "scheme.contribution_rate", "set", 0.25, 2030, None, None, None, "from 2030"]])
    caught = []
    original = actuary.batch.sensitivity

    def sensitivity(*args, **kwargs):
        caught.append(original(*args, **kwargs))
        return caught[-1]

    patch = pytest.MonkeyPatch()
    patch.setattr(actuary.batch, "sensitivity", sensitivity)
    patch.setattr(actuary.report.pdf, "engine", lambda: None)   # the HTML alone: no PDF printed
    try:
        result = CliRunner().invoke(main, ["report", str(path), "--with-sensitivity", "--out", str(tmp_path / "out")],
                                    terminal_width=200)
    finally:
        patch.undo()
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    html = (tmp_path / "out" / "case-report.html").read_text(encoding="utf-8")
    return html, caught[0], tmp_path


def _chapter(html: str) -> str:
    """The sensitivity chapter's HTML, figures cut out."""
    start = html.index('id="sensitivity"')
    chapter = html[start:html.index("</section>", start)]
    return re.sub(r"<svg.*?</svg>", "", chapter, flags=re.S)


def test_report_sensitivity_chapter_shows_each_scenario_of_the_scenarios_sheet(reported):
    html, ds, _ = reported
    assert own_scenarios(ds) == [HOSTILE, LATER] and set(ds.status.sel(scenario=[HOSTILE, LATER]).values) == {"ok"}
    chapter = _chapter(html)
    escaped = HOSTILE.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
    assert "<script>alert" not in html and escaped in chapter   # the name as text, never markup
    assert "Real wage growth -1.00 percentage points, Nominal investment return -1.00 percentage points" in chapter
    assert "Contribution rate set to 25.00% from 2030" in chapter
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", chapter, flags=re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, flags=re.S)
        if cells:
            rows.setdefault(cells[0], []).append(cells[1:])
    base = ds.sel(scenario="base")
    t0 = int(ds.year.values[0])
    for name in (HOSTILE, LATER):
        s = ds.sel(scenario=name)
        measures = next(r for r in rows[escaped if name == HOSTILE else name] if len(r) > 1)
        gap = [f"{100 * float(g):.2f}% ({100 * (float(g) - float(b)):+.2f})" for g, b in zip(s.gap.values,
                                                                                         base.gap.values)]
        assert measures[:2] == gap
        depletion, base_depletion = int(s.depletion_year), int(base.depletion_year)
        assert measures[2] == f"{depletion} ({depletion - base_depletion:+d})"
        assert measures[3] == (f"{100 * float(s.actuarial_balance):.2f}% "
                               f"({100 * (float(s.actuarial_balance) - float(base.actuarial_balance)):+.2f})")
        ratio, base_ratio = (float(x.reserve_ratio.sel(year=t0 + 24)) for x in (s, base))
        assert measures[4] == f"{ratio:.2f} ({ratio - base_ratio:+.2f})"
    # lower wage growth and returns cost more; a higher rate from 2030 changes nothing of the 10-year GAP's years
    assert float(ds.gap.sel(scenario=HOSTILE).isel(horizon=-1)) > float(base.gap.isel(horizon=-1))
    assert 'data-figure="own-scenarios"' in chapter
    assert "The scenarios of the workbook&#39;s Scenarios sheet follow them." in chapter


def test_report_sensitivity_chapter_without_a_scenarios_sheet_is_as_before(reported, demo):
    """The same run without the sheet's scenarios: no heading, table or figure of them, and the rest of the chapter
    as with them."""
    html, ds, _ = reported
    standard = ds.sel(scenario=[n for n in ds.scenario.values if n not in own_scenarios(ds)])
    plain = _chapter(build(demo, demo.run(), standard))
    assert "Scenarios sheet" not in plain and "own-scenarios" not in plain
    full = _chapter(html)
    cut = full[:full.index("<h3>The scenarios of the workbook")].replace(
        " The scenarios of the workbook&#39;s Scenarios sheet follow them.", "")
    number = re.compile(r"(Figure|Table) \d+")
    assert number.sub(r"\1", plain.rstrip()) == number.sub(r"\1", cut.rstrip())


def test_sensitivity_workbook_says_what_each_scenario_changes_and_charts_them(reported):
    _, ds, tmp_path = reported
    path = tmp_path / "sensitivity.xlsx"
    write_sensitivity(ds, path)
    written = openpyxl.load_workbook(path)
    sheet = written["Scenarios"]
    headers = [c.value for c in sheet[2]]
    assert headers[-1] == "What the scenario changes of the base valuation"
    changes = {r[0]: r[-1] for r in sheet.iter_rows(min_row=3, values_only=True) if r[0]}
    assert changes[LATER] == "Contribution rate set to 25.00% from 2030"
    assert changes[HOSTILE].startswith("Real wage growth -1.00 percentage points")
    assert changes["base"] == "nothing: the valuation as given"
    titles = [" ".join(r.t for p in c.title.tx.rich.p for r in (p.r or [])) for c in written["Charts"]._charts]
    assert "Reserve ratio: base and the scenarios of the Scenarios sheet" in titles


def test_report_of_a_floor_costing_alone_shows_its_sensitivity_scenarios_in_the_floor_chapter():
    """A floor costing alone has no sensitivity chapter: the Scenarios sheet's scenarios follow the floor's
    sensitivities in its chapter, with the floor's level cost and its cost in 25 years."""
    from actuary import load_workbook
    from actuary.batch import Scale, Scenario, sensitivity
    from actuary.floor import floor_only
    from actuary.valuation import PROJECT_ROOT

    case = load_workbook(PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx")
    alone = floor_only(case).replace(settings={"horizon": 25, "gap_horizons": (25,)})
    ds = sensitivity(alone, extra=[Scenario("<b>fewer births</b>", {"demography.fertility": Scale(0.7)})])
    html = build(alone, alone.run(), ds)
    start = html.index('id="floor"')
    chapter = re.sub(r"<svg.*?</svg>", "", html[start:html.index("</section>", start)], flags=re.S)
    assert "<b>fewer" not in html
    assert "<td>&lt;b&gt;fewer births&lt;/b&gt;</td><td>Fertility rates x 0.7</td>" in chapter
    s, base = (ds.sel(scenario=n) for n in ("<b>fewer births</b>", "base"))
    level, base_level = (float(x.floor_cost_level_pct_gdp.isel(horizon=-1)) for x in (s, base))
    cost, base_cost = (float(x.floor_cost_pct_gdp.sel(year=int(ds.year[0]) + 24)) for x in (s, base))
    assert (f"<td>&lt;b&gt;fewer births&lt;/b&gt;</td><td>{level:.2f}% ({level - base_level:+.2f})</td>"
            f"<td>{cost:.2f}% ({cost - base_cost:+.2f})</td>") in chapter
    assert 'data-figure="own-scenarios"' in chapter
    assert "In brackets: the difference from the base, in percentage points of GDP for costs." in chapter
