"""The general average premium: rerunning with GAP_n as a constant contribution rate leaves a
reserve of zero at the end of year n (to 1e-8 of the n-year wage bill's present value)."""

import numpy as np
import pytest
from hypothesis import given, settings

from actuary import Valuation
from actuary.indicators import discount_factors, present_value

from .schemes import schemes, valuation


def _check_gap(v):
    results = v.run()
    for horizon, gap in zip(results.summary.horizon.values, results.summary.gap.values):
        if not 0 <= gap <= 1:  # a reserve larger than all future costs, or costs above all insured earnings:
            continue           # no contribution rate to rerun with
        rerun = v.replace(scheme={"contribution_rate": float(gap)}).run().projection
        _, v_end = discount_factors(rerun)
        wage_pv = present_value(rerun, rerun.insurable_wage_bill.values, int(horizon))
        reserve_n = float(rerun.reserve.values[horizon - 1]) * v_end[horizon - 1]
        assert abs(reserve_n) <= 1e-8 * wage_pv, (horizon, gap, reserve_n, wage_pv)


def test_gap_balances_demoland():
    _check_gap(Valuation.demo())


@settings(max_examples=15, deadline=None)
@given(schemes())
def test_gap_balances_random_schemes(groups):
    _check_gap(valuation(groups))


def test_gap_without_expenses_is_the_textbook_ratio():
    """With full collection, no subsidy and no expenses: GAP_n = (PV E - V0) / PV S."""
    v = Valuation.demo().replace(scheme={"collection_rate": 1.0, "subsidy_share_of_benefits": 0.0,
                                         "admin_share_of_benefits": 0.0, "admin_share_of_contributions": 0.0})
    r = v.run()
    p = r.projection
    v_mid, _ = discount_factors(p)
    for n in (10, 50, 100):
        expected = (np.sum(v_mid[:n] * p.total_expenditure.values[:n]) - float(p.reserve_at_valuation)) \
            / np.sum(v_mid[:n] * p.insurable_wage_bill.values[:n])
        assert r.summary.gap.sel(horizon=n) == pytest.approx(expected, rel=1e-12)
