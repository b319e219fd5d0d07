"""Rolling a valuation forward: the same assumptions, the projection of year N taken as the new initial
state at 1 January t0 + N (the "valuation period" step of an analysis of change).

What the rolled case holds (``roll_forward(valuation, N)``):

- the initial state at 1 January t0 + N from the projection's stocks at the end of year t0 + N - 1: the
  national population by sex and age; the active and inactive insured by sex, age and completed service
  with their refund balances (when the scheme keeps them), mean exact credited service and mean accrued
  units (``initial.credited_service``, ``accrued_units`` and their ``inactive_`` twins); the pensioners by
  benefit, sex and age with their average pension *after* the indexation of 1 January t0 + N (amounts in
  payment at a valuation date include that year's indexation: the engine's indexation of the first
  projection year is 0, the original case applies β_{t0+N} on that date); the reserve;
- every year-dependent input (any field with a ``year`` dimension, whatever its group) from year t0 + N on,
  extended past its last year by holding its last value up to the rolled horizon (by default the original
  horizon, so the rolled case projects N years beyond the original's last year on the original's last
  assumptions, as the closed-group run-off and the actuarial balance's extra year already do);
- amounts fixed at t0 rebased to t0 + N by the series the original projects for them (:data:`REBASED`):
  minimum and maximum pensions and the funeral grant by their indexation, the average wage and the salary
  scale by the wage index, GDP by its projection, entrants of the growth method by their growth, base
  mortality q_x as the table of year t0 + N (the improvement of the later years still to come), the social
  protection floor's currency amounts by their indexation (prices, wages or none);
- the economic history (``economy.past_inflation``, ``past_real_wage_growth``) extended by the years
  t0 .. t0 + N - 1, so that reference earnings of awards soon after t0 + N (which reach back before the new
  valuation date) and indexation lags see the rates the original projected (before t0, the original's
  history or its convention: the rates of t0);
- the scaled-premium periods starting at t0 + N (periods of the original starting later are kept);
  ``scheme.past_service_credit`` 1 (the state's service is the service credited);
- the actuary's report text and the sheets carried from the workbook the case was read from (Scenarios,
  Stochastic, Reforms, Analysis of change, Notes: ``Valuation.carried_sheets``), to be brought up to date with the
  case. Calendar years are absolute, so the year bounds of the Scenarios and Reforms rows are kept, except those
  now before t0 + N (:func:`actuary.io.carried.from_valuation_year`): a row whose years ended before t0 + N is
  dropped (its years have passed and it changes nothing from t0 + N on; the rolled state is the base's
  projection, without what the row changed in those years; the rows below it move up, the kept rows contiguous
  and in their order), one that started before it starts
  in t0 + N; each change is said in ``Valuation.carried_changes`` (``actuary roll-forward`` lists them in its
  Notes - roll-forward sheet and on screen). Their age and cohort bounds (cohorts are years of birth) and the other
  sheets, whose values do not depend on the valuation date, stay as they were.

Rolling forward and valuing gives the original's cash flows and stocks for the overlapping years t0 + N ..
t0 + H - 1 to round-off (``tests/test_roll_forward.py``: 1e-12 relative). What a rolled case does not
remember, because no input of a valuation records it: (1) with the minimum-pension top-up paid by the state
(scheme.minimum_pension_financing = state), the top-ups of the pensions in payment at t0 + N become part of
the pensions (scheme-financed, as at any valuation date); (2) reference earnings reaching back before t0 + N
use the insurable earnings of t0 + N deflated (as at any valuation date), so a ceiling or floor of insurable
earnings (scheme.ceiling_multiple, floor_multiple by year) that changed between t0 and t0 + N is not seen in
those past years; (3) a base mortality table times improvement factors above 1 (negative improvement) that
the original clips at q = 1 in a year before t0 + N and not after (the clipped table becomes the base). In an
analysis of change these belong to the valuation period step, whose effects still add up exactly.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from . import series
from .inputs import BENEFITS, FIELDS, K, P, Y
from .io.carried import from_valuation_year
from .projection import build_kernel_inputs, gross_domestic_product, mortality_table, run_kernels
from .validation import SEXES, InputError

# amounts and tables fixed at t0 and how each moves to t0 + N, as a function of the validated value and the
# original's projection to that date (:class:`_Projected`). Every field whose units mention t0 is here or in
# the initial group (tests/test_roll_forward.py checks it, so that a new field at t0 cannot be forgotten).
REBASED = {
    # amounts in money of t0 (by year from t0 + N on) times their index at t0 + N
    ("scheme", "minimum_pension"): lambda value, p: value * p.index("minimum_pension_indexation"),
    ("scheme", "maximum_pension"): lambda value, p: value * p.index("maximum_pension_indexation"),
    ("scheme", "flat_pension"): lambda value, p: value * p.index("flat_pension_indexation"),
    ("scheme", "bend_points"): lambda value, p: tuple(float(b) * p.index("bend_point_indexation") for b in value),
    ("scheme", "funeral_grant"): lambda value, p: float(p.series["funeral"][p.years]),
    ("economy", "average_wage"): lambda value, p: float(p.series["average_wage"][p.years]),   # wage index
    ("economy", "gdp"): lambda value, p: float(p.gdp()),                                       # projected GDP
    ("behaviour", "salary_scale"): lambda value, p: value * p.series["wages"][p.years],
    ("behaviour", "entrants"): lambda value, p: value * p.entrant_growth(),
    ("demography", "mortality"): lambda value, p: value.copy(data=mortality_table(p.inputs)[p.years]),
    ("demography", "population"): lambda value, p: value.copy(data=p.out["population"][p.years]),
    ("floor", "amount"): lambda value, p: value.copy(data=value.values * p.floor_indexation()),
}


class _Projected:
    """The original's projection of its first ``years`` years (kernel inputs, outputs and derived series)."""

    def __init__(self, inputs, years: int):
        self.inputs = inputs
        self.years = years
        self.kin = build_kernel_inputs(inputs)
        self.out = run_kernels(self.kin, inputs.settings["min_age"], "kernel", years=years)
        self.series = self.kin.series

    def gdp(self) -> float:
        """GDP of year t0 + N as the original projects it (from the stocks at 1 January t0 .. t0 + N: the run's
        population with its last stock repeated, since GDP reads every stock but the last)."""
        population = self.out["population"]
        stocks = np.concatenate([population, population[-1:]])
        return gross_domestic_product(self.inputs, stocks, self.series["employment_share"])[self.years]

    def index(self, rule: str) -> float:
        """The index of the scheme's indexation rule ``rule`` (a field: prices, wages, pensions or none) at
        t0 + N, 1 at t0."""
        indexed = series.indexed_amount(1.0, self.inputs.scheme[rule], self.series["prices"], self.series["wages"],
                                        self.series["beta"])
        return float(indexed[self.years])

    def floor_indexation(self) -> np.ndarray:
        """By floor benefit, the factor from t0 to t0 + N of its amount: a currency amount indexed by prices or
        wages (the indices of t0 + N), not indexed (1); an amount on another basis is a share of it (1)."""
        floor = self.inputs.floor
        index = {"prices": self.series["prices"][self.years], "wages": self.series["wages"][self.years]}
        return np.array([index.get(str(indexation), 1.0) if basis == "currency" else 1.0
                         for basis, indexation in zip(floor["basis"].values, floor["indexation"].values)])

    def entrant_growth(self) -> float:
        """Growth of the growth method's entrants from t0 to t0 + N: prod over t0 < u <= t0 + N of (1 + g_u)."""
        growth = self.inputs.behaviour["entrant_growth"].values
        return float(np.cumprod(1 + growth[1:self.years + 1])[-1])


def years_from(da: xr.DataArray, start: int, first_year: int, n_years: int) -> xr.DataArray:
    """The year-dependent ``da`` from its ``start``-th year on, relabelled first_year .. first_year + n_years - 1,
    its last value held past its end (and cut if it runs longer)."""
    labels = da[Y].values
    if start == 0 and labels.size == n_years and labels[0] == first_year:
        return da
    axis = da.dims.index(Y)
    values = np.moveaxis(da.values, axis, 0)[start:start + n_years]
    if values.shape[0] == 0:
        values = np.moveaxis(da.values, axis, 0)[-1:]
    if values.shape[0] < n_years:
        values = np.concatenate([values, np.repeat(values[-1:], n_years - values.shape[0], axis=0)])
    return _relabelled(da, np.moveaxis(values, 0, axis), first_year)


_TEMPLATES: dict = {}


def _relabelled(like: xr.DataArray, values: np.ndarray, first_year: int) -> xr.DataArray:
    """``values`` labelled as ``like`` but with years from ``first_year``; the labelled template of each
    layout is built once (building coordinates is what costs: an analysis of change relabels hundreds)."""
    others = tuple((d, tuple(like[d].values.tolist())) for d in like.dims if d != Y)
    key = (like.dims, values.shape, int(first_year), others)
    if key not in _TEMPLATES:
        if len(_TEMPLATES) > 256:
            _TEMPLATES.clear()
        n_years = values.shape[like.dims.index(Y)]
        coords = {d: np.arange(first_year, first_year + n_years) if d == Y else like[d].values for d in like.dims}
        _TEMPLATES[key] = xr.DataArray(values, dims=like.dims, coords=coords)
    out = _TEMPLATES[key].copy(deep=False, data=values)
    out.name = like.name
    return out


def history_ending(da: xr.DataArray, valuation_year: int) -> xr.DataArray:
    """A ``past_year`` history relabelled so that it ends in ``valuation_year`` - 1 (values kept in order)."""
    n = da.sizes[P]
    return da.assign_coords({P: np.arange(valuation_year - n, valuation_year)})


def scaled_premium_starts(starts, valuation_year: int, horizon: int):
    """Scaled-premium period starts of a case valued at ``valuation_year`` over ``horizon`` years: the periods
    running at that date start with it; those starting later are kept (within the horizon)."""
    if starts is None:
        return None
    later = [int(s) for s in starts if valuation_year < int(s) < valuation_year + horizon]
    return tuple([valuation_year] + later)


def roll_forward(valuation, years: int, horizon: int | None = None):
    """The valuation at 1 January t0 + ``years`` with the same assumptions, its initial state the projection's
    stocks at that date (see the module docstring); ``horizon`` of the new case (default: the same number of
    years as the original). ``years`` 0 gives the same case (over ``horizon`` years)."""
    from .valuation import Valuation

    inputs = valuation.inputs
    settings = inputs.settings
    t0, original_horizon = settings["valuation_year"], settings["horizon"]
    horizon = original_horizon if horizon is None else int(horizon)
    if not isinstance(years, (int, np.integer)) or not 0 <= years < original_horizon:
        raise InputError(f"Rolling '{valuation.name}' forward by {years} years: expected a whole number of years "
                         f"from 0 to {original_horizon - 1} (the projection of year N becomes the initial state, "
                         f"so N must be within the {original_horizon}-year horizon).")
    years = int(years)
    if years and not inputs.has_scheme:
        raise InputError(f"Rolling '{valuation.name}' forward: it is a social protection floor costing alone "
                         "(settings.scheme = no); rolling forward carries the scheme's projected insured, "
                         "pensioners and reserve, which it does not have. Value the floor from the later date "
                         "directly.")
    t1 = t0 + years
    raw = {group: {} for group in FIELDS}
    for group, given in valuation.raw.items():
        for key in given:
            value = getattr(inputs, group)[key] if group != "settings" else settings[key]
            if isinstance(value, xr.DataArray) and Y in value.dims:
                value = years_from(value, years, t1, horizon)
            raw[group][key] = value
    raw["settings"].update(valuation_year=t1, horizon=horizon)
    if "scaled_premium_periods" in raw["settings"]:
        raw["settings"]["scaled_premium_periods"] = scaled_premium_starts(settings["scaled_premium_periods"], t1,
                                                                         horizon)
    if years:
        _carry_state(valuation, years, raw)
    rolled = Valuation(**raw, name=valuation.name)
    rolled.report_text = valuation.report_text   # the actuary's text, to be brought up to date with the case
    # its scenarios, parameters, options, steps and notes, the rows whose years have passed brought to t0 + N
    rolled.carried_sheets, rolled.carried_changes = from_valuation_year(valuation.carried_sheets, t0,
                                                                        t0 + original_horizon - 1, t1,
                                                                        t1 + horizon - 1)
    return rolled


def _carry_state(valuation, years: int, raw: dict) -> None:
    """Write into ``raw`` the state at 1 January t0 + years and the amounts rebased to that date."""
    inputs = valuation.inputs
    scheme, coords = inputs.scheme, inputs.coords
    t1 = inputs.settings["valuation_year"] + years
    projected = _Projected(inputs, years)
    out = projected.out
    scheme_cells = {"sex": list(SEXES), "age": coords["scheme_age"], K: coords[K]}
    pension_cells = {"benefit": list(BENEFITS), "sex": list(SEXES), "age": coords["population_age"]}

    def cells(values, where):
        return xr.DataArray(values, dims=tuple(where), coords=where)

    def mean(total, heads):
        return np.where(heads > 0, total / np.where(heads > 0, heads, 1.0), 0.0)

    state = out["state"]
    initial = {
        "active": cells(state["active0"], scheme_cells),
        "inactive": cells(state["inactive0"], scheme_cells),
        "credited_service": cells(mean(state["service_active0"], state["active0"]), scheme_cells),
        "accrued_units": cells(mean(state["units_active0"], state["active0"]), scheme_cells),
        "inactive_credited_service": cells(mean(state["service_inactive0"], state["inactive0"]), scheme_cells),
        "inactive_accrued_units": cells(mean(state["units_inactive0"], state["inactive0"]), scheme_cells),
    }
    if "refund" in (scheme["grant_type"], scheme["exit_benefit"]):
        initial["refund_balance"] = cells(state["balance_active0"], scheme_cells)
        initial["inactive_refund_balance"] = cells(state["balance_inactive0"], scheme_cells)
    count = out["pensioner_count"][years]
    indexed = out["pensioner_amount"][years] * (1.0 + projected.series["beta"][years])  # indexed on 1 January
    initial["pensioners"] = cells(count, pension_cells)
    initial["average_pension"] = cells(mean(indexed, count), pension_cells)
    initial["reserve"] = float(out["finance_reserve"][years])
    raw["initial"] = initial
    if "past_service_credit" in raw["scheme"]:
        raw["scheme"]["past_service_credit"] = 1.0
    for (group, key), rule in REBASED.items():   # on the values from t0 + N (year-dependent ones moved already)
        if key in raw[group] and raw[group][key] is not None:
            raw[group][key] = rule(raw[group][key], projected)
    for group, fields in FIELDS.items():   # histories past_X of the year-dependent X: add t0 .. t0 + N - 1
        for key, field in fields.items():
            if P not in field.dims:
                continue
            recent = getattr(inputs, group)[key.removeprefix("past_")].values[:years]
            before = getattr(inputs, group)[key]
            values = recent if before is None else np.concatenate([before.values, recent])
            raw[group][key] = xr.DataArray(values, dims=(P,), coords={P: np.arange(t1 - values.size, t1)})
