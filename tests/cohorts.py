"""One-cohort scheme-only valuations for closed-form tests: a cohort of actives at 1 January 2020 (or a
yearly cohort of entrants), a flat salary S, no mortality before 65 (Gompertz from 65), constant
wages and prices, reference earnings over one year without revaluation (so reference earnings are S),
2% accrual a year of service, normal retirement at 65. Tests change what they need."""

from __future__ import annotations

import numpy as np
import xarray as xr

from actuary import Valuation, accrual_schedule

SEXES = ["male", "female"]
T0, MIN_AGE, MAX_AGE, MAX_SERVICE = 2020, 20, 100, 60
SALARY = 30_000.0
ACCRUAL = 0.02
RETURN = 0.03
AGES = np.arange(MIN_AGE, MAX_AGE + 1)
ALL_AGES = np.arange(MAX_AGE + 1)


def da(values, **coords):
    return xr.DataArray(np.asarray(values, dtype=float), dims=tuple(coords), coords=coords)


def mortality():
    """q_x: 0 before 65, Gompertz from 65, 1 at the last age."""
    q = np.where(ALL_AGES < 65, 0.0, np.minimum(1.0, 0.01 * np.exp(0.1 * (ALL_AGES - 65))))
    q[-1] = 1.0
    return q


def linear_accrual(rate=ACCRUAL):
    return accrual_schedule([(0, 0.0), (MAX_SERVICE, MAX_SERVICE * rate)], MAX_SERVICE)


def cohort_valuation(age=40, service=10, heads=1000.0, horizon=30, entrants=0.0, **groups) -> Valuation:
    """``heads`` actives (half of each sex) aged ``age`` with ``service`` completed years at 1 January 2020;
    ``entrants`` new entrants a year at age 20 (end of the entry year); ``groups`` update the inputs."""
    active = np.zeros((2, AGES.size, MAX_SERVICE + 1))
    active[:, age - MIN_AGE, service] = heads / 2
    raw = dict(
        settings=dict(valuation_year=T0, horizon=horizon, min_age=MIN_AGE, max_age=MAX_AGE, max_service=MAX_SERVICE,
                      max_retirement_age=70, national_population="no", new_entrant_method="growth"),
        scheme=dict(contribution_rate=0.1, normal_retirement_age=65, vesting_years=10, accrual=linear_accrual(),
                    reference_earnings_years=1, revaluation="none", indexation_price_weight=1.0,
                    invalidity_vesting_years=5),
        economy=dict(inflation=0.0, real_wage_growth=0.0, nominal_return=RETURN, average_wage=SALARY),
        demography=dict(mortality=da(np.tile(mortality(), (2, 1)), sex=SEXES, age=ALL_AGES)),
        behaviour=dict(salary_scale=da(np.where(AGES < 70, SALARY, 0.0), age=AGES), retirement_rate=1.0,
                       entrants=entrants, entrant_distribution=da(np.where(AGES == MIN_AGE, 0.5, 0.0), age=AGES)),
        initial=dict(active=da(active, sex=SEXES, age=AGES, service=np.arange(MAX_SERVICE + 1))),
    )
    for group, values in groups.items():
        raw[group].update(values)
    return Valuation(**raw)


def by_age(values: dict, default=0.0, ages=AGES):
    """A schedule by age: ``values`` {age: value}, ``default`` elsewhere."""
    return da([values.get(int(x), default) for x in ages], age=ages)
