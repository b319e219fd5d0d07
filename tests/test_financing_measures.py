"""Financing measures (issues 19 and 12): payable benefits after depletion, the break-even rate, the
actuarial balance over a period with the following year's cost as target fund, the GAP with a terminal
reserve, terminal funding, average premiums and every scaled-premium rule. Each is checked against a
rerun that must balance, a closed form or an independent computation written here."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings, strategies as st

from actuary import InputError, Valuation, load_workbook
from actuary.indicators import balance_sheet, average_premiums
from actuary.kernels.scheme import finance_kernel
from actuary.projection import award_annuity_factors, build_kernel_inputs, cash_flows, run_kernels
from actuary.reference.scheme import finance_reference

from .schemes import random_scheme, schemes, valuation
from .test_financing_part2 import _schedule, closed_group_tail
from .test_scheme_closed_form import COVERAGE, ENTRY, R, _q, _salary, closed_form_paygo, stationary_pension, \
    stationary_valuation


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


@pytest.fixture(scope="module")
def demo_results(demo):
    return demo.run()


def _discount(i):
    v_end = np.cumprod(1 / (1 + i))
    v_mid = np.concatenate([[1.0], v_end[:-1]]) / np.sqrt(1 + i)
    return v_mid, v_end


def _reserves(p):
    return np.concatenate([[float(p.reserve_at_valuation)], p.reserve.values])


# ------------------------------------------------------------------------------ after depletion

FLOWS = dict(wage_bill=np.array([100.0, 100.0, 100.0, 100.0]), benefits=np.array([30.0, 60.0, 60.0, 10.0]),
             grants=np.array([5.0, 5.0, 5.0, 5.0]), contribution_rate=np.full(4, 0.2),
             collection_rate=np.full(4, 0.9), subsidy_benefits=np.full(4, 0.1), subsidy_wages=np.full(4, 0.01),
             admin_benefits=0.02, admin_contributions=0.03, investment_return=np.array([0.05, 0.04, 0.03, 0.02]),
             reserve0=20.0, top_up=np.zeros(4))


def _finance(payable, engine):
    if engine == "reference":
        return finance_reference(**FLOWS, payable=payable)
    n = 4
    out = {k: np.empty(n) for k in ("contributions", "subsidy", "admin", "expenditure", "investment_income",
                                    "payable_share")}
    out["reserve"] = np.empty(n + 1)
    finance_kernel(**FLOWS, payable=payable, **out)
    return out


@pytest.mark.parametrize("engine", ["kernel", "reference"])
def test_payable_benefits_by_hand(engine):
    """Four years worked by hand: the reserve of 20 pays year 1 in full; in year 2 the income (0.97 C +
    s_w S = 18.46) and the reserve left (6.408 x 1.04^0.5) pay 41.45% of the 60.3 due; year 3 is paid
    from income alone; year 4's income covers it in full and the reserve rebuilds."""
    income = 0.97 * 18.0 + 1.0
    due = 1.02 * (FLOWS["benefits"] + 5.0) - 0.1 * FLOWS["benefits"]
    v1 = 20 * 1.05 + np.sqrt(1.05) * (income - due[0])
    expected_share = [1.0, (income + v1 * np.sqrt(1.04)) / due[1], income / due[2], 1.0]
    paid = _finance(True, engine)
    borrowed = _finance(False, engine)
    np.testing.assert_allclose(paid["payable_share"], expected_share, rtol=1e-14)
    np.testing.assert_allclose(borrowed["payable_share"], expected_share, rtol=1e-14)  # the same definition
    np.testing.assert_allclose(paid["reserve"][:3], [20.0, v1, 0.0], rtol=1e-14, atol=1e-13)
    assert paid["reserve"][3] == 0.0 and paid["reserve"][4] == pytest.approx(np.sqrt(1.02) * (income - due[3]))
    assert borrowed["reserve"][2] < 0 and borrowed["reserve"][3] < borrowed["reserve"][2]  # a debt at interest
    share = np.asarray(expected_share)
    np.testing.assert_allclose(paid["subsidy"], 0.1 * share * FLOWS["benefits"] + 1.0, rtol=1e-14)
    np.testing.assert_allclose(paid["admin"], 0.02 * share * (FLOWS["benefits"] + 5) + 0.03 * 18.0, rtol=1e-14)
    for out in (paid, borrowed):
        change = np.diff(out["reserve"])
        np.testing.assert_allclose(change, out["contributions"] + out["subsidy"] + out["investment_income"]
                                   - out["expenditure"], atol=1e-12)


@pytest.fixture(scope="module")
def payable_demo(demo):
    v = demo.replace(settings={"after_depletion": "payable"})
    return v, v.run()


def test_payable_demoland(demo_results, payable_demo):
    _, results = payable_demo
    p, s = results.projection, results.summary
    b = demo_results.projection
    depletion = int(s.depletion_year)
    assert depletion == int(demo_results.summary.depletion_year) == int(b.year[b.reserve < 0][0])
    t = int(np.flatnonzero(p.year.values == depletion)[0])
    assert np.all(p.reserve.values >= 0) and np.all(p.reserve.values[t:] == 0)
    # before depletion the two conventions are the same projection
    for name in ("reserve", "total_expenditure", "investment_income", "state_subsidy", "contributions"):
        np.testing.assert_array_equal(p[name].values[:t], b[name].values[:t], err_msg=name)
    np.testing.assert_array_equal(p.payable_share.values[:t], 1.0)
    # the payable share, by its definition, from the projection's own flows
    a_b, a_c = p.attrs["admin_share_of_benefits"], p.attrs["admin_share_of_contributions"]
    B, G, S, C = (p[k].values for k in ("benefit_expenditure", "grants", "insurable_wage_bill", "contributions"))
    due = (1 + a_b) * (B + G) - p.subsidy_share_of_benefits.values * B
    income = (1 - a_c) * C + p.subsidy_share_of_wages.values * S
    left = np.maximum(_reserves(p)[:-1], 0) * np.sqrt(1 + p.investment_return.values)
    expected = np.minimum(1.0, (income + left) / due)
    np.testing.assert_allclose(p.payable_share.values, expected, rtol=1e-12)
    assert float(s.payable_share_at_depletion) == pytest.approx(expected[t], rel=1e-12)
    assert float(s.payable_share_end) == pytest.approx(expected[-1], rel=1e-12)
    assert float(s.payable_share_after_depletion) == pytest.approx(expected.min(), rel=1e-12)
    assert expected[t] > expected[t + 1]  # the reserve left pays part of the depletion year
    np.testing.assert_allclose(p.payable_benefits, p.payable_share * (p.benefit_expenditure + p.grants), rtol=1e-14)
    np.testing.assert_allclose(p.total_expenditure, p.payable_benefits + p.admin_expenses, rtol=1e-12)
    # borrowing: the same payable shares (income and reserve left; the debt is not income)
    np.testing.assert_allclose(b.payable_share.values, expected, rtol=1e-12)
    # measures value the benefits due: the same under both conventions
    for name in ("gap", "scaled_premium", "actuarial_balance", "balance", "average_premium_current"):
        np.testing.assert_array_equal(s[name].values, demo_results.summary[name].values, err_msg=name)
    np.testing.assert_array_equal(p.paygo_cost_rate.values, b.paygo_cost_rate.values)


def test_payable_kernel_matches_reference(payable_demo):
    v, results = payable_demo
    reference = v.run("reference").projection
    for name, variable in results.projection.data_vars.items():
        if variable.dtype.kind == "f":
            np.testing.assert_allclose(variable.values, reference[name].values, rtol=1e-9,
                                       atol=1e-9 * max(1.0, float(np.nanmax(np.abs(reference[name].values)))),
                                       err_msg=name)


def test_payable_needs_a_reserve_that_is_not_a_debt(demo):
    with pytest.raises(InputError, match="initial.reserve.*never falls below zero"):
        demo.replace(settings={"after_depletion": "payable"}, initial={"reserve": -1.0})


# ------------------------------------------------------------------------------ break-even rate

def test_breakeven_rate_balances_each_year(demo, demo_results):
    """At the break-even rate of each year the year's income equals its expenditure: the reserve only
    earns interest, V_t = V_{t-1}(1 + i_t) (Demoland has collection losses, expenses on benefits and on
    contributions, and a subsidy on benefits and on wages)."""
    rate = demo_results.projection.breakeven_contribution_rate
    assert float(rate[0]) > float(demo_results.projection.paygo_cost_rate[0])  # grossed up
    p = demo.replace(scheme={"contribution_rate": rate}, settings={"balance_sheet": "no"}).run().projection
    reserve = _reserves(p)
    grown = reserve[0] * np.cumprod(1 + p.investment_return.values)
    np.testing.assert_allclose(reserve[1:], grown, rtol=1e-9)
    np.testing.assert_allclose(p.contributions + p.state_subsidy, p.total_expenditure, rtol=1e-12)


def test_breakeven_rate_without_expenses_is_the_paygo_cost_rate(demo):
    p = demo.replace(scheme={"collection_rate": 1.0, "subsidy_share_of_benefits": 0.0, "subsidy_share_of_wages": 0.0,
                             "admin_share_of_benefits": 0.0, "admin_share_of_contributions": 0.0},
                     settings={"balance_sheet": "no"}).run().projection
    np.testing.assert_allclose(p.breakeven_contribution_rate, p.paygo_cost_rate, rtol=1e-14)


# ------------------------------------------------------------------------------ actuarial balance

def test_actuarial_balance_over_a_period_is_zero_at_the_balancing_rate(demo):
    """Over P = 50 years of a 100-year projection, with no expenses, subsidy or collection loss: the rate
    (PV_P E + v_P E_{P+1} - V_0) / PV_P S gives a zero balance, the target fund being year 51's cost."""
    v = demo.replace(scheme={"collection_rate": 1.0, "subsidy_share_of_benefits": 0.0, "subsidy_share_of_wages": 0.0,
                             "admin_share_of_benefits": 0.0, "admin_share_of_contributions": 0.0},
                     settings={"balance_sheet": "no", "actuarial_balance_period": 50})
    p = v.run().projection
    v_mid, v_end = _discount(p.investment_return.values)
    E, S = p.total_expenditure.values, p.insurable_wage_bill.values
    rate = (np.sum(v_mid[:50] * E[:50]) + v_end[49] * E[50] - float(p.reserve_at_valuation)) \
        / np.sum(v_mid[:50] * S[:50])
    balanced = v.replace(scheme={"contribution_rate": rate}).run()
    assert float(balanced.summary.actuarial_balance) == pytest.approx(0.0, abs=1e-12)
    assert balanced.summary.actuarial_balance.attrs["period"] == 50


def _held_one_more_year(groups):
    """The same valuation one year longer, every year-dependent input repeating its last year's value."""
    longer = {g: dict(v) for g, v in groups.items()}
    horizon = groups["settings"]["horizon"]
    longer["settings"]["horizon"] = horizon + 1
    for group, values in longer.items():
        for key, value in values.items():
            if isinstance(value, xr.DataArray) and "year" in value.dims:
                last = value.isel(year=[-1]).assign_coords(year=[int(value.year[-1]) + 1])
                values[key] = xr.concat([value, last], "year")
    return longer


@pytest.mark.parametrize("seed", [1, 2])
def test_actuarial_balance_over_the_horizon_uses_the_next_years_cost(seed):
    """Horizon 12 (below the default period of 75): the period is the horizon and the target fund is the
    expenditure of year 13, which a valuation one year longer with the last year's assumptions projects;
    the 12 years projected are those of the shorter valuation exactly."""
    groups = random_scheme(seed)
    short = valuation(groups).run()
    longer = valuation(_held_one_more_year(groups)).run().projection
    p = short.projection
    for name, variable in p.data_vars.items():
        if "year" in variable.dims and variable.dtype.kind == "f":
            np.testing.assert_array_equal(variable.values, longer[name].isel(year=slice(0, 12)).values, err_msg=name)
    v_mid, v_end = _discount(p.investment_return.values)
    income = float(p.reserve_at_valuation) + np.sum(v_mid * (p.contributions + p.state_subsidy).values)
    cost = np.sum(v_mid * p.total_expenditure.values) + v_end[-1] * float(longer.total_expenditure[-1])
    expected = (income - cost) / np.sum(v_mid * p.insurable_wage_bill.values)
    assert float(short.summary.actuarial_balance) == pytest.approx(expected, rel=1e-12)
    assert short.summary.actuarial_balance.attrs["period"] == 12


# ------------------------------------------------------------------------------ GAP with a terminal reserve

@pytest.mark.parametrize("factor", [1.5, 4.0])
def test_gap_funds_a_terminal_reserve(demo, factor):
    v = demo.replace(settings={"gap_terminal_reserve": factor, "balance_sheet": "no"})
    s = v.run().summary
    for horizon, gap in zip(s.horizon.values, s.gap.values):
        p = v.replace(scheme={"contribution_rate": float(gap)}).run().projection
        n = int(horizon) - 1
        target = factor * float(p.total_expenditure[n])
        assert float(p.reserve[n]) == pytest.approx(target, rel=1e-9), horizon


# ------------------------------------------------------------------------------ terminal funding

def test_annuity_kernel_matches_reference(demo):
    kin = build_kernel_inputs(demo.inputs)
    kernel = award_annuity_factors(kin, "kernel")
    reference = award_annuity_factors(kin, "reference")
    np.testing.assert_allclose(kernel, reference, rtol=1e-12)


def _annuity_by_hand(v, t, b, s, x):
    """Capital value at mid-year t of a unit pension of benefit b awarded to sex s aged x in year t,
    projected forward person by person from the inputs themselves (mortality improving at the last
    year's rates past the horizon, other assumptions held at their last year's values)."""
    demo, beh, sch, eco = v.inputs.demography, v.inputs.behaviour, v.inputs.scheme, v.inputs.economy
    horizon = v.inputs.settings["horizon"]
    top = v.inputs.settings["max_age"]
    factor_name = ["pensioner_mortality_factor", "invalid_mortality_factor", "survivor_mortality_factor", None]
    sex = ["male", "female"][s]

    def at(values, year):
        return values[min(year, horizon - 1)]

    improvement = demo["mortality_improvement"].sel(sex=sex).values
    base = demo["mortality"].sel(sex=sex).values

    def q(year, benefit, age):
        if age >= top:
            return 1.0
        level = 1.0
        for u in range(1, year + 1):
            level *= 1 - at(improvement, u)[age]
        value = min(max(base[age] * level, 0.0), 1.0)
        name = factor_name[benefit]
        mult = 1.0 if name is None else float(beh[name].sel(sex=sex, age=age))
        return min(max(value * mult, 0.0), 1.0)

    inflation = eco["inflation"].values
    returns = eco["nominal_return"].values
    lag = sch["indexation_lag"]

    def beta(year):
        source = max(year - lag, 0)
        return float(np.clip(float(at(sch["indexation_price_weight"].values, year)) * at(inflation, source), sch["indexation_floor"],
                             sch["indexation_cap"])) if year > 0 else 0.0

    nra = sch["normal_retirement_age"].sel(sex=sex).values
    remarriage = beh["remarriage_rate"].sel(sex=sex).values
    limit = sch["orphan_age_limit"]
    convert = sch["invalidity_conversion"] == "convert"
    total, alive, amount, discount, age, benefit = 0.5, 1.0, 1.0, 1.0, x, b
    for u in range(t, t + 2 * top):
        if u > t:
            amount *= 1 + beta(u)
            discount /= np.sqrt(1 + at(returns, u - 1)) * np.sqrt(1 + at(returns, u))
            paid = 1 - 0.5 * q(u, benefit, age)
            if benefit == 2:  # widow(er)s remarrying at mid-year are paid half a year
                paid -= 0.5 * at(remarriage, u)[age] * (1 - q(u, benefit, age))
            total += discount * alive * amount * paid
        alive *= 1 - (0.5 if u == t else 1.0) * q(u, benefit, age)
        if benefit == 2:
            alive *= 1 - at(remarriage, u)[age]
        if benefit == 3 and age + 1 >= limit:
            alive = 0.0
        if benefit == 1 and convert and age + 1 >= at(nra, u):
            benefit = 0
        age = min(age + 1, top)
        if alive == 0.0:
            break
    return total


def test_capital_values_match_an_independent_annuity_computation():
    """Annuity factors by benefit type (own mortality, remarriage, the orphans' age limit, conversion of
    invalidity pensions to old age), with mortality improvement, price indexation with a lag and returns
    varying by year, past the 12-year horizon too; and the capital value of the awards is the sum of
    annual amounts awarded x factor."""
    groups = random_scheme(7)
    if "normal_retirement_age_by_cohort" in groups["scheme"]:  # the hand computation takes ages by year
        for key in ("normal_retirement_age_by_cohort", "early_retirement_age_by_cohort"):
            groups["scheme"].pop(key, None)
        groups["scheme"]["normal_retirement_age"] = float(groups["settings"]["max_retirement_age"] - 2)
    groups["scheme"].update(indexation_wage_weight=0.0, indexation_floor=-1.0, indexation_cap=1.0,
                            indexation_lag=1, invalidity_conversion="convert")
    v = valuation(groups)
    kin = build_kernel_inputs(v.inputs)
    factors = award_annuity_factors(kin)
    cells = [(0, 0, 0, 45), (3, 0, 1, 47), (11, 0, 0, 44), (2, 1, 1, 30), (10, 1, 0, 40), (5, 2, 1, 33),
             (11, 2, 0, 50), (4, 3, 0, 8), (9, 3, 1, 3)]
    for t, b, s, x in cells:
        assert factors[t, b, s, x] == pytest.approx(_annuity_by_hand(v, t, b, s, x), rel=1e-12), (t, b, s, x)
    p = v.run().projection
    np.testing.assert_allclose(p.annuity_factor_at_award.values, factors, rtol=1e-13)
    expected = (p.new_pension_amount.values * factors).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(p.capital_value_of_awards.values, expected, rtol=1e-12)
    np.testing.assert_allclose(p.terminal_funding_rate, p.capital_value_of_awards / p.insurable_wage_bill,
                               rtol=1e-14)


def test_terminal_funding_in_a_stationary_scheme():
    """Every year the same cohort retires at 65 (age 64 at 1 January) with the same pension; no indexation,
    a 3% return: terminal funding rate = awards x pension x ä / wage bill, the annuity ä at award
    (half a year paid, then a life annuity with deaths at mid-year) computed here from the life table,
    and the wage bill from the closed form of the stationary PAYG rate."""
    results = stationary_valuation(horizon=8).run()
    p = results.projection
    q = _q()
    v = 1 / 1.03
    later = 0.0  # A_x = (1 - q_x/2) + v (1 - q_x) A_{x+1}, from the last age down
    for age in range(100, R - 1, -1):
        later = (1 - 0.5 * q[age]) + v * (1 - q[age]) * later
    annuity = 0.5 + v * (1 - 0.5 * q[R - 1]) * later
    insured = COVERAGE * 100_000.0
    pension = stationary_pension()   # 45 years of service (entry and award half years credited)
    wage_bill = insured * _salary(np.arange(ENTRY, R - 1)).sum() + 0.5 * insured * _salary(R - 1) \
        + 0.5 * insured * _salary(ENTRY)
    expected = insured * pension * annuity / wage_bill
    np.testing.assert_allclose(p.terminal_funding_rate.values, expected, rtol=1e-10)
    assert float(results.summary.terminal_funding_rate_at_maturity) == pytest.approx(expected, rel=1e-10)
    assert expected < closed_form_paygo()  # the capital earns interest


def test_terminal_funding_equals_paygo_in_a_stationary_scheme_without_interest():
    """Stationary population, no indexation, no interest: the capital of a year's awards is their total
    future payments, the same as the payments to all pensioners in a year (the textbook equality of the
    financial systems)."""
    p = stationary_valuation(horizon=4).replace(economy={"nominal_return": 0.0}).run().projection
    np.testing.assert_allclose(p.terminal_funding_rate, closed_form_paygo(), rtol=1e-10)
    np.testing.assert_allclose(p.terminal_funding_rate, p.paygo_cost_rate, rtol=1e-10)


# ------------------------------------------------------------------------------ average premiums

def test_gap_is_the_weighted_average_of_the_average_premiums(demo):
    """GAP over the horizon = w AP_current + (1 - w) AP_new entrants, w the current group's share of the
    present value of the contribution base (here of insurable earnings: constant collection rate)."""
    v = demo.replace(scheme={"collection_rate": 0.97})
    s = v.run().summary
    current, new = float(s.pv_insurable_earnings_current), float(s.pv_insurable_earnings_new_entrants)
    weight = current / (current + new)
    combined = weight * float(s.average_premium_current) + (1 - weight) * float(s.average_premium_new_entrants)
    assert combined == pytest.approx(float(s.gap.isel(horizon=-1)), rel=1e-12)
    # the closed-group liabilities run off past the horizon; the average premiums stay over the horizon
    tail = closed_group_tail(v, lambda f: f.benefit_expenditure + f.grants)
    assert tail > 0
    assert float(s.pv_benefits_current) == pytest.approx(
        float(s.liability_current_pensioners + s.liability_current_insured_past_service
              + s.liability_current_insured_future_service) - tail, rel=1e-12)
    assert float(s.pv_benefits_new_entrants) == pytest.approx(float(s.liability_future_entrants), rel=1e-12)


def test_average_premiums_without_expenses_are_the_textbook_ratios(demo):
    v = demo.replace(scheme={"collection_rate": 1.0, "subsidy_share_of_benefits": 0.0, "subsidy_share_of_wages": 0.0,
                             "admin_share_of_benefits": 0.0, "admin_share_of_contributions": 0.0})
    s = v.run().summary
    reserve = float(v.inputs.initial["reserve"])
    assert float(s.average_premium_current) == pytest.approx(
        (float(s.pv_benefits_current) - reserve) / float(s.pv_insurable_earnings_current), rel=1e-12)
    assert float(s.average_premium_new_entrants) == pytest.approx(
        float(s.pv_benefits_new_entrants) / float(s.pv_insurable_earnings_new_entrants), rel=1e-12)
    assert float(s.average_premium_current) > float(s.average_premium_new_entrants)  # the reserve is small


def _parts(v):
    kin = build_kernel_inputs(v.inputs)
    lo = v.inputs.settings["min_age"]
    parts = {"open": v.replace(settings={"balance_sheet": "no"}).run().projection}
    for mode in ("closed", "accrued", "pensioners"):
        parts[mode] = cash_flows(v.inputs, run_kernels(kin, lo, "kernel", mode))
    return parts


def test_balance_sheet_with_closed_group_runs_past_the_horizon():
    """Closed-group parts may project more years than the valuation (their run-off), each with its own
    return: their items count every year, the open-group items the horizon only; assets - liabilities =
    V_0 + PV_horizon(C + subsidy - E) + PV(closed group's C - B - G past the horizon)."""
    v = valuation(random_scheme(3))
    parts = _parts(v)
    open_ = parts["open"]
    n, extra = open_.sizes["year"], 6
    rng = np.random.default_rng(0)
    longer = {"open": open_}
    for mode in ("closed", "accrued", "pensioners"):
        part = parts[mode]
        years = np.arange(int(part.year[-1]) + 1, int(part.year[-1]) + 1 + extra)
        flows = ("contributions", "benefit_expenditure", "grants", "insurable_wage_bill", "minimum_pension_top_up")
        tail = xr.Dataset({k: ("year", float(part[k][-1]) * rng.uniform(0.2, 1.0, extra)) for k in flows
                           if k in part}, coords={"year": years})
        tail["investment_return"] = ("year", np.full(extra, 0.07))
        longer[mode] = xr.concat([part, tail], "year")
    sheet, short = balance_sheet(longer), balance_sheet(parts)
    v_mid, _ = _discount(longer["closed"].investment_return.values)

    def pv(part, name, years=None):
        """With the part's own returns (the parts run off over different numbers of years)."""
        own, _ = _discount(longer[part].investment_return.values)
        values = longer[part][name].values
        return float(np.sum(own[:years] * values[:years]))

    benefits = {m: pv(m, "benefit_expenditure") + pv(m, "grants") for m in ("closed", "accrued", "pensioners")}
    assert float(sheet.liability_current_pensioners) == pytest.approx(benefits["pensioners"], rel=1e-13)
    assert float(sheet.liability_current_insured_future_service) == pytest.approx(
        benefits["closed"] - benefits["accrued"], rel=1e-12)
    assert float(sheet.asset_contributions_current_insured) == pytest.approx(pv("closed", "contributions"), rel=1e-13)
    for item in ("liability_future_entrants", "asset_contributions_future_entrants", "asset_state_subsidy",
                 "liability_administrative_expenses", "asset_reserve"):
        assert float(sheet[item]) == pytest.approx(float(short[item]), rel=1e-13), item
    # the closed run already runs off past the horizon: the balance gains the years added after its end
    end = parts["closed"].sizes["year"]
    assert end > n
    beyond = sum(float(np.sum(v_mid[end:] * longer["closed"][k].values[end:])) * sign for k, sign in
                 (("contributions", 1), ("benefit_expenditure", -1), ("grants", -1), ("minimum_pension_top_up", 1))
                 if k in longer["closed"])   # the state's top-ups, when it pays them, are income of the scheme
    assert float(sheet.balance) == pytest.approx(float(short.balance) + beyond, rel=1e-12)
    # the average premiums keep to the horizon (the GAP's), so the run-off leaves them as they were
    for name, value in average_premiums(longer).data_vars.items():
        assert float(value) == pytest.approx(float(average_premiums(parts)[name]), rel=1e-13), name


# ------------------------------------------------------------------------------ scaled premium rules

def _check_rule(v, rule, check, target=None, periods=None):
    """Rerun at the solved rates: the condition holds in every year checked and, where the rate is
    positive, binds in one of them."""
    extra = {"scaled_premium_rule": rule, "scaled_premium_check": check, "balance_sheet": "no"}
    if target is not None:
        extra["scaled_premium_target"] = target
    if periods is not None:
        extra["scaled_premium_periods"] = periods
    v = v.replace(settings=extra)
    results = v.run()
    s = results.summary
    assert s.scaled_premium.attrs["rule"] == rule and s.scaled_premium.attrs["check"] == check
    if periods is not None:
        assert list(s.period.values) == list(periods)
    finite = np.isfinite(s.scaled_premium.values)
    if not finite.all():  # no constant rate meets the rule in some period: NaN from it on
        assert not finite[np.argmin(finite):].any()
        return s
    if float(s.scaled_premium.max()) > 1.0:  # above all insured earnings: not a contribution rate to rerun with
        return s
    rerun = v.replace(scheme={"contribution_rate": _schedule(results)}).run().projection
    reserve = _reserves(rerun)
    wages = rerun.insurable_wage_bill.values
    wages_before = np.concatenate([wages[:1], wages[:-1]])
    scale = max(np.abs(reserve).max(), np.abs(rerun.total_expenditure.values).max())
    years = rerun.year.values
    for start, end, rate in zip(s.period.values, s.period_end.values, s.scaled_premium.values):
        inside = np.flatnonzero((years >= start) & (years <= end))
        first, last = inside[0], inside[-1]
        if rule == "reserve":
            slack = reserve[1:] - reserve[:-1] if check == "every_year" else reserve[last + 1] - reserve[first]
        elif rule == "reserve_to_wages":
            if check == "every_year":
                slack = reserve[1:] - reserve[:-1] * wages / wages_before
            else:
                slack = reserve[last + 1] - reserve[first] * wages[last] / wages_before[first]
        else:
            slack = reserve[1:] - target * rerun.total_expenditure.values
            if check == "period_end":
                slack = slack[last]
        checked = np.atleast_1d(slack[inside] if np.ndim(slack) else slack)
        assert checked.min() >= -1e-9 * scale, (rule, check, start)
        if rate > 0:
            assert np.abs(checked).min() <= 1e-9 * scale, (rule, check, start)  # binds
    return s


RULES = [("reserve", "every_year", None), ("reserve", "period_end", None), ("reserve_to_wages", "every_year", None),
         ("reserve_to_wages", "period_end", None), ("reserve_ratio", "every_year", 2.0),
         ("reserve_ratio", "period_end", 2.0)]


@pytest.mark.parametrize("rule,check,target", RULES)
def test_scaled_premium_rule_binds_on_rerun_demoland(demo, rule, check, target):
    s = _check_rule(demo, rule, check, target)
    assert np.all(np.isfinite(s.scaled_premium.values)) and s.scaled_premium.values.max() > 0


@pytest.mark.parametrize("rule,check,target", RULES)
def test_scaled_premium_periods_of_unequal_length(demo, rule, check, target):
    """Periods from 2020, 2023, 2030 and 2045, the last a level period to the end of the horizon (2119)."""
    s = _check_rule(demo, rule, check, target, periods=(2020, 2023, 2030, 2045))
    assert list(s.period_end.values) == [2022, 2029, 2044, 2119]


@settings(max_examples=10, deadline=None)
@given(schemes(), st.sampled_from(RULES), st.booleans())
def test_scaled_premium_rules_random_schemes(groups, rule, unequal):
    rule, check, target = rule
    periods = (2020, 2021, 2026) if unequal else None
    _check_rule(valuation(groups).replace(settings={"scaled_premium_period": 4} if not unequal else {}), rule, check,
                target, periods)


def test_scaled_premium_defaults_are_todays_rules(demo):
    assert demo.inputs.settings["scaled_premium_rule"] == "reserve"
    assert demo.inputs.settings["scaled_premium_check"] == "every_year"
    target = demo.replace(settings={"scaled_premium_target": 2.0}).inputs.settings
    assert (target["scaled_premium_rule"], target["scaled_premium_check"]) == ("reserve_ratio", "period_end")


# ------------------------------------------------------------------------------ the new settings

NEW_SETTINGS = {"scaled_premium_rule": "reserve_ratio", "scaled_premium_check": "every_year",
                "scaled_premium_target": 1.5, "scaled_premium_periods": (2020, 2023, 2029),
                "actuarial_balance_period": 60, "gap_terminal_reserve": 1.0, "after_depletion": "payable"}


def test_new_settings_survive_the_workbook(tmp_path):
    small = valuation(random_scheme(5))
    v = small.replace(settings=NEW_SETTINGS)
    path = tmp_path / "settings.xlsx"
    v.to_workbook(path)
    again = load_workbook(path)
    for key, value in NEW_SETTINGS.items():
        assert again.inputs.settings[key] == value, key
    template = tmp_path / "template.xlsx"
    small.to_workbook(template, blank=True)
    import openpyxl

    rows = {r[0]: r for r in openpyxl.load_workbook(template)["Settings"].iter_rows(values_only=True)}
    for key in NEW_SETTINGS:
        assert key in rows and rows[key][3], key  # listed, with a note


@pytest.mark.parametrize("change,message", [
    ({"scaled_premium_rule": "reserve_ratio"}, "scaled_premium_target' is required"),
    ({"scaled_premium_rule": "reserve", "scaled_premium_target": 2.0}, "only used by the reserve_ratio rule"),
    ({"scaled_premium_rule": "level"}, "not an option"),
    ({"scaled_premium_check": "sometimes"}, "not an option"),
    ({"scaled_premium_periods": (2021, 2030)}, "expected the valuation year 2020"),
    ({"scaled_premium_periods": (2020, 2030, 2030)}, "must increase"),
    ({"scaled_premium_periods": (2020, 2130)}, "after the last projection year 2119"),
    ({"scaled_premium_periods": (2020, 2030), "scaled_premium_period": 5}, "give one or the other"),
    ({"actuarial_balance_period": 0}, "actuarial_balance_period': value 0"),
    ({"gap_terminal_reserve": -1.0}, "gap_terminal_reserve"),
    ({"after_depletion": "default"}, "not an option"),
])
def test_bad_settings_are_refused(demo, change, message):
    with pytest.raises(InputError, match=message):
        demo.replace(settings=change)


def test_bad_setting_in_a_workbook_names_its_cell(tmp_path):
    import openpyxl

    path = tmp_path / "bad.xlsx"
    valuation(random_scheme(5)).replace(settings={"scaled_premium_periods": (2020, 2030)}).to_workbook(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Settings"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "scaled_premium_periods")
    ws.cell(row=row, column=2, value="2020, 2010")
    wb.save(path)
    with pytest.raises(InputError, match=rf"^Settings!B{row}: .*must increase"):
        load_workbook(path)


# ------------------------------------------------------------------------------ reports

def test_results_workbook_compares_the_contribution_rate_with_the_breakeven_rate(demo, demo_results, tmp_path):
    import openpyxl

    from actuary.io.results import write_results

    path = tmp_path / "results.xlsx"
    write_results(demo_results, demo, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Financing indicators"]
    headers = {c.value: c.column_letter for c in ws[2]}
    column = headers["Break-even contribution rate (% of insurable earnings)"]
    np.testing.assert_allclose([ws[f"{column}{r}"].value for r in range(3, 3 + demo_results.projection.sizes["year"])],
                               demo_results.projection.breakeven_contribution_rate.values, rtol=1e-15)
    charts = wb["Charts"]
    chart = next(c for c in charts._charts if "break-even rate" in c.title.tx.rich.p[0].r[0].t)
    plotted = {charts[s.tx.strRef.f.split("!")[1].replace("$", "")].value for s in chart.series}
    assert {"Contribution rate", "Break-even contribution rate"} <= plotted
