"""Closed forms on one cohort: service credited at the award (mid-year convention), accrual by year of
accrual, the three exit benefits, remarrying widows paid half a year, the salary scale at exact ages."""

import numpy as np
import pytest
import xarray as xr

from actuary import accrual_schedule
from actuary.series import salary_scale_by_cell

from .cohorts import ACCRUAL, AGES, MAX_SERVICE, RETURN, SALARY, T0, by_age, cohort_valuation, da, linear_accrual


def _awards(p, benefit, year):
    return (float(p.new_pensioners.sel(benefit=benefit, year=year).sum()),
            float(p.new_pension_amount.sel(benefit=benefit, year=year).sum()))


@pytest.mark.parametrize("density", [1.0, 0.8])
def test_entrant_retiring_at_65_has_45_years_of_service(density):
    """Entrants join at mid-year at exact age 20 (age 20 at the end of the year) and retire at mid-year at
    exact age 65: 0.5 + 44 + 0.5 years at the credit density d, so the first cohort's pension is
    accrual x 45 d x salary (linear accrual, so the expected units are accrual x expected service)."""
    entrants = 1000.0
    v = cohort_valuation(heads=0.0, entrants=entrants, horizon=46,
                         scheme={"vesting_years": 0.0}, behaviour={"credit_density": density})
    p = v.run().projection
    count, amount = _awards(p, "old_age", T0 + 45)
    assert count == pytest.approx(entrants, rel=1e-12)
    assert amount == pytest.approx(entrants * ACCRUAL * 45 * density * SALARY, rel=1e-12)
    assert _awards(p, "old_age", T0 + 44) == (0.0, 0.0)


def test_old_age_invalidity_survivors_and_grants_credit_the_award_year():
    """A cohort aged 40 with 10 completed years (10.5 exact years at 1 January 2020): an old-age pension
    at 65 (2044) on 10.5 + 24 + 0.5 = 35 years; invalidity and survivors' pensions of deaths at age 49
    (2029) on 10.5 + 9 + 0.5 = 20 years; a grant (not vested) of multiple x salary x 35 years."""
    heads, q, i, widow = 1000.0, 0.01, 0.05, 0.5
    mortality = np.where(np.arange(101) == 49, q, 0.0)
    v = cohort_valuation(heads=heads, behaviour={"invalidity_rate": by_age({49: i}), "probability_married": 1.0,
                                                  "active_mortality_factor": 1.0},
                         scheme={"widow_share": widow})
    raw = {g: dict(x) for g, x in v.raw.items()}
    raw["demography"]["mortality"] = v.inputs.demography["mortality"] + da(mortality, age=np.arange(101))
    v = type(v)(**raw)
    p = v.run().projection
    alive = heads * (1 - q) * (1 - i)
    assert _awards(p, "old_age", 2044)[1] == pytest.approx(alive * ACCRUAL * 35 * SALARY, rel=1e-12)
    assert _awards(p, "invalidity", 2029)[1] == pytest.approx(heads * (1 - q) * i * ACCRUAL * 20 * SALARY, rel=1e-12)
    # widow(er)s of the actives dying in service, and of the new invalidity pensioners dying in their
    # first half year (half the year's mortality)
    deaths = heads * q + heads * (1 - q) * i * 0.5 * q
    assert _awards(p, "widow", 2029)[1] == pytest.approx(deaths * widow * ACCRUAL * 20 * SALARY, rel=1e-12)
    multiple = 0.1
    grants = cohort_valuation(heads=heads, scheme={"vesting_years": 40.0, "grant_multiple": multiple}).run()
    assert float(grants.projection.withdrawal_grants.sel(year=2044)) == pytest.approx(
        heads * multiple * SALARY * 35, rel=1e-12)


def test_accrual_change_applies_to_service_earned_from_its_year():
    """2% a year to 2029, 1% from 2030: the cohort aged 40 with 10.5 years at 1 January 2020 retiring in
    2044 keeps 2% on its 10.5 past years and the 10 years 2020-2029, and earns 1% on the 14.5 years
    from 2030 (2030-2043 and half of 2044): 0.02 x 20.5 + 0.01 x 14.5 of the salary."""
    years = np.arange(T0, T0 + 30)
    accrual = xr.concat([linear_accrual(0.02) if y < 2030 else linear_accrual(0.01) for y in years], "year")
    accrual = accrual.assign_coords(year=years).transpose("year", "service")
    p = cohort_valuation(scheme={"accrual": accrual}).run().projection
    count, amount = _awards(p, "old_age", 2044)
    assert amount / count == pytest.approx((0.02 * 20.5 + 0.01 * 14.5) * SALARY, rel=1e-12)
    # a nonlinear schedule: 20% for the first 15 years then 1.5% a year, replaced from 2030 by 1% a year
    # beyond 15 years: service earned before 2030 keeps the old schedule's increments
    old = accrual_schedule([(0, 0.0), (15, 0.20), (MAX_SERVICE, 0.20 + 0.015 * (MAX_SERVICE - 15))], MAX_SERVICE)
    new = accrual_schedule([(0, 0.0), (15, 0.20), (MAX_SERVICE, 0.20 + 0.010 * (MAX_SERVICE - 15))], MAX_SERVICE)
    accrual = xr.concat([old if y < 2030 else new for y in years], "year").assign_coords(year=years)
    p = cohort_valuation(scheme={"accrual": accrual.transpose("year", "service")}).run().projection
    count, amount = _awards(p, "old_age", 2044)
    units = 0.20 + 0.015 * (20.5 - 15) + 0.010 * 14.5   # 10.5 -> 20.5 years at the old rates, then the new
    assert amount / count == pytest.approx(units * SALARY, rel=1e-12)


EXIT_RATE, REFUND_RATE = 0.2, 0.05


def _exits(benefit, **scheme):
    """The cohort aged 40 with 10 completed years; 20% leave during 2020 (at mid-year), nobody after."""
    scheme = {"exit_benefit": benefit, **scheme}
    if benefit == "refund":
        scheme["refund_contribution_rate"] = REFUND_RATE
    return cohort_valuation(heads=1000.0, scheme=scheme, behaviour={"exit_rate": by_age({40: EXIT_RATE})}).run()


def test_exit_with_deferred_rights():
    """Leavers keep 10.5 + 0.5 = 11 years and take a deferred pension at 65 (2044) on them."""
    p = _exits("deferred").projection
    leavers = 1000.0 * EXIT_RATE
    assert float(p.inactive.sel(year=2020).sum()) == pytest.approx(leavers, rel=1e-12)
    assert float(p.withdrawals.sum()) == 0.0
    amount = _awards(p, "old_age", 2044)[1]
    assert amount == pytest.approx(((1000.0 - leavers) * 35 + leavers * 11) * ACCRUAL * SALARY, rel=1e-12)


def test_exit_with_refund_of_contributions():
    """Leavers leave the scheme with their balance at mid-year: the opening balance (exact service x
    refund rate x salary, 10.5 r S) with half a year's interest, plus the half year's contributions."""
    result = _exits("refund")
    p = result.projection
    leavers = 1000.0 * EXIT_RATE
    per_head = 10.5 * REFUND_RATE * SALARY * (1 + RETURN) ** 0.5 + 0.5 * REFUND_RATE * SALARY
    assert float(p.exit_refunds.sel(year=2020)) == pytest.approx(leavers * per_head, rel=1e-12)
    assert float(p.withdrawal_grants.sel(year=2020)) == pytest.approx(leavers * per_head, rel=1e-12)
    assert float(p.withdrawals.sum()) == pytest.approx(leavers, rel=1e-12)
    assert float(p.inactive.sum()) == 0.0 and float(p.exit_refunds.sel(year=slice(2021, None)).sum()) == 0.0
    assert _awards(p, "old_age", 2044)[1] == pytest.approx((1000.0 - leavers) * 35 * ACCRUAL * SALARY, rel=1e-12)
    # exit vesting: with 10 completed years the leavers keep deferred rights, with 11 required they do not
    kept = _exits("refund", exit_vesting_years=10.0).projection
    assert float(kept.withdrawals.sum()) == 0.0 and float(kept.exit_refunds.sum()) == 0.0
    assert _awards(kept, "old_age", 2044)[1] == pytest.approx(_awards(_exits("deferred").projection, "old_age",
                                                                      2044)[1], rel=1e-12)
    refunded = _exits("refund", exit_vesting_years=11.0).projection
    np.testing.assert_allclose(refunded.exit_refunds, p.exit_refunds, rtol=1e-13)


def test_exit_forfeiting_rights():
    """Leavers leave with nothing: no inactive insured, no refund, no pension."""
    p = _exits("none").projection
    leavers = 1000.0 * EXIT_RATE
    assert float(p.withdrawals.sel(year=2020).sum()) == pytest.approx(leavers, rel=1e-12)
    assert float(p.inactive.sum()) == 0.0 and float(p.grants.sum()) == 0.0
    assert float(p.active.sel(year=2020).sum()) == pytest.approx(1000.0 - leavers, rel=1e-12)
    assert _awards(p, "old_age", 2044)[1] == pytest.approx((1000.0 - leavers) * 35 * ACCRUAL * SALARY, rel=1e-12)


def test_remarrying_widows_are_paid_half_a_year():
    """Widow(er)s in payment: deaths at mid-year (half a year paid), survivors remarrying at mid-year
    (half a year paid): paid = W (1 - q/2 - rho (1 - q) / 2) each."""
    rho, pension = 0.1, 8_000.0
    count = by_age({30: 100.0, 70: 300.0}, ages=np.arange(101))
    benefits = ["old_age", "invalidity", "widow", "orphan"]
    pensioners = xr.concat([xr.zeros_like(count), xr.zeros_like(count), count, xr.zeros_like(count)], "benefit")
    pensioners = pensioners.assign_coords(benefit=benefits).expand_dims(sex=["male", "female"]) / 2
    v = cohort_valuation(horizon=2, behaviour={"remarriage_rate": rho},
                         initial={"pensioners": pensioners, "average_pension": pension})
    p = v.run().projection
    q = v.inputs.demography["mortality"].sel(sex="male")
    expected = sum(float(count.sel(age=x)) * pension * (1 - 0.5 * float(q.sel(age=x)) - 0.5 * rho
                                                           * (1 - float(q.sel(age=x)))) for x in (30, 70))
    assert float(p.benefit_expenditure_by_benefit.sel(benefit="widow", year=T0)) == pytest.approx(expected, rel=1e-12)
    remarried = sum(float(count.sel(age=x)) * (1 - float(q.sel(age=x))) * rho for x in (30, 70))
    assert float(p.pensioner_exits.sel(benefit="widow", year=T0).sum()) == pytest.approx(remarried, rel=1e-12)


def test_salary_scale_at_exact_ages_is_averaged_over_each_cell():
    """Members of the cell aged x at 1 January are aged x + u + τ during the year (u, τ uniform on
    [0, 1)): the cell's salary is the double average of the scale, interpolated linearly between exact
    ages, computed here with the midpoint rule (and the scale held after it stops)."""
    exact = np.array([20_000, 26_000, 35_000, 38_000, 30_000, 0.0, 0.0])
    grid = (np.arange(400) + 0.5) / 400

    def scale(age):
        last = np.flatnonzero(exact > 0)[-1]
        return np.interp(np.minimum(age, last), np.arange(exact.size), exact)

    expected = [scale(x + grid[:, None] + grid[None, :]).mean() if exact[x] > 0 else 0.0 for x in range(exact.size)]
    np.testing.assert_allclose(salary_scale_by_cell(exact), expected, rtol=1e-5)
    # exact for a scale linear between whole ages: the midpoint rule has an O(h^2) error only at the kinks
    np.testing.assert_allclose(salary_scale_by_cell(exact)[:3], (exact[:3] + 4 * exact[1:4] + exact[2:5]) / 6,
                               rtol=1e-15)
    # the engine converts it when told the scale is at exact ages
    rising = da(20_000 + 500.0 * (AGES - 20) ** 1.5, age=AGES)
    january = cohort_valuation(behaviour={"salary_scale": rising}).run().projection
    converted = cohort_valuation(behaviour={"salary_scale": rising, "salary_scale_ages": "exact"}).run().projection
    np.testing.assert_allclose(january.average_insurable_salary.sel(year=T0, sex="male", age=AGES), rising)
    np.testing.assert_allclose(converted.average_insurable_salary.sel(year=T0, sex="male", age=AGES),
                               salary_scale_by_cell(rising.values), rtol=1e-15)
