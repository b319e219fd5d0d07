"""Financing indicators (METHODOLOGY §6): pure functions of the results Dataset.

Discounting uses the projected nominal returns with the same mid-year timing as the reserve:
a flow of year t is discounted by v_t^mid = prod_{u<t} (1+i_u)^-1 x (1+i_t)^-1/2, so that
V_n = 0  <=>  V_0 + sum_{t<=n} v_t^mid (C_t + subsidy_t - E_t) = 0.
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def discount_factors(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(v_mid, v_end): discount factors to the valuation date for mid-year flows and end-of-year stocks."""
    growth = 1.0 + ds["investment_return"].values
    v_end = np.cumprod(1.0 / growth)
    v_start = np.concatenate([[1.0], v_end[:-1]])
    return v_start / np.sqrt(growth), v_end


def present_value(ds: xr.Dataset, flow: np.ndarray, years: int | None = None) -> float:
    v_mid, _ = discount_factors(ds)
    n = flow.size if years is None else years
    return float(np.sum(v_mid[:n] * flow[:n]))


def general_average_premium(ds: xr.Dataset, years: int) -> float:
    """The constant contribution rate over the next ``years`` years that leaves a reserve of zero at
    the end of year n: GAP_n = (PV[(1+a_b)(B+G) - subsidy] - V_0) / PV[collection (1-a_c) S].

    With full collection, no subsidy and no contribution-linked expenses this is the textbook
    (PV(E_1..n) - V_0) / PV(S_1..n)."""
    a_b = ds.attrs["admin_share_of_benefits"]
    a_c = ds.attrs["admin_share_of_contributions"]
    S = ds["insurable_wage_bill"].values
    B = ds["benefit_expenditure"].values
    G = ds["grants"].values
    subsidy = ds["subsidy_share_of_benefits"].values * B + ds["subsidy_share_of_wages"].values * S
    cost = present_value(ds, (1 + a_b) * (B + G) - subsidy, years)
    base = present_value(ds, ds["collection_rate"].values * (1 - a_c) * S, years)
    return (cost - float(ds["reserve_at_valuation"])) / base


def gap_by_horizon(ds: xr.Dataset, horizons) -> xr.DataArray:
    n_years = ds.sizes["year"]
    horizons = sorted({int(h) for h in horizons if 0 < int(h) <= n_years} | {n_years})
    values = [general_average_premium(ds, h) for h in horizons]
    return xr.DataArray(values, dims="horizon", coords={"horizon": horizons}, name="gap",
                        attrs={"units": "share of insurable earnings",
                               "description": "general average premium over the next n years"})


def depletion_year(ds: xr.Dataset) -> int | None:
    """First year whose end-of-year reserve is negative (None if the reserve never runs out)."""
    negative = np.flatnonzero(ds["reserve"].values < 0)
    return int(ds["year"].values[negative[0]]) if negative.size else None


def payable_share(ds: xr.Dataset) -> xr.DataArray:
    """Share of expenditure payable from contributions and subsidy in the years from depletion on
    (1 before depletion)."""
    income = ds["contributions"] + ds["state_subsidy"]
    share = (income / ds["total_expenditure"]).clip(max=1.0)
    year = depletion_year(ds)
    if year is None:
        return xr.ones_like(share).rename("payable_share")
    return xr.where(ds["year"] >= year, share, 1.0).rename("payable_share")


def summary(ds: xr.Dataset, gap_horizons) -> xr.Dataset:
    depleted = depletion_year(ds)
    return xr.Dataset(
        {
            "gap": gap_by_horizon(ds, gap_horizons),
            "depletion_year": ((), np.nan if depleted is None else float(depleted),
                               {"description": "first year with a negative reserve at its end (NaN: never)"}),
            "payable_share_after_depletion": ((), float(payable_share(ds).min()),
                                              {"description": "lowest share of expenditure payable from income "
                                                              "after depletion (1: never depleted)"}),
        },
        attrs={"valuation_year": ds.attrs["valuation_year"], "horizon": ds.attrs["horizon"]},
    )
