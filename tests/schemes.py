"""Builders of real Valuation objects for tests: random valid schemes (hypothesis) and the
stationary closed-form case. Small grids keep hypothesis fast."""

from __future__ import annotations

import numpy as np
import xarray as xr
from hypothesis import strategies as st

from actuary import Valuation, accrual_schedule
from actuary.inputs import phase_in

SEXES = ["male", "female"]


def _da(values, **coords):
    return xr.DataArray(np.asarray(values, dtype=float), dims=tuple(coords), coords=coords)


def random_scheme(seed: int, horizon: int = 12, max_age: int = 50, max_service: int = 12,
                  method: str = "residual", timing: str = "end", national: bool = True) -> dict:
    """Keyword groups of a random but valid valuation (every feature switched on: accrual changing by year,
    a random exit benefit, the salary scale at exact or January ages; ``national`` False: a scheme-only
    valuation, which needs the growth method)."""
    rng = np.random.default_rng(seed)
    t0 = 2020
    years = np.arange(t0, t0 + horizon)
    pop_ages = np.arange(max_age + 1)
    min_age = 15
    ages = np.arange(min_age, max_age + 1)
    service = np.arange(max_service + 1)
    max_ret = max_age - int(rng.integers(2, 6))
    nra = rng.integers(max_ret - 6, max_ret + 1, size=(horizon, 2)).astype(float)
    era = nra - rng.integers(0, 4, size=(horizon, 2))
    q = rng.uniform(0.001, 0.06, (2, pop_ages.size))
    q[:, -1] = 1.0
    fert = np.zeros(pop_ages.size)
    fert[18:36] = rng.uniform(0.02, 0.15, 18)
    settings = dict(valuation_year=t0, horizon=horizon, min_age=min_age, max_age=max_age, max_service=max_service,
                    max_retirement_age=max_ret, new_entrant_method=method, migration_timing=timing,
                    gap_horizons=[3, 5, 10])
    scheme = dict(
        contribution_rate=_da(rng.uniform(0.05, 0.25, horizon), year=years),
        collection_rate=_da(rng.uniform(0.8, 1.0, horizon), year=years),
        normal_retirement_age=_da(nra, year=years, sex=SEXES),
        early_retirement_age=_da(np.maximum(era, min_age + 1), year=years, sex=SEXES),
        vesting_years=float(rng.integers(0, 8)),
        accrual=_accrual_by_year(rng, years, max_service),
        early_retirement_reduction=rng.uniform(0, 0.08), late_retirement_increment=rng.uniform(0, 0.06),
        minimum_pension=rng.uniform(0, 5000), minimum_pension_indexation=str(rng.choice(["prices", "wages", "pensions", "none"])),
        maximum_pension=rng.uniform(30000, 80000), maximum_pension_indexation=str(rng.choice(["prices", "wages"])),
        reference_earnings_years=int(rng.integers(0, 6)), revaluation=str(rng.choice(["wages", "prices", "none"])),
        indexation_price_weight=rng.uniform(0, 1), indexation_wage_weight=rng.uniform(0, 1),
        indexation_floor=0.0, indexation_cap=0.08, indexation_lag=int(rng.integers(0, 2)),
        ceiling_multiple=rng.uniform(1.5, 4), floor_multiple=rng.uniform(0, 0.5), earnings_cv=rng.uniform(0, 0.8),
        admin_share_of_benefits=rng.uniform(0, 0.03),
        invalidity_vesting_years=float(rng.integers(0, 6)), invalidity_future_service=rng.uniform(0, 1),
        invalidity_conversion=str(rng.choice(["convert", "keep"])),
        widow_share=rng.uniform(0, 0.7), orphan_share=rng.uniform(0, 0.3), survivor_share_cap=rng.uniform(0.5, 1.2),
        orphan_age_limit=int(rng.integers(12, 22)), funeral_grant=rng.uniform(0, 3000),
        funeral_grant_indexation=str(rng.choice(["prices", "wages", "none"])),
        past_service_credit=float(rng.choice([0.0, rng.uniform(0, 1), 1.0])),
        admin_share_of_contributions=rng.uniform(0, 0.05),
        subsidy_share_of_benefits=_da(rng.uniform(0, 0.1, horizon), year=years),
        subsidy_share_of_wages=_da(rng.uniform(0, 0.01, horizon), year=years),
    )
    if rng.uniform() < 0.5:
        scheme.update(grant_type="refund")
    else:
        scheme.update(grant_type="multiple", grant_multiple=rng.uniform(0, 0.2))
    scheme["exit_benefit"] = str(rng.choice(["deferred", "refund", "none"]))
    if scheme["exit_benefit"] != "deferred" and rng.uniform() < 0.7:
        scheme["exit_vesting_years"] = float(rng.integers(0, max_service))
    if "refund" in (scheme["grant_type"], scheme["exit_benefit"]):
        scheme.update(refund_contribution_rate=_da(rng.uniform(0, 0.1, horizon), year=years),
                      refund_interest=_da(rng.uniform(0, 0.06, horizon), year=years))
    economy = dict(inflation=_da(rng.uniform(0, 0.05, horizon), year=years),
                   real_wage_growth=_da(rng.uniform(-0.01, 0.03, horizon), year=years),
                   nominal_return=_da(rng.uniform(0.0, 0.08, horizon), year=years),
                   unemployment_rate=_da(rng.uniform(0.02, 0.1, horizon), year=years),
                   productivity_growth=_da(rng.uniform(0, 0.02, horizon), year=years),
                   gdp=rng.uniform(1e9, 1e10), average_wage=rng.uniform(20000, 40000))
    demography = dict(population=_da(rng.uniform(1e3, 1e5, (2, pop_ages.size)), sex=SEXES, age=pop_ages),
                      fertility=_da(np.broadcast_to(fert, (horizon, pop_ages.size)), year=years, age=pop_ages),
                      sex_ratio_at_birth=1.05,
                      net_migration=_da(rng.uniform(-100, 500, (horizon, 2, pop_ages.size)), year=years, sex=SEXES,
                                        age=pop_ages),
                      mortality=_da(q, sex=SEXES, age=pop_ages),
                      mortality_improvement=_da(rng.uniform(0, 0.02, (2, pop_ages.size)), sex=SEXES, age=pop_ages))
    participation = rng.uniform(0.3, 0.95, (2, ages.size))
    participation[:, ages >= max_ret] = 0.0
    behaviour = dict(participation=_da(participation, sex=SEXES, age=ages),
                     coverage=_da(rng.uniform(0.3, 1.0, (horizon, 2, ages.size)), year=years, sex=SEXES, age=ages),
                     credit_density=_da(rng.uniform(0.5, 1.0, (2, ages.size)), sex=SEXES, age=ages),
                     contribution_density=_da(rng.uniform(0.5, 1.0, (2, ages.size)), sex=SEXES, age=ages),
                     salary_scale=_da(rng.uniform(10000, 60000, (2, ages.size)), sex=SEXES, age=ages),
                     salary_scale_ages=str(rng.choice(["january", "exact"])),
                     exit_rate=_da(rng.uniform(0, 0.1, (2, ages.size)), sex=SEXES, age=ages),
                     retirement_rate=_da(rng.uniform(0.1, 1.0, (2, ages.size)), sex=SEXES, age=ages),
                     active_mortality_factor=_da(rng.uniform(0.5, 1.2, (2, ages.size)), sex=SEXES, age=ages),
                     pensioner_mortality_factor=rng.uniform(0.7, 1.1),
                     invalidity_rate=_da(rng.uniform(0, 0.05, (2, ages.size)), sex=SEXES, age=ages),
                     reentry_rate=_da(rng.uniform(0, 0.2, (2, ages.size)), sex=SEXES, age=ages),
                     invalid_mortality_factor=rng.uniform(1.0, 3.0), survivor_mortality_factor=rng.uniform(0.8, 1.2),
                     remarriage_rate=_da(rng.uniform(0, 0.05, (2, pop_ages.size)), sex=SEXES, age=pop_ages),
                     probability_married=_da(rng.uniform(0, 0.9, (2, pop_ages.size)), sex=SEXES, age=pop_ages),
                     spouse_age_difference=_da(rng.uniform(-5, 5, (2, pop_ages.size)), sex=SEXES, age=pop_ages),
                     orphans=_da(rng.uniform(0, 2, (2, pop_ages.size)), sex=SEXES, age=pop_ages),
                     orphan_age=_da(rng.uniform(0, 20, (2, pop_ages.size)), sex=SEXES, age=pop_ages))
    if method == "growth":
        dist = rng.uniform(0, 1, (2, ages.size))
        dist[:, ages >= max_ret] = 0
        behaviour.update(entrants=rng.uniform(100, 5000), entrant_growth=_da(rng.uniform(-0.02, 0.03, horizon), year=years),
                         entrant_distribution=_da(dist / dist.sum(), sex=SEXES, age=ages))
    active = rng.uniform(0, 500, (2, ages.size, service.size))
    active[:, ages >= max_ret, :] = 0.0
    inactive = rng.uniform(0, 200, (2, ages.size, service.size))
    masks = [pop_ages >= max_ret - 8, (pop_ages >= 25) & (pop_ages < max_ret), pop_ages >= 30, pop_ages < 12]
    highs = [300, 50, 80, 20]
    pensioners = np.stack([np.where(m[None, :], rng.uniform(0, h, (2, pop_ages.size)), 0.0)
                           for m, h in zip(masks, highs)])
    amounts = np.where(pensioners > 0, rng.uniform(5000, 30000, pensioners.shape), 0.0)
    initial = dict(active=_da(active, sex=SEXES, age=ages, service=service),
                   inactive=_da(inactive, sex=SEXES, age=ages, service=service),
                   pensioners=_da(pensioners, benefit=["old_age", "invalidity", "widow", "orphan"], sex=SEXES,
                                  age=pop_ages),
                   average_pension=_da(amounts, benefit=["old_age", "invalidity", "widow", "orphan"], sex=SEXES,
                                       age=pop_ages),
                   reserve=rng.uniform(0, 1e9))
    _reform_options(rng, scheme, years, min_age, max_ret)
    if not national:  # scheme-only: no national population, participation, coverage or GDP
        settings["national_population"] = "no"
        del settings["migration_timing"]
        for key in ("population", "fertility", "sex_ratio_at_birth", "net_migration"):
            del demography[key]
        for key in ("gdp", "unemployment_rate", "productivity_growth"):
            del economy[key]
        for key in ("participation", "coverage"):
            del behaviour[key]
    return dict(settings=settings, scheme=scheme, economy=economy, demography=demography, behaviour=behaviour,
                initial=initial)


def _reform_options(rng, scheme, years, min_age, max_ret):
    """The reform laboratory's options, each switched on at random: provisions changing in a random year,
    retirement ages by cohort (fractional: a phase-in by months), a progressive formula with bend points,
    a flat-rate pension and the minimum-pension top-up paid by the state."""
    change = int(rng.integers(1, years.size))

    def stepped(before, after):
        return _da(np.where(years < years[change], before, after), year=years)

    for key in ("vesting_years", "reference_earnings_years", "ceiling_multiple", "floor_multiple",
                "early_retirement_reduction", "late_retirement_increment", "minimum_pension", "maximum_pension",
                "indexation_price_weight", "indexation_wage_weight", "invalidity_vesting_years"):
        if rng.uniform() < 0.5:
            value = scheme[key]
            other = {"vesting_years": float(rng.integers(0, 8)), "reference_earnings_years": int(rng.integers(0, 6)),
                     "invalidity_vesting_years": float(rng.integers(0, 6)),
                     "ceiling_multiple": rng.uniform(1.5, 4), "floor_multiple": rng.uniform(0, 0.5)}.get(
                key, value * rng.uniform(0.5, 1.5))
            if key.startswith("indexation_"):   # weights of [0, 1]
                other = min(other, 1.0)
            scheme[key] = stepped(value, other)
    if rng.uniform() < 0.5:  # ages by cohort, rising by whole months per cohort
        start = float(rng.integers(max_ret - 8, max_ret - 3))
        first = int(years[0] - start + rng.integers(-5, 5))
        normal = phase_in(start, first, float(rng.integers(1, 7)), float(max_ret))
        del scheme["normal_retirement_age"], scheme["early_retirement_age"]
        scheme["normal_retirement_age_by_cohort"] = normal
        if rng.uniform() < 0.5:
            scheme["early_retirement_age_by_cohort"] = np.maximum(normal - float(rng.integers(0, 4)), min_age + 1)
    if rng.uniform() < 0.5:
        bends = np.sort(rng.uniform(5000, 60000, int(rng.integers(1, 3))))
        scheme.update(bend_points=tuple(bends), bend_point_rates=tuple(rng.uniform(0.1, 1.2, bends.size + 1)),
                      bend_point_indexation=str(rng.choice(["prices", "wages", "pensions", "none"])))
    if rng.uniform() < 0.5:
        scheme.update(flat_pension=rng.uniform(0, 6000), flat_pension_service=float(rng.integers(0, 30)),
                      flat_pension_indexation=str(rng.choice(["prices", "wages", "pensions", "none"])))
    if rng.uniform() < 0.5:
        scheme["minimum_pension_financing"] = "state"
        scheme["minimum_pension"] = scheme["minimum_pension"] * 3   # binds more often


def _accrual_by_year(rng, years, max_service):
    """A piecewise-linear accrual schedule, changed (for service earned from then on) in a random year."""
    def schedule():
        return accrual_schedule([(0, rng.uniform(0, 0.02)), (5, rng.uniform(0.05, 0.3)),
                                 (max_service, rng.uniform(0.3, 0.8))], max_service)
    change = int(rng.integers(1, years.size))
    return xr.concat([schedule()] * change + [schedule()] * (years.size - change), dim="year") \
        .assign_coords(year=years).transpose("year", "service")


@st.composite
def schemes(draw, **kwargs):
    seed = draw(st.integers(0, 2**32 - 1))
    method = draw(st.sampled_from(["residual", "growth"]))
    timing = draw(st.sampled_from(["end", "even"]))
    national = method == "residual" or draw(st.booleans())
    return random_scheme(seed, method=method, timing=timing, national=national, **kwargs)


def valuation(groups: dict) -> Valuation:
    return Valuation(**groups)
