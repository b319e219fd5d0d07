"""The minimum-pension top-up the state pays to the scheme (scheme.minimum_pension_financing state) in the results:
Demoland's floor case with its minimum pension raised, whose reserve runs out within 30 years, under
settings.after_depletion borrow and payable. The state pays p T (p the share of the pensions paid, 1 under borrow;
T the top-up due), which the finance kernel credits to the reserve: total income counts it, so the net cash flow is
the reserve's change in every year; the fiscal cost counts p T; the report's Income and expenditure table shows it
as a column of its own, and its columns add up."""

import numpy as np
import pytest

from actuary import load_workbook
from actuary.io.presentation import MONEY_UNITS
from actuary.report import build
from actuary.valuation import PROJECT_ROOT

from .test_floor_report import Tables

CASE = PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx"


@pytest.fixture(scope="module")
def case():
    return load_workbook(CASE).replace(
        settings={"horizon": 30, "gap_horizons": (10, 30), "balance_sheet": "no"},
        scheme={"minimum_pension": 20000.0, "minimum_pension_financing": "state"})


@pytest.fixture(scope="module", params=["borrow", "payable"])
def run(request, case):
    valuation = case.replace(settings={"after_depletion": request.param})
    return request.param, valuation, valuation.run()


def _paid_share(p, after_depletion) -> np.ndarray:
    """The share of the year's pensions paid: the payable share under payable, 1 under borrow."""
    return p.payable_share.values if after_depletion == "payable" else np.ones(p.sizes["year"])


def test_the_case_depletes_with_a_top_up(run):
    after, _, results = run
    p = results.projection
    assert np.all(p.minimum_pension_top_up.values[1:] > 0)
    depleted = p.payable_share.values < 1
    assert depleted.any() and not depleted[0]      # the reserve runs out within the horizon
    paid = p.minimum_pension_top_up_paid.values
    if after == "payable":
        assert np.all(paid[depleted] < p.minimum_pension_top_up.values[depleted])


def test_net_cash_flow_is_the_change_in_the_reserve_every_year(run):
    after, _, results = run
    p = results.projection
    start = np.concatenate([[float(p.reserve_at_valuation)], p.reserve.values[:-1]])
    change = p.reserve.values - start
    scale = float(np.abs(p.total_expenditure).max())
    np.testing.assert_allclose(p.net_cash_flow.values, change, rtol=1e-9, atol=1e-9 * scale)
    paid = _paid_share(p, after) * p.minimum_pension_top_up.values     # p T, as the finance kernel credits it
    np.testing.assert_allclose(p.minimum_pension_top_up_paid.values, paid, rtol=1e-14)
    np.testing.assert_allclose(p.total_income.values, p.contributions.values + p.state_subsidy.values + paid
                               + p.investment_income.values, rtol=1e-12, atol=1e-12 * scale)
    np.testing.assert_allclose(p.income_pct_gdp.values, 100 * p.total_income.values / p.gdp.values, rtol=1e-14)
    assert "minimum-pension top-up" in p.total_income.attrs["description"]


def test_fiscal_cost_counts_the_top_up_the_state_pays(run):
    after, _, results = run
    p = results.projection
    paid = _paid_share(p, after) * p.minimum_pension_top_up.values
    top_up = p.fiscal_cost.values - p.floor_cost.sum("floor_benefit").values - p.state_subsidy.values
    np.testing.assert_allclose(top_up, paid, rtol=1e-9, atol=1e-9 * float(p.fiscal_cost.max()))


def test_income_and_expenditure_table_shows_the_top_up_and_adds_up(case):
    """The table's shown (rounded) amounts: contributions + subsidy + top-up + investment income = total income,
    total income - total expenditure = net cash flow, to the rounding of the cells; the text says what total income
    is. Under payable (one report suffices): there the top-up paid differs from the top-up due."""
    valuation = case.replace(settings={"after_depletion": "payable"})
    results = valuation.run()
    html = build(valuation, results)
    tables = Tables(html)
    headers, rows = ["Year"], None   # a table of more columns than a page holds goes on in a continued one
    for caption in ("Income and expenditure (millions)", "Income and expenditure (millions) (continued)"):
        more, cells = tables.tables.get(caption, ([], []))
        headers += more[1:]
        rows = [row for row in cells] if rows is None else [a + b[1:] for a, b in zip(rows, cells)]
    assert "Minimum-pension top-up paid by the state (millions)" in headers, headers
    t0 = valuation.inputs.settings["valuation_year"]
    assert [int(row[0]) for row in rows] == list(range(t0, t0 + 30, 5)) + [t0 + 29]

    def col(label):
        return np.array([float(row[headers.index(f"{label} (millions)")].replace(",", "")) for row in rows])

    income = col("Contributions") + col("State subsidy") + col("Minimum-pension top-up paid by the state") \
        + col("Investment income")
    assert np.all(np.abs(income - col("Total income")) <= 2.0)           # four cells rounded to units
    assert np.all(np.abs(col("Total income") - col("Total expenditure") - col("Net cash flow: total income - total "
                                                                              "expenditure")) <= 1.5)
    p = results.projection
    scale = MONEY_UNITS[valuation.inputs.settings["money_unit"]]
    years = [int(row[0]) for row in rows]
    shown = col("Minimum-pension top-up paid by the state")
    expected = p.minimum_pension_top_up_paid.sel(year=years).values / scale
    np.testing.assert_allclose(shown, np.round(expected), atol=0.5)
    assert ("Total income is contributions, state subsidy, the minimum-pension top-up the state pays to the scheme "
            "and investment income") in " ".join(html.split())
