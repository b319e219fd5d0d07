"""Numba versions of the derived series shared by a single valuation (:mod:`actuary.series`) and the
stochastic batch kernel, so that both use one implementation."""

import math

import numba
import numpy as np

RULE_CODES = {"prices": 0, "wages": 1, "pensions": 2, "none": 3}


@numba.njit(cache=True)
def indexed(base, rule, prices, wages, beta, out):
    """An amount in money of t0, ``base[t]`` by year, indexed each year by prices (0), wages (1), pension
    indexation (2) or not (3): out[t] = base[t] x index_t (a constant base: an amount fixed at t0 and indexed)."""
    running = 1.0
    for t in range(out.size):
        running *= 1.0 + beta[t]
        if not math.isfinite(base[t]):
            out[t] = math.inf
        elif rule == 0:
            out[t] = base[t] * prices[t]
        elif rule == 1:
            out[t] = base[t] * wages[t]
        elif rule == 2:
            out[t] = base[t] * running
        else:
            out[t] = base[t]


@numba.njit(cache=True)
def reference_earnings_path(insurable, index, years, past_wages, past_index, out):
    """Reference earnings for an award in year t at age x: the mean over the last ``years[t]`` years (0:
    the whole career within the age grid; the period of the award year t) of the cohort's insurable salary
    insurable[t-k, s, x-k], revalued by index[t] / index[t-k]; a year t0 - j before the valuation date uses the
    t0 salary times ``past_wages[j - 1]`` (W_{t0-j} / W_{t0}) and the index index[0] x ``past_index[j - 1]``;
    ages below the grid do not count."""
    n_years, _, n_ages = insurable.shape
    total = np.empty(n_ages)   # sums over the years of the window so far, by age (ages side by side: on vectors)
    for t in range(n_years):
        window = int(years[t]) if years[t] > 0 else n_ages
        if window > n_ages:
            window = n_ages
        for s in range(2):
            total[:] = 0.0
            for k in range(window):  # the year t - k, for the ages with at least k years in the grid before
                if t - k >= 0:
                    revalue = index[t] / index[t - k]
                    past = insurable[t - k, s]
                    for a in range(k, n_ages):
                        total[a] += past[a - k] * revalue
                else:
                    revalue = index[t] / (index[0] * past_index[k - t - 1])
                    level = past_wages[k - t - 1]
                    past = insurable[0, s]
                    for a in range(k, n_ages):
                        total[a] += past[a - k] * level * revalue
            for a in range(n_ages):
                out[t, s, a] = total[a] / min(window, a + 1)
