"""Population projection by single age and sex: the cohort-component method of the UN
Population Division (docs/methodology.md §2).

    P(x+1, t+1) = P(x, t) S_{x+1}(t);   P(ω, t+1) = (P(ω-1, t) + P(ω, t)) S_ω(t)
    B_t = sum_x f_x(t) (F(x, t) + F(x, t+1)) / 2     (F before end-of-year migration)
    P(0, t+1) = B_t(sex) S_0(t);   male births = B_t srb / (1 + srb)
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from . import validation as check
from .kernels.population import project_population_kernel
from .lifetable import (  # noqa: F401  (re-exported: the life-table helpers of the demography API)
    infant_separation_factor,
    life_table_from_mx,
    life_table_from_qx,
    project_mortality,
    survival_ratios_from_mx,
    survival_ratios_from_qx,
)
from .reference.population import project_population_reference

MIGRATION_TIMINGS = ("end", "even")
__all__ = ["project_population", "population_inputs", "infant_separation_factor", "life_table_from_mx",
           "life_table_from_qx", "project_mortality", "survival_ratios_from_mx", "survival_ratios_from_qx"]


def population_inputs(base, survival, fertility, sex_ratio_at_birth, net_migration, migration_timing="end"):
    """Validate the inputs of :func:`project_population` and return them as kernel arrays.

    The projection years are the years of ``survival``; the base population is at 1 January of
    the first of them. Fertility may cover a contiguous sub-range of ages (zero elsewhere).
    """
    if migration_timing not in MIGRATION_TIMINGS:
        raise check.InputError(
            f"Input 'migration_timing': '{migration_timing}' is not a timing; expected one of {MIGRATION_TIMINGS}."
        )
    base = check.labelled("base", base, ("sex", "age"))
    base = check.sexes("base", base)
    ages = check.integer_steps("base", base, "age", start=0)
    if ages.size < 3:
        raise check.InputError(f"Input 'base' has ages {ages.tolist()}; need at least ages 0, 1 and an open group.")
    check.nonnegative("base", base, "a population count")

    survival = check.sexes("survival", check.labelled("survival", survival, ("year", "sex", "age")))
    years = check.integer_steps("survival", survival, "year")
    check.same_labels("survival", survival, "age", ages, "'base'")
    check.probability("survival", survival, "a survival ratio")

    fertility = check.labelled("fertility", fertility, ("year", "age"))
    fertility = check.covers_years("fertility", fertility, years)
    f_ages = check.integer_steps("fertility", fertility, "age")
    if f_ages[0] < 0 or f_ages[-1] > ages[-1]:
        raise check.InputError(
            f"Input 'fertility': ages {f_ages[0]}..{f_ages[-1]} fall outside the population ages 0..{ages[-1]}."
        )
    check.nonnegative("fertility", fertility, "a fertility rate (births per woman)")
    if f_ages[0] == 0 and np.any(fertility.sel(age=0).values > 0):
        raise check.InputError("Input 'fertility' at age=0: fertility rates at age 0 must be 0.")

    srb = check.labelled("sex_ratio_at_birth", sex_ratio_at_birth, ("year",))
    srb = check.covers_years("sex_ratio_at_birth", srb, years)
    check.positive("sex_ratio_at_birth", srb, "a sex ratio (male births per female birth)")

    migration = check.sexes("net_migration", check.labelled("net_migration", net_migration, ("year", "sex", "age")))
    migration = check.covers_years("net_migration", migration, years)
    check.same_labels("net_migration", migration, "age", ages, "'base'")
    check.finite("net_migration", migration)

    fert = np.zeros((years.size, ages.size))
    fert[:, f_ages[0]:f_ages[-1] + 1] = fertility.values
    srb_values = srb.values.astype(float)
    arrays = dict(
        base=np.ascontiguousarray(base.values, dtype=float),
        survival=np.ascontiguousarray(survival.values, dtype=float),
        fertility=fert,
        male_share=srb_values / (1.0 + srb_values),
        migration=np.ascontiguousarray(migration.values, dtype=float),
        even=migration_timing == "even",
    )
    return arrays, years, ages


def _to_dataset(population, births, deaths, years, ages, migration_timing):
    all_years = np.append(years, years[-1] + 1)
    pad = np.full((1, 2), np.nan)
    return xr.Dataset(
        {
            "population": (("year", "sex", "age"), population, {
                "long_name": "population at 1 January", "units": "persons"}),
            "births": (("year", "sex"), np.concatenate([births, pad]), {
                "long_name": "births during the year", "units": "persons"}),
            "deaths": (("year", "sex"), np.concatenate([deaths, pad]), {
                "long_name": "deaths during the year (including deaths of births and of start-of-year migrants)",
                "units": "persons"}),
        },
        coords={"year": all_years, "sex": list(check.SEXES), "age": ages},
        attrs={
            "method": "cohort-component (UN WPP convention)",
            "migration_timing": migration_timing,
            "open_age_group": int(ages[-1]),
            "note": "population is the stock at 1 January of 'year'; births and deaths are the flows of "
                    "the year starting then (none after the last projection year)",
        },
    )


def project_population(base, survival, fertility, sex_ratio_at_birth, net_migration,
                       migration_timing="end", engine="kernel") -> xr.Dataset:
    """Project a population by sex and single age with the cohort-component method.

    Parameters
    ----------
    base : DataArray (sex, age)
        Population at 1 January of the base year (the first year of ``survival``); the last age
        is the open group ω+.
    survival : DataArray (year, sex, age)
        Survival ratios S_x for each projection year (see :mod:`actuary.lifetable`).
    fertility : DataArray (year, age)
        Age-specific fertility rates (births per woman per year).
    sex_ratio_at_birth : DataArray (year)
        Male births per female birth.
    net_migration : DataArray (year, sex, age)
        Net migrants during the year.
    migration_timing : "end" or "even"
        "end": migrants are added at the end of the year; "even": half at the start (by age at the
        start, exposed to the year's mortality and fertility) and half at the end.
    engine : "kernel" (Numba, default) or "reference" (plain NumPy, same equations)

    Returns
    -------
    Dataset with ``population[year, sex, age]`` (years base..base+H, base included),
    ``births[year, sex]`` and ``deaths[year, sex]`` (flows of each year; NaN after the last one).
    """
    arrays, years, ages = population_inputs(base, survival, fertility, sex_ratio_at_birth, net_migration,
                                            migration_timing)
    if engine == "kernel":
        n_years = years.size
        population = np.empty((n_years + 1, 2, ages.size))
        births = np.empty((n_years, 2))
        deaths = np.empty((n_years, 2))
        project_population_kernel(arrays["base"], arrays["survival"], arrays["fertility"], arrays["male_share"],
                                  arrays["migration"], arrays["even"], population, births, deaths)
    elif engine == "reference":
        population, births, deaths = project_population_reference(**arrays)
    else:
        raise check.InputError(f"Input 'engine': '{engine}' is not an engine; expected 'kernel' or 'reference'.")
    return _to_dataset(population, births, deaths, years, ages, migration_timing)
