"""Every rate of insurable earnings says its basis where it is defined or shown. The reviewer checked the GAP by hand
as (PV of expenditure - reserve) / PV of the wage bill (44.90% at 100 years) against the workbook's 46.40%: the GAP
is a statutory rate (net of collection losses, of the administration charged on contributions and of the state
subsidy), the PAYG cost rate and the actuarial balance gross, and neither the Definitions sheet nor chapter 9 said
so; Figure 10 drew the gross PAYG rate beside the statutory GAP without a word. Rates read as percentages everywhere,
the stochastic parameters too."""

from __future__ import annotations

import re
from html import unescape

import openpyxl
import pytest

from actuary import Valuation
from actuary.indicators import gap_on_both_bases
from actuary.io import presentation as pres
from actuary.io.results import write_results
from actuary.report import build, figures


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo().replace(settings={"horizon": 50, "gap_horizons": (10, 25)})


@pytest.fixture(scope="module")
def results(demo):
    return demo.run()


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_gap_reconciles_with_its_textbook_gross_counterpart(demo, results):
    """(gross - administration on contributions - subsidy) / contribution base's share = the GAP, exactly, and the
    gross rate is the textbook (PV of expenditure due - reserve) / PV of the wage bill written here."""
    import numpy as np

    p, s = results.projection, results.summary
    n = int(s.horizon.values[-1])
    both = gap_on_both_bases(p, n)
    assert both["statutory"] == pytest.approx(float(s.gap.values[-1]), rel=1e-12)
    growth = 1 + p.investment_return.values
    v_mid = np.concatenate([[1.0], np.cumprod(1 / growth)[:-1]]) / np.sqrt(growth)
    a_b, a_c = float(p.attrs["admin_share_of_benefits"]), float(p.attrs["admin_share_of_contributions"])
    due = (1 + a_b) * (p.benefit_expenditure.values + p.grants.values) + a_c * p.contributions.values
    textbook = (np.sum(v_mid * due) - float(p.reserve_at_valuation)) / np.sum(v_mid * p.insurable_wage_bill.values)
    assert both["gross"] == pytest.approx(textbook, rel=1e-12)
    assert both["gross"] < both["statutory"]   # Demoland: 96% collected, 2% of contributions to administration


def test_the_report_says_the_basis_of_every_rate(demo, results):
    """Chapter 9 says the GAP and the scaled premium are statutory and the actuarial balance and PAYG cost rate gross,
    with the relation between the bases and the full-horizon GAP from its gross counterpart; the executive summary's
    key figures and Figure 10's caption and legend say each rate's basis."""
    html = build(demo, results)
    text = _text(html)
    chapter = text[text.index("Financing indicators The general average premium"):]
    chapter = chapter[:chapter.index("Other financing indicators")]
    assert "Both are statutory rates, like the contribution rate and the break-even rate" in chapter
    assert "Like the PAYG cost rate it is on the gross basis" in chapter
    assert pres.BASIS_RELATION in chapter and pres.BALANCE_RELATION in chapter
    both = gap_on_both_bases(results.projection, 50)
    assert (f"Over 50 years the gross (textbook) rate is {100 * both['gross']:.2f}% of insurable earnings" in chapter
            and f"it gives the statutory GAP of {100 * float(results.summary.gap[-1]):.2f}%" in chapter)
    assert "GAP, statutory (% of insurable earnings)" in chapter
    assert "Scaled premium, statutory (% of insurable earnings)" in chapter
    for label in ("Contribution rate in 2020 (statutory)", "PAYG cost rate in 2020 (gross)",
                  "General average premium over 50 years (statutory)", "Actuarial balance over 50 years (gross)"):
        assert label in text, label
    assert "The PAYG cost rate and the actuarial balance are gross" in text
    caption = re.search(r"Figure \d+\. Contribution rate, break-even rate and general average premium "
                        r"\(statutory basis[^<]*PAYG cost rate \(gross basis", unescape(html))
    assert caption, "Figure 10's caption names the bases"


def test_figure_10_legend_says_the_basis_of_each_line(monkeypatch, results):
    kept = []
    monkeypatch.setattr(figures, "_svg", lambda fig, key: kept.append(fig) or "")
    figures.paygo_and_contribution_rate(results.projection, results.summary)
    labels = [t.get_text() for t in kept[0].axes[0].get_legend().get_texts()]
    figures.plt.close(kept[0])
    assert labels == ["Contribution rate (statutory)", "Break-even contribution rate (statutory)",
                      "PAYG cost rate (gross)", "General average premium, 50 years (statutory)"]


def test_the_definitions_sheet_says_the_basis_of_every_rate(demo, results, tmp_path):
    path = tmp_path / "results.xlsx"
    write_results(results, demo, path)
    defined = {(r[0], r[1]): r[3] for r in openpyxl.load_workbook(path)["Definitions"].iter_rows(min_row=3,
                                                                                                    values_only=True)}
    statutory, gross = pres.BASIS_WORDS[pres.STATUTORY], pres.BASIS_WORDS[pres.GROSS]

    def definition(sheet, start):
        found = [text for (s, h), text in defined.items() if s == sheet and h.startswith(start)]
        assert found, (sheet, start)
        return found[0]

    for start in ("General average premium over 10 years", "Scaled premium", "Level contribution rate from",
                  "Average premium, current insured"):
        text = definition("Summary", start)
        assert statutory in text and pres.BASIS_RELATION in text, start
    for start in ("Contribution rate", "Break-even contribution rate"):
        assert statutory in definition("Financing indicators", start), start
    assert gross in definition("Financing indicators", "PAYG cost rate")
    assert gross in definition("Summary", "PAYG cost rate in")
    balance = definition("Summary", "Actuarial balance")
    assert gross in balance and pres.BALANCE_RELATION in balance
    assert "level statutory contribution rate" in definition("Summary", "General average premium over 10 years")


def test_the_stochastic_parameters_show_rates_as_percentages(demo, results):
    """The report's table of stochastic parameters showed 0.01 and 0.05 where every other rate of the report is a
    percentage: volatilities in a rate's units (the field specs' 'a year, as a rate (0.01 = 1 point)') now read
    1.00% and 5.00% with their units; persistences and correlations (no units) stay numbers."""
    from actuary.stochastic import simulate

    html = unescape(build(demo, results, stochastic=simulate(demo, 12, seed=4)))
    table = html[html.index("Parameters of the stochastic model"):]
    table = table[:table.index("</table>")]
    rows = {cells[0]: cells[1:] for cells in (re.findall(r"<td[^>]*>([^<]*)</td>", row)
                                               for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)) if cells}
    assert rows["Wage volatility"] == ["1.00%", "percentage points of the rate, a year"]
    assert rows["Inflation volatility"][0] == "1.00%" and rows["Return volatility"][0] == "5.00%"
    assert rows["Mortality volatility"] == ["2.00%", "percentage points of the improvement rates, a year"]
    assert rows["Mortality drift volatility"][0] == "0.30%"
    assert rows["Wage persistence"] == ["0.5", ""] and rows["Correlation inflation return"] == ["-0.2", ""]
    assert rows["Mortality model"][0] == "level"
    assert rows["Fertility volatility"][0] == "0.05"   # a log factor, not a rate: its units say so
    assert "log of the factor" in rows["Fertility volatility"][1]
