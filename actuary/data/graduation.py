"""Whittaker-Henderson graduation and the statistics of observed rates.

Whittaker-Henderson: the graduated values z minimise

    sum_x w_x (y_x - z_x)^2 + lambda sum_x (Delta^d z_x)^2,

i.e. z = (W + lambda D'D)^-1 W y, with D the d-th difference matrix (d = 2: straight lines are
kept exactly). Ages without data have weight 0 and are interpolated. lambda is chosen by
generalised cross-validation, GCV(lambda) = n * sum w (y - z)^2 / (n - trace H)^2 with
H = (W + lambda D'D)^-1 W, over a grid of lambdas (the data choose how smooth; nothing to tune).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

LAMBDAS = np.logspace(-3, 6, 37)


def whittaker_henderson(y, w, lam: float, order: int = 2) -> np.ndarray:
    """Graduated values of ``y`` with weights ``w`` (>= 0) and smoothing ``lam`` (see the module)."""
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    n = y.size
    if n <= order:
        return y.copy()
    d = np.diff(np.eye(n), order, axis=0)
    system = np.diag(w) + lam * d.T @ d
    return np.linalg.solve(system, w * np.where(w > 0, y, 0.0))


def graduate(y, w, order: int = 2) -> tuple[np.ndarray, float]:
    """Whittaker-Henderson graduation with lambda chosen by GCV; the weights are rescaled to mean 1
    over the observed points so that the lambda grid is scale-free. Returns (z, lambda)."""
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    observed = w > 0
    n = int(observed.sum())
    if n <= order + 1:
        fill = np.average(y[observed], weights=w[observed]) if n else 0.0
        return np.where(observed, y, fill), math.nan
    w = w / w[observed].mean()
    size = y.size
    d = np.diff(np.eye(size), order, axis=0)
    penalty = d.T @ d
    best = (math.inf, None, None)
    for lam in LAMBDAS:
        inverse = np.linalg.inv(np.diag(w) + lam * penalty)
        z = inverse @ (w * np.where(observed, y, 0.0))
        trace = float(np.sum(np.diag(inverse) * w))
        residual = float(np.sum(w * (np.where(observed, y, z) - z) ** 2))
        score = n * residual / max(n - trace, 1e-9) ** 2
        if score < best[0]:
            best = (score, z, lam)
    return best[1], float(best[2])


def binomial_interval(successes, trials, level: float = 0.95):
    """Clopper-Pearson (exact) interval of a binomial proportion: the p whose tail probabilities
    P(X >= k | p_low) = P(X <= k | p_high) = (1 - level)/2; arrays in, arrays out (NaN where no trials)."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    alpha = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, stats.beta.ppf(alpha, k, n - k + 1), 0.0)
        high = np.where(k < n, stats.beta.ppf(1 - alpha, k + 1, n - k), 1.0)
    low = np.where(n > 0, low, np.nan)
    high = np.where(n > 0, high, np.nan)
    return low, high


def normal_interval(mean, standard_error, level: float = 0.95):
    """mean -/+ z standard errors (z the normal quantile of the level)."""
    z = stats.norm.ppf(0.5 + level / 2)
    mean = np.asarray(mean, dtype=float)
    se = np.asarray(standard_error, dtype=float)
    return mean - z * se, mean + z * se
