"""The accrued-to-date (past-service) liability values only what members have earned at the valuation
date, and the closed-group runs run off completely past the horizon."""

import numpy as np
import pytest
from hypothesis import given, settings

from actuary import Valuation
from actuary.projection import build_kernel_inputs, cash_flows, run_kernels

from .cohorts import ACCRUAL, RETURN, SALARY, cohort_valuation, mortality
from .schemes import schemes, valuation


def _annuity_from_award(award_year: int, award_age: int) -> float:
    """PV at 1 January 2020 of 1 a year awarded at mid-year of ``award_year`` to someone aged ``award_age``
    at 1 January then: half a year in the award year (no mortality before 65 here), then from the next
    year the survivors' payments, deaths at mid-year paid half a year; no indexation."""
    q = mortality()
    value = 0.5 * (1 + RETURN) ** -(award_year - 2020 + 0.5)
    alive, age, year = 1.0, award_age + 1, award_year + 1
    while alive > 0 and age <= 100:
        value += alive * (1 - 0.5 * q[age]) * (1 + RETURN) ** -(year - 2020 + 0.5)
        alive *= 1 - q[age]
        age, year = age + 1, year + 1
    return value


def test_one_cohort_accrued_liability():
    """1000 actives aged 55 with 10 completed years (10.5 exact) and 15 years' vesting: they stay and
    retire at 65 in 2029 with 19 completed years, so they are vested, and the accrued run pays them a
    pension on the 10.5 years earned at the valuation date (the closed run on 20 years). The valuation's
    horizon (10 years) stops before most of the pensions are paid: the closed-group runs run off."""
    heads = 1000.0
    v = cohort_valuation(age=55, service=10, heads=heads, horizon=10, scheme={"vesting_years": 15.0})
    s = v.run().summary
    annuity = _annuity_from_award(2029, 64)
    assert float(s.accrued_liability) == pytest.approx(heads * ACCRUAL * 10.5 * SALARY * annuity, rel=1e-12)
    closed = float(s.accrued_liability) + float(s.liability_current_insured_future_service)
    assert closed == pytest.approx(heads * ACCRUAL * 20 * SALARY * annuity, rel=1e-12)
    # a member who leaves the scheme in the accrued run's first years still vests on the service he goes
    # on earning: here nobody leaves, and 10 of 15 vesting years are enough for the accrued pension


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


@pytest.fixture(scope="module")
def demo_summary(demo):
    return demo.run().summary


def _later(demo, group, name, factor):
    """The input multiplied by ``factor`` in the years after the valuation year."""
    value = getattr(demo.inputs, group)[name]
    return value.where(value.year == value.year[0], value * factor)


@pytest.mark.parametrize("change", ["contribution_rate", "refund_contribution_rate", "invalidity_future_service"])
def test_accrued_liability_ignores_what_is_paid_or_earned_after_the_valuation_date(demo, demo_summary, change):
    """Contributions and refund contributions after the valuation year, and the invalidity credit for
    future service, change what members will earn, not what they have earned."""
    if change == "invalidity_future_service":
        changed = demo.replace(scheme={change: 1.0})
    else:
        changed = demo.replace(scheme={change: _later(demo, "scheme", change, 1.6)})
    summary = changed.run().summary
    assert float(summary.accrued_liability) == pytest.approx(float(demo_summary.accrued_liability), rel=1e-12)
    # the change is not idle: the balance sheet moves
    assert abs(float(summary.balance) / float(demo_summary.balance) - 1) > 1e-4


def test_closed_group_items_do_not_depend_on_the_horizon(demo, demo_summary):
    """Demoland's assumptions are constant after 2036: the closed-group runs of a 75-year and a 100-year
    valuation run off to the same end and give the same liabilities (the open-group items do not)."""
    shorter = demo.replace(settings={"horizon": 75}).run().summary
    for name in ("liability_current_pensioners", "liability_current_insured_past_service",
                 "liability_current_insured_future_service", "accrued_liability",
                 "asset_contributions_current_insured"):
        assert float(shorter[name]) == pytest.approx(float(demo_summary[name]), rel=1e-12), name
    assert float(shorter.liability_future_entrants) < float(demo_summary.liability_future_entrants)


def test_run_off_continues_until_the_group_has_left(demo):
    """The closed run's cash flows go past the horizon, with the last year's investment return held,
    until nobody is left; the stocks at the end are exactly empty."""
    kin = build_kernel_inputs(demo.inputs)
    out = run_kernels(kin, demo.inputs.settings["min_age"], mode="closed")
    flows = cash_flows(demo.inputs, out)
    horizon_end = int(demo.inputs.coords["year"][-1])
    assert int(flows.year[-1]) > horizon_end
    assert float(flows.benefit_expenditure[-1]) > 0
    past = flows.investment_return.sel(year=slice(horizon_end, None)).values
    np.testing.assert_array_equal(past, past[0])
    assert float(np.abs(out["pensioner_count"][-1]).sum()) == 0.0
    assert float(np.abs(out["active_out"][-1]).sum() + np.abs(out["inactive_out"][-1]).sum()) == 0.0
    # the flows beyond the reported years (the run-off's margin) are exactly zero
    n = flows.sizes["year"]
    assert not np.any(out["benefits"][n:]) and not np.any(out["all_grants"][n:])


@settings(max_examples=15, deadline=None)
@given(schemes())
def test_run_off_empties_every_random_closed_group(groups):
    """The run-off is long enough whatever the ages, spouse age differences and orphans' ages: at its end
    nobody is left in any closed-group run, and the cash flows stop before it."""
    v = valuation(groups)
    kin = build_kernel_inputs(v.inputs)
    for mode in ("closed", "accrued", "pensioners"):
        out = run_kernels(kin, v.inputs.settings["min_age"], mode=mode)
        assert float(out["pensioner_count"][-1].sum()) == 0.0, mode
        assert float(out["active_out"][-1].sum() + out["inactive_out"][-1].sum()) == 0.0, mode
        assert out["benefits"][-1] == 0.0 and out["all_grants"][-1] == 0.0, mode
