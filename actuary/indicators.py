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


def summary_horizons(n_years: int, horizons) -> list[int]:
    """The horizons of the summary values: those within the projection, and the full horizon."""
    return sorted({int(h) for h in horizons if 0 < int(h) <= n_years} | {n_years})


def gap_by_horizon(ds: xr.Dataset, horizons) -> xr.DataArray:
    n_years = ds.sizes["year"]
    horizons = summary_horizons(n_years, horizons)
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


def summary(ds: xr.Dataset, settings: dict, parts: dict[str, xr.Dataset] | None = None,
            extra: dict | None = None) -> xr.Dataset:
    """Summary values: GAP by horizon, depletion year, payable share, scaled premium, actuarial
    balance and (given the closed-group runs) the balance sheet; ``extra`` variables (name -> (dims,
    values, attrs), e.g. the floor's present values by horizon) join them."""
    depleted = depletion_year(ds)
    out = xr.Dataset(
        {
            **(extra or {}),
            "gap": gap_by_horizon(ds, settings["gap_horizons"]),
            "depletion_year": ((), np.nan if depleted is None else float(depleted),
                               {"description": "first year with a negative reserve at its end (NaN: never)"}),
            "payable_share_after_depletion": ((), float(payable_share(ds).min()),
                                              {"description": "lowest share of expenditure payable from income "
                                                              "after depletion (1: never depleted)"}),
            "scaled_premium": scaled_premium(ds, settings["scaled_premium_period"], settings["scaled_premium_target"]),
            "actuarial_balance": ((), actuarial_balance(ds),
                                  {"units": "share of insurable earnings",
                                   "description": "summarized income rate - summarized cost rate (SSA), "
                                                  "target ending reserve of one year's expenditure"}),
        },
        attrs={"valuation_year": ds.attrs["valuation_year"], "horizon": ds.attrs["horizon"]},
    )
    if parts is not None:
        out = out.merge(balance_sheet(parts))
    return out


def reserve_with_rates(ds: xr.Dataset, rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """End-of-year reserves and total expenditure if the contribution rate were ``rates`` (by year):
    the finance recursion of METHODOLOGY §5 on the projection's wage bill, benefits and grants, which
    do not depend on the contribution rate."""
    a_b = ds.attrs["admin_share_of_benefits"]
    a_c = ds.attrs["admin_share_of_contributions"]
    S = ds["insurable_wage_bill"].values
    B = ds["benefit_expenditure"].values
    G = ds["grants"].values
    i = ds["investment_return"].values
    contributions = rates * ds["collection_rate"].values * S
    subsidy = ds["subsidy_share_of_benefits"].values * B + ds["subsidy_share_of_wages"].values * S
    expenditure = (1 + a_b) * (B + G) + a_c * contributions
    half = np.sqrt(1 + i)
    reserve = np.empty(S.size)
    previous = float(ds["reserve_at_valuation"])
    for t in range(S.size):
        previous = previous * (1 + i[t]) + (contributions[t] + subsidy[t] - expenditure[t]) * half[t]
        reserve[t] = previous
    return reserve, expenditure


def scaled_premium(ds: xr.Dataset, period: int, target_ratio: float | None = None) -> xr.DataArray:
    """Scaled premium (reserve-ratio method) by periods of ``period`` years from the valuation year.

    In each period, given the reserve left by the previous periods' rates, the lowest constant rate
    such that the reserve does not decrease in any year of the period, or, with ``target_ratio`` K,
    such that the reserve at the period's end is K times that year's expenditure. Reserves and
    expenditure are affine in the rate, so each period is solved exactly from two evaluations. A
    rate is never negative: where the reserve meets the condition without contributions, the
    period's rate is 0 (and the condition does not bind).
    """
    n_years = ds.sizes["year"]
    rates = np.zeros(n_years)
    starts = list(range(0, n_years, period))
    values = []
    for start in starts:
        end = min(start + period, n_years)
        trial = rates.copy()
        trial[start:end] = 0.0
        v0, e0 = reserve_with_rates(ds, trial)
        trial[start:end] = 1.0
        v1, e1 = reserve_with_rates(ds, trial)
        before0 = np.concatenate([[float(ds["reserve_at_valuation"])], v0])[start:end]
        before1 = np.concatenate([[float(ds["reserve_at_valuation"])], v1])[start:end]
        alpha, beta = v0[start:end] - before0, (v1[start:end] - before1) - (v0[start:end] - before0)
        if target_ratio is None:
            # reserve change alpha + beta * rate >= 0 in every year of the period
            rate = float(np.max(-alpha / beta))
        else:
            level0, level1 = v0[end - 1], v1[end - 1]
            cost0, cost1 = e0[end - 1], e1[end - 1]
            rate = float((target_ratio * cost0 - level0) / ((level1 - level0) - target_ratio * (cost1 - cost0)))
        rate = max(rate, 0.0)
        rates[start:end] = rate
        values.append(rate)
    years = ds["year"].values
    return xr.DataArray(values, dims="period", coords={"period": years[starts],
                                                        "period_end": ("period", years[np.minimum(np.array(starts) + period, n_years) - 1])},
                        name="scaled_premium",
                        attrs={"units": "share of insurable earnings",
                               "description": ("lowest constant rate per period keeping the reserve non-decreasing"
                                               if target_ratio is None else
                                               f"rate per period reaching a reserve ratio of {target_ratio} at its end")})


def actuarial_balance(ds: xr.Dataset) -> float:
    """SSA-style actuarial balance over the horizon: summarized income rate minus summarized cost rate,
    with a target ending reserve of one year's expenditure (the last year's, discounted from the end).

    income rate = (V_0 + PV(contributions + subsidy)) / PV(wage bill)
    cost rate   = (PV(expenditure) + v_n E_n) / PV(wage bill)"""
    _, v_end = discount_factors(ds)
    payroll = present_value(ds, ds["insurable_wage_bill"].values)
    income = float(ds["reserve_at_valuation"]) + present_value(ds, (ds["contributions"] + ds["state_subsidy"]).values)
    cost = present_value(ds, ds["total_expenditure"].values) + v_end[-1] * float(ds["total_expenditure"].values[-1])
    return (income - cost) / payroll


BALANCE_SHEET_GROUPS = ("current_pensioners", "current_insured_past_service", "current_insured_future_service",
                        "future_entrants")


def balance_sheet(parts: dict[str, xr.Dataset]) -> xr.Dataset:
    """Open-group balance sheet over the horizon from the projections of the closed-group runs.

    ``parts``: "open" (the valuation), "closed" (no new entrants), "accrued" (no entrants, no future
    accrual) and "pensioners" (current pensioners and their survivors only). Liabilities are present
    values of benefits and grants: current pensioners = pensioners run; past service = accrued -
    pensioners; future service = closed - accrued; future entrants = open - closed; administrative
    expenses are a liability line of their own. Assets: the reserve, contributions of current insured
    (closed run) and of future entrants (open - closed), the state subsidy. Assets minus liabilities
    equals V_0 + PV(C + subsidy - E), the GAP identity.
    """
    open_ = parts["open"]

    def pv(ds, *names):
        return present_value(open_, sum(ds[n].values for n in names))

    benefits = {k: pv(ds, "benefit_expenditure", "grants") for k, ds in parts.items()}
    contributions = {k: pv(ds, "contributions") for k, ds in parts.items()}
    liabilities = {
        "current_pensioners": benefits["pensioners"],
        "current_insured_past_service": benefits["accrued"] - benefits["pensioners"],
        "current_insured_future_service": benefits["closed"] - benefits["accrued"],
        "future_entrants": benefits["open"] - benefits["closed"],
        "administrative_expenses": pv(open_, "admin_expenses"),
    }
    assets = {
        "reserve": float(open_["reserve_at_valuation"]),
        "contributions_current_insured": contributions["closed"],
        "contributions_future_entrants": contributions["open"] - contributions["closed"],
        "state_subsidy": pv(open_, "state_subsidy"),
    }
    total_liabilities = sum(liabilities.values())
    total_assets = sum(assets.values())
    accrued = benefits["accrued"]
    data = {f"liability_{k}": v for k, v in liabilities.items()}
    data.update({f"asset_{k}": v for k, v in assets.items()})
    data.update({
        "total_liabilities": total_liabilities,
        "total_assets": total_assets,
        "balance": total_assets - total_liabilities,
        "accrued_liability": accrued,
        "accrued_liability_current_pensioners": benefits["pensioners"],
        "funded_ratio": assets["reserve"] / accrued if accrued else np.nan,
    })
    return xr.Dataset({k: ((), float(v), {"units": "currency" if k != "funded_ratio" else "ratio",
                                         "description": "present value at the valuation date over the horizon"})
                       for k, v in data.items()})
