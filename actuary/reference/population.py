"""NumPy reference of :mod:`actuary.kernels.population`: the same equations, a loop over years
vectorised over (scenario, sex, age). Any leading axes (scenarios) broadcast."""

import numpy as np


def project_population_reference(base, survival, fertility, male_share, migration, even=False):
    """Returns (population[..., year + 1, sex, age], births[..., year, sex], deaths[..., year, sex])."""
    survival = np.asarray(survival, dtype=float)
    lead = survival.shape[:-3]
    n_years, _, n_ages = survival.shape[-3:]
    start_share = 0.5 if even else 0.0
    population = np.empty(lead + (n_years + 1, 2, n_ages))
    births = np.empty(lead + (n_years, 2))
    deaths = np.empty(lead + (n_years, 2))
    population[..., 0, :, :] = base
    for t in range(n_years):
        start = population[..., t, :, :] + start_share * migration[..., t, :, :]
        end = np.empty_like(start)
        end[..., :, 1:] = start[..., :, :-1] * survival[..., t, :, 1:]
        end[..., :, -1] += start[..., :, -1] * survival[..., t, :, -1]
        exposure = 0.5 * (start[..., 1, 1:] + end[..., 1, 1:])
        total = (fertility[..., t, 1:] * exposure).sum(axis=-1)
        male = total * male_share[..., t]
        births[..., t, 0] = male
        births[..., t, 1] = total - male
        end[..., :, 0] = births[..., t, :] * survival[..., t, :, 0]
        deaths[..., t, :] = start.sum(axis=-1) + births[..., t, :] - end.sum(axis=-1)
        population[..., t + 1, :, :] = end + (1.0 - start_share) * migration[..., t, :, :]
    return population, births, deaths
