"""The initial state of a valuation from the checked member records (engine conventions).

- Valuation date 1 January t0; age = completed age at 1 January t0.
- Service cell k = floor(credited service) (completed years), capped at settings.max_service: a
  cell of completed service k holds members with k <= service < k + 1 (k + 1/2 years on average).
- Counts are the records x ``weight`` (the number of persons each record stands for: 1 for a full
  extract, 1 / sampling fraction for a sample).
- Pensioners by benefit, sex and age with the average annual pension in payment (pensions imputed
  by rule P501 count as pensioners and are left out of the average).
- Salary scale (behaviour.salary_scale, the mean salary by sex and age in year t0 before the ceiling
  and floor, from which the engine derives insurable earnings): annualised insurable earnings of
  year t0 - 1 (earnings / contribution months x 12) of active members, tabulated by the age at
  1 January t0 - 1 (age at the valuation date - 1, the age the engine tabulates year t0 - 1 by),
  revalued to t0 by the workbook's nominal wage growth of t0, (1 + inflation)(1 + real wage
  growth); graduated across ages (Whittaker-Henderson, weights 1 / squared standard error of each
  age's mean, at most 100 times the weight the typical spread of earnings gives its earners; lambda
  the largest whose chi-square of the deviations is within its 95% quantile on n - trace H degrees of
  freedom: the smoothest graduation the data do not reject, so that its age-to-age ratios, the
  salary increases the engine projects, are not sampling noise); and converted from the mean
  insurable earnings to the mean salary by inverting the engine's lognormal partial expectation
  (scheme.earnings_cv, floor and ceiling), so that the engine's insurable salary at t0 reproduces
  the observed one. Ages outside the observed range
  take the nearest graduated value (never zero).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from .. import series
from ..inputs import BENEFITS
from ..validation import SEXES
from .graduation import graduate

SEX_OF_CODE = {"M": "male", "F": "female"}
SCALE_FIT_LEVEL = 0.95         # the salary scale: the smoothest graduation whose chi-square is below this quantile
SPREAD_WEIGHT_LIMIT = 100.0   # most weight an age's mean salary gets, over that of the typical spread (salary_scale)


@dataclass
class InitialState:
    active: xr.DataArray            # (sex, age, service), persons
    inactive: xr.DataArray          # (sex, age, service), persons
    pensioners: xr.DataArray        # (benefit, sex, age 0..max_age), persons
    average_pension: xr.DataArray   # (benefit, sex, age 0..max_age), currency a year
    salary_scale: xr.DataArray      # (sex, age min_age..max_age), currency a year at t0
    earnings: pd.DataFrame          # observed: sex, age (at 1 January t0 - 1), earners, mean insurable (t0), se
    contributors: int = 0           # insured records with 1-12 contribution months (not weighted)
    recorded_earnings: float = 0.0  # their earnings of the year before the valuation date (not weighted)


def _grid(coords: dict, dims: tuple[str, ...], population_ages: bool = False) -> dict:
    out = {}
    for dim in dims:
        if dim == "age":
            out["age"] = coords["population_age" if population_ages else "scheme_age"]
        else:
            out[dim] = coords[dim]
    return out


def _to_array(frame: pd.DataFrame, value: str, dims: tuple[str, ...], coords: dict) -> xr.DataArray:
    shape = tuple(len(coords[d]) for d in dims)
    array = np.zeros(shape)
    if len(frame):
        index = []
        for dim in dims:
            labels = pd.Index(coords[dim])
            index.append(labels.get_indexer(frame[dim].to_numpy()))
        index = tuple(np.asarray(i) for i in index)
        keep = np.all([i >= 0 for i in index], axis=0)
        np.add.at(array, tuple(i[keep] for i in index), frame[value].to_numpy(dtype=float)[keep])
    return xr.DataArray(array, dims=dims, coords={d: coords[d] for d in dims})


def mean_salary_from_insurable(insurable, floor, ceiling, cv) -> np.ndarray:
    """The mean salary m whose lognormal partial expectation E[min(max(X, floor), ceiling)] equals
    ``insurable`` (see :func:`actuary.series.insurable_share`): bisection on log m (the partial
    expectation increases with m). Targets at or below the floor, or at or above the ceiling, have
    no inverse and are returned unchanged."""
    target = np.asarray(insurable, dtype=float)
    if cv <= 0 and not (np.isfinite(ceiling) or floor > 0):
        return target.copy()
    low = np.log(np.maximum(target, 1e-9)) - 8.0
    high = np.log(np.maximum(target, 1e-9)) + 8.0
    for _ in range(80):
        middle = 0.5 * (low + high)
        value = series.insurable_share(np.exp(middle), floor, ceiling, cv)
        above = value > target
        high = np.where(above, middle, high)
        low = np.where(above, low, middle)
    out = np.exp(0.5 * (low + high))
    invertible = (target > floor * (1 + 1e-9)) & (target < ceiling * (1 - 1e-9))
    return np.where(invertible & (target > 0), out, target)


def scale_observations(earnings: pd.DataFrame, code: str):
    """The ages, mean insurable earnings and graduation weights of one sex (``code`` M or F) that
    :func:`salary_scale` graduates, or None without earners: (span of ages, means, weights), ages
    without earners inside the span with weight 0."""
    observed = earnings[(earnings["sex"] == code) & (earnings["earners"] > 0)]
    if observed.empty:
        return None
    lo, hi = int(observed["age"].min()), int(observed["age"].max())
    span = np.arange(lo, hi + 1)
    frame = observed.set_index("age").reindex(span)
    y = frame["mean"].fillna(0.0).to_numpy()
    se = frame["se"].to_numpy()
    n = frame["earners"].fillna(0).to_numpy()
    # weight 1/se^2; a single earner (no spread) gets the weight of the typical spread, and an age whose few
    # earners earn (nearly) the same, all at the insurable floor or ceiling, at most SPREAD_WEIGHT_LIMIT times
    # it: its standard error says nothing of the spread of earnings there, and a weight a million times the
    # others' made the graduation's system singular (2,000 records: LinAlgError)
    typical = np.nanmedian(np.where(n > 1, se * np.sqrt(n), np.nan)) if np.any(n > 1) else max(y.max(), 1.0)
    expected = typical / np.sqrt(np.maximum(n, 1))
    spread = np.where((n > 1) & (se > 0), np.maximum(se, expected / np.sqrt(SPREAD_WEIGHT_LIMIT)), expected)
    weight = np.where(n > 0, 1.0 / spread ** 2, 0.0)
    return span, y, weight


def graduated_scale(earnings: pd.DataFrame, code: str):
    """The graduated mean insurable earnings of one sex (``code`` M or F) over the ages observed, as
    :func:`salary_scale` takes them, or None without earners: (span of ages, weights, graduated means, the
    graduation's lambda). Floored at a millionth of the largest mean (never zero)."""
    prepared = scale_observations(earnings, code)
    if prepared is None:
        return None
    span, y, weight = prepared
    smooth, lam = graduate(y, weight, fit_level=SCALE_FIT_LEVEL)
    return span, weight, np.maximum(smooth, 1e-6 * np.max(y)), lam


def salary_scale(earnings: pd.DataFrame, inputs) -> xr.DataArray:
    """Graduated mean salary by sex and scheme age (see the module docstring)."""
    sch, eco = inputs.scheme, inputs.economy
    ages = inputs.coords["scheme_age"]
    average_wage = eco["average_wage"]
    # the floor and ceiling of the valuation year (provisions by year)
    floor, ceiling = (float(sch[k].values[0]) * average_wage for k in ("floor_multiple", "ceiling_multiple"))
    out = np.zeros((2, ages.size))
    for s, code in enumerate(("M", "F")):
        graduated = graduated_scale(earnings, code)
        if graduated is None:
            continue
        span, _, smooth, _ = graduated
        values = np.interp(ages, span, smooth)           # flat beyond the observed ages
        out[s] = mean_salary_from_insurable(values, floor, ceiling, sch["earnings_cv"])
    return xr.DataArray(out, dims=("sex", "age"), coords={"sex": list(SEXES), "age": ages}, name="salary_scale")


def initial_state(con, p, inputs) -> InitialState:
    """Counts, average pensions and the salary scale from the views ``insured_clean`` and
    ``pensioners_clean`` left by :func:`actuary.data.checks.run_checks`."""
    st, eco = inputs.settings, inputs.economy
    coords = dict(inputs.coords)
    coords["sex"] = list(SEXES)
    coords["benefit"] = list(BENEFITS)
    max_service = st["max_service"]
    insured = con.execute(f"""
        SELECT status, sex, age, least(CAST(floor(service) AS INTEGER), {max_service}) AS service, count(*) AS n,
               count(annualised) FILTER (WHERE status = 'active') AS earners,
               sum(annualised) FILTER (WHERE status = 'active') AS s1,
               sum(annualised * annualised) FILTER (WHERE status = 'active') AS s2,
               count(*) FILTER (WHERE months BETWEEN 1 AND 12 AND months = round(months)) AS contributors,
               sum(earnings) AS earnings
        FROM insured_clean GROUP BY ALL""").df()
    earnings = _earnings_by_age(insured)
    contributors, recorded = int(insured["contributors"].sum()), float(insured["earnings"].fillna(0.0).sum())
    insured["sex"] = insured["sex"].map(SEX_OF_CODE)
    insured["n"] = insured["n"] * p.weight
    scheme = dict(coords, age=coords["scheme_age"])
    active = _to_array(insured[insured["status"] == "active"], "n", ("sex", "age", "service"), scheme)
    inactive = _to_array(insured[insured["status"] == "inactive"], "n", ("sex", "age", "service"), scheme)
    pensions = con.execute("""
        SELECT benefit, sex, age, count(*) AS n, count(*) FILTER (WHERE amount_ok) AS n_ok,
               sum(annual_amount) FILTER (WHERE amount_ok) AS amount
        FROM pensioners_clean GROUP BY ALL""").df()
    pensions["sex"] = pensions["sex"].map(SEX_OF_CODE)
    full = dict(coords, age=coords["population_age"])
    dims = ("benefit", "sex", "age")
    count = _to_array(pensions, "n", dims, full)
    counted = _to_array(pensions, "n_ok", dims, full)
    amount = _to_array(pensions.fillna({"amount": 0.0}), "amount", dims, full)
    average = xr.where(counted > 0, amount / counted.where(counted > 0, 1.0), 0.0)
    # cells whose every amount was imputed: the average of their benefit and sex
    fallback = amount.sum("age") / counted.sum("age").where(counted.sum("age") > 0, 1.0)
    average = xr.where((count > 0) & (counted == 0), fallback, average)
    growth = (1 + float(eco["inflation"].values[0])) * (1 + float(eco["real_wage_growth"].values[0]))
    earnings["mean"] = earnings["mean"] * growth
    earnings["se"] = earnings["se"] * growth
    scale = salary_scale(earnings, inputs)
    return InitialState(active.rename("active"), inactive.rename("inactive"), (count * p.weight).rename("pensioners"),
                        average.rename("average_pension"), scale, earnings, contributors, recorded)


def _earnings_by_age(cells: pd.DataFrame) -> pd.DataFrame:
    """Active earners by sex and age at 1 January of the year before the valuation date (age - 1):
    number, mean annualised earnings and its standard error, from the sums of the cells."""
    g = cells[cells["earners"] > 0].assign(age=lambda f: f["age"] - 1).groupby(["sex", "age"], as_index=False)[
        ["earners", "s1", "s2"]].sum()
    n = g["earners"].to_numpy(float)
    mean = g["s1"].to_numpy(float) / n
    variance = np.maximum(g["s2"].to_numpy(float) - n * mean ** 2, 0.0) / np.maximum(n - 1, 1)
    se = np.where(n > 1, np.sqrt(variance / n), np.nan)
    return pd.DataFrame(dict(sex=g["sex"], age=g["age"].astype(int), earners=n.astype(int), mean=mean, se=se))
