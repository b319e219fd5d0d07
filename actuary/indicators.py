"""Financing indicators (docs/methodology.md §7): pure functions of the results Dataset.

Conventions every measure shares (those of the reserve roll-forward, see
:func:`actuary.kernels.scheme.finance_kernel`):

- Flows of year t (contributions, subsidy, benefits, grants, administration) happen at mid-year and
  earn (or cost) compound half-year interest: V_t = V_{t-1}(1 + i_t) + (1 + i_t)^(1/2) (C_t + subsidy_t - E_t).
  A flow of year t is discounted to the valuation date by v_t^mid = prod_{u<t} (1+i_u)^-1 x (1+i_t)^-1/2
  and an end-of-year stock by v_t = prod_{u<=t} (1+i_u)^-1, so that
  V_n v_n = V_0 + sum_{t<=n} v_t^mid (C_t + subsidy_t - E_t).
- The state subsidy is income credited to the reserve: a share s_b of the pensions (not of the
  grants) and a share s_w of the insurable wage bill. Administrative expenses are a share a_b of the
  pensions and grants and a share a_c of the contributions. Pensions awarded in a year are paid for
  half of it and indexed in full the next January.
- Rates on the statutory basis: a contribution rate π_t brings in π_t c_t (1 - a_c) S_t net of
  collection losses (collection rate c) and of the administration charged on contributions, and the
  year costs N_t = (1 + a_b)(B_t + G_t) - s_b B_t - s_w S_t (pensions B and grants G due, with their
  administration, less the subsidy). The contribution rate, the break-even rate, the GAP, the scaled
  premium and the average premiums are all rates π on this basis: the net flow of year t is
  π_t K_t - N_t with the contribution base K_t = c_t (1 - a_c) S_t. With full collection, no subsidy
  and no administrative expenses they are the textbook ratios to the insurable wage bill.
- Measures value the benefits due (the rules' awards in full) whatever ``settings.after_depletion``
  says; the payable share and the depletion year describe what the reserve can pay.
- After depletion: with ``borrow`` the reserve goes negative and the debt bears the investment return;
  with ``payable`` the reserve never falls below zero and benefits are paid at ``payable_share``. The
  depletion year is the first year whose benefits the year's income and the reserve left cannot pay
  in full (payable_share < 1), the year the reserve would turn negative.
"""

from __future__ import annotations

import numba
import numpy as np
import xarray as xr

from .datasets import labelled_dataset


# the variables of a results Dataset that :class:`Flows` reads
FLOW_VARIABLES = ("year", "insurable_wage_bill", "benefit_expenditure", "grants", "contributions", "collection_rate",
                  "subsidy_share_of_benefits", "subsidy_share_of_wages", "investment_return", "reserve_at_valuation",
                  "payable_share", "minimum_pension_top_up")


class Flows:
    """The yearly arrays of one projection that the measures use, read from the Dataset once, with the
    derived statutory-basis arrays (see the module docstring):

    ``net_cost`` N_t, ``contribution_base`` K_t, ``expenditure`` (due), ``subsidy`` (due), ``v_mid``, ``v_end``.
    """

    def __init__(self, ds: xr.Dataset | dict, rates: "Flows | None" = None):
        """``ds``: a results Dataset, or (a closed-group part, with ``rates``) a Dataset or a dict of arrays by
        year with a ``year`` array (:func:`actuary.projection.cash_flow_arrays`)."""
        if isinstance(ds, xr.Dataset):
            get = {k: ds.variables[k].values for k in FLOW_VARIABLES if k in ds.variables}
        else:
            get = ds
        self.year = get["year"]
        n = self.year.size
        self.wage_bill = get["insurable_wage_bill"]
        self.benefits = get["benefit_expenditure"]
        self.grants = get["grants"]
        self.contributions = get["contributions"]
        if rates is None:
            self.collection = get["collection_rate"]
            self.subsidy_benefits = get["subsidy_share_of_benefits"]
            self.subsidy_wages = get["subsidy_share_of_wages"]
            self.admin_benefits = float(ds.attrs["admin_share_of_benefits"])
            self.admin_contributions = float(ds.attrs["admin_share_of_contributions"])
            self.investment_return = get["investment_return"]
            self.reserve0 = float(get["reserve_at_valuation"])
            self.payable_share = get.get("payable_share")
        else:  # a closed-group part: the valuation's rates by year, held at their last values past its horizon
            self.collection = _held(rates.collection, n)
            self.subsidy_benefits = _held(rates.subsidy_benefits, n)
            self.subsidy_wages = _held(rates.subsidy_wages, n)
            self.admin_benefits = rates.admin_benefits
            self.admin_contributions = rates.admin_contributions
            if "investment_return" in get:
                self.investment_return = get["investment_return"]
            elif n <= rates.year.size:
                self.investment_return = rates.investment_return[:n]
            else:
                raise ValueError("a closed-group part longer than the projection needs its own investment_return")
            self.reserve0 = rates.reserve0
            self.payable_share = None
        a_b, a_c = self.admin_benefits, self.admin_contributions
        outgo = self.benefits + self.grants
        # the state's income to the scheme: the subsidy and the minimum-pension top-up when the state pays it
        self.top_up = get.get("minimum_pension_top_up")
        self.subsidy = self.subsidy_benefits * self.benefits + self.subsidy_wages * self.wage_bill
        if self.top_up is not None:
            self.subsidy = self.subsidy + self.top_up
        self.expenditure = outgo + (a_b * outgo + a_c * self.contributions)
        self.net_cost = (1 + a_b) * outgo - self.subsidy
        self.contribution_base = self.collection * (1 - a_c) * self.wage_bill
        self.root = np.sqrt(1.0 + self.investment_return)
        self.v_mid, self.v_end = discount_by_returns(self.investment_return)

    def pv(self, flow: np.ndarray, years: int | None = None) -> float:
        """Present value at the valuation date of a yearly flow (mid-year), over the first ``years`` years."""
        n = flow.size if years is None else years
        return float(np.sum(self.v_mid[:n] * flow[:n]))


def discount_by_returns(investment_return: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(v_mid, v_end) from the yearly returns: v_t^mid = prod_{u<t} (1+i_u)^-1 x (1+i_t)^-1/2 for mid-year
    flows, v_t = prod_{u<=t} (1+i_u)^-1 for end-of-year stocks."""
    growth = 1.0 + investment_return
    v_end = np.cumprod(1.0 / growth)
    return np.concatenate([[1.0], v_end[:-1]]) / np.sqrt(growth), v_end


def _held(values: np.ndarray, n: int) -> np.ndarray:
    """``values`` over n years, the last value held past its end."""
    if n <= values.size:
        return values[:n]
    return np.concatenate([values, np.repeat(values[-1:], n - values.size)])


def _flows(data) -> Flows:
    return data if isinstance(data, Flows) else Flows(data)


def discount_factors(ds) -> tuple[np.ndarray, np.ndarray]:
    """(v_mid, v_end): discount factors to the valuation date for mid-year flows and end-of-year stocks."""
    f = _flows(ds)
    return f.v_mid, f.v_end


def present_value(ds, flow: np.ndarray, years: int | None = None) -> float:
    return _flows(ds).pv(np.asarray(flow), years)


def general_average_premium(ds, years: int, terminal_reserve: float = 0.0) -> float:
    """The constant statutory contribution rate over the next n = ``years`` years that leaves at the end of
    year n a reserve of κ = ``terminal_reserve`` times that year's expenditure:

        V_0 + π PV(K_1..n) - PV(N_1..n) = κ v_n E_n(π),   E_n(π) = (1 + a_b)(B_n + G_n) + a_c π c_n S_n
        GAP_n = (PV(N) - V_0 + κ v_n (1 + a_b)(B_n + G_n)) / (PV(K) - κ v_n a_c c_n S_n)

    (N: net cost, K: contribution base; module docstring). With κ = 0, full collection, no subsidy and
    no administrative expenses this is the textbook (PV(E_1..n) - V_0) / PV(S_1..n)."""
    f = _flows(ds)
    cost = f.pv(f.net_cost, years) - f.reserve0
    base = f.pv(f.contribution_base, years)
    if terminal_reserve:
        last = years - 1
        cost += terminal_reserve * f.v_end[last] * (1 + f.admin_benefits) * (f.benefits[last] + f.grants[last])
        base -= terminal_reserve * f.v_end[last] * f.admin_contributions * f.collection[last] * f.wage_bill[last]
    return cost / base


def gap_on_both_bases(ds, years: int) -> dict[str, float]:
    """The GAP over ``years`` years (no terminal reserve) from its gross counterpart, for a hand check: ``gross`` the
    textbook (PV(E) - V_0) / PV(S), E the expenditure due with all administration; ``admin_contributions`` and
    ``subsidy`` the administration charged on contributions and the state's income to the scheme, each / PV(S);
    ``base`` = PV(K) / PV(S), the contribution base's share of the wage bill; then exactly
    ``statutory`` = (gross - admin_contributions - subsidy) / base (fractions of insurable earnings)."""
    f = _flows(ds)
    wages = f.pv(f.wage_bill, years)
    out = {"gross": (f.pv(f.expenditure, years) - f.reserve0) / wages,
           "admin_contributions": f.admin_contributions * f.pv(f.contributions, years) / wages,
           "subsidy": f.pv(f.subsidy, years) / wages, "base": f.pv(f.contribution_base, years) / wages}
    out["statutory"] = (out["gross"] - out["admin_contributions"] - out["subsidy"]) / out["base"]
    return out


def summary_horizons(n_years: int, horizons) -> list[int]:
    """The horizons of the summary values: those within the projection, and the full horizon."""
    return sorted({int(h) for h in horizons if 0 < int(h) <= n_years} | {n_years})


def gap_by_horizon(ds, horizons, terminal_reserve: float = 0.0) -> xr.DataArray:
    horizons, (dims, values, attrs) = _gap_variable(_flows(ds), horizons, terminal_reserve)
    return xr.DataArray(values, dims=dims, coords={"horizon": horizons}, name="gap", attrs=attrs)


def _gap_variable(f: Flows, horizons, terminal_reserve: float) -> tuple[list[int], tuple]:
    """The summary horizons and the GAP by horizon as (dims, values, attrs)."""
    horizons = summary_horizons(f.year.size, horizons)
    values = [general_average_premium(f, h, terminal_reserve) for h in horizons]
    ending = "a reserve of zero" if not terminal_reserve else \
        f"a reserve of {terminal_reserve:g} times that year's expenditure"
    return horizons, ("horizon", values, {"units": "share of insurable earnings",
                                          "description": f"general average premium: the level statutory contribution "
                                                         f"rate over the next n years leaving {ending} at the end of "
                                                         "year n (net of collection losses, of the administration "
                                                         "charged on contributions and of the state subsidy)"})


def _depletion_index(f: Flows) -> int | None:
    share = f.payable_share
    if share is None:
        raise ValueError("the projection has no payable_share")
    short = np.flatnonzero(share < 1.0)
    return int(short[0]) if short.size else None


def depletion_year(ds) -> int | None:
    """First year whose benefits the year's income and the reserve left cannot pay in full (the year the
    reserve turns, or would turn, negative); None if the reserve never runs out."""
    f = _flows(ds)
    index = _depletion_index(f)
    return None if index is None else int(f.year[index])


def summary(ds: xr.Dataset, settings: dict, parts: dict[str, xr.Dataset] | None = None,
            following: xr.Dataset | None = None, extra: dict | None = None) -> xr.Dataset:
    """Summary values: GAP by horizon, depletion year and payable shares, scaled premium, actuarial balance,
    terminal funding and (given the closed-group runs ``parts``) the balance sheet and average premiums;
    ``extra`` variables (name -> (dims, values, attrs), e.g. the floor's present values by horizon) join them.

    ``following``: the projection of the year(s) after the horizon, for an actuarial balance over the
    whole horizon (whose target fund is the next year's expenditure)."""
    f = Flows(ds)
    depleted = _depletion_index(f)
    share = f.payable_share
    no = "(1: never depleted)"
    period = min(int(settings["actuarial_balance_period"]), f.year.size)
    next_cost = None
    if period == f.year.size and following is not None:
        next_cost = float(Flows(following).expenditure[0])
    terminal = float(ds.variables["terminal_funding_rate"].values[-1])
    horizons, gap = _gap_variable(f, settings["gap_horizons"], settings["gap_terminal_reserve"])
    starts, ends, premium = _scaled_premium_variable(f, _period_starts(f, settings), settings["scaled_premium_rule"],
                                                     settings["scaled_premium_check"],
                                                     settings["scaled_premium_target"])
    data = {
        **(extra or {}),
        "gap": gap,
        "depletion_year": ((), np.nan if depleted is None else float(f.year[depleted]),
                           {"units": "year",
                            "description": "first year whose benefits the year's income and the reserve left "
                                           "cannot pay in full (NaN: never)"}),
        "payable_share_after_depletion": ((), float(share.min()),
                                          {"units": "share of benefits due",
                                           "description": f"lowest payable share in any year {no}"}),
        "payable_share_at_depletion": ((), 1.0 if depleted is None else float(share[depleted]),
                                       {"units": "share of benefits due",
                                        "description": "share of the depletion year's benefits payable from its "
                                                       f"income and the reserve left {no}"}),
        "payable_share_end": ((), float(share[-1]),
                              {"units": "share of benefits due",
                               "description": "share of the last projection year's benefits payable from its "
                                              "income and any reserve left"}),
        "scaled_premium": premium,
        "actuarial_balance": ((), actuarial_balance(f, period, next_cost),
                              {"units": "share of insurable earnings",
                               "description": f"summarized income rate - summarized cost rate over {period} "
                                              "years (SSA), target fund at the end of the period of the "
                                              "following year's expenditure; gross basis: both rates are shares "
                                              "of the present value of the insurable wage bill, income as "
                                              "collected with the state subsidy, cost with all administration",
                               "period": period}),
        "terminal_funding_rate_at_maturity": ((), terminal,
                                              {"units": "share of insurable earnings",
                                               "description": "terminal funding rate of the last projection "
                                                              "year (the scheme at its most mature within the "
                                                              "horizon)"}),
    }
    if parts is not None:
        flows = _part_flows(parts, f)
        data.update(_balance_sheet_variables(flows))
        data.update(_average_premium_variables(flows))
    years = f.year
    coords = {"horizon": horizons, "period": years[starts], "period_end": ("period", years[np.array(ends) - 1])}
    return labelled_dataset(data, coords, {"valuation_year": ds.attrs["valuation_year"], "horizon": ds.attrs["horizon"]})


def _period_starts(f: Flows, settings: dict) -> list[int]:
    """Indices of the years starting a scaled-premium period."""
    if settings.get("scaled_premium_periods") is not None:
        return [int(y) - int(f.year[0]) for y in settings["scaled_premium_periods"]]
    return list(range(0, f.year.size, int(settings["scaled_premium_period"])))


SCALED_PREMIUM_RULES = {
    ("reserve", "every_year"): "lowest constant statutory rate per period keeping the reserve from falling in any "
                               "year",
    ("reserve", "period_end"): "lowest constant statutory rate per period with a reserve at its end at least that at "
                               "its start",
    ("reserve_to_wages", "every_year"): "lowest constant statutory rate per period keeping the reserve from falling "
                                        "relative to the insurable wage bill in any year",
    ("reserve_to_wages", "period_end"): "lowest constant statutory rate per period with a ratio of reserve to "
                                        "insurable wage bill at its end at least that at its start",
    ("reserve_ratio", "every_year"): "lowest constant statutory rate per period keeping the reserve at least {K} "
                                     "times the year's expenditure in every year",
    ("reserve_ratio", "period_end"): "lowest constant statutory rate per period reaching a reserve of {K} times the "
                                     "year's expenditure at its end",
}


def scaled_premium(ds, starts, rule: str = "reserve", check: str = "every_year",
                   target_ratio: float | None = None) -> xr.DataArray:
    """Scaled premium by periods starting at the year indices ``starts`` (the last runs to the end of the
    horizon; an int m gives periods of m years from the valuation year).

    In each period, given the reserve V_{s-1} left by the previous periods' rates, the lowest constant
    rate π >= 0 such that (checked in every year t of the period, or at its end e only)

        reserve           V_t >= V_{t-1}                 (period_end: V_e >= V_{s-1})
        reserve_to_wages  V_t / S_t >= V_{t-1} / S_{t-1}  (period_end: V_e / S_e >= V_{s-1} / S_{s-1});
                          the valuation-date reserve is compared with the first year's wage bill
        reserve_ratio     V_t >= K E_t                   (K = ``target_ratio``; E the year's expenditure)

    Within the period V_t = V0_t + π U_t, with V0_t the reserve at a zero rate in the period and U_t the
    reserve a rate of 1 builds from its start (closed forms from discounted cumulative sums: no recursion),
    and E_t is affine in π, so each condition is a_t + b_t π >= 0, solved exactly: π = max(0, max over
    b_t > 0 of -a_t / b_t). A rate is never negative: where the condition holds without contributions the
    rate is 0 (and the condition does not bind). If no rate meets every condition (a condition that a higher
    rate makes worse, b_t < 0, and that the lowest rate breaks) the period's rate and those after it are NaN.
    The year loop is over periods only: the cost is linear in the horizon.
    """
    starts, ends, (dims, values, attrs) = _scaled_premium_variable(_flows(ds), starts, rule, check, target_ratio)
    years = _flows(ds).year
    return xr.DataArray(values, dims=dims,
                        coords={"period": years[starts], "period_end": ("period", years[np.array(ends) - 1])},
                        name="scaled_premium", attrs=attrs)


def _scaled_premium_variable(f: Flows, starts, rule: str, check: str, target_ratio: float | None):
    """The periods' starts and ends (year indices) and the scaled premium as (dims, values, attrs)
    (:func:`scaled_premium`)."""
    n_years = f.year.size
    if isinstance(starts, (int, np.integer)):
        starts = list(range(0, n_years, int(starts)))
    starts = [int(s) for s in starts]
    ends = starts[1:] + [n_years]
    if (rule == "reserve_ratio") != (target_ratio is not None):
        raise ValueError("the reserve_ratio rule and only it takes a target ratio")
    cost = f.v_mid * f.net_cost       # discounted, by year
    base = f.v_mid * f.contribution_base
    due = (1 + f.admin_benefits) * (f.benefits + f.grants)           # expenditure at a zero rate
    due_per_rate = f.admin_contributions * f.collection * f.wage_bill  # and per unit of rate
    growth = np.ones(n_years)                                          # wage-bill growth S_t / S_{t-1}
    with np.errstate(divide="ignore", invalid="ignore"):   # a year without insurable earnings: no growth (NaN)
        growth[1:] = f.wage_bill[1:] / f.wage_bill[:-1]
    sums = np.array([[np.sum(cost[s:e]), np.sum(base[s:e])] for s, e in zip(starts, ends)]).reshape(-1, 2)
    values = np.empty(len(starts))
    _scaled_premium_rates(np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64),
                          SCALED_PREMIUM_CODES[rule], check == "every_year",
                          np.nan if target_ratio is None else float(target_ratio), float(f.reserve0), cost, base,
                          _c(f.net_cost), _c(f.contribution_base), _c(f.investment_return), _c(f.root), _c(f.v_end),
                          _c(f.wage_bill), growth, _c(due), _c(due_per_rate), sums[:, 0].copy(), sums[:, 1].copy(),
                          values)
    values = values.tolist()
    description = SCALED_PREMIUM_RULES[(rule, check)].format(K=target_ratio)
    return starts, ends, ("period", values, {"units": "share of insurable earnings", "description": description,
                                             "rule": rule, "check": check})


SCALED_PREMIUM_CODES = {"reserve": 0, "reserve_to_wages": 1, "reserve_ratio": 2}


def _c(array) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=float)


@numba.njit(cache=True, error_model="numpy")
def _scaled_premium_rates(starts, ends, rule, every_year, target, reserve0, cost, base, net_cost, contribution_base,
                          investment_return, root, v_end, wage_bill, growth, due, due_per_rate, cost_sums, base_sums,
                          out):
    """The scaled premium of each period into ``out`` (see :func:`scaled_premium`), period after period: the
    conditions a_t + b_t π >= 0 of the rule (0 reserve, 1 reserve_to_wages, 2 reserve_ratio with ``target``;
    checked ``every_year`` or at the period's end) from the reserve at a zero rate V0_t and the reserve a rate
    of 1 builds U_t (discounted cumulative sums of ``cost`` and ``base`` v^mid N and v^mid K), solved by
    :func:`_lowest_rate`; the discounted reserve carried to the next period with the period's sums of
    ``cost`` and ``base`` (``cost_sums``, ``base_sums``)."""
    longest = 1
    for k in range(starts.size):
        longest = max(longest, ends[k] - starts[k])
    zero = np.empty(longest)
    unit = np.empty(longest)
    a = np.empty(longest)
    b = np.empty(longest)
    discounted = reserve0  # V_{s-1} v_{s-1}
    for k in range(starts.size):
        s, e = starts[k], ends[k]
        m = e - s
        opening = discounted / (v_end[s - 1] if s > 0 else 1.0)  # V_{s-1}
        cost_sum = 0.0
        base_sum = 0.0
        for j in range(m):
            cost_sum = cost[s] if j == 0 else cost_sum + cost[s + j]
            base_sum = base[s] if j == 0 else base_sum + base[s + j]
            zero[j] = (discounted - cost_sum) / v_end[s + j]     # V0_t
            unit[j] = base_sum / v_end[s + j]                    # U_t
        n = m
        if every_year and rule != 2:      # V_t - V_{t-1} w_t >= 0, w the wage-bill growth (reserve_to_wages) or 1
            for j in range(m):
                t = s + j
                zero_before = opening if j == 0 else zero[j - 1]
                unit_before = 0.0 if j == 0 else unit[j - 1]
                i = investment_return[t] - (growth[t] - 1.0) if rule == 1 else investment_return[t]
                a[j] = i * zero_before - root[t] * net_cost[t]
                b[j] = i * unit_before + root[t] * contribution_base[t]
        elif every_year:                  # V_t >= K E_t
            for j in range(m):
                a[j] = zero[j] - target * due[s + j]
                b[j] = unit[j] - target * due_per_rate[s + j]
        elif m == 0:
            n = 0
        else:
            n = 1
            if rule == 0:
                a[0] = zero[m - 1] - opening
            elif rule == 1:
                a[0] = zero[m - 1] - opening * wage_bill[e - 1] / wage_bill[s - 1 if s > 0 else 0]
            else:
                a[0] = zero[m - 1] - target * due[e - 1]
            b[0] = unit[m - 1] - target * due_per_rate[e - 1] if rule == 2 else unit[m - 1]
        rate = _lowest_rate(a[:n], b[:n]) if np.isfinite(discounted) else np.nan
        discounted = discounted - cost_sums[k] + rate * base_sums[k]
        out[k] = rate


@numba.njit(cache=True, error_model="numpy")
def _lowest_rate(a, b) -> float:
    """The lowest π >= 0 with a + b π >= 0 elementwise (NaN if none): max(0, max over b > 0 of -a/b) (a NaN
    there gives 0), unless a condition is broken by more than 1e-9 of its terms."""
    highest = -np.inf
    rising = False
    undefined = False
    for j in range(a.size):
        if b[j] > 0:
            rising = True
            bound = -a[j] / b[j]
            if np.isnan(bound):
                undefined = True
            elif bound > highest:
                highest = bound
    rate = highest if rising and not undefined and highest > 0.0 else 0.0
    for j in range(a.size):
        if a[j] + b[j] * rate < -1e-9 * (abs(a[j]) + abs(b[j] * rate)):
            return np.nan
    return rate


def actuarial_balance(ds, period: int | None = None, next_cost: float | None = None) -> float:
    """SSA actuarial balance over the first P = ``period`` years (default: the horizon): summarized income rate
    minus summarized cost rate, with a target fund at the end of the period of one year's expenditure of the
    year after it (``next_cost`` when P is the whole projection, whose following year it does not hold):

        income rate = (V_0 + PV_P(contributions + subsidy)) / PV_P(wage bill)
        cost rate   = (PV_P(expenditure) + v_P E_{P+1}) / PV_P(wage bill)

    with the expenditure and subsidy due (benefits in full)."""
    f = _flows(ds)
    n = f.year.size if period is None else min(int(period), f.year.size)
    if n < f.year.size:
        next_cost = float(f.expenditure[n])
    elif next_cost is None:
        raise ValueError(f"the actuarial balance over {n} years needs the expenditure of the year after them")
    payroll = f.pv(f.wage_bill, n)
    income = f.reserve0 + f.pv(f.contributions + f.subsidy, n)
    cost = f.pv(f.expenditure, n) + f.v_end[n - 1] * next_cost
    return (income - cost) / payroll


BALANCE_SHEET_GROUPS = ("current_pensioners", "current_insured_past_service", "current_insured_future_service",
                        "future_entrants")

HORIZON_NOTE = "present value at the valuation date of the open group's flows over the horizon"
CLOSED_NOTE = "present value at the valuation date of the closed group's flows over every year its run projects"


def _part_flows(parts: dict, open_flows: Flows | None = None) -> dict[str, Flows]:
    """The parts' arrays, read once (parts given as Datasets or already as Flows)."""
    if all(isinstance(p, Flows) for p in parts.values()):
        return parts
    open_ = open_flows if open_flows is not None else _flows(parts["open"])
    return {k: open_ if k == "open" else (ds if isinstance(ds, Flows) else Flows(ds, rates=open_))
            for k, ds in parts.items()}


def balance_sheet(parts: dict) -> xr.Dataset:
    """Open-group balance sheet from the projections of the closed-group runs.

    ``parts``: "open" (the valuation), "closed" (no new entrants), "accrued" (no entrants, no future
    accrual) and "pensioners" (current pensioners and their survivors only). A closed-group part may
    project more years than the valuation (its run-off past the horizon); each part is discounted with
    its own ``investment_return`` (the valuation's, held, where it has none). Liabilities are present
    values of benefits and grants due: current pensioners = pensioners run; past service = accrued -
    pensioners; future service = closed - accrued (each over all the years its run projects); future
    entrants = open - closed over the horizon; administrative expenses (due) are a liability line of
    their own, over the horizon. Assets: the reserve, contributions of current insured (closed run, all
    its years) and of future entrants (open - closed over the horizon), the state subsidy over the
    horizon. Assets minus liabilities equals V_0 + PV(C + subsidy - E) over the horizon (the GAP identity)
    plus the closed group's contributions less benefits past the horizon: the two parts are
    ``balance_within_horizon`` and ``balance_after_horizon``.
    """
    return xr.Dataset(_balance_sheet_variables(_part_flows(parts)))


def _balance_sheet_variables(flows: dict) -> dict:
    """The balance sheet (:func:`balance_sheet`) as name -> (dims, value, attrs), from the parts' Flows."""
    open_ = flows["open"]
    n = open_.year.size
    benefits = {k: f.pv(f.benefits + f.grants) for k, f in flows.items()}
    contributions = {k: f.pv(f.contributions) for k, f in flows.items()}
    within = {k: f.pv(f.benefits + f.grants, min(n, f.year.size)) for k, f in flows.items()}
    paid_in = {k: f.pv(f.contributions, min(n, f.year.size)) for k, f in flows.items()}
    # the closed group's flows after the horizon (its run may be longer): contributions and the state's
    # minimum-pension top-ups less benefits and grants; the rest of the balance is the GAP identity's
    closed = flows["closed"]
    after = (contributions["closed"] - paid_in["closed"]) - (benefits["closed"] - within["closed"])
    if closed.top_up is not None:
        after += closed.pv(closed.top_up) - closed.pv(closed.top_up, min(n, closed.year.size))
    a_b, a_c = open_.admin_benefits, open_.admin_contributions
    liabilities = {
        "current_pensioners": benefits["pensioners"],
        "current_insured_past_service": benefits["accrued"] - benefits["pensioners"],
        "current_insured_future_service": benefits["closed"] - benefits["accrued"],
        "future_entrants": within["open"] - within["closed"],
        "administrative_expenses": open_.pv(a_b * (open_.benefits + open_.grants) + a_c * open_.contributions),
    }
    assets = {
        "reserve": open_.reserve0,
        "contributions_current_insured": contributions["closed"],
        "contributions_future_entrants": paid_in["open"] - paid_in["closed"],
        "state_subsidy": open_.pv(open_.subsidy),
    }
    if open_.top_up is not None:
        # the minimum-pension top-ups the state pays, split like the benefits they belong to: the current
        # group's over its run, the future entrants' over the horizon
        assets["state_subsidy"] -= open_.pv(open_.top_up)
        assets["minimum_pension_top_up"] = (closed.pv(closed.top_up) + open_.pv(open_.top_up)
                                            - closed.pv(closed.top_up, min(n, closed.year.size)))
    total_liabilities = sum(liabilities.values())
    total_assets = sum(assets.values())
    accrued = benefits["accrued"]
    data = {f"liability_{k}": v for k, v in liabilities.items()}
    data.update({f"asset_{k}": v for k, v in assets.items()})
    data.update({
        "total_liabilities": total_liabilities,
        "total_assets": total_assets,
        "balance": total_assets - total_liabilities,
        "balance_within_horizon": total_assets - total_liabilities - after,
        "balance_after_horizon": after,
        "accrued_liability": accrued,
        "accrued_liability_current_pensioners": benefits["pensioners"],
        "funded_ratio": assets["reserve"] / accrued if accrued else np.nan,
    })
    horizon_items = {"liability_future_entrants", "liability_administrative_expenses",
                     "asset_contributions_future_entrants", "asset_state_subsidy"}
    closed_items = {"liability_current_pensioners", "liability_current_insured_past_service",
                    "liability_current_insured_future_service", "asset_contributions_current_insured",
                    "accrued_liability", "accrued_liability_current_pensioners"}

    def note(k):
        if k == "asset_minimum_pension_top_up":
            return ("present value at the valuation date of the minimum-pension top-ups due that the state "
                    "finances (minimum_pension_top_up: part of the benefits valued in full in the liabilities, "
                    "whatever is payable after depletion): the closed group's over its run, the future entrants' "
                    "over the horizon")
        if k in horizon_items:
            return HORIZON_NOTE
        if k in closed_items:
            return CLOSED_NOTE
        if k == "funded_ratio":
            return "reserve at the valuation date / accrued liability"
        if k == "balance_within_horizon":
            return ("the part of the balance over the horizon: reserve at the valuation date + present value of "
                    "contributions and state subsidy less expenditure over the horizon (the GAP identity)")
        if k == "balance_after_horizon":
            return ("the part of the balance after the horizon: present value of the current insured and "
                    "pensioners' contributions (and the state's minimum-pension top-ups) less benefits and grants in "
                    "the years their closed-group runs project past the horizon (0 when their run-off ends within "
                    "it)")
        if k == "asset_reserve":
            return "at the valuation date"
        if k == "balance":
            return "total assets - total liabilities (a deficit when negative)"
        if k == "total_assets":
            return ("sum of the assets (present values at the valuation date; open-group items over the horizon, "
                    "closed-group items over their runs) and the reserve")
        if k == "total_liabilities":
            return ("sum of the liabilities (present values at the valuation date; open-group items over the "
                    "horizon, closed-group items over their runs)")
        return "sum of the items above (open-group items over the horizon, closed-group items over their runs)"

    return {k: ((), float(v), {"units": "currency" if k != "funded_ratio" else "ratio", "description": note(k)})
            for k, v in data.items()}


def average_premiums(parts: dict) -> xr.Dataset:
    """Average premiums of the current insured and pensioners (the closed group, "closed" run) and of future
    entrants (open - closed), on the statutory basis of the GAP and over the GAP's full horizon (the closed
    group's years past the horizon, if its run projects them, do not count, so that the GAP identity holds):

        AP_current = (PV(N_closed) - V_0) / PV(K_closed)       (the reserve belongs to the current group)
        AP_new     = (PV(N_open) - PV(N_closed)) / (PV(K_open) - PV(K_closed))
        GAP_n      = w AP_current + (1 - w) AP_new,  w = PV(K_closed) / PV(K_open)

    with N the net cost (benefits and grants due with their administration, less the subsidy) and K the
    contribution base (collection rate x (1 - a_c) x insurable wage bill); with full collection, no subsidy
    and no administrative expenses, AP = PV(benefits and grants) / PV(insurable earnings). The present
    values of benefits and grants and of insurable earnings of each group are reported beside them."""
    return xr.Dataset(_average_premium_variables(_part_flows(parts)))


def _average_premium_variables(flows: dict) -> dict:
    """The average premiums (:func:`average_premiums`) as name -> (dims, value, attrs), from the parts' Flows."""
    open_, closed = flows["open"], flows["closed"]
    n = open_.year.size
    cost_open, cost_closed = open_.pv(open_.net_cost), closed.pv(closed.net_cost, n)
    base_open, base_closed = open_.pv(open_.contribution_base), closed.pv(closed.contribution_base, n)
    pv = {
        "pv_benefits_current": closed.pv(closed.benefits + closed.grants, n),
        "pv_benefits_new_entrants": open_.pv(open_.benefits + open_.grants) - closed.pv(closed.benefits
                                                                                         + closed.grants, n),
        "pv_insurable_earnings_current": closed.pv(closed.wage_bill, n),
        "pv_insurable_earnings_new_entrants": open_.pv(open_.wage_bill) - closed.pv(closed.wage_bill, n),
    }
    new_base = base_open - base_closed
    data = {
        "average_premium_current": ((cost_closed - open_.reserve0) / base_closed if base_closed else np.nan,
                                    "share of insurable earnings",
                                    "(PV of the current group's net cost - reserve) / PV of its contribution base, "
                                    "over the horizon (closed-group run)"),
        "average_premium_new_entrants": ((cost_open - cost_closed) / new_base if new_base else np.nan,
                                         "share of insurable earnings",
                                         "PV of future entrants' net cost / PV of their contribution base, over the "
                                         "horizon (open - closed runs)"),
    }
    out = {k: ((), float(v), {"units": u, "description": d}) for k, (v, u, d) in data.items()}
    for k, v in pv.items():
        group = "current insured and pensioners" if k.endswith("current") else "future entrants"
        what = "benefits and grants due" if "benefits" in k else "insurable earnings"
        out[k] = ((), float(v), {"units": "currency", "description": f"present value at the valuation date of the "
                                                                     f"{what} of {group}, over the horizon"})
    return out
