"""Batch runs: scenarios (overrides of a base valuation), the standard sensitivity set, and their
execution in process or on Dask distributed.

A scenario is a name and overrides: ``{"economy.nominal_return": Shift(0.01), "demography.fertility":
Scale(0.8), "scheme.contribution_rate": Set(0.2, years=(2030, None))}``. An override applies to the
validated input of the base valuation (so it may touch any input: a scalar, a schedule, a table,
optionally only some years or ages), and the scenario is validated again as a whole valuation. A
scenario that fails is reported by name with its error; the others complete.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from .floor import poverty_line_at_prices
from .inputs import FIELDS, LIST_DIMS
from .validation import InputError

YEARLY = ("insurable_wage_bill", "contributions", "total_expenditure", "reserve", "paygo_cost_rate",
          "reserve_ratio", "contribution_rate", "contributors", "pensioners", "expenditure_pct_gdp")
NATIONAL_INDICATORS = ("expenditure_pct_gdp",)   # absent from a scheme-only valuation
# sensitivities that move the national population or GDP (not run for a scheme-only valuation)
NATIONAL_SENSITIVITIES = ("fertility", "net migration", "coverage")
# also, when the case has a floor; the last (the fiscal cost including the scheme's borrowing once its reserve is
# exhausted) when the floor is beside a scheme
FLOOR_YEARLY = ("floor_cost_pct_gdp", "fiscal_cost_pct_gdp", "fiscal_cost_with_borrowing_pct_gdp")
WITH_BORROWING = "fiscal_cost_with_borrowing_pct_gdp"
# the yearly variables of a sensitivity run that its workbook shows, a sheet each by year and scenario (those the case
# has); the other yearly variables (YEARLY) are in its netCDF file only
SENSITIVITY_SHEETS = ("reserve_ratio", "paygo_cost_rate", "reserve", "contributions", "total_expenditure", *FLOOR_YEARLY)
# sensitivities of the contributory scheme's behaviour and collection (not run for a floor costing alone)
SCHEME_SENSITIVITIES = ("coverage", "contribution density", "collection rate", "retirement rates")


def yearly_names(base) -> tuple[str, ...]:
    """YEARLY (without GDP ratios in a scheme-only valuation, none for a floor costing alone), and
    FLOOR_YEARLY when the case has a floor (the fiscal cost including the scheme's borrowing when the floor is
    beside a scheme)."""
    scheme = YEARLY if base.inputs.has_scheme else ()
    return tuple(k for k in scheme if base.inputs.national or k not in NATIONAL_INDICATORS) + \
        (tuple(k for k in FLOOR_YEARLY if base.inputs.has_scheme or k != WITH_BORROWING) if base.inputs.has_floor
         else ())


def _yearly_value(p: xr.Dataset, name: str) -> np.ndarray:
    """A yearly indicator of a scenario's projection; the fiscal cost including the scheme's borrowing of a scenario
    under settings.after_depletion payable (whose results leave it out) is its fiscal cost plus a borrowing of 0."""
    if name == WITH_BORROWING and name not in p:
        return p.fiscal_cost_pct_gdp.values + p.scheme_borrowing_pct_gdp.values
    return p[name].values


@dataclass(frozen=True)
class Measure:
    """The indicator that ranks the sensitivities and picks the sides of the combined scenarios: a summary
    variable over the full horizon, ``scale`` turning its data value into a fraction."""

    name: str
    label: str
    unit: str
    scale: float


GAP = Measure("gap", "general average premium", "% of insurable earnings", 1.0)
FLOOR_LEVEL = Measure("floor_cost_level_pct_gdp", "level cost of the floor", "% of GDP", 0.01)


def measure(ds: xr.Dataset) -> Measure:
    """The general average premium; for a floor costing alone (no scheme), the floor's level cost as a
    share of GDP (the constant share with the same present value as the cost)."""
    return GAP if "gap" in ds else FLOOR_LEVEL


@dataclass(frozen=True)
class Override:
    """Base class: an operation on one input, optionally limited to years, ages and cohorts (years of birth;
    inclusive bounds). ``cells``: where a sheet row gave the bounds, (dimension, "Sheet!E7:F7") pairs, named
    by the errors."""

    value: float
    years: tuple | None = None
    ages: tuple | None = None
    cohorts: tuple | None = None
    cells: tuple = field(default=(), compare=False)

    def apply(self, current):
        if isinstance(current, xr.DataArray):
            return xr.where(self.chosen(current), self.operate(current), current).transpose(*current.dims)
        for dim, bounds in (("year", self.years), ("age", self.ages), ("cohort", self.cohorts)):
            if bounds is not None:
                raise InputError(f"limited to {dim}s, but the input is a single value", where={dim: bounds})
        if isinstance(current, (str, tuple)) or current is None:  # a choice, a list (bend points): set
            return self.value
        return self.operate(current)

    def chosen(self, current: xr.DataArray) -> xr.DataArray:
        """The cells of ``current`` within the bounds. Bounds that would change nothing are refused (an override
        accepted but applied nowhere leaves the results as the base's): a dimension the input does not have, a
        first bound after the last, a year outside the projection (each year bound given must be one of its
        years: "from 2070" in a projection ending in 2059 is refused, and so is "2030 .. 2100", which could mean
        a temporary change ending after the horizon), ages or cohorts of which the input has none."""
        mask = xr.ones_like(current, dtype=bool)
        for dim, bounds in (("year", self.years), ("age", self.ages), ("cohort", self.cohorts)):
            if bounds is None:
                continue
            if dim not in current.dims:
                raise InputError(f"limited to {dim}s, but the input has no {dim} dimension", where={dim: bounds})
            low = -np.inf if bounds[0] is None else bounds[0]
            high = np.inf if bounds[1] is None else bounds[1]
            labels = current[dim].values
            span = f"{labels[0]}-{labels[-1]}"
            if low > high:
                raise InputError(f"{dim}s from {low} to {high}: the first is after the last", where={dim: bounds})
            inside = (labels >= low) & (labels <= high)
            if dim == "year" and any(b is not None and not labels[0] <= b <= labels[-1] for b in bounds):
                to_the_end = inside.any() and bounds[1] is not None and bounds[1] > labels[-1]
                raise InputError(f"years {_bounds_text(bounds)} lie {'partly ' if inside.any() else ''}outside the "
                                 f"projection's years {span}; expected years within {span}"
                                 + (f" (leave to_year blank for a change from {low} to the end of the projection)"
                                    if to_the_end else ""), where={dim: bounds})
            if not inside.any():
                what = "the cohorts the table lists (years of birth)" if dim == "cohort" else f"the input's {dim}s"
                raise InputError(f"{dim}s {_bounds_text(bounds)} select none of {what}, {span}",
                                 where={dim: bounds})
            mask = mask & xr.DataArray(inside, coords={dim: labels}, dims=(dim,))
        return mask

    def operate(self, current):  # pragma: no cover - abstract
        raise NotImplementedError


def _bounds_text(bounds) -> str:
    """Inclusive bounds as given: "2030 .. 2100", "from 2070", "up to 2010"."""
    low, high = bounds
    if low is not None and high is not None:
        return f"{low} .. {high}"
    return f"from {low}" if low is not None else f"up to {high}"


@dataclass(frozen=True)
class Set(Override):
    def operate(self, current):
        return xr.full_like(current, self.value, dtype=float) if isinstance(current, xr.DataArray) else self.value


@dataclass(frozen=True)
class Scale(Override):
    def operate(self, current):
        return current * self.value


@dataclass(frozen=True)
class Shift(Override):
    def operate(self, current):
        return current + self.value


OPERATIONS = {"set": Set, "scale": Scale, "shift": Shift}


@dataclass(frozen=True)
class Schedule(Override):
    """Sheet rows of one input in one scenario (option) whose cells do not overlap (other years, or other ages or
    cohorts), applied in turn: a phased reform, e.g. the normal retirement age set to 66 in 2030-2034 and to 67
    from 2035. ``parts``: the rows' overrides in the sheet's order (``value`` is unused)."""

    parts: tuple = ()

    def apply(self, current):
        for part in self.parts:
            current = part.apply(current)
        return current


@dataclass(frozen=True)
class Sequence(Schedule):
    """Overrides of one input applied one after the other, whose cells may overlap: the moves of one input that a
    combined scenario takes from several one-at-a-time sensitivities (the nominal return, which the real return
    and inflation both move), when they do not reduce to one (:func:`compose`): e.g. a shift then a scale,
    (x + a) x s. ``parts``: the overrides in the order they apply (``value`` is unused)."""


def override_parts(override) -> tuple:
    """The overrides an override applies: those of a :class:`Schedule` (or :class:`Sequence`), else the override
    itself."""
    return override.parts if isinstance(override, Schedule) else (override,)


def _same_cells(first, second) -> bool:
    """Whether two overrides are limited to the same years, ages and cohorts."""
    return (first.years, first.ages, first.cohorts) == (second.years, second.ages, second.cohorts)


def _merged(first, second):
    """The one override that applying ``first`` then ``second`` (of the same cells of one input) comes to, when
    there is one: two shifts add, two scales multiply, a set followed by a shift or a scale is the set of the moved
    value, anything followed by a set is that set; None otherwise (a shift then a scale, (x + a) x s, is no single
    operation; a move held within [0, 1] is not merged: held twice is not held once)."""
    if type(first) not in (Set, Scale, Shift) or type(second) not in (Set, Scale, Shift) or \
            not _same_cells(first, second):
        return None
    if type(second) is Set:
        return second
    if type(first) is type(second):
        value = first.value + second.value if type(first) is Shift else first.value * second.value
        return type(first)(value, first.years, first.ages, first.cohorts, first.cells)
    if type(first) is Set and isinstance(first.value, (int, float)) and not isinstance(first.value, bool):
        value = first.value + second.value if type(second) is Shift else first.value * second.value
        return Set(value, first.years, first.ages, first.cohorts, first.cells)
    return None


def compose(first, second):
    """The override of one input that applies ``first``, then ``second`` (each an :class:`Override`, a
    :class:`Schedule` or a plain value: a set), so that moves of the same input add up instead of the second
    replacing the first: two shifts of the nominal return, +1 point and -1 point, come to a shift of 0; a shift of
    +1 point then a scale of 0.8 to a :class:`Sequence`, (x + 0.01) x 0.8. Neighbouring moves of the same cells
    that come to one operation are merged (:func:`_merged`), so that a scenario's words say the net move."""
    parts = []
    for part in (p if isinstance(p, Override) else Set(p) for o in (first, second) for p in override_parts(o)):
        merged = _merged(parts[-1], part) if parts else None
        if merged is None:
            parts.append(part)
        else:
            parts[-1] = merged
    return parts[0] if len(parts) == 1 else Sequence(None, parts=tuple(parts))


def _table(spec) -> bool:
    """Whether an input is a table (by year, age, cohort, ...), not a single value or a list (bend points)."""
    return bool(spec.dims) and spec.dims[0] not in LIST_DIMS


def _overlap(first, second) -> bool:
    """Whether two inclusive bounds (None: every label) share a label."""
    if first is None or second is None:
        return True
    low = max(-np.inf if first[0] is None else first[0], -np.inf if second[0] is None else second[0])
    high = min(np.inf if first[1] is None else first[1], np.inf if second[1] is None else second[1])
    return low <= high


@dataclass
class Scenario:
    name: str
    overrides: dict = field(default_factory=dict)   # "group.field" -> Override (or a plain value: Set)
    kind: str = "scenario"                           # what its messages call it ("option" in the Reforms sheet)

    def _current(self, base, key: str):
        """The base valuation's validated value of input ``key`` (group.field)."""
        group, _, name = key.partition(".")
        if group not in FIELDS or name not in FIELDS[group]:
            raise InputError(f"{self.kind} '{self.name}': '{key}' is not an input (expected group.field, "
                             "e.g. economy.nominal_return)")
        return getattr(base.inputs, group)[name] if group != "settings" else base.inputs.settings[name]

    def _failed(self, key: str, override, error: InputError) -> InputError:
        """``error`` of ``override`` of input ``key``, naming this scenario and, where a sheet row gave the bounds
        at fault, its cells."""
        cells = dict(override.cells) if isinstance(override, Override) else {}
        cell = next((cells[dim] for dim in error.where if dim in cells), None)
        said = f"{self.kind} '{self.name}', {key}: {error}"
        return InputError(f"{cell}: {said}" if cell else said, key)

    def check(self, base) -> None:
        """Refuse bounds (years, ages, cohorts) that select nothing of the base's inputs, or years outside its
        projection (:meth:`Override.chosen`), before anything runs."""
        for key, override in self.overrides.items():
            current = self._current(base, key)
            for part in override_parts(override):
                if isinstance(part, Override) and isinstance(current, xr.DataArray):
                    try:
                        part.chosen(current)
                    except InputError as error:
                        raise self._failed(key, part, error) from None

    def apply(self, base):
        """The scenario as a validated Valuation (raises InputError naming the scenario)."""
        groups = {}
        for key, override in self.overrides.items():
            group, _, name = key.partition(".")
            current = self._current(base, key)
            if not isinstance(override, Override):
                override = Set(override)
            whole = type(override) is Set and not (override.years or override.ages or override.cohorts) and \
                (not _table(FIELDS[group][name]) or isinstance(override.value, xr.DataArray))   # (from Python)
            if current is None and not whole:
                raise self._not_in_base(base, key, override)
            value = current
            for part in override_parts(override):
                try:
                    value = part.apply(value)
                except InputError as error:
                    raise self._failed(key, part, error) from None
            groups.setdefault(group, {})[name] = value
        economy = groups.get("economy", {})
        if "inflation" in economy and "poverty_line" not in economy and base.inputs.economy["poverty_line"] is not None:
            # the poverty line, given in the valuation's money, moves with the scenario's prices (actuary.floor);
            # validated with the rest, after the inflation it is computed from (a bad inflation is said as such)
            with np.errstate(all="ignore"):   # an inflation out of bounds is refused below, not warned of here
                economy["poverty_line"] = poverty_line_at_prices(base.inputs, np.asarray(economy["inflation"],
                                                                                         dtype=float))
        try:
            valuation = base.replace(**groups)   # validates once, only the inputs the scenario changes
            valuation.name = f"{base.name}:{self.name}"
            return valuation
        except InputError as error:
            cell = self._value_cell(error)
            raise InputError(f"{cell + ': ' if cell else ''}{self.kind} '{self.name}': {error}", error.field,
                             error.where) from None

    def _value_cell(self, error: InputError) -> str | None:
        """The value cell of the sheet row whose value the validation refused (``error``: its input and the year,
        age or cohort at fault), when a row gave it: the row whose bounds hold that cell."""
        override = self.overrides.get(error.field or "")
        if override is None:
            return None
        for part in override_parts(override):
            cells = dict(part.cells) if isinstance(part, Override) else {}
            inside = all(bounds is None or label is None or (bounds[0] is None or bounds[0] <= label) and
                         (bounds[1] is None or label <= bounds[1])
                         for dim, bounds in (("year", part.years), ("age", part.ages), ("cohort", part.cohorts))
                         for label in [error.where.get(dim)])
            if "value" in cells and inside:
                return cells["value"]
        return None

    def _not_in_base(self, base, key: str, override) -> InputError:
        """The error of a change to input ``key`` that the base does not give: a table (by year, cohort, ...) the
        base gives in its other form (a retirement age by year, not by cohort) or not at all, or a part of one."""
        group, _, name = key.partition(".")
        cell = next((c for part in override_parts(override) if isinstance(part, Override)
                     for dim, c in part.cells if dim == "input"), None)
        other = next((f"{group}.{n}" for n in (f"{name}_by_cohort", name.removesuffix("_by_cohort"))
                      if n != name and n in FIELDS[group] and getattr(base.inputs, group, {}).get(n) is not None),
                     None)
        said = f"{self.kind} '{self.name}' changes {key}, which the base valuation does not give" + \
            (f" (it gives {other} instead)" if other else "")
        own = "(actuary compare BASE.xlsx OPTION.xlsx)" if self.kind == "option" else \
            "(a copy of the workbook with the table)"
        if _table(FIELDS[group][name]) and other:
            dim = FIELDS[group][other.partition(".")[2]].dims[0]
            article = "an" if self.kind[0] in "aeiou" else "a"
            todo = (f"; {article} {self.kind} changes the inputs the base gives: change {other} (from_{dim}/to_{dim} "
                    f"limit a phased change), or give the {self.kind} as a valuation of its own with {key} {own}")
        elif _table(FIELDS[group][name]):
            todo = f"; a row cannot give a table: give the {self.kind} as a valuation of its own with {key} {own}"
        else:
            todo = "; only a 'set' row without year, age or cohort limits can give it a value"
        return InputError(f"{cell + ': ' if cell else ''}{said}{todo}.", key)


@dataclass(frozen=True)
class ClippedScale(Override):
    """Scale a probability without leaving [0, 1]."""

    def operate(self, current):
        return (current * self.value).clip(0.0, 1.0)


@dataclass(frozen=True)
class ClippedShift(Override):
    """Shift a probability without leaving [0, 1] (a collection rate of 98% moved up 5 points is 100%)."""

    def operate(self, current):
        return (current + self.value).clip(0.0, 1.0)


def clipped(scale: float, *keys) -> dict:
    return {key: ClippedScale(scale) for key in keys}


def standard_sensitivities(national: bool = True, scheme: bool = True) -> list[tuple[str, Scenario, Scenario]]:
    """(assumption, down, up) pairs of the ILO-ISSA one-at-a-time sensitivities; "up" raises the
    assumption (more births, faster mortality improvement, higher wages, ...). Without a national
    population (``national`` False) those that move the population or GDP are left out and real wage
    growth moves alone; without a scheme (a floor costing alone, ``scheme`` False) those of the
    scheme's behaviour and collection (coverage, contribution density, collection rate, retirement rates)
    are left out.

    Contribution density moves the density of contributions and that of service credits together (a career
    with more gaps pays less and is credited less: fewer contributions now, smaller or fewer pensions later);
    the collection rate moves the share of contributions due that is collected (compliance: income only,
    the members' credits unchanged). Both stay within [0, 1]: a rate already at 100% moves no further up."""
    pairs = [
        ("fertility", {"demography.fertility": Scale(0.8)}, {"demography.fertility": Scale(1.2)}),
        ("mortality improvement", {"demography.mortality_improvement": Scale(0.5)},
         {"demography.mortality_improvement": Scale(1.5)}),
        ("net migration", {"demography.net_migration": Scale(0.5)}, {"demography.net_migration": Scale(1.5)}),
        ("real wage growth", {"economy.real_wage_growth": Shift(-0.005), "economy.productivity_growth": Shift(-0.005)},
         {"economy.real_wage_growth": Shift(0.005), "economy.productivity_growth": Shift(0.005)}),
        ("real return", {"economy.nominal_return": Shift(-0.01)}, {"economy.nominal_return": Shift(0.01)}),
        ("inflation", {"economy.inflation": Shift(-0.01), "economy.nominal_return": Shift(-0.01)},
         {"economy.inflation": Shift(0.01), "economy.nominal_return": Shift(0.01)}),
        ("coverage", clipped(0.9, "behaviour.coverage"), clipped(1.1, "behaviour.coverage")),
        ("contribution density", clipped(0.9, "behaviour.contribution_density", "behaviour.credit_density"),
         clipped(1.1, "behaviour.contribution_density", "behaviour.credit_density")),
        ("collection rate", {"scheme.collection_rate": ClippedShift(-0.05)},
         {"scheme.collection_rate": ClippedShift(0.05)}),
        ("retirement rates", clipped(0.75, "behaviour.retirement_rate"), clipped(1.25, "behaviour.retirement_rate")),
    ]
    if not national:
        pairs = [(name, *({k: v for k, v in side.items() if k != "economy.productivity_growth"} for side in sides))
                 for name, *sides in pairs if name not in NATIONAL_SENSITIVITIES]
    if not scheme:
        pairs = [pair for pair in pairs if pair[0] not in SCHEME_SENSITIVITIES]
    return [(name, Scenario(f"{name} down", down), Scenario(f"{name} up", up)) for name, down, up in pairs]


def combined_scenarios(one_at_a_time: xr.Dataset) -> list[Scenario]:
    """Optimistic and pessimistic scenarios: every assumption moved to the side that lowered
    (optimistic) or raised (pessimistic) the full-horizon GAP (a floor costing alone: the floor's level
    cost, :func:`measure`) in its one-at-a-time run; the sides are read from the results because some
    directions depend on the scheme (e.g. retirement rates with a given early-retirement reduction). An input that
    several sensitivities move takes each of their moves in turn (:func:`compose`): the real return and inflation
    both shift the nominal return, so a scenario with the real return up and inflation down shifts it by +1 - 1 = 0
    points and inflation by -1 (the real return up by about a point, inflation down a point)."""
    optimistic, pessimistic = {}, {}
    ranked = one_at_a_time[measure(one_at_a_time).name]
    for name, down, up in _sensitivities_of(one_at_a_time):
        value_down = float(ranked.sel(scenario=down.name).isel(horizon=-1))
        value_up = float(ranked.sel(scenario=up.name).isel(horizon=-1))
        good, bad = (up, down) if value_up <= value_down else (down, up)
        for combined, side in ((optimistic, good), (pessimistic, bad)):
            for key, override in side.overrides.items():   # an input two sensitivities move: both moves, in turn
                combined[key] = compose(combined[key], override) if key in combined else override
    return [Scenario("optimistic", optimistic), Scenario("pessimistic", pessimistic)]


# ----------------------------------------------------------------------------------- execution

def _run_one(base, scenario: Scenario) -> dict:
    """Key results of one scenario, or its error (never raises)."""
    try:
        valuation = base if scenario.name == "base" and not scenario.overrides else scenario.apply(base)
        results = valuation.run()
    except InputError as error:
        return {"name": scenario.name, "error": str(error)}
    except Exception as error:  # a scenario the engine cannot project: reported, the others go on
        return {"name": scenario.name, "error": f"{type(error).__name__}: {error}"}
    p, s = results.projection, results.summary
    return {"name": scenario.name, "yearly": {k: _yearly_value(p, k) for k in yearly_names(base)},
            "horizon": s.horizon.values, "summary": {k: s[k].values for k in summary_names(base)}}


BY_HORIZON = ("gap", "floor_cost_level_pct_gdp")   # summary values kept by horizon


def summary_names(base) -> tuple[str, ...]:
    """The summary values kept of each scenario: the GAP (by horizon), depletion year and actuarial
    balance of a scheme; the floor's level cost (by horizon) when the case has a floor."""
    return (("gap", "depletion_year", "actuarial_balance") if base.inputs.has_scheme else ()) + \
        (("floor_cost_level_pct_gdp",) if base.inputs.has_floor else ())


def _run_chunk(base, scenarios):
    return [_run_one(base, scenario) for scenario in scenarios]


def run_scenarios(base, scenarios: list[Scenario], workers: int | None = None, scheduler: str | None = None,
                  chunk_size: int = 8) -> xr.Dataset:
    """Run scenarios in process, on a local Dask cluster (``workers``) or an existing Dask scheduler
    (``scheduler`` address), in chunks; results are the same whichever way. Returns a Dataset with a
    ``scenario`` dimension; failed scenarios have ``status`` = their error and NaN results. A scenario that changes
    a setting of :data:`SCENARIO_FIXED_SETTINGS` (the years, the GAP horizons, which results there are) cannot be
    set beside the others: it is refused before anything runs."""
    fixed = [(s.name, key) for s in scenarios for key in s.overrides if key in SCENARIO_FIXED_SETTINGS]
    if fixed:
        name, key = fixed[0]
        raise InputError(f"scenario '{name}' changes {key}, which {SCENARIO_FIXED_SETTINGS[key]}; the scenarios are "
                         "compared with the base valuation year by year and horizon by horizon, so they keep its "
                         f"{', '.join(k.partition('.')[2] for k in SCENARIO_FIXED_SETTINGS)}: run the change as a "
                         "valuation of its own.", key)
    base = base.replace(settings={"balance_sheet": "no"})
    chunks = [scenarios[i:i + chunk_size] for i in range(0, len(scenarios), chunk_size)]
    with _dask_client(workers, scheduler) as client:
        if client is None:
            parts = [_run_chunk(base, chunk) for chunk in chunks]
        else:
            remote_base = client.scatter(base, broadcast=True)
            parts = client.gather([client.submit(_run_chunk, remote_base, chunk, pure=False, **placement(client, i))
                                   for i, chunk in enumerate(chunks)])
    outcomes = [o for part in parts for o in part]
    return _scenario_dataset(base, outcomes)


def placement(client, i: int) -> dict:
    """Spread chunks over the workers round-robin (the scheduler would otherwise keep tasks beside the
    broadcast data on one worker); other workers may still steal them."""
    workers = sorted(client.scheduler_info()["workers"])
    return {"workers": [workers[i % len(workers)]], "allow_other_workers": True} if workers else {}


CONNECT_TIMEOUT = 10  # seconds to reach a --scheduler


@contextmanager
def _quiet_workers():
    """Start local worker processes with their standard error on the null device, so that a Ctrl-C
    (which the terminal sends to every process of the run) stops them without a traceback each; the
    task errors that matter reach this process through Dask and are raised here. This process keeps
    its own standard error (only these start-up seconds are redirected) and answers Ctrl-C throughout."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _local_cluster(workers: int):
    """A LocalCluster of ``workers`` processes (one thread each). A Ctrl-C (or SIGTERM) while it starts is held
    until it has started (a cluster stopped half-way cannot be closed cleanly), then raised."""
    import dask
    from dask.distributed import LocalCluster
    from distributed.deploy.spec import SpecCluster

    before = set(SpecCluster._instances)
    interrupted = []
    # the signals Python handles (nothing to hold in a process that ignores SIGINT, e.g. started in the background of
    # a script; SIGTERM only where the command line handles it, else it ends the process as the system's default)
    main = threading.current_thread() is threading.main_thread()
    held = [s for s in (signal.SIGINT, signal.SIGTERM) if main and callable(signal.getsignal(s))]
    previous = {s: signal.signal(s, lambda *_: interrupted.append(True)) for s in held}
    try:
        with _quiet_workers():
            # one task per worker process; each task sets one Numba thread itself (NUMBA_NUM_THREADS in
            # the workers' environment arrives after they have imported Numba, and a later compilation
            # that rereads it fails once the threads are running)
            # without the workers' statistical profiler: it samples every thread's stack every 10 ms for a
            # dashboard this cluster does not have, and costs the paths about 5% of their time
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    except Exception:
        for half_started in set(SpecCluster._instances) - before:
            half_started.shutdown_on_close = False  # nothing to close at exit (and no traceback there)
        if interrupted:  # the workers, stopped by the same Ctrl-C, made the start fail
            raise KeyboardInterrupt from None
        raise
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if interrupted:
        logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)
        cluster.close()
        raise KeyboardInterrupt
    return cluster


def _connect(Client, address: str):
    """A Dask client of the scheduler at ``address``, or an InputError within CONNECT_TIMEOUT (+5 s).

    Dask's own timeout covers the connection, not the handshake: a port that accepts the
    connection but does not speak Dask's protocol (a web server) would hold the client forever, so
    the client is made in a daemon thread that is abandoned if it does not answer in time."""
    import threading

    outcome: dict = {}

    def make():
        try:
            outcome["client"] = Client(address, timeout=CONNECT_TIMEOUT)
        except BaseException as error:  # malformed addresses, refusals, timeouts, garbage from a wrong service
            outcome["error"] = error

    thread = threading.Thread(target=make, name="actuary-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT + 5)
    expected = ("expected the address of a running Dask scheduler such as tcp://host:8786 (tried for at most "
                f"{CONNECT_TIMEOUT + 5} s).")
    if thread.is_alive():
        raise InputError(f"--scheduler {address}: something accepts connections there but no Dask scheduler "
                         f"answered; {expected}")
    error = outcome.get("error")
    if isinstance(error, KeyboardInterrupt):
        raise error
    if isinstance(error, (MemoryError, OverflowError, UnicodeDecodeError)) or "deserializ" in str(error).lower():
        raise InputError(f"--scheduler {address}: what came back is not Dask's protocol (another service listens "
                         f"there); {expected}")
    if error is not None:
        raise InputError(f"--scheduler {address}: cannot use this Dask scheduler ({type(error).__name__}: "
                         f"{str(error)[:200]}); {expected}")
    return outcome["client"]


class _dask_client:
    """Context manager: no client (in process), a LocalCluster of ``workers``, or a scheduler address."""

    def __init__(self, workers, scheduler):
        self.workers, self.scheduler = workers, scheduler
        self.client = self.cluster = None

    def __enter__(self):
        if self.workers is None and self.scheduler is None:
            return None
        if self.workers is not None and self.scheduler is not None:
            raise InputError("--workers and --scheduler: give one of them (--workers starts a local cluster, "
                             "--scheduler uses an existing one).")
        from dask.distributed import Client

        if self.scheduler is not None:
            self.client = _connect(Client, self.scheduler)
            return self.client
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise InputError(f"--workers: value {self.workers!r} is not a whole number >= 1.")
        try:
            self.cluster = _local_cluster(self.workers)
            self.client = Client(self.cluster)
        except BaseException:
            self.__exit__(KeyboardInterrupt, None, None)
            raise
        return self.client

    def __exit__(self, kind, *exc):
        if kind is not None and issubclass(kind, KeyboardInterrupt):  # a stop, not news: close quietly
            for name in ("distributed", "tornado", "asyncio"):
                logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        for resource in (self.client, self.cluster):
            if resource is not None:
                try:
                    resource.close()
                except Exception:
                    if kind is None:
                        raise
        return False


# ----------------------------------------------------------------------------------- what the Datasets say

MONEY = "currency units, not scaled"
# units (those of the same variable in a valuation's netCDF file) and meaning of every variable, and coordinate,
# the sensitivity and stochastic Datasets may hold; docs/outputs.md lists them (generated from this table)
OUTPUT_VARIABLES: dict[str, tuple[str, str]] = {
    # yearly indicators (a scenario's by year; a stochastic run's percentiles, and paths, by year)
    "insurable_wage_bill": ("currency", "insurable wage bill: insurable earnings x contribution density, all actives"),
    "contributions": ("currency", "contributions: rate x collection rate x insurable wage bill"),
    "benefit_expenditure": ("currency", "pensions due, all benefits"),
    "total_expenditure": ("currency", "total expenditure: benefits, grants and administrative expenses paid"),
    "reserve": ("currency", "reserve at the end of the year"),
    "investment_income": ("currency", "investment income on the reserve"),
    "state_subsidy": ("currency", "state subsidy to the scheme"),
    "grants": ("currency", "withdrawal and funeral grants"),
    "admin_expenses": ("currency", "administrative expenses"),
    "payable_benefits": ("currency", "benefits and grants payable: the share payable x (pensions due + grants)"),
    "gdp": ("currency", "gross domestic product"),
    "paygo_cost_rate": ("share", "PAYG cost rate: total expenditure due (benefits, grants, administration) / "
                                 "insurable wage bill (gross basis: before collection losses and the state "
                                 "subsidy)"),
    "contribution_rate": ("share", "statutory contribution rate, of insurable earnings"),
    "replacement_rate": ("share", "replacement rate: average new old-age pension (awards to actives and to "
                                  "deferred members) / average insurable salary of contributors"),
    "benefit_ratio": ("share", "benefit ratio: average old-age pension in payment / average insurable salary of "
                               "contributors"),
    "payable_share": ("share", "share of the year's benefits and grants that its income and the reserve left at its "
                               "start can pay (1 before depletion)"),
    "reserve_ratio": ("years", "reserve ratio: reserve at the end of the year / expenditure due"),
    "trust_fund_ratio": ("years", "trust fund ratio: reserve at the start of the year / expenditure due"),
    "system_dependency_ratio": ("ratio", "system dependency ratio: pensioners at the end of the year / contributors"),
    "demographic_dependency_ratio": ("ratio", "demographic dependency ratio: population 65+ / 15-64, end of the "
                                              "year"),
    "wage_index": ("index", "average wage index, valuation year = 1"),
    "contributors": ("persons", "contributors: actives exposed during the year (leavers count half)"),
    "pensioners": ("persons", "pensioners, all benefits, at the end of the year"),
    "expenditure_pct_gdp": ("percent", "pension expenditure (benefits only) / GDP"),
    "floor_cost_pct_gdp": ("percent", "cost of the social protection floor, administration included / GDP"),
    "fiscal_cost_pct_gdp": ("percent", "fiscal cost (floor, state subsidy to the scheme, minimum-pension top-up) / "
                                       "GDP; it leaves out the scheme's borrowing after depletion (see "
                                       "fiscal_cost_with_borrowing_pct_gdp)"),
    "fiscal_cost_with_borrowing_pct_gdp": ("percent", "fiscal cost including the scheme's borrowing / GDP: the fiscal "
                                                      "cost plus the scheme's own deficit of the year financed by "
                                                      "borrowing once its reserve is exhausted, at mid-year and "
                                                      "without the interest on its debt "
                                                      "(settings.after_depletion borrow; under payable the scheme "
                                                      "borrows nothing and this is the fiscal cost)"),
    "life_expectancy_65_male": ("years of life", "period life expectancy at 65 of men, from the year's mortality "
                                                 "rates q_x of the path"),
    "life_expectancy_65_female": ("years of life", "period life expectancy at 65 of women, from the year's "
                                                   "mortality rates q_x of the path"),
    # a scenario's summary
    "gap": ("share of insurable earnings", "general average premium: the level statutory contribution rate over "
                                           "the horizon's n years (coordinate horizon), leaving a reserve of zero "
                                           "at the end of year n (net of collection losses, of the administration "
                                           "charged on contributions and of the state subsidy)"),
    "depletion_year": ("year", "first year whose benefits the year's income and the reserve left cannot pay in full "
                               "(NaN: never within the projection, or the scenario failed: see status)"),
    "actuarial_balance": ("share of insurable earnings", "actuarial balance: summarized income rate - summarized "
                                                         "cost rate, shares of the present value of the insurable "
                                                         "wage bill (gross basis)"),
    "floor_cost_level_pct_gdp": ("percent", "level cost of the floor: the constant share of GDP with the present "
                                            "value of the floor's cost over the horizon's n years (coordinate "
                                            "horizon)"),
    "status": ("text", "ok, or the scenario's error (its results are then NaN)"),
    "move": ("text", "the scenario's changes to the base valuation's inputs in words, with the values that a move "
                     "held within 0% to 100% gives (collection rate +5.00 percentage points (at most 100%): "
                     "96.0% -> 100.0%)"),
    # a stochastic run's
    "probability_of_depletion": ("share", "share of paths depleted by the end of the year: a year whose benefits "
                                          "the year's income and the reserve left could not pay in full "
                                          "(payable_share < 1)"),
    # coordinates
    "scenario": ("text", "base; '<assumption> down' and '<assumption> up': one assumption moved, the others as in "
                         "the base; optimistic and pessimistic: every assumption on the side that lowered (raised) "
                         "the full-horizon GAP (a floor costing alone: the floor's level cost); then the scenarios "
                         "of a Scenarios sheet"),
    "year": ("year", "calendar year: flows of the year, stocks at its end"),
    "horizon": ("years", "number of years from the valuation year over which the summary measure is taken"),
    "percentile": ("percent", "percentile across paths (50: the median)"),
    "path": ("number", "path k: its random numbers come from numpy.random.default_rng([seed, k])"),
}
# what each unit means, told in every description (fractions and percents told apart)
UNIT_WORDS = {"currency": MONEY, "share": "a fraction: 0.05 is 5%",
              "share of insurable earnings": "a fraction of insurable earnings: 0.05 is 5%",
              "percent": "in percent: 5.0 is 5%", "years": "years of expenditure"}
COORDINATES = ("scenario", "year", "horizon", "percentile", "path")
CONVENTIONS = ("money in currency units, not scaled (the workbooks show it in money_unit_in_workbooks); variables "
               "of units 'share' are fractions (0.05 is 5%), those of units 'percent' (named *_pct_*) percentages "
               "(5.0 is 5%); flows of each year, stocks at the end of the year")


def variable_attributes(name: str) -> dict:
    """``units`` and ``description`` of a variable (or coordinate) of the sensitivity or stochastic Datasets
    (:data:`OUTPUT_VARIABLES`); a stochastic run's percentiles and kept paths (``path_<name>``) describe
    themselves as such. Every description says what its units mean, so that fractions and percents are not
    confused."""
    kept = name.startswith("path_") and name.removeprefix("path_") in OUTPUT_VARIABLES
    units, meaning = OUTPUT_VARIABLES[name.removeprefix("path_") if kept else name]
    words = None if name in COORDINATES else UNIT_WORDS.get(units)
    description = f"{meaning}; {words}" if words else meaning
    if kept:
        description = f"each path's (coordinate path): {description}"
    return {"units": units, "description": description}


def described(ds: xr.Dataset, percentiles: bool = False) -> xr.Dataset:
    """``ds`` with ``units`` and ``description`` on every variable and coordinate (:func:`variable_attributes`;
    ``percentiles``: a stochastic run's indicators by percentile) and the global attributes ``money`` (money is
    stored in currency units, never scaled: the unit of ``money_unit_in_workbooks`` is the workbooks' alone) and
    ``conventions`` (how rates are stored), as a valuation's netCDF file gives its variables units."""
    for name, variable in ds.variables.items():
        attrs = variable_attributes(str(name))
        if percentiles and "percentile" in variable.dims and name != "percentile":
            attrs["description"] = f"percentiles across paths (coordinate percentile) of: {attrs['description']}"
        variable.attrs.update(attrs)
    ds.attrs.update(money=MONEY, conventions=CONVENTIONS)
    return ds


def _scenario_dataset(base, outcomes) -> xr.Dataset:
    years = base.inputs.coords["year"]
    names = [o["name"] for o in outcomes]
    ok = [o for o in outcomes if "error" not in o]
    horizons = ok[0]["horizon"] if ok else np.array([years.size])
    yearly = yearly_names(base)
    data = {k: np.full((len(outcomes), years.size), np.nan) for k in yearly}
    summary = {k: np.full((len(outcomes),) + ((horizons.size,) if k in BY_HORIZON else ()), np.nan)
               for k in summary_names(base)}
    status = []
    for i, o in enumerate(outcomes):
        if "error" in o:
            status.append(o["error"])
            continue
        status.append("ok")
        for k in yearly:
            data[k][i] = o["yearly"][k]
        for k in summary:
            summary[k][i] = o["summary"][k]
    ds = xr.Dataset({k: (("scenario", "year"), v) for k, v in data.items()},
                    coords={"scenario": names, "year": years, "horizon": horizons})
    for k, values in summary.items():
        ds[k] = (("scenario", "horizon") if k in BY_HORIZON else "scenario", values)
    ds["status"] = ("scenario", np.array(status, dtype=object).astype(str))
    ds.attrs["failed"] = ", ".join(n for n, s in zip(names, status) if s != "ok")
    # money is stored in currency units (as in a valuation's netCDF file); the workbooks show it in this unit
    ds.attrs.update(case_name=str(base.name), money_unit_in_workbooks=base.inputs.settings["money_unit"])
    ds.attrs["national_population"] = base.inputs.settings["national_population"]
    ds.attrs["scheme"] = "yes" if base.inputs.has_scheme else "no"
    return described(ds)


def sensitivity(base, workers=None, scheduler=None, extra: list[Scenario] | None = None) -> xr.Dataset:
    """The base run, the standard one-at-a-time sensitivities, the combined optimistic and
    pessimistic scenarios and any ``extra`` scenarios (e.g. from a Scenarios sheet)."""
    scenarios = [Scenario("base")]
    for _, down, up in standard_sensitivities(base.inputs.national, base.inputs.has_scheme):
        scenarios += [down, up]
    extra = list(extra or [])
    taken = [s.name for s in extra if s.name in standard_names()]
    if taken:
        raise InputError(f"scenario name '{taken[0]}' is taken by a standard scenario of the sensitivity run; "
                         "choose another name.")
    repeated = [n for i, n in enumerate(s.name for s in extra) if n in [s.name for s in extra[:i]]]
    if repeated:
        raise InputError(f"scenario '{repeated[0]}' is given twice among the extra scenarios; give each scenario "
                         "one name.")
    first = run_scenarios(base, scenarios + extra, workers=workers, scheduler=scheduler)
    failed = [a for a, down, up in standard_sensitivities(base.inputs.national, base.inputs.has_scheme)
              if any(first.status.sel(scenario=s.name).item() != "ok" for s in (down, up))]
    if failed:  # the combined scenarios take their sides from these runs: they cannot be built
        reason = f"not run: the one-at-a-time '{failed[0]}' scenarios failed, so its side is unknown"
        second = _scenario_dataset(base.replace(settings={"balance_sheet": "no"}),
                                   [{"name": n, "error": reason} for n in ("optimistic", "pessimistic")])
    else:
        combined = combined_scenarios(first)
        second = run_scenarios(base, combined, workers=workers, scheduler=scheduler)
        scenarios += combined
    out = xr.concat([first, second], "scenario", data_vars="all", join="outer")
    # each scenario's moves in words with the values they give where held within [0, 1] (the Tornado sheet and the
    # report say them from here, so that they agree)
    moves = {s.name: _describe(s, base) for s in scenarios + extra}
    out["move"] = ("scenario", np.array([moves.get(str(n), "") for n in out.scenario.values], dtype=object).astype(str))
    out["move"].attrs.update(variable_attributes("move"))
    out.attrs["failed"] = ", ".join(x for x in (first.attrs["failed"], second.attrs["failed"]) if x)
    return out


def _sensitivities_of(ds: xr.Dataset) -> list[tuple[str, Scenario, Scenario]]:
    """The standard sensitivities that were run (a scheme-only valuation runs fewer)."""
    national = ds.attrs.get("national_population", "yes") == "yes"
    scheme = ds.attrs.get("scheme", "yes") == "yes"
    return [(name, down, up) for name, down, up in standard_sensitivities(national, scheme)
            if down.name in ds.scenario.values and up.name in ds.scenario.values]


def moves_of(ds: xr.Dataset) -> list[tuple[str, str, str]]:
    """(assumption, down, up) in words for each standard sensitivity that was run: the run's own words with the
    values it used (the variable ``move``, :func:`sensitivity`), or for a Dataset written before it had them, the
    moves' words alone."""
    def said(scenario):
        words = str(ds.move.sel(scenario=scenario.name).item()) if "move" in ds else ""
        return words or _describe(scenario)

    return [(name, said(down), said(up)) for name, down, up in _sensitivities_of(ds)]


def tornado(ds: xr.Dataset, years_ahead=(25, 50)) -> list[dict]:
    """Rows of the tornado table: for each assumption, in the down and up scenarios, the :func:`measure`
    that ranks them (``down``, ``up``, ``base``: fractions; the full-horizon GAP, also as ``gap_*``, or for
    a floor costing alone the floor's level cost), the depletion year and the reserve ratio at +25/+50
    years (those within the horizon; and, with a floor, its level cost and its cost and the fiscal cost as
    % of GDP at +25/+50 years, percent as in the data), sorted by the swing of the measure."""
    base = ds.sel(scenario="base")
    ranked = measure(ds)
    t0 = int(ds.year.values[0])
    years_ahead = [n for n in years_ahead if n <= ds.sizes["year"]]
    yearly = tuple(k for k in ("reserve_ratio",) + FLOOR_YEARLY if k in ds)
    rows = []
    for name, down, up in _sensitivities_of(ds):
        row = {"assumption": name}
        for side, scenario in (("down", down.name), ("up", up.name), ("base", "base")):
            s = ds.sel(scenario=scenario)
            row[side] = ranked.scale * float(s[ranked.name].isel(horizon=-1))
            if "gap" in ds:
                row[f"gap_{side}"] = float(s.gap.isel(horizon=-1))
            if "floor_cost_level_pct_gdp" in ds:
                row[f"floor_cost_level_pct_gdp_{side}"] = float(s.floor_cost_level_pct_gdp.isel(horizon=-1))
            if side == "base":
                continue
            if "depletion_year" in ds:
                row[f"depletion_{side}"] = float(s.depletion_year)
            for n in years_ahead:
                year = t0 + n - 1   # NaN beyond a shorter horizon
                for k in yearly:
                    row[f"{k}_{n}_{side}"] = float(s[k].sel(year=year)) if year in ds.year else np.nan
        row["swing"] = abs(row["up"] - row["down"])
        rows.append(row)
    return sorted(rows, key=lambda r: -r["swing"])


# ----------------------------------------------------------------------------------- workbooks

SCENARIO_COLUMNS = ("scenario", "input", "operation", "value", "from_year", "to_year", "from_age", "to_age", "notes")


MAX_SCENARIO_ROWS = 10_000

# Settings a scenario may not change: the scenarios' results are set beside the base's year by year and horizon
# by horizon (one Dataset), so each must project the base's years, give the GAP over its horizons and have its
# results (a scheme or a floor costing alone, with or without the national population); what each one changes
SCENARIO_FIXED_SETTINGS = {
    "settings.valuation_year": "moves the projection's years",
    "settings.horizon": "changes the projection's years",
    "settings.gap_horizons": "changes the horizons of the general average premium",
    "settings.scheme": "changes what is valued (a scheme, or a floor costing alone) and so which results there are",
    "settings.national_population": "changes which results there are (a scheme-only valuation has no national "
                                    "indicators)",
}


def standard_names() -> set[str]:
    """Names the sensitivity run gives its own scenarios (a Scenarios sheet may not reuse them)."""
    names = {"base", "optimistic", "pessimistic"}
    for _, down, up in standard_sensitivities():
        names |= {down.name, up.name}
    return names


def own_scenarios(ds: xr.Dataset) -> list[str]:
    """The scenarios of a sensitivity run (:func:`sensitivity`) that are not its own: those of a Scenarios sheet or
    given as ``extra``, in the order they were given."""
    standard = standard_names()
    return [str(n) for n in ds.scenario.values if str(n) not in standard]


def read_scenarios(path, required: bool = False, base=None) -> list[Scenario]:
    """Scenarios from the ``Scenarios`` sheet of a workbook (a valuation workbook or a workbook with
    only that sheet): one row per override, columns scenario | input (group.field) | operation (set,
    scale, shift) | value | from_year | to_year | from_age | to_age | notes; at most 10,000 rows.
    Errors name Sheet!Cell. A workbook without the sheet has no scenarios (an error if ``required``).
    ``base``: the valuation the scenarios will modify; bounds that change nothing of it (years outside its
    projection, ages it does not have) are refused here, naming their cells (:meth:`Scenario.check`).
    Rows on the settings that every scenario shares with the base (:data:`SCENARIO_FIXED_SETTINGS`: its
    years, GAP horizons and kind of valuation) are refused, naming their cells."""
    scenarios = read_overrides(path, "Scenarios", SCENARIO_COLUMNS, required, standard_names(),
                               SCENARIO_FIXED_SETTINGS)
    if base is not None:
        for scenario in scenarios:
            scenario.check(base)
    return scenarios


def read_overrides(path, sheet: str, columns: tuple, required: bool = False,
                   reserved: set[str] = frozenset(), fixed: dict[str, str] | None = None) -> list[Scenario]:
    """Named sets of overrides from a sheet laid out as ``columns``: name | input | operation | value |
    from_year | to_year | from_<age or cohort> | to_<...> | notes (the Scenarios and the Reforms sheets); at
    most 10,000 rows. A list input (bend points) takes a comma-separated list in the value cell; an option
    (a choice) the operation set and one of its values. Names in ``reserved`` are refused, and so are rows on
    the inputs of ``fixed`` (input -> what changing it changes: :data:`SCENARIO_FIXED_SETTINGS`)."""
    from .io.workbook import WorkbookReader, _blank, _number, _ref

    kind = columns[0]
    with WorkbookReader(path) as reader:
        if sheet not in reader.sheetnames:
            if required:
                raise InputError(f"{reader.name}: the workbook has no sheet '{sheet}'; expected one with the "
                                 f"columns {', '.join(columns)}.")
            return []
        cells = reader.sheet(sheet, 3, MAX_SCENARIO_ROWS, " (one per override)", width=len(columns))
    headers = [str(h).strip() if h is not None else "" for h in cells.row(2)]
    for column, expected in enumerate(columns, start=1):
        if column > len(headers) or headers[column - 1] != expected:
            in_row_1 = str(cells.get(1, 1) if cells.get(1, 1) is not None else "").strip() == columns[0]
            raise InputError(f"{_ref(sheet, 2, column)}: header "
                             f"'{headers[column - 1] if column <= len(headers) else ''}'; expected '{expected}' "
                             f"(columns: {', '.join(columns)}). Row 1 of the sheet is its title and the headers go "
                             "in row 2, the rows from row 3"
                             + ("; here the headers are in row 1: insert a title row above them." if in_row_1 else "."))
    second = columns[6].removeprefix("from_")   # age or cohort
    named: dict[str, dict] = {}
    for r in cells.data_rows:
        if all(_blank(cells.get(r, c)) for c in range(1, 9)):
            continue  # a note alone
        name, key, operation, value = (cells.get(r, c) for c in range(1, 5))
        if _blank(name):
            raise InputError(f"{_ref(sheet, r, 1)}: the cell is blank; expected the {kind}'s name.")
        name = str(name).strip()
        if name in reserved:
            raise InputError(f"{_ref(sheet, r, 1)}: {kind} name '{name}' is taken by a standard scenario of the "
                             "sensitivity run; choose another name.")
        group, _, field_name = str(key or "").strip().partition(".")
        if group not in FIELDS or field_name not in FIELDS[group]:
            raise InputError(f"{_ref(sheet, r, 2)}: '{key if key is not None else ''}' is not an input; expected "
                             "group.field, e.g. economy.nominal_return.")
        key = f"{group}.{field_name}"
        operation = str(operation if operation is not None else "").strip()
        if operation not in OPERATIONS:
            raise InputError(f"{_ref(sheet, r, 3)}: operation '{operation}'; expected one of "
                             f"{', '.join(OPERATIONS)}.")
        field_spec = FIELDS[group][field_name]
        if field_spec.kind == "choice":
            value = str(value if value is not None else "").strip()
            if operation != "set" or value not in field_spec.choices:
                raise InputError(f"{_ref(sheet, r, 4 if operation == 'set' else 3)}: {key} is an option; expected "
                                 f"operation set with a value among {', '.join(field_spec.choices)}.")
        elif field_spec.dims and field_spec.dims[0] in LIST_DIMS:
            parts = [p.strip() for p in str(value if value is not None else "").split(",") if p.strip()]
            try:
                if operation != "set" or not parts or len(parts) > 100:
                    raise ValueError
                value = tuple(float(p) for p in parts)
            except ValueError:
                raise InputError(f"{_ref(sheet, r, 4)}: {key} is a list: expected operation set with a list of "
                                 f"numbers (e.g. 12000, 70000); got {operation} '{value}'.") from None
        else:
            value = _number(cells, r, 4, f"a number for {key}", True)
        if fixed and key in fixed:
            _refuse_fixed_setting(f"{_ref(sheet, r, 2)}:{_ref(sheet, r, 4).partition('!')[2]}", kind, name, key,
                                  operation, value, fixed[key], fixed)
        bounds, where = [], []
        for column, dim in ((5, "year"), (7, second)):
            pair = []
            for offset in (0, 1):
                bound = _number(cells, r, column + offset, f"a whole number ({dim})", False)
                if bound is not None and bound != round(bound):
                    raise InputError(f"{_ref(sheet, r, column + offset)}: value {bound:g} is not a whole number "
                                     f"({dim}).")
                pair.append(None if bound is None else int(bound))
            bounds.append(None if pair == [None, None] else tuple(pair))
            if pair != [None, None]:
                given = [_ref(sheet, r, column + k) for k in (0, 1) if pair[k] is not None]
                cell = given[0] if len(given) == 1 else f"{given[0]}:{given[1].partition('!')[2]}"
                where.append((dim, cell))
                _bounds_on_its_dimension(cell, kind, name, key, dim, field_spec)
        overrides = named.setdefault(name, {})
        where += [("input", _ref(sheet, r, 2)), ("value", _ref(sheet, r, 4))]
        override = OPERATIONS[operation](value, years=bounds[0], **{f"{second}s": bounds[1]}, cells=tuple(where))
        if key in overrides:   # a schedule: rows whose cells do not overlap (other years, or other ages or cohorts)
            earlier = override_parts(overrides[key])
            clash = next((p for p in earlier if _overlap(p.years, override.years) and
                          _overlap(getattr(p, f"{second}s"), bounds[1])), None)
            if clash is not None:
                first = dict(clash.cells)["input"]
                raise InputError(
                    f"{_ref(sheet, r, 2)}: {kind} '{name}' changes {key} where its row at {first} does too (their "
                    f"from_year/to_year and from_{second}/to_{second} overlap); rows of one input in one {kind} form "
                    "a schedule when each gives its "
                    f"from_year/to_year (or {second}s) and they do not overlap, e.g. 66 from 2030 to 2034 and 67 "
                    "from 2035: give each row its years (or make them one row).")
            override = Schedule(None, parts=earlier + (override,))
        overrides[key] = override
    return [Scenario(name, overrides, kind) for name, overrides in named.items()]


def _refuse_fixed_setting(cells: str, kind: str, name: str, key: str, operation: str, value, changes: str,
                          fixed: dict[str, str]) -> None:
    """Refuse a sheet row on a setting the scenarios share with the base (``fixed``), naming its cells, the value
    and what to do instead."""
    shown = ", ".join(f"{v:g}" for v in value) if isinstance(value, tuple) else \
        f"{value:g}" if isinstance(value, float) else str(value)
    settings = [k.partition(".")[2] for k in fixed]
    also = (f" or, for horizons that every {kind} and the base share, change settings.gap_horizons in the "
            "Settings sheet" if key == "settings.gap_horizons" else "")
    raise InputError(f"{cells}: {kind} '{name}' would {operation} {key} ({shown}), which {changes}; the {kind}s "
                     "are compared with the base valuation year by year and horizon by horizon, so they keep its "
                     f"{', '.join(settings[:-1])} and {settings[-1]}. Leave this row out and run the change as a "
                     f"valuation of its own (a copy of the workbook with the new value in its Settings sheet){also}.")


def _bounds_on_its_dimension(cell: str, kind: str, name: str, key: str, dim: str, spec) -> None:
    """Refuse a sheet row's bounds on a dimension that input ``key`` does not have (they would limit nothing),
    naming the cells."""
    if dim in spec.dims:
        return
    has = f"has no {dim} dimension (its dimensions: {', '.join(spec.dims)})" if spec.dims else "is a single value"
    group, _, field_name = key.partition(".")
    other = next((f"{group}.{n}" for n in (f"{field_name}_by_{dim}", field_name.removesuffix("_by_cohort"))
                  if n != field_name and n in FIELDS[group] and dim in FIELDS[group][n].dims), None)
    raise InputError(f"{cell}: {kind} '{name}' limits {key} to {dim}s, but {key} {has}; leave these cells blank"
                     + (f", or change {other}, which is by {dim}." if other else "."))


def _bound(override) -> str:
    """" (at most 100%)" for a clipped move up, which meets that bound where a rate is near it (a collection rate of
    98% moved up 5 points); a clipped move down (which would need a rate below its size to meet 0) says nothing."""
    clipped_up = isinstance(override, ClippedShift) and override.value > 0 or \
        isinstance(override, ClippedScale) and override.value > 1
    return " (at most 100%)" if clipped_up else ""


def _values_used(base, scenario: Scenario, key: str, override) -> str:
    """The values a move held within [0, 1] (:class:`ClippedShift`, :class:`ClippedScale`) gives the base valuation's
    input ``key``, which the move's words alone do not tell (a collection rate of 96% moved up 5 points is 100%):
    ": 96.0% -> 100.0%" for an input of one value (over the years), ": 40.0% to 96.0% -> 44.0% to 100.0%" (lowest
    to highest) for one that varies by year, sex or age (of a :class:`Sequence` holding such a move, the values the
    whole sequence gives); "" for other moves and inputs without a value."""
    if base is None or not any(isinstance(part, (ClippedShift, ClippedScale)) for part in override_parts(override)):
        return ""
    try:
        current = scenario._current(base, key)
        if current is None:
            return ""
        before, after = np.asarray(current, dtype=float), np.asarray(override.apply(current), dtype=float)
    except (InputError, TypeError, ValueError):   # a move that cannot apply: said by the scenario's own run
        return ""

    def shown(values):
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        return f"{100 * low:.1f}%" if abs(high - low) < 5e-4 else f"{100 * low:.1f}% to {100 * high:.1f}%"

    return f": {shown(before)} -> {shown(after)}"


def _bounds_in_words(override) -> str:
    """The years, ages and cohorts an override is limited to, in words: " from 2030", " in 2025-2029", " at ages
    60-64", " for those born up to 1970"; "" for an override of the whole input."""
    if not isinstance(override, Override):
        return ""
    words = {"year": ("in", "from", "until"), "age": ("at ages", "from age", "up to age"),
             "cohort": ("for those born in", "for those born from", "for those born up to")}
    parts = []
    for dim, bounds in (("year", override.years), ("age", override.ages), ("cohort", override.cohorts)):
        if bounds is None:
            continue
        within, start, end = words[dim]
        low, high = bounds
        if low is not None and high is not None:
            parts.append(f"{within.replace('ages', 'age') if low == high else within} {low}"
                         + (f"-{high}" if high != low else ""))
        elif low is not None:
            parts.append(f"{start} {low}")
        elif high is not None:
            parts.append(f"{end} {high}")
    return "".join(f" {part}" for part in parts)


def _label(key: str) -> str:
    """An input's label in words ("Nominal investment return")."""
    from .io import presentation as pres

    group, _, name = key.partition(".")
    return pres.field_label(name, group=group)


def _move_in_words(key: str, override) -> str:
    """One override in words, as its input's values read (:func:`actuary.io.presentation.value_text`): a shift of
    a rate in percentage points ("Nominal investment return +1.00 percentage points"), of another input in its
    units ("Normal retirement age +2 years"); a scale as "x 0.8"; a set as the value ("Contribution rate set to
    25.00%", a choice or a list as given); then the years, ages or cohorts it is limited to."""
    from .io import presentation as pres

    group, _, name = key.partition(".")
    label = _label(key)
    spec = FIELDS.get(group, {}).get(name)
    kind = pres.field_kind(spec) if spec is not None else "percent"
    value = override.value if isinstance(override, Override) else override
    if type(override) is Shift and value == 0:   # moves that cancel (compose): nothing left of them
        said = f"{label} unchanged"
    elif isinstance(override, (Shift, ClippedShift)):
        if kind == "percent":
            said = f"{label} {100 * value:+.2f} percentage points"
        elif kind == "percent_points":
            said = f"{label} {value:+.2f} percentage points"
        else:
            units = (spec.units or "").split(" (")[0] if spec is not None else ""
            said = f"{label} {value:+g}" + (f" {units}" if units and kind != "money" else "")
    elif isinstance(override, (Scale, ClippedScale)):
        said = f"{label} x {value:g}"
    elif spec is not None:
        said = f"{label} set to {pres.value_text(spec, value, name)}"
    else:
        said = f"{label} set to {value}"
    return said + _bounds_in_words(override)


def _describe(scenario: Scenario, base=None) -> str:
    """A scenario's overrides in words (:func:`_move_in_words`): "Nominal investment return +1.00 percentage
    points, Contribution rate set to 25.00% from 2030"; with the ``base`` valuation, a move held within [0, 1] also
    says the values it gives (:func:`_values_used`): "Collection rate +5.00 percentage points (at most 100%): 96.0%
    -> 100.0%"; an input that a combined scenario moves more than once (:func:`compose`), its net move ("Nominal
    investment return unchanged" for moves that cancel), or its moves in turn ("... +1.00 percentage points then x
    0.8")."""
    parts = []
    for key, override in scenario.overrides.items():
        if isinstance(override, Sequence):   # moves of one input in turn, with the values the whole sequence
            # gives where a move is held within [0, 1]: "Nominal investment return +1.00 percentage points then x 0.8"
            label = _label(key)
            words = [_move_in_words(key, part) + _bound(part) for part in override.parts]
            parts.append(" then ".join([words[0]] + [w.removeprefix(label).lstrip() for w in words[1:]]) +
                         _values_used(base, scenario, key, override))
            continue
        for part in override_parts(override):   # a schedule: each of its rows
            parts.append(_move_in_words(key, part) + _bound(part) + _values_used(base, scenario, key, part))
    return ", ".join(parts)


POINTS = "+0.00;-0.00;0.00"   # number format of a change in percentage points (no % sign)


def sensitivity_sheet_name(name: str) -> str:
    """The sheet of the sensitivity workbook that holds variable ``name`` (of SENSITIVITY_SHEETS) by year and
    scenario: "Reserve ratio by scenario"."""
    from .io import presentation as pres
    from .io.results import sheet_title

    short = pres.sheet_name(name)   # "Reserve ratio"; a name that reads whole (at most 31 characters)
    return f"{short} by scenario" if len(short) <= 19 else sheet_title(short)


def write_sensitivity(ds: xr.Dataset, path, provenance: dict | None = None) -> None:
    """The sensitivity workbook: the tornado table (general average premium, depletion year and
    reserve ratios in the down and up runs of each assumption; a floor costing alone: the floor's level
    cost; with a floor, its cost and the fiscal cost as % of GDP), every scenario's key results, the
    yearly indicators of every scenario year by year, and charts (tornado with its labels clear of the
    bars, reserve ratio, PAYG cost rate and the floor's cost of the base, optimistic and pessimistic
    scenarios, those the case has, and of the base and the scenarios of a Scenarios sheet), each on its own page.
    The Scenarios sheet says what each scenario changes of the base valuation (the variable ``move``)."""
    from openpyxl import Workbook

    from .io import presentation as pres
    from .io.provenance import add_about_sheet, for_api
    from .io.results import ChartPages, SheetWriter, print_setup
    from .io.workbook import _atomic_save

    case = ds.attrs.get("case_name", "valuation")
    rows = tornado(ds)
    t0 = int(ds.year.values[0])
    n_years = ds.sizes["year"]
    ahead = [n for n in (25, 50) if n <= n_years]
    wb = Workbook()
    ws = wb.active
    ws.title = "Tornado"
    writer = SheetWriter(ws)
    ranked = measure(ds)
    short = "GAP" if ranked is GAP else ranked.label.capitalize()
    writer.title(1, f"{case}: sensitivity of the {ranked.label} over {n_years} years and other indicators to each "
                    "assumption, moved down and up")
    headers = ["Assumption", f"{short}, base ({ranked.unit})", f"{short}, assumption down (%)",
               f"{short}, assumption up (%)", "Change down (percentage points)", "Change up (percentage points)"]
    # changes in percentage points: 100 x the difference of the fractions, without a % sign (+3.55, not +3.55%)
    formats = [None, "0.00%", "0.00%", "0.00%", POINTS, POINTS]
    scheme = "depletion_year" in ds   # a floor costing alone has no reserve
    if scheme:
        headers += ["Depletion year, down", "Depletion year, up"]
        formats += ["0", "0"]
        for n in ahead:
            headers += [f"Reserve ratio in {t0 + n - 1}, down (years of expenditure)",
                        f"Reserve ratio in {t0 + n - 1}, up (years of expenditure)"]
            formats += ["0.00", "0.00"]
    floor = [k for k in FLOOR_YEARLY if k in ds]   # a social protection floor beside the scheme, or alone
    for k in floor:
        for n in ahead:
            headers += [f"{pres.VARIABLES[k].label} in {t0 + n - 1}, {side} (% of GDP)" for side in ("down", "up")]
            formats += ["0.00%", "0.00%"]
    table = []
    for row in rows:
        values = [row["assumption"], row["base"], row["down"], row["up"], 100 * (row["down"] - row["base"]),
                  100 * (row["up"] - row["base"])]
        if scheme:
            values += ["none" if np.isnan(row[f"depletion_{side}"]) else int(row[f"depletion_{side}"])
                       for side in ("down", "up")]
            for n in ahead:
                values += [row[f"reserve_ratio_{n}_down"], row[f"reserve_ratio_{n}_up"]]
        for k in floor:   # percent in the data, a percentage format in the workbook
            for n in ahead:
                values += [row[f"{k}_{n}_down"] / 100, row[f"{k}_{n}_up"] / 100]
        table.append(values)
    writer.table(2, headers, table, formats)
    note = 3 + len(table) + 1
    for k, (name, down, up) in enumerate(moves_of(ds)):
        writer.note(note + k, f"{name.capitalize()}: down = {down}; up = {up}.")
    writer.fit()
    ws.freeze_panes = "B3"
    print_setup(ws, case)

    ws = wb.create_sheet("Scenarios")
    writer = SheetWriter(ws)
    writer.title(1, "Key results of every scenario")
    headers, formats = ["Scenario", "Status"], [None, None]
    if scheme:
        headers += ["Depletion year", "Actuarial balance (% of insurable earnings)"] + \
            [f"GAP over {int(h)} years (% of insurable earnings)" for h in ds.horizon.values] + \
            [f"Reserve ratio in {t0 + n - 1} (years of expenditure)" for n in ahead]
        formats += ["0", "0.00%"] + ["0.00%"] * ds.sizes["horizon"] + ["0.00"] * len(ahead)
    if "floor_cost_level_pct_gdp" in ds:
        headers += [f"Level cost of the floor over {int(h)} years (% of GDP)" for h in ds.horizon.values]
        formats += ["0.00%"] * ds.sizes["horizon"]
    headers += [f"{pres.VARIABLES[k].label} in {t0 + n - 1} (% of GDP)" for k in floor for n in ahead]
    formats += ["0.00%"] * (len(floor) * len(ahead))
    headers.append("What the scenario changes of the base valuation")
    formats.append(None)
    moves = {str(n): str(m) for n, m in zip(ds.scenario.values, ds.move.values)} if "move" in ds else {}
    table = []
    for name in ds.scenario.values:
        s = ds.sel(scenario=name)
        values = [str(name), str(s.status.values)]
        if scheme:
            depletion = float(s.depletion_year)
            failed = str(s.status.values) != "ok"   # no results: blank, not "none" (which reads as never depleted)
            values += [None if failed else "none" if np.isnan(depletion) else int(depletion),
                       float(s.actuarial_balance)] + \
                [float(g) for g in s.gap.values] + [float(s.reserve_ratio.sel(year=t0 + n - 1)) for n in ahead]
        if "floor_cost_level_pct_gdp" in ds:
            values += [float(v) / 100 for v in s.floor_cost_level_pct_gdp.values]
        table.append(values + [float(s[k].sel(year=t0 + n - 1)) / 100 for k in floor for n in ahead]
                     + ["nothing: the valuation as given" if str(name) == "base" else moves.get(str(name), "")])
    writer.table(2, headers, table, formats)
    writer.fit()
    ws.freeze_panes = "B3"
    print_setup(ws, case)

    unit = ds.attrs.get("money_unit_in_workbooks", ds.attrs.get("money_unit", "millions"))
    for name in SENSITIVITY_SHEETS:
        if name not in ds:
            continue
        variable = pres.VARIABLES[name]
        label = pres.header(variable.label, pres.unit_text(variable, unit))
        ws = wb.create_sheet(sensitivity_sheet_name(name))
        writer = SheetWriter(ws)
        writer.title(1, f"{label} by year and scenario")
        names = [str(n) for n in ds.scenario.values]
        columns = [pres.shown(ds[name].sel(scenario=n).values, variable.kind, unit) for n in ds.scenario.values]
        table = [[int(y)] + [c[i] for c in columns] for i, y in enumerate(ds.year.values)]
        writer.table(2, ["Year"] + names, table, ["0"] + [pres.number_format(variable.kind)] * len(names))
        writer.fit()
        ws.freeze_panes = "B3"
        print_setup(ws, case)

    charts = ChartPages(wb, case)
    change = "the GAP (percentage points of insurable earnings)" if ranked is GAP else \
        f"the {ranked.label} (percentage points of GDP)"
    charts.bars(f"Tornado: change in the {ranked.label} over {n_years} years", f"Change in {change}",
                [r["assumption"] for r in rows],
                {"Assumption down": 100 * np.array([r["down"] - r["base"] for r in rows]),
                 "Assumption up": 100 * np.array([r["up"] - r["base"] for r in rows])}, POINTS)
    shown = [n for n in ("base", "optimistic", "pessimistic") if n in ds.scenario.values]
    for name, title, axis, fmt in (("reserve_ratio", "Reserve ratio", "years of expenditure", "0.0"),
                                   ("paygo_cost_rate", "PAYG cost rate", "% of insurable earnings", "0%"),
                                   ("floor_cost_pct_gdp", "Cost of the floor", "% of GDP", "0.0%")):
        if name in ds:
            scale = 0.01 if pres.VARIABLES[name].kind == "percent" else 1.0
            charts.line(f"{title}: base, optimistic and pessimistic scenarios", axis, ds.year.values,
                        {n: scale * ds[name].sel(scenario=n).values for n in shown}, fmt)
    own = [n for n in own_scenarios(ds) if str(ds.status.sel(scenario=n).values) == "ok"]
    for name, title, axis, fmt in (("reserve_ratio", "Reserve ratio", "years of expenditure", "0.0"),
                                   ("paygo_cost_rate", "PAYG cost rate", "% of insurable earnings", "0%"),
                                   ("floor_cost_pct_gdp", "Cost of the floor", "% of GDP", "0.0%")):
        if name in ds and own:   # the scenarios of a Scenarios sheet (or extra) beside the base
            scale = 0.01 if pres.VARIABLES[name].kind == "percent" else 1.0
            charts.line(f"{title}: base and the scenarios of the Scenarios sheet", axis, ds.year.values,
                        {n: scale * ds[name].sel(scenario=n).values for n in ["base"] + own}, fmt)
    charts.finish()
    if provenance is None:
        provenance = for_api(None, "batch.write_sensitivity")
        provenance["case_name"] = case
    add_about_sheet(wb, provenance)
    _atomic_save(wb, path)
