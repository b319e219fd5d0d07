"""The report's projection variables, each against an independent computation written here: total
income, net cash flow (= change in the reserve), reserve at constant prices of the valuation year,
period life expectancy at 65 by sex, income and total expenditure as % of GDP; and a case whose
inputs drop a source variable skips what depends on it."""

import numpy as np
import pytest

from actuary import Valuation


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


@pytest.fixture(scope="module")
def projection(demo):
    return demo.run().projection


def test_income_and_net_cash_flow(projection):
    p = projection
    income = p.contributions.values + p.state_subsidy.values + p.investment_income.values
    np.testing.assert_allclose(p.total_income.values, income, rtol=1e-12)
    reserve = np.concatenate([[float(p.reserve_at_valuation)], p.reserve.values])
    np.testing.assert_allclose(p.net_cash_flow.values, np.diff(reserve), rtol=1e-9,
                               atol=1e-9 * np.abs(reserve).max())
    for name in ("total_income", "net_cash_flow", "reserve_real"):
        assert p[name].attrs["units"].startswith("currency") and p[name].attrs["description"]


def test_reserve_at_constant_prices_of_the_valuation_year(demo, projection):
    inflation = demo.inputs.economy["inflation"].values
    prices = np.cumprod(np.concatenate([[1.0], 1 + inflation[1:]]))   # 1 in the valuation year
    np.testing.assert_allclose(projection.reserve_real.values, projection.reserve.values / prices, rtol=1e-12)
    assert projection.reserve_real.values[0] == pytest.approx(float(projection.reserve[0]))


def _e65(q):
    """Period life expectancy at 65 from q_x (ages 0..ω, q_ω = 1): a_x = 1/2, the open age lived
    1/m_ω years with m_ω = m_{ω-1} = q/(1 - q/2)."""
    q = np.array(q, dtype=float)
    q[-1] = 1.0
    alive = np.concatenate([[1.0], np.cumprod(1 - q[:-1])])
    lived = np.empty_like(alive)
    lived[:-1] = alive[1:] + 0.5 * alive[:-1] * q[:-1]
    m_last = q[-2] / (1 - 0.5 * q[-2])
    lived[-1] = alive[-1] / m_last
    return lived[65:].sum() / alive[65]


def test_life_expectancy_at_65_by_sex(demo, projection):
    demo_inputs = demo.inputs.demography
    q0, improvement = demo_inputs["mortality"], demo_inputs["mortality_improvement"]
    for year in (2020, 2050, 2119):
        for sex in ("male", "female"):
            factor = np.prod(1 - improvement.sel(sex=sex, year=slice(2021, year)).values, axis=0)
            q = np.minimum(q0.sel(sex=sex).values * factor, 1.0)
            assert float(projection.life_expectancy_65.sel(year=year, sex=sex)) == pytest.approx(_e65(q), rel=1e-10)
    e = projection.life_expectancy_65
    assert e.dims == ("year", "sex") and 15 < float(e.min()) and float(e.max()) < 35
    assert (e.sel(sex="female") > e.sel(sex="male")).all()          # Canada's women live longer
    assert (e.diff("year") > 0).all()                               # with mortality improving every year


def test_income_and_expenditure_as_percent_of_gdp(projection):
    p = projection
    np.testing.assert_allclose(p.income_pct_gdp.values,
                               100 * (p.contributions + p.state_subsidy + p.investment_income).values / p.gdp.values,
                               rtol=1e-12)
    np.testing.assert_allclose(p.total_expenditure_pct_gdp.values, 100 * p.total_expenditure.values / p.gdp.values,
                               rtol=1e-12)
    assert (p.total_expenditure_pct_gdp > p.expenditure_pct_gdp).all()   # grants and administration on top
    for name in ("expenditure_pct_gdp", "total_expenditure_pct_gdp", "income_pct_gdp"):
        assert p[name].attrs["units"] == "percent"
    assert "benefit" in p.expenditure_pct_gdp.attrs["description"]
    assert "administrative" in p.total_expenditure_pct_gdp.attrs["description"]
    assert "investment income" in p.income_pct_gdp.attrs["description"]


def test_variables_without_their_sources_are_skipped(demo, projection):
    from actuary.projection import add_report_variables

    ds = projection.drop_vars(["gdp", "total_income", "income_pct_gdp", "total_expenditure_pct_gdp"])
    ds = add_report_variables(ds, demo.inputs)
    assert "total_income" in ds and "income_pct_gdp" not in ds and "total_expenditure_pct_gdp" not in ds
