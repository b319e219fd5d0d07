"""Deterministic series derived from the inputs before the projection (docs/methodology.md §3-5).

Plain NumPy on small arrays (years x sexes x ages): computed once per valuation, shared by the
kernels and the NumPy reference.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

from .kernels.series import RULE_CODES, indexed, reference_earnings_path


def wage_index(inflation: np.ndarray, real_wage_growth: np.ndarray) -> np.ndarray:
    """Average-wage index W_t with W_{t0} = 1: W_t = W_{t-1} (1 + π_t)(1 + r_t) for t > t0."""
    growth = (1 + inflation) * (1 + real_wage_growth) - 1
    return np.concatenate([[1.0], np.cumprod(1 + growth[1:])])


def price_index(inflation: np.ndarray) -> np.ndarray:
    """Price index with P_{t0} = 1."""
    return np.concatenate([[1.0], np.cumprod(1 + inflation[1:])])


def nominal_wage_growth(inflation: np.ndarray, real_wage_growth: np.ndarray) -> np.ndarray:
    """γ_t = (1 + π_t)(1 + r_t) - 1."""
    return (1 + inflation) * (1 + real_wage_growth) - 1


def past_rates(history, current: float, n: int) -> np.ndarray:
    """Rates of the n years before t0, the most recent first (t0 - 1, t0 - 2, ...): the ``history`` (oldest
    first, ending in t0 - 1), the years before its first held at its first value; without a history every
    past year takes ``current``, the valuation year's rate."""
    if history is None or np.size(history) == 0:
        return np.full(n, float(current))
    recent_first = np.asarray(history, dtype=float)[::-1]
    if recent_first.size >= n:
        return recent_first[:n].copy()
    return np.concatenate([recent_first, np.full(n - recent_first.size, recent_first[-1])])


def past_index(current_growth: float, past_growth: np.ndarray) -> np.ndarray:
    """Level of an index in the years before t0 relative to t0, I_{t0-j} / I_{t0} for j = 1..n:
    1 / ((1 + g_{t0})(1 + g_{t0-1}) ... (1 + g_{t0-j+1})), g_u the growth of year u (from u - 1 to u);
    ``past_growth`` holds g_{t0-1}, g_{t0-2}, ... (most recent first, see :func:`past_rates`)."""
    growth = np.concatenate([[float(current_growth)], np.asarray(past_growth, dtype=float)[:-1]])
    return 1.0 / np.cumprod(1.0 + growth)


def pension_indexation(inflation, wage_growth, price_weight, wage_weight, floor, cap, lag, past_inflation=None,
                       past_wage_growth=None) -> np.ndarray:
    """β_t = clip(w_p,t π_{t-lag} + w_w,t γ_{t-lag}, floor, cap), applied on 1 January of t > t0, with the
    weights of year t (numbers, or arrays by year) (β_{t0} = 0: amounts at the valuation date are those in
    payment). Rates of years before t0 come from ``past_inflation`` and ``past_wage_growth`` (most recent
    first, see :func:`past_rates`); without them they are taken equal to those of t0."""
    n = inflation.size
    source = np.arange(n) - lag
    index = np.clip(source, 0, n - 1)
    pi, gamma = inflation[index], wage_growth[index]   # copies (fancy indexing)
    if past_inflation is not None:
        before = source < 0
        back = -source[before] - 1
        pi[before] = np.asarray(past_inflation)[back]
        gamma[before] = np.asarray(past_wage_growth)[back]
    beta = np.clip(price_weight * pi + wage_weight * gamma, floor, cap)
    beta[0] = 0.0
    return beta


def salary_scale_by_cell(scale_at_exact_ages) -> np.ndarray:
    """The salary scale by age at 1 January (each cell's average over the year, the engine's convention)
    from a scale given at exact ages min_age, min_age + 1, ... (last axis), linear between them.

    The members of the cell aged x at 1 January have exact ages x + u then (u uniform on [0, 1)) and
    x + u + τ at time τ of the year, so their exact age is x + z with z = u + τ triangular on [0, 2]:

        S̄_x = ∫_0^2 S(x + z) w(z) dz = (S_x + 4 S_{x+1} + S_{x+2}) / 6,   w(z) = z on [0, 1], 2 - z on [1, 2],

    exact for S linear between whole ages (currency a year, as given). Cells where the given scale is
    zero (no earnings) stay zero; next to them and beyond the last age, the scale is held at the last
    positive value (a scale that stops is not averaged with the zeros after it).
    """
    scale = np.asarray(scale_at_exact_ages, dtype=float)
    following = np.concatenate([scale[..., 1:], scale[..., -1:]], axis=-1)
    following = np.where(following > 0, following, scale)
    second = np.concatenate([following[..., 1:], following[..., -1:]], axis=-1)
    second = np.where((second > 0) & (following > 0), second, following)
    return np.where(scale > 0, (scale + 4 * following + second) / 6, 0.0)


def _normal_cdf(z):
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


@functools.cache
def _normal_cdf_ufunc():
    """The compiled ufunc of :func:`normal_cdf`, loaded from Numba's cache on first use (not at import)."""
    return numba.vectorize(["float64(float64)"], cache=True)(_normal_cdf)


def normal_cdf(z):
    """Standard normal distribution function Φ(z) = erfc(-z/√2)/2, elementwise."""
    return _normal_cdf_ufunc()(z)


def insurable_share(mean, floor, ceiling, cv):
    """E[min(max(X, floor), ceiling)] for X lognormal with mean ``mean`` and coefficient of variation
    ``cv`` (the lognormal partial expectation), per cell; the plain clip of the mean when cv = 0.

        σ² = ln(1 + cv²),  μ = ln m - σ²/2,  z_k = (ln k - μ)/σ
        E = F Φ(z_F) + m [Φ(z_C - σ) - Φ(z_F - σ)] + C (1 - Φ(z_C))
    Cells with mean 0 (no earnings) stay 0.
    """
    mean = np.asarray(mean, dtype=float)
    floor = np.broadcast_to(np.asarray(floor, dtype=float), mean.shape)
    ceiling = np.broadcast_to(np.asarray(ceiling, dtype=float), mean.shape)
    if cv <= 0:
        return np.where(mean > 0, np.clip(mean, floor, ceiling), 0.0)
    sigma = math.sqrt(math.log1p(cv * cv))
    positive = mean > 0
    safe = np.where(positive, mean, 1.0)
    mu = np.log(safe) - 0.5 * sigma * sigma
    with np.errstate(divide="ignore"):
        z_floor = (np.log(np.where(floor > 0, floor, 1e-300)) - mu) / sigma
        z_ceiling = np.where(np.isfinite(ceiling), (np.log(np.where(ceiling > 0, ceiling, 1e-300)) - mu) / sigma,
                             np.inf)
    below = np.where(floor > 0, floor * normal_cdf(z_floor), 0.0)
    middle = safe * (normal_cdf(z_ceiling - sigma) - np.where(floor > 0, normal_cdf(z_floor - sigma), 0.0))
    with np.errstate(invalid="ignore"):   # no ceiling: infinity x 0 in the branch np.where does not take
        above = np.where(np.isfinite(ceiling), ceiling * (1 - normal_cdf(z_ceiling)), 0.0)
    return np.where(positive, below + middle + above, 0.0)


def insurable_salary(scale, wages, floor, ceiling, cv) -> np.ndarray:
    """Expected insurable salary by (year, sex, age): W_t E[min(max(X, F_t), C_t)] for X lognormal with mean
    scale[sex, age] and coefficient of variation ``cv`` (:func:`insurable_share`), ``floor`` F_t and
    ``ceiling`` C_t by year in money of t0 (currency a year; W the wage index, W_t0 = 1).

    The partial expectation is homogeneous of degree 1 (E[clip(W X, W F, W C)] = W E[clip(X, F, C)]): the
    salaries, floor and ceiling of year t are those of t0 scaled by W_t, so the expectation is computed in
    money of t0, once per run of years with the same floor and ceiling, and scaled by W_t."""
    wages = np.asarray(wages, dtype=float)
    bounds = np.stack([np.broadcast_to(np.asarray(floor, dtype=float), wages.shape),
                       np.broadcast_to(np.asarray(ceiling, dtype=float), wages.shape)], axis=1)
    run_of_year = np.concatenate([[0], np.cumsum(np.any(bounds[1:] != bounds[:-1], axis=1))])
    first = np.flatnonzero(np.diff(run_of_year, prepend=-1))   # the first year of each run
    scale = np.asarray(scale, dtype=float)
    at_t0 = insurable_share(np.broadcast_to(scale, (first.size,) + scale.shape), bounds[first, 0, None, None],
                            bounds[first, 1, None, None], cv)
    return wages[:, None, None] * (at_t0 if first.size == 1 else at_t0[run_of_year])


def reference_earnings(insurable, index, years, past_wages, past_revaluation) -> np.ndarray:
    """Reference earnings for an award in year t at age x (array [year, sex, age]).

    The average over the last ``years`` years (by award year, or one number for every year; 0: the
    whole career within the age grid) of the cohort's own insurable salary insurable[t-k, s, x-k], revalued
    by index[t]/index[t-k]. A year t0 - j before the valuation date uses the t0 salary of that age times the
    wage level W_{t0-j}/W_{t0} = ``past_wages[j - 1]`` and the revaluation index I_{t0-j}/I_{t0} =
    ``past_revaluation[j - 1]`` (see :func:`past_index`: the economic history, or the t0 growth held). Ages
    below the grid do not count (shorter careers average over fewer years).
    """
    out = np.empty_like(insurable, dtype=float)
    # writeable copies (not read-only views, another type to Numba: the batch kernel passes writeable arrays)
    years = np.array(np.broadcast_to(np.asarray(years, dtype=float), (out.shape[0],)))
    reference_earnings_path(np.ascontiguousarray(insurable, dtype=float), np.ascontiguousarray(index, dtype=float),
                            years, np.ascontiguousarray(past_wages, dtype=float),
                            np.ascontiguousarray(past_revaluation, dtype=float), out)
    return out


def indexed_amount(base, rule: str, prices, wages, beta) -> np.ndarray:
    """An amount in money of t0 (one number, or one by year) indexed each year by prices, wages, pension
    indexation or not at all: base_t x index_t."""
    out = np.empty(len(prices))
    base = np.array(np.broadcast_to(np.asarray(base, dtype=float), out.shape))  # writeable, as reference_earnings
    indexed(base, RULE_CODES[rule], np.asarray(prices, dtype=float), np.asarray(wages, dtype=float),
            np.asarray(beta, dtype=float), out)
    return out
