"""Solvers: the value of one reform lever that meets a financing target.

A *target* is written ``INDICATOR OP VALUE`` with OP one of ``>=``, ``<=``, ``=``:

- ``reserve_ratio>=K``: the reserve ratio (reserve at the end of the year / expenditure due) is at least K in
  every year from ``start`` to ``until``;
- ``actuarial_balance=0`` (or any value): the actuarial balance over the years to ``until``, default the
  valuation's period (settings.actuarial_balance_period: the balance its results show) (SSA: income rate
  minus cost rate with a target fund of the next year's expenditure, :func:`actuary.indicators.actuarial_balance`);
- ``depletion_year>=YEAR``: the reserve is not depleted before YEAR (the depletion year of
  :func:`actuary.indicators.depletion_year`: the first year whose benefits the year's income and the reserve left
  cannot pay in full; the same with ``settings.after_depletion`` borrow or payable). It is met exactly when
  the reserve the scheme would hold when borrowing, V_t = V_{t-1}(1 + i_t) + (1 + i_t)^(1/2)(C_t + subsidy_t - E_t),
  is not negative in any year before YEAR: the solvers work on min V_t / E_t over those years;
- ``paygo_cost_rate<=R``: the PAYG cost rate is at most R in every year from ``start`` to ``until``;
- ``gap>=R`` / ``gap<=R``: the general average premium over the years to ``until``, default the longest of
  the horizon (the longest GAP of the results).

A *lever* (``start``: the first year it applies, default the valuation year):

- ``contribution_rate``: one level contribution rate from ``start`` on (earlier years keep theirs);
- ``contribution_steps:N``: the rates from ``start`` to ``until`` rise by equal steps every N years (the lever
  is the step, added to the schedule: start + k N .. start + (k + 1) N - 1 get k + 1 steps) and the years after
  ``until`` keep the steps of ``until`` (the last step held): a schedule of steps over the target's window, so
  a year after it, of which the target asks nothing, neither adds a step nor caps the step by its rate staying
  within 100%. The solution lists the rate of each step's first year and notes when the steps overshoot (the
  last rate above 1.25 x the PAYG cost rate of the window's last 5 years: the target binds earlier);
- ``retirement_age_pace``: a reform of the retirement ages in force (by year or by cohort): months added per
  birth cohort (a whole number) to the normal and the early retirement age, from the cohort after the one reaching
  the normal age in force in ``start`` (each sex): that cohort's ages are the law's + N months, the next cohort's
  the law's + 2 N, ... (``scheme.retirement_age_increase_by_cohort``), each age at most
  ``settings.max_retirement_age``. At 0 the valuation is the law's; an age is never below the law's;
- ``accrual``: a factor on the accrual schedule for service earned from ``start`` on (accrual by year of
  accrual: service earned before keeps its rate);
- ``indexation_price_weight``: the pension indexation from ``start`` on is w inflation + (1 - w) wage growth;
- ``ceiling_multiple``: the insurable earnings ceiling (x the average wage) from ``start`` on.

The contribution levers are exact: the projection of the insured and the pensions does not depend on the
contribution rate, and each target is an affine function of it year by year (the reserve is affine in the
rate, the expenditure through the administration charged on contributions), so one projection gives the
solution in closed form; the finance roll-forward of the solution is then recomputed by a rerun. The other
levers move the projection itself: a bracketing root finder (Brent's method) on the target's margin, the
retirement-age pace every whole month from 0 in turn up to the first that meets the target (its margin turns
several times with the pace: nothing is assumed of its shape), pace + 1 runs, 61 when no month meets it. Every
solution is verified by a full rerun (the target binds within 1e-6 on continuous levers; the pace's own run,
made as the solved valuation's, is its verification); a target that no lever value in the bracket can meet is
reported with the best value attainable. A target that the lowest contribution rates
allowed (no rate below 0) meet with room gives those rates, not binding (the level rates of
:mod:`actuary.indicators` are defined the same way: 0 where the condition holds without contributions); one that
every value of another lever meets, or that does not depend on the lever, leaves the valuation as it was.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.optimize import brentq

from . import indicators
from .inputs import cohort_ages, phase_in, retirement_age_grid
from .kernels.scheme import finance_kernel
from .validation import InputError

INDICATORS = ("reserve_ratio", "actuarial_balance", "depletion_year", "paygo_cost_rate", "gap")
LEVERS = ("contribution_rate", "contribution_steps:N", "retirement_age_pace", "accrual", "indexation_price_weight",
          "ceiling_multiple")
# bracket of the continuous levers searched by the root finder
BRACKETS = {"accrual": (0.0, 3.0), "indexation_price_weight": (0.0, 1.0), "ceiling_multiple": (0.05, 20.0)}
MAX_PACE = 60          # months per cohort searched by the retirement-age solver
TOLERANCE = 1e-6       # the target's margin at a solution of a continuous lever
# the yearly results the measures read (a contribution-rate solve recomputes them on this small Dataset)
YEARLY_VARIABLES = ("insurable_wage_bill", "benefit_expenditure", "grants", "contributions", "collection_rate",
                    "subsidy_share_of_benefits", "subsidy_share_of_wages", "investment_return", "reserve_at_valuation",
                    "payable_share", "minimum_pension_top_up", "contribution_rate", "reserve", "reserve_ratio",
                    "paygo_cost_rate")


@dataclass(frozen=True)
class Target:
    indicator: str
    op: str
    value: float

    def __str__(self):
        value = int(self.value) if self.indicator == "depletion_year" else f"{self.value:g}"
        return f"{self.indicator}{self.op}{value}"


@dataclass
class Solution:
    """``value``: the lever's value; ``valuation``: the valuation with the lever set (ready to ``run()`` or
    ``to_workbook()``); ``runs``: projections run, the verification included; ``binding_year``: the year in
    which the target binds (None for targets over a period: GAP, actuarial balance); ``attained``: the
    indicator at the solution (the best attainable value when ``feasible`` is False); ``margin``: how far the
    target is exceeded (0 when it binds)."""

    lever: str
    target: Target
    value: float
    valuation: object
    runs: int
    binding_year: int | None
    attained: float
    margin: float
    feasible: bool = True
    independent: bool = False   # the target does not depend on the lever: the valuation is left as it was
    everywhere: bool = False    # every value of the lever in its range meets the target: the valuation is left as it was
    lowest: bool = False        # the lowest contribution rates allowed (no rate below 0) meet the target with room
    steps_years: tuple[int, int] | None = None   # contribution_steps: the years of the steps (start, until)
    schedule: tuple[tuple[int, float], ...] = ()   # contribution_steps: (year, rate) of each step, from start
    note: str = ""              # contribution_steps: the steps overshoot (see :func:`_overshoot`)
    period: tuple[str, str] | None = None   # a measure over a period: ("actuarial balance over 2020-2094",
                                            # "75 years, the valuation's period")
    start: int | None = None    # the first year the lever applies (--from)

    def _steps_span(self) -> str:
        """Where the steps of ``contribution_steps`` are added: from ``start`` to ``until``, the rate of ``until``'s
        step held after it."""
        if self.steps_years is None:
            return ""
        first, last = self.steps_years
        held = f", held after {last}" if last < int(self.valuation.inputs.coords["year"][-1]) else ""
        return f" from {first} to {last}{held}"

    def _from_year(self) -> int:
        """The first year the lever applies (the valuation year unless --from gave another)."""
        return self.start if self.start is not None else int(self.valuation.inputs.coords["year"][0])

    def __str__(self):
        if self.independent:
            return (f"{self.lever}: target {self.target} NOT attainable: {self.target.indicator} does not depend on "
                    f"{self.lever} ({self.target.indicator} = {self.attained:.10g}; {self.runs} runs); the "
                    "valuation's own values are kept")
        if self.everywhere:
            return (f"{self.lever}: target {self.target} met by every value of {self.lever} it can take "
                    f"({self.target.indicator} = {self.attained:.10g} with the valuation's own values; {self.runs} "
                    "runs); the valuation's own values are kept")
        state = "met" if self.feasible else "NOT attainable"
        year = (f", {'binding' if self.feasible else 'furthest from the target'} in {self.binding_year}"
                if self.binding_year is not None and (self.feasible or self.target.indicator != "depletion_year")
                else "")
        if self.lowest:
            year = (", not binding: it holds with the lowest rates allowed (no rate below 0)"
                    if self.lever.startswith("contribution") else ", not binding: it holds without raising the ages")
        # a contribution rate (or a step of the rate schedule) also in percent of insurable earnings, as every
        # other rate is shown
        shown = (f" ({100 * (self.value + 0.0):+.2f} percentage points every {self.lever.split(':')[1]} years"
                 f"{self._steps_span()})" if self.lever.startswith("contribution_steps")
                 else f" ({100 * (self.value + 0.0):.2f}% of insurable earnings)" if self.lever == "contribution_rate"
                 else f" ({self.value + 0.0:g} month{'' if self.value == 1 else 's'} added per cohort)"
                 if self.lever == "retirement_age_pace"
                 else f" (a factor on the accrual schedule for service earned from {self._from_year()} on: "
                      f"{100 * (self.value - 1.0):+.2f}%)" if self.lever == "accrual"
                 else "")
        measured, over = (self.period[0], f"; {self.period[1]}") if self.period else (self.target.indicator, "")
        # an equality met to rounding (1e-16 of a share) is said as the 0 it is
        attained = 0.0 if abs(self.attained) < 1e-12 else self.attained
        text = (f"{self.lever} = {self.value + 0.0:.10g}{shown}: target {self.target} {state} "
                f"({measured} = {attained:.10g}{year}{over}; {self.runs} runs)")
        if self.schedule:
            held = self.steps_years is not None and self.steps_years[1] < int(self.valuation.inputs.coords["year"][-1])
            rates = ", ".join(f"{y} {100 * r:.2f}%" for y, r in self.schedule)
            text += (f"\nrates from each step's first year: {rates}"
                     f"{f' (the last held after {self.steps_years[1]})' if held else ''}")
        return text + (f"\n{self.note}" if self.note else "")


MAX_YEAR = 9999   # the last calendar year a depletion-year target may name
MAX_RATIO = 1_000_000   # the largest size of the other targets (years of expenditure, fractions of earnings)


def parse_target(text: str) -> Target:
    """``reserve_ratio>=1``, ``actuarial_balance=0``, ``depletion_year>=2070``, ``paygo_cost_rate<=0.2``, ``gap<=0.15``.
    The value is a finite number (``1e309`` is not: it reads as infinity) of size at most :data:`MAX_RATIO` (beyond,
    the margins overflow), a depletion year a whole calendar year 1..9999."""
    match = re.fullmatch(r"\s*([a-z_]+)\s*(>=|<=|=)\s*([-+0-9.eE]+)\s*", str(text))
    if not match or match.group(1) not in INDICATORS:
        # an indicator alone is what a shell passes on when the target was typed without quotes: > and < redirect
        unquoted = (" A shell took the rest of an unquoted target as a redirection (and may have written a file "
                    "named after it): put the target in quotes, e.g. --target 'reserve_ratio>=1'."
                    if str(text).strip() in INDICATORS else "")
        raise InputError(f"--target '{text}' is not INDICATOR OP VALUE with INDICATOR one of {', '.join(INDICATORS)} "
                         f"and OP one of >=, <=, = (e.g. reserve_ratio>=1, actuarial_balance=0).{unquoted}")
    indicator, op, given = match.group(1), match.group(2), match.group(3)
    try:
        value = float(given)
    except ValueError:
        raise InputError(f"--target '{text}': '{given}' is not a number.") from None
    if not math.isfinite(value):   # beyond the largest float (1e309): infinity, which no lever meets nor misses
        raise InputError(f"--target '{text}': the value '{given}' is beyond the range of numbers (it reads as "
                         f"{'-' if value < 0 else ''}infinity); expected a finite number.")
    allowed = {"reserve_ratio": (">=",), "actuarial_balance": ("=", ">=", "<="), "depletion_year": (">=",),
               "paygo_cost_rate": ("<=",), "gap": (">=", "<=")}[indicator]
    if op not in allowed:
        raise InputError(f"--target '{text}': {indicator} takes {' or '.join(allowed)}.")
    if indicator == "depletion_year":
        if value != round(value):
            raise InputError(f"--target '{text}': the depletion year must be a whole year.")
        if not 1 <= value <= MAX_YEAR:
            raise InputError(f"--target '{text}': depletion year {given} is not a calendar year; expected a whole "
                             f"year from 1 to {MAX_YEAR}.")
    elif abs(value) > MAX_RATIO:   # a ratio to expenditure or earnings: beyond it, the margins overflow to nan
        raise InputError(f"--target '{text}': {given} is beyond any {indicator} a scheme can have; expected a number "
                         f"from -{MAX_RATIO:,} to {MAX_RATIO:,}.")
    return Target(indicator, op, value)


def parse_lever(text: str) -> tuple[str, int | None]:
    """(name, N) of ``contribution_steps:N``; (name, None) for the other levers."""
    name, _, steps = str(text).partition(":")
    if name == "contribution_steps":
        if not steps.isdigit() or int(steps) < 1:
            raise InputError(f"lever '{text}': expected contribution_steps:N with N a whole number of years >= 1.")
        return name, int(steps)
    if name not in LEVERS or steps:
        raise InputError(f"lever '{text}' is not a lever; expected one of {', '.join(LEVERS)}.")
    return name, None


# ------------------------------------------------------------------------------------------- measures

@dataclass
class _Run:
    """What the measures read from one projection: the yearly Dataset over the horizon and the expenditure
    due of the year after it (the actuarial balance's target fund)."""

    projection: xr.Dataset
    next_expenditure: float
    next_base: float = math.nan  # collection rate x wage bill of the year after the horizon
    terminal_reserve: float = 0.0  # settings.gap_terminal_reserve


def _project(valuation) -> _Run:
    projection, following = valuation.project()
    terminal = float(valuation.inputs.settings["gap_terminal_reserve"])
    if following is None:
        return _Run(projection, math.nan, terminal_reserve=terminal)
    f = indicators.Flows(following)
    return _Run(projection, float(f.expenditure[0]), float(f.collection[0] * f.wage_bill[0]), terminal)


def _window(years: np.ndarray, start: int, until: int) -> np.ndarray:
    return (years >= start) & (years <= until)


def _borrowing_reserve(f: indicators.Flows) -> np.ndarray:
    """V_t with every benefit paid in full (the reserve of settings.after_depletion borrow)."""
    net = f.contributions + f.subsidy - f.expenditure
    reserve = np.empty(net.size)
    previous = f.reserve0
    for t in range(net.size):
        previous = previous * (1 + f.investment_return[t]) + f.root[t] * net[t]
        reserve[t] = previous
    return reserve


def margins(target: Target, run: _Run, start: int, until: int) -> tuple[np.ndarray, np.ndarray]:
    """The target's margins (>= 0 where it is met) and the years they belong to (-1 for a period measure).
    reserve ratio: ratio_t - K; PAYG cost rate: R - rate_t; depletion: V_t / E_t (borrowing) over the years
    before the target year; GAP and actuarial balance: one margin over the period to ``until``."""
    ds = run.projection
    years = ds["year"].values
    f = indicators.Flows(ds)
    sign = -1.0 if target.op == "<=" else 1.0
    if target.indicator == "reserve_ratio":
        keep = _window(years, start, until)
        return ds["reserve_ratio"].values[keep] - target.value, years[keep]
    if target.indicator == "paygo_cost_rate":
        keep = _window(years, start, until)
        return target.value - ds["paygo_cost_rate"].values[keep], years[keep]
    if target.indicator == "depletion_year":
        keep = years < target.value
        return (_borrowing_reserve(f) / f.expenditure)[keep], years[keep]
    n = until - int(years[0]) + 1
    if target.indicator == "gap":
        value = indicators.general_average_premium(f, n, run.terminal_reserve)
    else:
        value = indicators.actuarial_balance(f, n, run.next_expenditure if n == years.size else None)
    return np.array([sign * (value - target.value)]), np.array([-1])


def attained(target: Target, run: _Run, start: int, until: int) -> float:
    """The indicator itself (the lowest reserve ratio or the highest PAYG cost rate over the years, the
    depletion year (NaN: never), the GAP or the actuarial balance)."""
    ds = run.projection
    if target.indicator == "depletion_year":
        year = indicators.depletion_year(ds)
        return math.nan if year is None else float(year)
    values, _ = margins(target, run, start, until)
    sign = -1.0 if target.op == "<=" else 1.0
    if target.indicator in ("reserve_ratio", "paygo_cost_rate"):
        worst = float(values.min()) if values.size else math.nan
        return target.value + sign * worst
    return target.value + sign * float(values[0])


def _worst(values: np.ndarray, years: np.ndarray, equality: bool) -> tuple[float, int | None]:
    if equality:
        return float(values[0]), None
    if not values.size:
        return math.inf, None
    i = int(np.argmin(values))
    return float(values[i]), (int(years[i]) if years[i] >= 0 else None)


# --------------------------------------------------------------------------------------------- levers

def _years(valuation) -> np.ndarray:
    return valuation.inputs.coords["year"]


def _from_start(current: xr.DataArray, start: int, value) -> xr.DataArray:
    """``current`` (by year) with ``value`` from ``start`` on."""
    return xr.where(current["year"] >= start, value, current).transpose(*current.dims)


def _by_year(valuation, name: str) -> xr.DataArray:
    return valuation.inputs.scheme[name]


def contribution_schedule(valuation, lever: str, steps: int | None, start: int, x: float,
                          until: int | None = None) -> xr.DataArray:
    """The contribution rates by year with the lever at ``x``: ``contribution_rate`` the level rate ``x`` from
    ``start`` on; ``contribution_steps`` the schedule's rates plus k + 1 steps ``x`` in the years start + k N ..
    start + (k + 1) N - 1 up to ``until`` (default: the last projection year), and the steps of ``until`` in the
    years after it: the steps are a schedule over the target's window, so no year after it (where nothing is
    asked of the rate) adds a step or bounds the step by the rate staying within 100%."""
    rates = _by_year(valuation, "contribution_rate")
    if lever == "contribution_rate":
        return _from_start(rates, start, x)
    last = int(rates["year"][-1]) if until is None else int(until)
    count = np.floor((np.minimum(rates["year"], last) - start) / steps) + 1
    return xr.where(rates["year"] >= start, rates + count * x, rates)


def retirement_age_increase_at_pace(valuation, start: int, months: float) -> xr.DataArray:
    """The ``scheme.retirement_age_increase_by_cohort`` of ``retirement_age_pace`` at ``months`` per cohort: a reform
    of the ages in force (by year or by cohort, with any increase the valuation already has). For each sex, the
    first cohort affected is the one after the cohort reaching the normal age in force in ``start`` (born in
    ``start`` - floor(that age)); it gets ``months``, the next 2 x ``months``, ... (whole months, as
    :func:`actuary.inputs.phase_in`), and the cohorts before it nothing. Each cell's normal and early age is then
    the age in force + its cohort's increase, at most ``settings.max_retirement_age``
    (:func:`actuary.inputs.retirement_age_grid`): at 0 months the ages in force, and never below them."""
    settings = valuation.inputs.settings
    years = _years(valuation)
    ages = valuation.inputs.coords["scheme_age"]
    start_index = int(np.clip(start - years[0], 0, years.size - 1))
    normal = retirement_age_grid(valuation.inputs.scheme, "normal", years, ages, settings["max_retirement_age"])
    top = float(settings["max_retirement_age"] - settings["min_age"] - 1)   # the largest increase allowed
    parts = []
    for s, sex in enumerate(("male", "female")):
        column = normal[start_index, s]
        reached = ages + 1.0     # the age reached during the start year by the members aged x at its 1 January
        age_n = float(column[int(np.argmin(np.abs(reached - column)))])
        first = int(start - math.floor(age_n)) + 1
        parts.append(phase_in(0.0, first, months, top, sexes=(sex,)))
    existing = valuation.inputs.scheme.get("retirement_age_increase_by_cohort")
    labels = [p["cohort"].values for p in parts] + ([] if existing is None else [existing["cohort"].values])
    cohorts = np.unique(np.concatenate(labels))
    values = np.stack([cohort_ages(p, cohorts)[:, 0] for p in parts], axis=1)
    if existing is not None:   # the lever adds to a reform the valuation already has
        values = np.minimum(values + cohort_ages(existing, cohorts), top)
    return xr.DataArray(values, dims=("cohort", "sex"), coords={"cohort": cohorts, "sex": ["male", "female"]},
                        name="retirement_age_increase_by_cohort")


def with_lever(valuation, lever: str, steps: int | None, start: int, x: float, until: int | None = None):
    """The valuation with the lever at ``x`` from ``start`` on (the steps of ``contribution_steps`` up to ``until``,
    default the last projection year, then held)."""
    sch = valuation.inputs.scheme
    if lever in ("contribution_rate", "contribution_steps"):
        return valuation.replace(scheme={"contribution_rate": contribution_schedule(valuation, lever, steps, start, x,
                                                                                    until)})
    if lever == "retirement_age_pace":
        return valuation.replace(scheme={"retirement_age_increase_by_cohort":
                                         retirement_age_increase_at_pace(valuation, start, x)})
    if lever == "accrual":
        accrual = sch["accrual"]
        return valuation.replace(scheme={"accrual": xr.where(accrual["year"] >= start, accrual * x, accrual)
                                         .transpose("year", "service")})
    if lever == "indexation_price_weight":
        return valuation.replace(scheme={
            "indexation_price_weight": _from_start(sch["indexation_price_weight"], start, x),
            "indexation_wage_weight": _from_start(sch["indexation_wage_weight"], start, 1.0 - x)})
    return valuation.replace(scheme={"ceiling_multiple": _from_start(sch["ceiling_multiple"], start, x)})


# ---------------------------------------------------------------------------------------------- solve

def _finance_at(run: _Run, rates: np.ndarray) -> _Run:
    """The projection with another contribution-rate schedule: the finance roll-forward recomputed on the
    projection's flows (which do not depend on the rate), with every benefit paid (borrowing)."""
    ds = run.projection[[name for name in YEARLY_VARIABLES if name in run.projection]]
    f = indicators.Flows(ds)
    n = rates.size
    out = {k: np.empty(n) for k in ("contributions", "subsidy", "admin", "expenditure", "investment_income",
                                     "payable_share")}
    reserve = np.empty(n + 1)
    top_up = ds["minimum_pension_top_up"].values if "minimum_pension_top_up" in ds else np.zeros(n)
    finance_kernel(f.wage_bill, f.benefits, f.grants, top_up, np.ascontiguousarray(rates), f.collection,
                   f.subsidy_benefits, f.subsidy_wages, f.admin_benefits, f.admin_contributions, f.investment_return,
                   f.reserve0, False, out["contributions"], out["subsidy"], out["admin"], out["expenditure"],
                   out["investment_income"], reserve, out["payable_share"])
    outgo = f.benefits + f.grants
    due = outgo + f.admin_benefits * outgo + f.admin_contributions * out["contributions"]
    changed = ds.assign(contributions=("year", out["contributions"]), contribution_rate=("year", rates),
                        reserve=("year", reserve[1:]), reserve_ratio=("year", reserve[1:] / due),
                        paygo_cost_rate=("year", due / f.wage_bill), payable_share=("year", out["payable_share"]))
    following = run.next_expenditure + f.admin_contributions * run.next_base * (rates[-1] - f.contributions[-1] /
                                                                                 (f.collection[-1] * f.wage_bill[-1]))
    return _Run(changed, following, run.next_base, run.terminal_reserve)


def _affine_margins(target: Target, run: _Run, start: int, until: int) -> tuple[np.ndarray, np.ndarray]:
    """Margins with the signs of :func:`margins` that are affine in the contribution rate: the reserve ratio's
    V_t - K E_t (E_t moves with the administration charged on contributions), the borrowing reserve V_t for
    the depletion year; the others are affine as they are."""
    ds = run.projection
    years = ds["year"].values
    if target.indicator == "reserve_ratio":
        keep = _window(years, start, until)
        reserve = ds["reserve"].values
        due = reserve / ds["reserve_ratio"].values
        return (reserve - target.value * due)[keep], years[keep]
    if target.indicator == "depletion_year":
        keep = years < target.value
        return _borrowing_reserve(indicators.Flows(ds))[keep], years[keep]
    return margins(target, run, start, until)


def _solve_affine(base, run: _Run, target: Target, lever: str, steps, start: int, until: int):
    """The contribution levers: margins are affine in the lever year by year; each margin m_t(x) = a_t + b_t x
    is read at x = 0 and x = 1 from the finance roll-forward; the solution is the smallest x with every
    margin >= 0 (the x where the equality margin is 0)."""
    def schedule(x):
        return contribution_schedule(base, lever, steps, start, x, until).values

    low, years = _affine_margins(target, _finance_at(run, schedule(0.0)), start, until)
    high, _ = _affine_margins(target, _finance_at(run, schedule(1.0)), start, until)
    slope = high - low
    equality = target.op == "=" and target.indicator == "actuarial_balance"
    if equality:
        if abs(slope[0]) < 1e-14:
            return None, math.nan
        return -low[0] / slope[0], None
    rising = slope > 1e-14
    falling = slope < -1e-14
    bounds_low = np.where(rising, -low / np.where(rising, slope, 1.0), -np.inf)
    bounds_high = np.where(falling, -low / np.where(falling, slope, 1.0), np.inf)
    if not rising.any() and not falling.any():   # the target does not depend on the rate
        return None, ("independent", bool(np.all(low >= -1e-12)))
    x = float(bounds_low.max()) if rising.any() else -math.inf
    upper = float(bounds_high.min()) if falling.any() else math.inf
    flat_bad = ~rising & ~falling & (low < -1e-12)
    x = max(x, _lowest_allowed(base, lever, steps, start, until))   # no contribution rate below 0: met with room there
    if flat_bad.any() or x > upper or not math.isfinite(x):
        return None, (x, upper)
    binding = int(years[int(np.argmax(bounds_low))]) if rising.any() and x <= float(bounds_low.max()) else None
    if binding is None:
        return x, None
    x += 1e-12 * max(1.0, abs(x))  # on the side where the target is met (not a rounding error below it)
    return x, (binding if binding >= 0 else None)


def _lowest_allowed(base, lever: str, steps, start: int, until: int) -> float:
    """The lowest value of a contribution lever that gives no negative contribution rate (0 for
    ``contribution_rate``; for ``contribution_steps`` the most negative step the schedule allows)."""
    r0 = contribution_schedule(base, lever, steps, start, 0.0, until).values
    slope = contribution_schedule(base, lever, steps, start, 1.0, until).values - r0
    moved = slope > 0.0
    if not moved.any():
        return -math.inf
    x = float((-r0[moved] / slope[moved]).max())
    while not _rates_allowed(contribution_schedule(base, lever, steps, start, x, until).values):
        x = float(np.nextafter(x, math.inf))   # -r/c rounded: the schedule's rate r + c x may be -3e-17
    return x


def measure_period(valuation, target: Target, until: int | None) -> tuple[int, tuple[str, str] | None]:
    """The last year of the target's window and, for a measure over a period, the measure's name with its years
    and where they come from (("actuarial balance over 2020-2094", "75 years, the valuation's period")). A measure
    over a period (the actuarial balance, the GAP) is taken over the valuation's own period
    (settings.actuarial_balance_period; the horizon, the longest GAP of the results) unless ``until`` is given: the
    value solved is then the one its results show. A target year by year (reserve ratio, PAYG cost rate) runs to
    ``until``, default the last projection year."""
    years = _years(valuation)
    first, last = int(years[0]), int(years[-1])
    settings = valuation.inputs.settings
    own = None
    if target.indicator == "actuarial_balance":
        own = int(settings["actuarial_balance_period"])
    elif target.indicator == "gap":   # the longest GAP of the results: the full horizon (always among them)
        own = last - first + 1
    if own is None:
        return (last if until is None else int(until)), None
    end = min(first + own - 1, last) if until is None else int(until)
    whose = ("to --until" if until is not None else "the valuation's period" if target.indicator ==
             "actuarial_balance" else "the horizon")
    name = "actuarial balance" if target.indicator == "actuarial_balance" else "GAP"
    return end, (f"{name} over {first}-{end}", f"{_plural(end - first + 1)}, {whose}")


def _plural(n: int) -> str:
    return f"{n} year{'' if n == 1 else 's'}"


def solve(valuation, lever: str, target, start: int | None = None, until: int | None = None) -> Solution:
    """The value of ``lever`` that meets ``target`` (see the module docstring); ``start`` defaults to the valuation
    year, ``until`` to the valuation's own period for a measure over a period (actuarial balance, GAP: see
    :func:`measure_period`) and to the last projection year for a target year by year."""
    target = parse_target(target) if isinstance(target, str) else target
    until, period = measure_period(valuation, target, until)
    solution = _solve(valuation, lever, target, start, until)
    solution.period = period
    return solution


def _solve(valuation, lever: str, target, start: int | None, until: int) -> Solution:
    if not valuation.inputs.has_scheme:
        raise InputError(f"solve: '{valuation.name}' is a social protection floor costing alone (settings.scheme = "
                         "no); the levers and targets of solve are those of a contributory scheme (contribution "
                         "rate, retirement ages, reserve, GAP), which it does not have. Cost floor designs with "
                         "actuary valuate, actuary sensitivity or actuary stochastic.")
    target = parse_target(target) if isinstance(target, str) else target
    name, steps = parse_lever(lever)
    years = _years(valuation)
    start = int(years[0]) if start is None else int(start)
    if not years[0] <= start <= years[-1]:
        raise InputError(f"--from {start}: expected a year of the projection, {years[0]}..{years[-1]}.")
    if not years[0] <= until <= years[-1]:
        raise InputError(f"--until {until}: expected a year of the projection, {years[0]}..{years[-1]}.")
    if start > until:
        raise InputError(f"--from {start} is after {until}, the last year the target is measured in (--until, or "
                         f"the end of the target's own period); expected --from at most {until}.")
    if target.indicator == "depletion_year" and not years[0] < target.value <= years[-1] + 1:
        raise InputError(f"target {target}: the year must be within {years[0] + 1}..{years[-1] + 1}.")
    quick = _quick(valuation, target, until)  # projections only: no balance sheet
    runs = 0

    def evaluate(x):
        nonlocal runs
        runs += 1
        return _project(with_lever(quick, name, steps, start, x, until))

    equality = target.op == "="
    if name in ("contribution_rate", "contribution_steps"):
        run = _project(quick)
        runs += 1
        x, binding = _solve_affine(quick, run, target, name, steps, start, until)
        if isinstance(binding, tuple) and binding[0] == "independent":
            return _independent(valuation, name, steps, start, until, target, runs, everywhere=binding[1])
        if x is None or not _rates_allowed(contribution_schedule(quick, name, steps, start, x, until).values):
            return _infeasible_affine(valuation, quick, run, target, name, steps, start, until, runs)
        if binding is None and target.op != "=":   # the lowest rates allowed meet the target with room
            return _finish(valuation, name, steps, start, until, target, x, runs, binding_check=False, lowest=True)
    elif name == "retirement_age_pace":
        return _solve_grid(valuation, target, start, until)
    else:
        low, high = BRACKETS[name]
        if name == "ceiling_multiple":
            low = max(low, float(valuation.inputs.scheme["floor_multiple"].max()) + 1e-6)

        def margin(x):
            return _worst(*margins(target, evaluate(x), start, until), equality)[0]

        bracket = _bracket(margin, low, high, name == "ceiling_multiple")
        if bracket == (None, None):
            return _independent(valuation, name, steps, start, until, target, runs)
        if bracket == (None, math.inf) and not equality:
            return _independent(valuation, name, steps, start, until, target, runs, everywhere=True)
        if bracket[0] is None:
            return _finish(valuation, name, steps, start, until, target, bracket[1], runs, feasible=False)
        x = brentq(margin, *bracket, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=200)
        if not equality:  # on the side where the target is met
            feasible_side = bracket[1] if margin(bracket[0]) < 0 else bracket[0]
            x += 1e-10 * (feasible_side - x)
    return _finish(valuation, name, steps, start, until, target, x, runs)


def _bracket(margin, low: float, high: float, geometric: bool, points: int = 8):
    """(a, b) with margins of opposite signs: the ends of the range, else the first change of sign on a grid
    from the low end (the smallest lever values first); (None, best) when the grid finds none, with the
    grid value whose margin is highest; (None, None) when the margin is the same all over the grid (the target
    does not depend on the lever); (None, inf) when it is met (margin >= 0) all over the grid."""
    ends = (margin(low), margin(high))
    if ends[0] * ends[1] <= 0 and not math.isnan(ends[0] * ends[1]):
        return low, high
    grid = np.geomspace(low, high, points + 2) if geometric else np.linspace(low, high, points + 2)
    values = [ends[0]] + [margin(x) for x in grid[1:-1]] + [ends[1]]
    for i in range(len(grid) - 1):
        if values[i] * values[i + 1] <= 0:
            return float(grid[i]), float(grid[i + 1])
    if np.all(np.asarray(values) >= 0.0):
        return None, math.inf
    if _unmoved(values):
        return None, None
    return None, float(grid[int(np.nanargmax(values))])


def _unmoved(margins) -> bool:
    """Whether the margins over a lever's whole range are the same (to rounding): the target does not depend on it."""
    values = np.asarray(margins, dtype=float)
    return bool(np.all(np.isfinite(values)) and np.ptp(values) <= 1e-12 * max(1.0, float(np.abs(values).max())))


def _independent(valuation, name, steps, start, until, target, runs, everywhere: bool = False) -> Solution:
    """The solution when the target does not depend on the lever (not attainable) or, ``everywhere``, when every value
    of the lever meets it (met): the valuation left as it was (a lever value chosen among equals would be arbitrary,
    e.g. a contribution rate of 0 or no accrual)."""
    run = _project(_quick(valuation, target, until))
    values, years = margins(target, run, start, until)
    worst, binding = _worst(values, years, target.op == "=")
    lever_name = name if steps is None else f"{name}:{steps}"
    return Solution(lever_name, target, math.nan, valuation, runs + 1, None if everywhere else binding,
                    attained(target, run, start, until), worst, feasible=everywhere, independent=not everywhere,
                    everywhere=everywhere)


def _quick(valuation, target: Target, until: int):
    """The valuation for the solver's runs (projections without the balance sheet's closed-group runs): an
    actuarial balance to the last year needs the year after the horizon."""
    horizon = valuation.inputs.settings["horizon"]
    if target.indicator == "actuarial_balance" and until == _years(valuation)[-1] and \
            valuation.inputs.settings["actuarial_balance_period"] < horizon:
        return valuation.replace(settings={"actuarial_balance_period": horizon})
    return valuation


def _finish(valuation, name, steps, start, until, target, x, runs, feasible=True, binding_check=True,
            lowest=False, projected: tuple | None = None) -> Solution:
    """Verify by a full rerun of the solved valuation; the target binds within TOLERANCE on continuous levers.
    ``projected``: (the solved valuation, its run) when the solver has already run exactly that projection
    (``_project(_quick(with_lever(valuation, ...)))``: the retirement-age pace, whose whole months are run as they
    are given): that run is the verification, not run again."""
    if isinstance(x, float):
        x += 0.0   # -0.0 (a rate solved at 0 from below) written as 0
    if projected is None:
        solved = with_lever(valuation, name, steps, start, x, until)
        run = _project(_quick(solved, target, until))
        runs += 1
    else:
        solved, run = projected
    values, years = margins(target, run, start, until)
    worst, binding = _worst(values, years, target.op == "=")
    if feasible and binding_check and abs(worst) > TOLERANCE:
        raise RuntimeError(f"solver: the rerun of {name} = {x!r} misses the target {target} by {worst:.3g}")
    if feasible and not binding_check and worst < -TOLERANCE:
        raise RuntimeError(f"solver: the rerun of {name} = {x!r} does not meet the target {target} ({worst:.3g})")
    lever_name = name if steps is None else f"{name}:{steps}"
    solution = Solution(lever_name, target, float(x) + 0.0, solved, runs, None if lowest else binding,
                        attained(target, run, start, until), worst, feasible, lowest=lowest,
                        steps_years=None if steps is None else (start, until), start=start)
    if steps is not None:
        rates = run.projection["contribution_rate"]
        solution.schedule = tuple((int(y), float(rates.sel(year=y))) for y in range(start, until + 1, steps))
        solution.note = _overshoot(solution, run.projection, until)
    return solution


OVERSHOOT = 1.25   # contribution_steps: a last rate above this multiple of the PAYG cost rate of the window's end


def _overshoot(solution: Solution, projection: xr.Dataset, until: int) -> str:
    """A note when the steps of ``contribution_steps`` overshoot: the smallest step meeting the target in every year
    of the window binds in one year (often early: the reserve is lowest before the first steps have built it up) and
    keeps rising after it, to a last rate above OVERSHOOT x the highest PAYG cost rate of the window's last 5 years:
    a shorter --until (to the binding year) or a level rate (contribution_rate) meets the target with lower rates."""
    if not solution.feasible or solution.lowest or not solution.schedule:
        return ""
    last = solution.schedule[-1][1]
    years = projection["year"].values
    end = projection["paygo_cost_rate"].values[(years > until - 5) & (years <= until)]
    cost = float(end.max())
    if last <= OVERSHOOT * cost:
        return ""
    binds = f"the target binds in {solution.binding_year}, " if solution.binding_year is not None else ""
    return (f"Note: the steps overshoot: {binds}the steps after it raise the rate to {100 * last:.2f}% by "
            f"{solution.schedule[-1][0]}, {100 * (last - cost):.1f} points above the PAYG cost rate of "
            f"{max(int(years[0]), until - 4)}-{until} (at most {100 * cost:.2f}%); a shorter --until (e.g. "
            f"{solution.binding_year}) or the contribution_rate lever meets the target with lower rates.")


def _rates_allowed(rates: np.ndarray) -> bool:
    """Whether ``rates`` are contribution rates one can give (shares of insurable earnings, 0 to 1)."""
    return bool(np.all((rates >= 0.0) & (rates <= 1.0)))


def _infeasible_affine(valuation, quick, run, target, name, steps, start, until, runs) -> Solution:
    """No contribution rate of 0 to 100% meets the target (it does not depend on the rate, conflicting years, or
    it would take more than all insured earnings): the value with the best attainable margin over a wide range of
    rates is reported."""
    grid = np.linspace(-1.0, 1.0, 201) if name == "contribution_steps" else np.linspace(0.0, 1.0, 201)
    schedules = {x: contribution_schedule(quick, name, steps, start, x, until).values for x in grid}
    grid = [x for x in grid if _rates_allowed(schedules[x])]
    scores = [_worst(*margins(target, _finance_at(run, schedules[x]), start, until), target.op == "=")[0]
              for x in grid]
    if _unmoved(scores):
        return _independent(valuation, name, steps, start, until, target, runs)
    best = float(grid[int(np.argmax(np.where(target.op == "=", -np.abs(scores), scores)))])
    return _finish(valuation, name, steps, start, until, target, best, runs, feasible=False)


def _smallest_pace(margin) -> tuple[int, bool]:
    """(the smallest whole month 0..MAX_PACE whose ``margin(months)`` is >= 0, True), else (the month whose margin is
    highest, the smallest of equals, False). Every whole month from 0 is run in turn up to the first that meets the
    target, each once: nothing is assumed of the margin's shape (it turns several times: see :func:`_solve_grid`),
    so no month below the answer can be skipped, and a target none meets takes all MAX_PACE + 1."""
    best = 0
    for months in range(MAX_PACE + 1):
        value = margin(months)
        if value >= 0:
            return months, True
        if value > margin(best):
            best = months
    return best, False


def _solve_grid(valuation, target, start, until) -> Solution:
    """The smallest pace (whole months per cohort, 0..MAX_PACE) that meets the target, else the pace whose margin is
    highest (not attainable). The margin need not rise with the pace: once the ages reach
    ``settings.max_retirement_age`` a faster pace only brings the cap forward to earlier cohorts, whose longer careers
    raise their pensions, and whole years per cohort (12, 24, 36 months) meet the yearly age grid differently from the
    months between them, so it turns several times (Demoland from 2040, the GAP over 2020-2079: lows at 12, 18 and 36
    months between rises; gap<=0.30062 is met at 12, 18, 35 and 36 months only, and the scan every 5 months this
    replaced, which assumed one turn, gave 35). A scan, a bisection or a search around the best of a coarse grid can
    each miss a window of paces that meet the target, so every whole month is run from 0 up to the first that meets
    it (:func:`_smallest_pace`): the answer is exact whatever the shape, and no exact search of a margin of unknown
    shape can run fewer (each month below the answer might meet the target). Each month is projected once, as the
    solved valuation itself (``_quick(with_lever(valuation, ...))``), and the run of the pace given is its
    verification: ``Solution.runs`` is the pace + 1 (all MAX_PACE + 1 when none meets the target; a margin the same
    at every month, a target that does not depend on the pace, is said as for the other levers: :func:`_independent`).
    The solution's note (:func:`_pace_note`) says which cohorts the cap stops, where the margin fell with the pace
    and, when no month meets the target, the best month's margin."""
    equality = target.op == "="
    tried: dict[int, float] = {}
    kept: dict[int, tuple] = {}   # (solved valuation, run) of the month last run and of the best one so far
    best = 0

    def margin(months: int) -> float:
        nonlocal best
        if months not in tried:
            solved = with_lever(valuation, "retirement_age_pace", None, start, float(months), until)
            run = _project(_quick(solved, target, until))
            tried[months] = _worst(*margins(target, run, start, until), equality)[0]
            kept[months] = (solved, run)
            if tried[months] > tried.get(best, math.nan):   # the rule of _smallest_pace: the smallest of equals
                best = months
            for other in [m for m in kept if m not in (months, best)]:
                del kept[other]
        return tried[months]

    months, feasible = _smallest_pace(margin)
    if not feasible and _unmoved(list(tried.values())):   # the same margin at every month: as the other levers
        return _independent(valuation, "retirement_age_pace", None, start, until, target, len(tried))
    options = {"feasible": False} if not feasible else \
        {"binding_check": False, "lowest": True} if months == 0 else {"binding_check": False}
    solution = _finish(valuation, "retirement_age_pace", None, start, until, target, months, len(tried),
                       projected=kept[months], **options)
    solution.note = _pace_note(solution, start, tried)
    return solution


def _pace_note(solution: Solution, start: int, tried: dict[int, float]) -> str:
    """What the solved pace does at ``settings.max_retirement_age``: from which cohort of each sex the normal
    retirement age is at that cap (within the projection: cohorts reaching it by its last year), which the pace
    would take higher; that the target's margin fell with the pace somewhere among the whole months ``tried``
    (months -> margin: every month from 0 to the last run), so that it does not improve steadily with the pace; and,
    when no month meets the target, how far the best one misses it."""
    valuation = solution.valuation
    inputs = valuation.inputs
    increase = inputs.scheme.get("retirement_age_increase_by_cohort")
    parts = []
    if increase is not None and solution.value:
        cap = float(inputs.settings["max_retirement_age"])
        years, ages = _years(valuation), inputs.coords["scheme_age"]
        born = years[:, None] - (ages[None, :] + 1)
        law = retirement_age_grid({**inputs.scheme, "retirement_age_increase_by_cohort": None}, "normal", years, ages)
        added = np.moveaxis(cohort_ages(increase, born), -1, 1)   # (year, sex, age)
        capped = (law + added >= cap - 1e-9) & (added > 0) & (law < cap) & \
            (born[:, None, :] + math.ceil(cap) <= years[-1])
        for s, sex in enumerate(("men", "women")):
            if capped[:, s].any():
                first = int(born[capped[:, s]].min())
                parts.append(f"{sex} born from {first} ({cap:g} in {first + math.ceil(cap)})")
    sentences = []
    if parts:
        months = f"{solution.value:g} month{'' if solution.value == 1 else 's'}"
        sentences.append(
            f"at {months} per cohort the normal retirement ages reach the cap, settings.max_retirement_age = "
            f"{cap:g}, within the projection: {' and '.join(parts)} have the cap as their normal retirement age "
            "(the early age at most the same), where the pace would take them higher. A faster pace only brings "
            "the cap forward to earlier cohorts, whose longer careers raise their pensions, so the measure need "
            "not improve with it; a higher cap (Settings) lets the ages rise further.")
    paces = sorted(tried)   # every whole month from 0 to the last one run
    fell = [b for a, b in zip(paces, paces[1:]) if tried[b] < tried[a] - 1e-12 * max(1.0, abs(tried[a]))]
    if fell:
        more = (f" (and at {len(fell) - 1} other one-month step{'' if len(fell) == 2 else 's'})"
                if len(fell) > 1 else "")
        sentences.append(
            f"The target's margin is not monotone in the pace: it fell from {fell[0] - 1} to {fell[0]} months{more} "
            f"among the whole months run (0 to {paces[-1]})"
            + ("; the pace given is still the smallest that meets the target: every whole month below it was run."
               if solution.feasible else "."))
    if not solution.feasible:
        sentences.append(
            f"No whole month from 0 to {MAX_PACE} meets the target (each was run): the pace given comes closest, "
            f"its margin {solution.margin:.4g} ({_margin_meaning(solution.target)}; >= 0 would meet it).")
    if not sentences:
        return ""
    return "Note: " + " ".join(sentences)


def _margin_meaning(target: Target) -> str:
    """What the margin of :func:`margins` is for ``target``, in words (the worst over the years)."""
    value = str(Target(target.indicator, "=", target.value)).partition("=")[2]
    if target.indicator == "reserve_ratio":
        return f"the lowest reserve ratio minus {value}"
    if target.indicator == "paygo_cost_rate":
        return f"{value} minus the highest PAYG cost rate"
    if target.indicator == "depletion_year":
        return (f"the lowest reserve before {value}, every benefit paid, in years of the year's expenditure")
    measure = "the GAP" if target.indicator == "gap" else "the actuarial balance"
    return f"{value} minus {measure}" if target.op == "<=" else f"{measure} minus {value}"
