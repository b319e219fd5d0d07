"""Adequacy for typical workers: the pension of stylized careers under the valuation's own benefit rules.

A stylized worker enters at mid-year at ``settings.adequacy_entry_age`` and earns m times the average wage
every year (m = 0.5, 1, 2: full careers; and m = 1 with credits and contributions at the density
``settings.adequacy_density``: a career with gaps). The worker retiring in year R does so at the normal
retirement age in force for their cohort (the first whole age reached by the end of R at or above it), at
mid-year, after the same mid-year service credits as the projection's insured: d (R - entry year) years for a
density d. The pension is computed with the projection's own functions: the units by year of accrual
(:func:`actuary.kernels.scheme.accrual_gain`, each year's schedule; years before the valuation date at its
first schedule, as the valuation's past service), insurable earnings within the floor and ceiling of each
year, reference earnings over the period of the award year revalued as in the projection
(:func:`actuary.kernels.series.reference_earnings_path`), the late-retirement increment for an age above a
fractional normal age, and the award formula :func:`actuary.kernels.scheme.award_amount` (flat-rate part,
bend points, minimum and maximum pensions), with the vesting service of the award year (no pension below it).

Measures by (career, sex, retirement year):
- ``replacement_rate``: gross replacement rate at award, the annual pension / the worker's earnings in the
  year of retirement (m x average wage);
- ``benefit_ratio_10`` and ``benefit_ratio_20``: the pension after 10 and 20 years of payment (indexed each
  January by the pension indexation) / the average wage of that year; past the horizon, the indexation and
  wage growth are those of the last projection year.
"""

from __future__ import annotations

import numba
import numpy as np
import xarray as xr

from .inputs import retirement_age_grid
from .kernels.scheme import accrual_gain, award_amount, retirement_adjustment
from . import series
from .kernels.series import reference_earnings_path
from .projection import build_kernel_inputs, held_past_horizon

CAREERS = ("0.5x average wage", "1x average wage", "2x average wage", "1x average wage with gaps")
MULTIPLES = np.array([0.5, 1.0, 2.0, 1.0])
YEARS_OF_PAYMENT = (10, 20)


@numba.njit(cache=True)
def career_units(accrual, first_year, entry, retire, density):
    """(units, service) of a career credited ``density`` a year from mid-year ``entry`` to mid-year ``retire``
    (calendar years, indices into ``accrual``'s rows offset by ``first_year``: the row of year u is
    max(u - first_year, 0)), with the accrual schedule of each year of accrual."""
    top = accrual.shape[1] - 1
    slopes = np.zeros(accrual.shape[1] + 1)
    units = 0.0
    service = 0.0
    for year in range(entry, retire + 1):
        row = year - first_year
        if row < 0:
            row = 0
        for j in range(top):
            slopes[j] = accrual[row, j + 1] - accrual[row, j]
        slopes[top] = 0.0
        credit = density if entry < year < retire else 0.5 * density
        units += accrual_gain(slopes, service, credit)
        service += credit
    return units, service


def stylized_careers(valuation) -> xr.Dataset:
    """Replacement rates at award and benefit ratios after 10 and 20 years of payment of the stylized careers,
    by retirement year (see the module docstring)."""
    inputs = valuation.inputs
    settings, sch = inputs.settings, inputs.scheme
    years = inputs.coords["year"]
    n_years = years.size
    extra = max(YEARS_OF_PAYMENT)
    held = held_past_horizon(inputs, extra)
    kin = build_kernel_inputs(held, population=False)
    ins, derived = kin.insured, kin.series
    wages = derived["wages"]
    average_wage = derived["average_wage"]
    beta = derived["beta"]
    lo = settings["min_age"]
    ages = inputs.coords["scheme_age"]
    entry_age = settings["adequacy_entry_age"]
    densities = np.array([1.0, 1.0, 1.0, settings["adequacy_density"]])
    normal = retirement_age_grid(sch, "normal", years, ages, settings["max_retirement_age"])
    accrual = ins["accrual"]
    total = n_years + extra
    floor_multiple, ceiling_multiple = (np.concatenate([sch[k].values, np.repeat(sch[k].values[-1:], extra)])
                                        for k in ("floor_multiple", "ceiling_multiple"))
    index = {"wages": wages, "prices": derived["prices"], "none": np.ones(total)}[sch["revaluation"]]
    history = derived["history"]   # the economic history before t0 (actuary.projection.economic_history)
    past_wages = series.past_index(derived["wage_growth"][0], history["wage_growth"])
    past_revaluation = {"wages": past_wages,
                        "prices": series.past_index(float(held.economy["inflation"].values[0]), history["inflation"]),
                        "none": np.ones(past_wages.size)}[sch["revaluation"]]
    reference_years = np.concatenate([sch["reference_earnings_years"].values,
                                      np.repeat(sch["reference_earnings_years"].values[-1:], extra)])
    shape = (len(CAREERS), 2, n_years)
    out = {name: np.full(shape, np.nan) for name in ("pension_at_award", "replacement_rate", "benefit_ratio_10",
                                                    "benefit_ratio_20", "retirement_age", "service")}
    for c, (multiple, density) in enumerate(zip(MULTIPLES, densities)):
        # insurable earnings of the career by (year, age): the same at every age (the worker's own earnings)
        earnings = np.clip(multiple, floor_multiple, ceiling_multiple) * average_wage
        insurable = np.ascontiguousarray(np.broadcast_to(earnings[:, None, None], (total, 2, ages.size)))
        reference = np.empty_like(insurable)
        reference_earnings_path(insurable, np.ascontiguousarray(index), np.ascontiguousarray(reference_years, float),
                                past_wages, np.ascontiguousarray(past_revaluation), reference)
        for s in range(2):
            for t in range(n_years):
                # the first whole age reached by the end of the year at or above the cohort's normal age
                reached = lo + np.arange(ages.size) + 1.0
                eligible = np.flatnonzero(reached >= normal[t, s])
                if not eligible.size:
                    continue
                a = int(eligible[0])
                age = reached[a]
                retire = int(years[t])
                entry = retire - int(age - entry_age)
                units, service = career_units(accrual, int(years[0]), entry, retire, density)
                if service < sch["vesting_years"].values[t]:
                    pension = 0.0
                else:
                    adjustment = retirement_adjustment(age, normal[t, s, a], sch["early_retirement_reduction"].values[t],
                                                       sch["late_retirement_increment"].values[t])
                    pension, _ = award_amount(units, service, reference[t, s, a], adjustment, ins["flat"][t],
                                              ins["flat_service"], ins["bends"][t], ins["bend_rates"],
                                              ins["minimum"][t], ins["maximum"][t])
                out["pension_at_award"][c, s, t] = pension
                out["replacement_rate"][c, s, t] = pension / (multiple * average_wage[t])
                out["retirement_age"][c, s, t] = age
                out["service"][c, s, t] = service
                for k in YEARS_OF_PAYMENT:
                    indexed = pension * np.prod(1.0 + beta[t + 1:t + k + 1])
                    out[f"benefit_ratio_{k}"][c, s, t] = indexed / average_wage[t + k]
    descriptions = {
        "pension_at_award": ("currency a year", "annual pension awarded to the stylized worker retiring in the year"),
        "replacement_rate": ("share", "gross replacement rate at award: pension / the worker's earnings that year"),
        "benefit_ratio_10": ("share", "pension after 10 years of payment (indexed) / the average wage of that year"),
        "benefit_ratio_20": ("share", "pension after 20 years of payment (indexed) / the average wage of that year"),
        "retirement_age": ("years", "age reached in the year of retirement (the normal age, in whole years)"),
        "service": ("years", "credited service at award"),
    }
    return xr.Dataset({name: (("career", "sex", "year"), values, {"units": descriptions[name][0],
                                                                  "description": descriptions[name][1]})
                       for name, values in out.items()},
                      coords={"career": list(CAREERS), "sex": ["male", "female"], "year": years},
                      attrs={"entry_age": entry_age, "density_with_gaps": float(densities[-1])})
