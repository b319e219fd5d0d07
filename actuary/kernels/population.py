"""Cohort-component population projection (docs/methodology.md §2), one kernel per scenario and a
parallel batch entry point.

Array layout: sex axis 0 = male, 1 = female; ages 0..ω with ω the open group.
    base[sex, age]                      population at 1 January of the base year
    survival[year, sex, age]            S_x of each projection year (S_0: births to age 0)
    fertility[year, age]                births per woman; fertility at age 0 must be 0
    male_share[year]                    srb / (1 + srb)
    migration[year, sex, age]           net migrants, by age at the end of the year
    even                                False: all migrants at the end of the year;
                                        True: half at the start (by age at the start), half at the end
Outputs (preallocated by the caller, overwritten):
    population[year + 1, sex, age], births[year, sex], deaths[year, sex]
"""

import numba


@numba.njit(cache=True)
def project_population_kernel(base, survival, fertility, male_share, migration, even,
                              population, births, deaths):
    n_years = survival.shape[0]
    n_ages = base.shape[1]
    omega = n_ages - 1
    start_share = 0.5 if even else 0.0
    end_share = 1.0 - start_share
    for s in range(2):
        for x in range(n_ages):
            population[0, s, x] = base[s, x]
    for t in range(n_years):
        # survive the population at the start of the year (plus start-of-year migrants)
        for s in range(2):
            total_start = 0.0
            for x in range(n_ages):
                total_start += population[t, s, x] + start_share * migration[t, s, x]
            for x in range(1, omega):
                population[t + 1, s, x] = (population[t, s, x - 1] + start_share * migration[t, s, x - 1]) \
                    * survival[t, s, x]
            population[t + 1, s, omega] = (population[t, s, omega - 1] + start_share * migration[t, s, omega - 1]
                                           + population[t, s, omega] + start_share * migration[t, s, omega]) \
                * survival[t, s, omega]
            deaths[t, s] = total_start
        # births: rates times the mean of the female population at the start and at the end of the
        # year (before end-of-year migration)
        total_births = 0.0
        for x in range(1, n_ages):
            exposure = 0.5 * (population[t, 1, x] + start_share * migration[t, 1, x] + population[t + 1, 1, x])
            total_births += fertility[t, x] * exposure
        births[t, 0] = total_births * male_share[t]
        births[t, 1] = total_births - births[t, 0]
        for s in range(2):
            population[t + 1, s, 0] = births[t, s] * survival[t, s, 0]
            survivors = 0.0
            for x in range(n_ages):
                survivors += population[t + 1, s, x]
            deaths[t, s] = deaths[t, s] + births[t, s] - survivors
            for x in range(n_ages):
                population[t + 1, s, x] += end_share * migration[t, s, x]


@numba.njit(cache=True, parallel=True)
def project_population_batch(base, survival, fertility, male_share, migration, even,
                             population, births, deaths):
    """Many scenarios at once: every array has a leading scenario axis; scenarios run in parallel."""
    for k in numba.prange(survival.shape[0]):
        project_population_kernel(base[k], survival[k], fertility[k], male_share[k], migration[k], even,
                                  population[k], births[k], deaths[k])
