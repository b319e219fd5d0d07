"""Key findings of a valuation, in numbers and in sentences generated from the results."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .. import indicators
from ..io.presentation import show


@dataclass(frozen=True)
class LevelRate:
    """The lowest level contribution rate from the valuation year that keeps the reserve ratio at or
    above ``ratio`` in each of the first ``years`` years; ``rate`` is None when no rate does."""

    rate: float | None
    years: int
    ratio: float


def level_rate_for_reserve_ratio(ds: xr.Dataset, years: int = 50, ratio: float = 1.0) -> LevelRate:
    """Solve V_t(π) >= K E_t(π) for t = t0 .. t0+n-1 with a level statutory rate π, exactly.

    This is the first period of a scaled premium with the reserve_ratio rule checked in every year
    (:func:`actuary.indicators.scaled_premium`, periods starting at t0 and t0 + n): the reserve and the
    expenditure are affine in π, each year's condition is a_t + b_t π >= 0, and π = max(0, max_t -a_t/b_t)
    over the years with b_t > 0 (none if a condition that a higher rate worsens is broken at the lowest)."""
    n = min(int(years), ds.sizes["year"])
    starts = [0, n] if n < ds.sizes["year"] else [0]
    rate = float(indicators.scaled_premium(ds, starts, rule="reserve_ratio", check="every_year",
                                           target_ratio=ratio).values[0])
    return LevelRate(None if np.isnan(rate) else rate, n, ratio)


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def headline(results, stochastic: xr.Dataset | None = None) -> dict[str, str]:
    """The headline numbers of the executive summary, formatted as the report shows them (keys are
    stable: the report marks each with ``data-headline``)."""
    p, s = results.projection, results.summary
    if "contribution_rate" not in p:   # a floor costing alone
        from .floor_chapter import floor_headline

        return floor_headline(results)
    t0 = int(p.year.values[0])
    out = {
        "contribution_rate_first": _pct(float(p.contribution_rate.values[0])),
        "paygo_first": _pct(float(p.paygo_cost_rate.values[0])),
        "paygo_last": _pct(float(p.paygo_cost_rate.values[-1])),
        **({"breakeven_first": _pct(float(p.breakeven_contribution_rate.values[0])),
            "breakeven_last": _pct(float(p.breakeven_contribution_rate.values[-1]))}
           if "breakeven_contribution_rate" in p else {}),
        "gap_full": _pct(float(s.gap.values[-1])),
        "actuarial_balance": _pct(float(s.actuarial_balance)),
        "depletion_year": show(float(s.depletion_year), "year"),
        "reserve_ratio_first": show(float(p.reserve_ratio.values[0]), "ratio"),
    }
    for h, g in zip(s.horizon.values, s.gap.values):
        out[f"gap_{int(h)}"] = _pct(float(g))
    level = level_rate_for_reserve_ratio(p)
    out["level_rate"] = "none" if level.rate is None else _pct(level.rate)
    if "funded_ratio" in s:
        out["funded_ratio"] = _pct(float(s.funded_ratio))
    if stochastic is not None:
        year = min(t0 + 49, int(stochastic.year.values[-1]))
        out["probability_of_depletion"] = f"{100 * float(stochastic.probability_of_depletion.sel(year=year)):.1f}%"
    return out


def findings(results, stochastic: xr.Dataset | None = None, sensitivity: xr.Dataset | None = None) -> list[str]:
    """Key findings in sentences (HTML-free; the template marks the numbers)."""
    from .floor_chapter import floor_findings

    p, s = results.projection, results.summary
    if "contribution_rate" not in p:   # a floor costing alone
        return floor_findings(results)
    t0, last = int(p.year.values[0]), int(p.year.values[-1])
    n = p.sizes["year"]
    h = headline(results, stochastic)
    out = []
    rates = p.contribution_rate.values
    steps = [(int(p.year.values[i]), float(rates[i])) for i in range(1, n) if abs(rates[i] - rates[i - 1]) > 1e-12]
    schedule = ""
    if steps:
        shown = [f"{_pct(rate)} in {year}" for year, rate in steps[:4]]
        schedule = (f" (scheduled to change to {', '.join(shown[:-1])}{' and ' if len(shown) > 1 else ''}{shown[-1]}"
                    f"{' and later' if len(steps) > 4 else ''})")
    out.append(f"The contribution rate is {h['contribution_rate_first']} of insurable earnings in {t0}{schedule}; "
               f"the pay-as-you-go cost rate (gross: expenditure / insurable wage bill) is {h['paygo_first']} in "
               f"{t0} and {h['paygo_last']} in {last}.")
    if "breakeven_first" in h:
        out.append(f"On the basis of the contribution rate (collection, administration charged on contributions, "
                   f"state subsidy), the break-even rate that balances each year's income and expenditure is "
                   f"{h['breakeven_first']} in {t0} and {h['breakeven_last']} in {last}.")
    depletion = float(s.depletion_year)
    if math.isnan(depletion):
        out.append(f"The reserve is not depleted within the {n}-year projection period.")
    else:
        share = float(s.payable_share_after_depletion)
        out.append(f"Under the current contribution schedule the reserve is depleted in {int(depletion)}; "
                   f"afterwards at least {100 * share:.0f}% of the benefits due can be paid from income.")
        if float(np.nanmin(p.reserve.values)) < 0:   # settings.after_depletion = borrow (payable keeps it at 0)
            out.append("The projection assumes that benefits are paid in full after depletion, from borrowing: the "
                       "reserve becomes a debt that bears the investment return, so the reserve, the investment "
                       "income and the total income shown after that year are negative. They measure the financing "
                       "gap, not a course the scheme can follow without a reform.")
    out.append(f"The general average premium, the level statutory contribution rate (on the basis of the "
               f"contribution rate, as the break-even rate) that balances income and expenditure over the whole "
               f"{n}-year period, is {h['gap_full']} of insurable earnings.")
    balance = float(s.actuarial_balance)
    period = s.actuarial_balance.attrs.get("period", n)
    out.append(f"The actuarial balance over {period} years is {h['actuarial_balance']} of insurable earnings "
               "(gross: a share of the insurable wage bill, not of contributions due): "
               + ("the scheme is in actuarial surplus." if balance >= 0 else
                  "the scheduled income falls short of the cost, including a target reserve of one year's "
                  "expenditure at the end."))
    level = level_rate_for_reserve_ratio(p)
    if level.rate is None:
        out.append(f"No level contribution rate keeps the reserve at or above one year of expenditure in each of "
                   f"the next {level.years} years.")
    elif level.rate == 0:
        out.append(f"The reserve stays at or above one year of expenditure for {level.years} years even without "
                   "contributions.")
    else:
        out.append(f"A level contribution rate of {h['level_rate']} of insurable earnings from {t0} keeps the "
                   f"reserve at or above one year of expenditure in each of the next {level.years} years (where the "
                   "general average premium balances the period as a whole, this rate holds the reserve up in every "
                   "year of it).")
    if level.rate is not None and level.rate > 0 and float(s.gap.values[-1]) > float(rates[-1]) + 1e-9:
        out.append(f"In short, the scheduled contributions do not finance the scheme: a level rate of about "
                   f"{h['gap_full']} of insurable earnings from {t0} would balance the {n}-year period as a whole, "
                   f"and {h['level_rate']} would keep a reserve of at least one year's expenditure for "
                   f"{level.years} years, against {_pct(float(rates[-1]))} scheduled for {last}.")
    if "funded_ratio" in s:
        out.append(f"The reserve covers {h['funded_ratio']} of the liability accrued at the valuation date.")
    if "floor_cost" in p:
        out += floor_findings(results)
    if stochastic is not None:
        year = min(t0 + 49, int(stochastic.year.values[-1]))
        out.append(f"In {stochastic.attrs['paths']:,} stochastic projections, the probability that the reserve is "
                   f"depleted by the end of {year} is {h['probability_of_depletion']}.")
    if sensitivity is not None:
        from ..batch import tornado

        if {"optimistic", "pessimistic"} <= set(sensitivity.scenario.values) and "depletion_year" in sensitivity:
            years = {k: float(sensitivity.depletion_year.sel(scenario=k)) for k in ("pessimistic", "optimistic")}
            said = {k: (str(int(v)) if not math.isnan(v) else f"after {last}") for k, v in years.items()}
            out.append(f"With every assumption tested moved at once to the side that raises the general average "
                       f"premium (the pessimistic scenario) the reserve is depleted "
                       f"{'in ' if not math.isnan(years['pessimistic']) else ''}{said['pessimistic']}; with every one "
                       f"on the other side (the optimistic scenario), "
                       f"{'in ' if not math.isnan(years['optimistic']) else ''}{said['optimistic']}.")
        rows = tornado(sensitivity)
        if rows:
            top = rows[0]
            out.append(f"Of the assumptions tested, {top['assumption']} moves the general average premium most: "
                       f"from {_pct(top['gap_down'])} to {_pct(top['gap_up'])}.")
    return out
