"""Scaled premium, balance sheets, closed-group liability, actuarial balance, new scheme at inception."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import assume, given, settings

from actuary import Valuation
from actuary.indicators import present_value
from actuary.projection import build_kernel_inputs, cash_flows, credit_past_service, run_kernels

from .schemes import schemes, valuation
from .test_scheme_closed_form import R, _q, stationary_pension, stationary_valuation


def _schedule(results):
    """The solved scaled premium as a contribution rate by year."""
    p, s = results.projection, results.summary
    rates = np.empty(p.sizes["year"])
    for start, end, rate in zip(s.period.values, s.period_end.values, s.scaled_premium.values):
        rates[(p.year.values >= start) & (p.year.values <= end)] = rate
    return xr.DataArray(rates, dims="year", coords={"year": p.year.values})


def _check_scaled_premium(v, target=None, drawn=False):
    if target is not None:
        v = v.replace(settings={"scaled_premium_target": target})
    results = v.run()
    schedule = _schedule(results)
    # a random scheme's premium may be above all its insured earnings: not a contribution rate one can give (a drawn
    # scheme is then skipped; Demoland's must be below)
    if drawn:
        assume(float(schedule.max()) <= 1.0)
    else:
        assert float(schedule.max()) <= 1.0
    rerun = v.replace(scheme={"contribution_rate": schedule}).run().projection
    reserve = np.concatenate([[float(rerun.reserve_at_valuation)], rerun.reserve.values])
    change = np.diff(reserve)
    scale = float(np.abs(rerun.total_expenditure).max())
    for start, end, rate in zip(results.summary.period.values, results.summary.period_end.values,
                                results.summary.scaled_premium.values):
        years = (rerun.year.values >= start) & (rerun.year.values <= end)
        if target is None:
            assert change[years].min() >= -1e-9 * scale          # never decreases within the period
            if rate > 0:
                assert abs(change[years].min()) <= 1e-9 * scale  # and the constraint binds
        elif rate == 0:  # the target is exceeded without contributions
            last = np.flatnonzero(years)[-1]
            assert rerun.reserve.values[last] >= target * rerun.total_expenditure.values[last] - 1e-9 * scale
        else:
            last = np.flatnonzero(years)[-1]
            assert rerun.reserve.values[last] == pytest.approx(target * rerun.total_expenditure.values[last],
                                                               abs=1e-9 * scale)


def test_scaled_premium_demoland_non_decreasing_reserve():
    _check_scaled_premium(Valuation.demo())


def test_scaled_premium_demoland_target_reserve_ratio():
    _check_scaled_premium(Valuation.demo(), target=2.0)


@settings(max_examples=10, deadline=None)
@given(schemes())
def test_scaled_premium_random_schemes(groups):
    groups["settings"]["scaled_premium_period"] = 4
    _check_scaled_premium(valuation(groups), drawn=True)
    _check_scaled_premium(valuation(groups), target=1.5, drawn=True)


def closed_group_tail(v, flow):
    """PV of ``flow(cash flows)`` of the closed group's run (no entrants) after the horizon, its run-off,
    discounted with its own returns: what the closed-group items of the balance sheet hold beyond the
    open group's horizon."""
    flows = cash_flows(v.inputs, run_kernels(build_kernel_inputs(v.inputs), v.inputs.settings["min_age"],
                                             mode="closed"))
    growth = 1 + flows.investment_return.values
    v_mid = np.concatenate([[1.0], np.cumprod(1 / growth)[:-1]]) / np.sqrt(growth)
    horizon = v.inputs.settings["horizon"]
    return float(np.sum((v_mid * flow(flows).values)[horizon:]))


def _check_balance_sheet(v):
    results = v.run()
    p, s = results.projection, results.summary
    top_up = p.minimum_pension_top_up if "minimum_pension_top_up" in p else 0.0   # paid by the state
    identity = float(p.reserve_at_valuation) + present_value(p, (p.contributions + p.state_subsidy + top_up
                                                                 - p.total_expenditure).values)
    scale = present_value(p, p.total_expenditure.values)
    tail = closed_group_tail(v, lambda f: f.contributions - f.benefit_expenditure - f.grants
                             + (f.minimum_pension_top_up if "minimum_pension_top_up" in f else 0.0))
    assert float(s.balance) == pytest.approx(identity + tail, abs=1e-9 * scale)
    # both parts given: the GAP identity over the horizon and the current group's flows after it
    assert float(s.balance_within_horizon) == pytest.approx(identity, abs=1e-9 * scale)
    assert float(s.balance_after_horizon) == pytest.approx(tail, abs=1e-9 * scale)
    liabilities = [v for k, v in s.data_vars.items() if k.startswith("liability_")]
    assets = [v for k, v in s.data_vars.items() if k.startswith("asset_")]
    assert float(sum(liabilities)) == pytest.approx(float(s.total_liabilities), rel=1e-13)
    assert float(sum(assets)) == pytest.approx(float(s.total_assets), rel=1e-13)
    assert float(s.liability_current_pensioners) > 0 and float(s.liability_current_insured_past_service) > 0


@pytest.mark.parametrize("horizon", [100, 40])
def test_balance_sheet_demoland(horizon):
    """Demoland, and over 40 years (its current members' run-off is 110 years: the part after the horizon is then
    about half the balance)."""
    _check_balance_sheet(Valuation.demo().replace(settings={"horizon": horizon}))


@settings(max_examples=10, deadline=None)
@given(schemes())
def test_balance_sheet_random_schemes(groups):
    _check_balance_sheet(valuation(groups))


def test_closed_group_reproduces_annuity_factor_liability():
    """Current pensioners (no survivors, no funeral grant): PV of their pensions equals
    sum over ages of count x pension x a_x, with a_x from the life table, 2% indexation from the
    second year, a 3% return, deaths and payments at mid-year: a_x = sum_t v_t^mid l_{x+t}/l_x (1 - q_{x+t}/2) I_t."""
    v = stationary_valuation(horizon=40).replace(economy={"inflation": 0.02, "nominal_return": 0.03})
    s = v.run().summary
    q = _q()
    pension = stationary_pension()
    initial = v.inputs.initial["pensioners"].sel(benefit="old_age").sum("sex")
    years = np.arange(40)
    v_mid = 1.03 ** -(years + 0.5)
    indexation = 1.02 ** np.maximum(years, 0)  # beta_0 = 0, then 2% on 1 January of each year
    expected = 0.0
    for x in range(R, 101):
        alive = 1.0
        factor = 0.0
        for t in years:
            age = min(x + t, 100)
            factor += v_mid[t] * alive * (1 - 0.5 * q[age]) * indexation[t]
            alive *= 1 - q[age]
        expected += float(initial.sel(age=x)) * pension * factor
    assert float(s.accrued_liability_current_pensioners) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("share", [0.0, 0.37, 1.0])
def test_past_service_credit_scales_service_and_keeps_people(share):
    rng = np.random.default_rng(3)
    active = rng.uniform(0, 100, (2, 30, 21))
    credited = credit_past_service(active, share)
    np.testing.assert_allclose(credited.sum(-1), active.sum(-1), rtol=1e-13)
    service = np.arange(21)
    np.testing.assert_allclose((credited * service).sum(-1), share * (active * service).sum(-1), rtol=1e-12)


def test_new_scheme_without_past_service_credit_pays_no_pension_before_vesting():
    demo = Valuation.demo()
    raw = {g: dict(x) for g, x in demo.raw.items()}
    for key in ("pensioners", "average_pension"):
        raw["initial"].pop(key)
    raw["initial"]["inactive"] = 0.0
    raw["initial"]["reserve"] = 0.0
    raw["scheme"]["past_service_credit"] = 0.0
    p = Valuation(**raw).run().projection
    vesting = int(demo.inputs.scheme["vesting_years"].values[0])
    assert float(p.pensioners_at_valuation.sum()) == 0
    assert float(p.new_pensioners.sel(benefit="old_age").isel(year=slice(0, vesting)).sum()) == 0
    assert float(p.new_pensioners.sel(benefit="old_age").isel(year=slice(vesting, None)).sum()) > 0
    assert float(p.withdrawal_grants.isel(year=slice(0, vesting)).sum()) > 0     # refunds instead
    assert float(p.new_pensioners.sel(benefit="invalidity").isel(year=0).sum()) == 0  # 5 years' vesting
