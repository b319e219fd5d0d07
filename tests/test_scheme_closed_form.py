"""Closed form: a stationary scheme's PAYG cost rate equals
(pensioners / actives) x (average pension / average insurable salary), both factors computed here
from the life table, the salary scale and the accrual rule with the engine's documented timing
(leavers and new entrants count half a year; deaths of pensioners at mid-year).

Setting: no mortality before the retirement age R = 65 (so the population below R is stationary
at the births of each year), Gompertz mortality after it; entry at 20 with full density, no exits,
everyone retires at R with 45 years of service (entry at mid-year at exact age 20, retirement at mid-year
at exact age 65: the half years of entry and award are credited); constant wage index, no indexation, no ceiling;
old-age benefits only; the initial pensioners are the stationary stock.
"""

import numpy as np
import pytest
import xarray as xr

from actuary import Valuation, accrual_schedule

SEXES = ["male", "female"]
R, ENTRY, OMEGA, COVERAGE, SRB = 65, 20, 100, 0.5, 1.05
BIRTHS = 100_000.0
ACCRUAL = 0.02


def _q():
    ages = np.arange(OMEGA + 1)
    q = np.where(ages < R, 0.0, np.minimum(1.0, 0.01 * np.exp(0.1 * (ages - R))))
    q[-1] = 1.0
    return q


def _salary(ages):
    return 20_000 + 600.0 * (ages - ENTRY)


def stationary_pension():
    """accrual x exact service x salary: 45 years from mid-year at exact age 20 to mid-year at exact age 65,
    on the last year's salary (reference earnings over one year, no revaluation)."""
    return ACCRUAL * (R - ENTRY) * _salary(R - 1)


def stationary_valuation(horizon=30, contribution_rate=0.1):
    q = _q()
    pop_ages = np.arange(OMEGA + 1)
    ages = np.arange(ENTRY, OMEGA + 1)
    births = {"male": BIRTHS * SRB / (1 + SRB), "female": BIRTHS / (1 + SRB)}
    base = np.array([[births[s] if x < R else births[s] * np.prod(1 - q[R:x]) for x in pop_ages] for s in SEXES])
    fert = np.where((pop_ages >= 25) & (pop_ages < 35), (1 + SRB) / 10, 0.0)
    active = np.zeros((2, ages.size, 61))
    pensioners = np.zeros((4, 2, ages.size))
    pension = stationary_pension()
    for i, s in enumerate(SEXES):
        for x in range(ENTRY, R):
            active[i, x - ENTRY, x - ENTRY] = COVERAGE * births[s]
        stock = COVERAGE * births[s]
        for x in range(R, OMEGA + 1):
            pensioners[0, i, x - ENTRY] = stock
            stock *= 1 - q[x]
    def da(values, **coords):
        return xr.DataArray(values, dims=tuple(coords), coords=coords)
    participation = np.where(ages < R, 1.0, 0.0)
    return Valuation(
        settings=dict(valuation_year=2000, horizon=horizon, min_age=ENTRY, max_age=OMEGA, max_service=60,
                      max_retirement_age=70),
        scheme=dict(contribution_rate=contribution_rate, normal_retirement_age=R, vesting_years=10,
                    accrual=accrual_schedule([(0, 0.0), (60, 60 * ACCRUAL)], 60), reference_earnings_years=1,
                    revaluation="none", indexation_price_weight=1.0),
        economy=dict(inflation=0.0, real_wage_growth=0.0, nominal_return=0.03, gdp=1e10, average_wage=30_000),
        demography=dict(population=da(base, sex=SEXES, age=pop_ages), fertility=da(fert, age=pop_ages),
                        sex_ratio_at_birth=SRB, mortality=da(np.tile(q, (2, 1)), sex=SEXES, age=pop_ages)),
        behaviour=dict(participation=da(participation, age=ages), coverage=COVERAGE,
                       salary_scale=da(_salary(ages) * (ages < R), age=ages), retirement_rate=1.0),
        initial=dict(active=da(active, sex=SEXES, age=ages, service=np.arange(61)),
                     pensioners=da(pensioners, benefit=["old_age", "invalidity", "widow", "orphan"], sex=SEXES,
                                   age=ages),
                     average_pension=da(np.where(pensioners > 0, pension, 0.0),
                                        benefit=["old_age", "invalidity", "widow", "orphan"], sex=SEXES, age=ages)),
    )


def closed_form_paygo():
    q = _q()
    insured = COVERAGE * BIRTHS  # both sexes together: same rates for both
    # actives exposed: ages 20..63 all year; the age-64 cohort retires at mid-year; entrants join at mid-year
    active_exposure = insured * (R - 1 - ENTRY) + 0.5 * insured + 0.5 * insured
    wage_bill = insured * _salary(np.arange(ENTRY, R - 1)).sum() + 0.5 * insured * _salary(R - 1) \
        + 0.5 * insured * _salary(ENTRY)
    # pensioners exposed: stationary stock l_x / l_R, deaths at mid-year, new awards for half a year
    survivors = insured * np.concatenate([[1.0], np.cumprod(1 - q[R:OMEGA])])
    pensioner_exposure = (survivors * (1 - 0.5 * q[R:OMEGA + 1])).sum() + 0.5 * insured
    average_pension = stationary_pension()
    average_salary = wage_bill / active_exposure
    return (pensioner_exposure / active_exposure) * (average_pension / average_salary)


@pytest.fixture(scope="module")
def stationary():
    return stationary_valuation().run()


def test_paygo_equals_closed_form_every_year(stationary):
    expected = closed_form_paygo()
    assert 0.05 < expected < 1.0
    np.testing.assert_allclose(stationary.projection.paygo_cost_rate, expected, rtol=1e-10)


def test_stationary_scheme_stays_stationary(stationary):
    p = stationary.projection
    np.testing.assert_allclose(p.active, p.active_at_valuation.broadcast_like(p.active), rtol=1e-10, atol=1e-6)
    np.testing.assert_allclose(p.pensioners_by_age, p.pensioners_at_valuation.broadcast_like(p.pensioners_by_age),
                               rtol=1e-10, atol=1e-6)
    assert float(p.new_entrants.sum(["sex", "age"]).std()) < 1e-6


def test_reference_engine_matches_closed_form():
    result = stationary_valuation(horizon=5).run("reference")
    np.testing.assert_allclose(result.projection.paygo_cost_rate, closed_form_paygo(), rtol=1e-10)


@pytest.mark.parametrize("cap", [0.5, 0.98, 2.0])
def test_survivor_shares_are_capped(cap):
    """Every pensioner has the same pension P (stationary, no indexation), so the survivors' awards of
    the first year are min(1, cap / total shares) x total shares x P x deaths of pensioners."""
    married, orphans, widow_share, orphan_share = 0.8, 2.0, 0.6, 0.25
    v = stationary_valuation(horizon=2).replace(
        scheme={"widow_share": widow_share, "orphan_share": orphan_share, "survivor_share_cap": cap},
        behaviour={"probability_married": married, "orphans": orphans, "orphan_age": 10.0})
    p = v.run().projection.sel(year=2000)
    pension = stationary_pension()
    total = married * widow_share + orphans * orphan_share
    deaths = float(p.pensioner_deaths.sel(benefit="old_age").sum())
    awarded = float(p.new_pension_amount.sel(benefit=["widow", "orphan"]).sum())
    assert awarded == pytest.approx(min(1.0, cap / total) * total * pension * deaths, rel=1e-12)
    widows = float(p.new_pensioners.sel(benefit="widow").sum())
    assert widows == pytest.approx(married * deaths, rel=1e-12)
    # widows are of the other sex, orphans at their mean age, half of each sex
    assert float(p.new_pensioners.sel(benefit="orphan", age=10).sum()) == pytest.approx(orphans * deaths, rel=1e-12)
