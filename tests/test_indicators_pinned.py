"""Demoland's summary, recomputed here from its yearly projection by the plain formulas of docs/methodology.md §7
(loops over years, the reserve recursion rerun per scaled-premium period, as the engine did before its
indicators were vectorised): the engine's summary must agree to 1e-12. This pins the results of the
indicators through any rewrite for speed; it is not a snapshot of the engine's own output."""

import math

import numpy as np
import pytest

from actuary import Valuation


@pytest.fixture(scope="module")
def demoland():
    return Valuation.demo().run()


def _arrays(p):
    names = ("insurable_wage_bill", "benefit_expenditure", "grants", "contributions", "collection_rate",
             "subsidy_share_of_benefits", "subsidy_share_of_wages", "investment_return", "contribution_rate", "reserve")
    return {k: [float(x) for x in p[k].values] for k in names}


def _discount(returns):
    v_mid, v_end, running = [], [], 1.0
    for i in returns:
        v_mid.append(running / math.sqrt(1 + i))
        running /= 1 + i
        v_end.append(running)
    return v_mid, v_end


def _expenditure(a, a_b, a_c, t, rate):
    return (1 + a_b) * (a["benefit_expenditure"][t] + a["grants"][t]) \
        + a_c * rate * a["collection_rate"][t] * a["insurable_wage_bill"][t]


def _subsidy(a, t):
    return a["subsidy_share_of_benefits"][t] * a["benefit_expenditure"][t] \
        + a["subsidy_share_of_wages"][t] * a["insurable_wage_bill"][t]


def _reserves(a, a_b, a_c, reserve0, rates):
    out, reserve = [], reserve0
    for t, i in enumerate(a["investment_return"]):
        income = rates[t] * a["collection_rate"][t] * a["insurable_wage_bill"][t] + _subsidy(a, t)
        reserve = reserve * (1 + i) + math.sqrt(1 + i) * (income - _expenditure(a, a_b, a_c, t, rates[t]))
        out.append(reserve)
    return out


def test_demoland_summary_recomputed_independently(demoland):
    p, s = demoland.projection, demoland.summary
    a = _arrays(p)
    a_b, a_c = p.attrs["admin_share_of_benefits"], p.attrs["admin_share_of_contributions"]
    reserve0 = float(p.reserve_at_valuation)
    n = len(a["investment_return"])
    v_mid, v_end = _discount(a["investment_return"])

    # general average premium by horizon: V_0 + GAP x PV(collected, net of admin) = PV(cost net of subsidy)
    for horizon, gap in zip(s.horizon.values, s.gap.values):
        cost = sum(v_mid[t] * (_expenditure(a, a_b, a_c, t, 0.0) - _subsidy(a, t)) for t in range(horizon))
        base = sum(v_mid[t] * a["collection_rate"][t] * (1 - a_c) * a["insurable_wage_bill"][t]
                   for t in range(horizon))
        assert float(gap) == pytest.approx((cost - reserve0) / base, rel=1e-12), horizon

    # scaled premium, 10-year periods, non-decreasing reserve: two trial recursions per period
    rates = [0.0] * n
    expected = []
    for start in range(0, n, 10):
        end = min(start + 10, n)
        trials = []
        for trial in (0.0, 1.0):
            rates[start:end] = [trial] * (end - start)
            reserve = [reserve0] + _reserves(a, a_b, a_c, reserve0, rates)
            trials.append([reserve[t + 1] - reserve[t] for t in range(start, end)])
        rate = max(max(-c0 / (c1 - c0) for c0, c1 in zip(*trials)), 0.0)
        rates[start:end] = [rate] * (end - start)
        expected.append(rate)
    np.testing.assert_allclose(s.scaled_premium.values, expected, rtol=1e-12)

    # actuarial balance over 75 years, target fund of year 76's expenditure
    period = 75
    payroll = sum(v_mid[t] * a["insurable_wage_bill"][t] for t in range(period))
    income = reserve0 + sum(v_mid[t] * (a["contributions"][t] + _subsidy(a, t)) for t in range(period))
    cost = sum(v_mid[t] * _expenditure(a, a_b, a_c, t, a["contribution_rate"][t]) for t in range(period)) \
        + v_end[period - 1] * _expenditure(a, a_b, a_c, period, a["contribution_rate"][period])
    assert float(s.actuarial_balance) == pytest.approx((income - cost) / payroll, rel=1e-12)

    # depletion and the shares of benefits payable from the year's income and the reserve left
    depleted = next(t for t in range(n) if a["reserve"][t] < 0)
    assert float(s.depletion_year) == p.year.values[depleted]
    shares = []
    for t in range(n):
        left = max(a["reserve"][t - 1] if t else reserve0, 0.0) * math.sqrt(1 + a["investment_return"][t])
        available = (1 - a_c) * a["contributions"][t] + a["subsidy_share_of_wages"][t] * a["insurable_wage_bill"][t]
        due = (1 + a_b) * (a["benefit_expenditure"][t] + a["grants"][t]) \
            - a["subsidy_share_of_benefits"][t] * a["benefit_expenditure"][t]
        shares.append(min(1.0, (available + left) / due))
    assert all(x == 1.0 for x in shares[:depleted]) and shares[depleted] < 1.0
    assert float(s.payable_share_at_depletion) == pytest.approx(shares[depleted], rel=1e-12)
    assert float(s.payable_share_end) == pytest.approx(shares[-1], rel=1e-12)
    assert float(s.payable_share_after_depletion) == pytest.approx(min(shares), rel=1e-12)

    # terminal funding rate at maturity: the last year's capital value of awards / wage bill
    assert float(s.terminal_funding_rate_at_maturity) == pytest.approx(
        float(p.capital_value_of_awards[-1]) / a["insurable_wage_bill"][-1], rel=1e-14)
