"""Analysis of change between two valuations: from the PREVIOUS valuation to the CURRENT one in steps, each
replacing one set of inputs of the previous case by the current one and valuing again, so that the effects
(differences between consecutive steps) add up exactly to the total change (no residual).

Steps (:data:`DEFAULT_STEPS`, in this order; a ``--steps`` file or an ``Analysis of change`` sheet sets other
groupings and orders, down to single inputs):

    valuation period  settings.valuation_year: the previous case rolled forward to the current valuation date
                      with its own assumptions (:func:`actuary.rollforward.roll_forward`; nothing when both
                      cases have the same valuation year)
    data              the initial state (insured, pensioners, reserve) and scheme.past_service_credit (how the
                      data's service is credited)
    demographic       demography: national population, fertility, mortality, migration
    economic          economy
    behavioural       behaviour: participation, coverage, densities, decrements, family statistics
    provisions        scheme: the legislation; the social protection floor (group floor) and the economy inputs
                      only the floor uses (economy.poverty_line, government_expenditure_pct_gdp and
                      government_revenue_pct_gdp), so that a floor introduced, changed or removed is one step
    methods           settings: horizon, GAP horizons, scaled-premium and depletion rules, ...

A group name in a step covers the fields of that group not named in any other step (so ``scheme`` after a
step ``scheme.contribution_rate`` is the other provisions). Every input that differs between the cases must
belong to a step. A case mixing the two valuations takes each input from the current case if its step has
been applied, from the previous case (rolled forward if the valuation period has been) otherwise; year-
dependent inputs are taken by projection year (the current case's first year becomes the case's first year)
and extended past their end by holding their last values, or cut, to the case's horizon (the methods step
changes the horizon); an initial refund balance is dropped by a case whose provisions keep none; a poverty line
(given in its case's money) taken with the other case's inflation moves with prices, line x P'_t / P_t (as in any
run at other prices: :func:`actuary.floor.poverty_line_at_prices`). When
settings.national_population (or new_entrant_method) differs, the inputs that exist only under it (the national
population's; the growth method's entrants) change in its step (:data:`COUPLED`). The ages
and the service grid (settings.min_age, max_age, max_service) must be the same in both cases, and both must
value the contributory scheme (a floor costing alone, settings.scheme = no, has no GAP or reserve to explain).

Measures at every step, with the names of ``Results.summary``: ``gap`` by horizon (those of either case that
both project), ``actuarial_balance``, ``scaled_premium`` of the first period, ``depletion_year``, every other
scalar of the summary (payable shares, terminal funding rate, balance-sheet items and average premiums when
both cases compute them), ``reserve_ratio`` at chosen years and, when either case costs a social protection
floor, the present values and GDP level shares of the floor's cost, of the fiscal cost, of the scheme's borrowing
after depletion and of the fiscal cost including it by horizon (``floor_cost_present_value``,
``floor_cost_level_pct_gdp``, ``fiscal_cost_present_value``, ``fiscal_cost_level_pct_gdp``,
``scheme_borrowing_present_value``, ``scheme_borrowing_level_pct_gdp``,
``fiscal_cost_with_borrowing_present_value``, ``fiscal_cost_with_borrowing_level_pct_gdp``: the valuation's own
measures, :func:`actuary.floor.floor_summary`; a case without a floor costs none and its fiscal cost is the
state's flows to the scheme; a case under settings.after_depletion payable borrows nothing, so its fiscal cost
including the borrowing is its fiscal cost). ``effect_<measure>`` is the difference from
the step before (NaN at ``previous``). Depletion year: a case whose reserve lasts the whole projection counts
as depleting in the year after its last projection year (a lower bound, flagged by ``depleted`` False), so
that effects stay finite and add up; an effect involving such a case is the least the depletion moved.

``all_orders``: each step's Shapley effect (the mean of its effect over every order of the steps) is reported
beside the sequential one, with its lowest and highest effect over the orders; the Shapley effects add up to the
total too. When the cases are valued at different dates, the valuation period step (the roll-forward of the
previous case to the current date) comes first in every order: the other steps take inputs of the current case
as at its own date (its initial data above all), which applied to the previous date would value a case that
exists nowhere. Its effect is then the same in every order, and the other n - 1 steps are taken in all
(n - 1)! orders after it: 1 + 2**(n-1) cases valued (n <= 7: 65). Valued at the same date, all n! orders
(2**n cases: 128).
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from . import indicators
from .floor import line_at_prices, state_cost_summary
from .inputs import FIELDS, GROWTH_ONLY, NATIONAL_ONLY, P, Y
from .rollforward import history_ending, roll_forward, scaled_premium_starts, years_from
from .validation import InputError

VALUATION_DATE = "settings.valuation_year"
# the floor and the economy inputs only the floor uses: one step, so that a floor can come or go in it
FLOOR_INPUTS = ("floor", "economy.poverty_line", "economy.government_expenditure_pct_gdp",
                "economy.government_revenue_pct_gdp")
# the mapping table of the default steps (step name, inputs: groups or group.field)
DEFAULT_STEPS = (
    ("valuation period", (VALUATION_DATE,)),
    ("data", ("initial", "scheme.past_service_credit")),
    ("demographic", ("demography",)),
    ("economic", ("economy",)),
    ("behavioural", ("behaviour",)),
    ("provisions", ("scheme",) + FLOOR_INPUTS),
    ("methods", ("settings",)),
)
# inputs that exist only under a setting: when the setting differs between the cases, they change in its step
COUPLED = {
    "settings.national_population": frozenset(f"{g}.{k}" for g, keys in NATIONAL_ONLY.items() for k in keys),
    "settings.new_entrant_method": frozenset(f"behaviour.{k}" for k in GROWTH_ONLY),
}
MAX_ALL_ORDERS = 7
SHAPE_SETTINGS = ("min_age", "max_age", "max_service")
REFUND_BALANCES = ("refund_balance", "inactive_refund_balance")


@dataclass(frozen=True)
class Step:
    name: str
    inputs: tuple[str, ...]          # as listed: groups and group.field
    fields: frozenset[str]           # group.field covered


def resolve_steps(steps=None) -> list[Step]:
    """The steps as (name, inputs) pairs in order (default :data:`DEFAULT_STEPS`; a mapping name -> inputs is
    taken in its order), each input a group (its fields not named elsewhere) or ``group.field``."""
    pairs = list(DEFAULT_STEPS if steps is None else steps.items() if isinstance(steps, dict) else steps)
    if not pairs:
        raise InputError("The analysis of change needs at least one step.")
    named, seen_steps, listed = {}, set(), set()
    for number, (name, inputs) in enumerate(pairs, start=1):
        if isinstance(inputs, str):
            inputs = (inputs,)
        if not str(name).strip():
            raise InputError("A step of the analysis of change has no name.")
        problem = step_name_problem(str(name))
        if problem:
            raise InputError(f"Step {number} of the analysis of change: {problem}")
        if name in seen_steps or name == "previous":
            raise InputError(f"Step '{name}' is listed twice (or is named 'previous', the name of the starting "
                             "point); give each step one name.")
        seen_steps.add(name)
        if not inputs:
            raise InputError(f"Step '{name}' has no inputs; list groups (e.g. economy) or inputs (e.g. "
                             "scheme.contribution_rate).")
        for token in inputs:
            if token in listed:
                raise InputError(f"Input {_shown(str(token))} is in two steps; each input belongs to one step.")
            listed.add(token)
            group, _, key = token.partition(".")
            if group not in FIELDS or (key and key not in FIELDS[group]):
                raise InputError(f"Step '{name}': {_shown(str(token))} is not an input group or input; expected one "
                                 f"of {', '.join(FIELDS)} or group.field (e.g. economy.inflation).")
            if key:
                named[token] = name
    out = []
    for name, inputs in pairs:
        inputs = (inputs,) if isinstance(inputs, str) else tuple(inputs)
        fields = set()
        for token in inputs:
            group, _, key = token.partition(".")
            if key:
                fields.add(token)
            else:
                fields |= {f"{group}.{k}" for k in FIELDS[group] if f"{group}.{k}" not in named}
        out.append(Step(str(name), inputs, frozenset(fields)))
    return out


def with_coupled_inputs(steps: list[Step], previous, current) -> list[Step]:
    """The steps with the inputs that exist only under a setting (:data:`COUPLED`: the national population's
    inputs under settings.national_population, the growth method's entrants under settings.new_entrant_method)
    moved into the step of that setting when the setting differs between the two cases (a scheme-only case
    has no population to replace in the demographic step); inputs a step names one by one stay where they are."""
    out = list(steps)
    for setting, coupled in COUPLED.items():
        key = setting.split(".")[1]
        if previous.inputs.settings[key] == current.inputs.settings[key]:
            continue
        home = next((i for i, s in enumerate(out) if setting in s.fields), None)
        if home is None:
            continue
        named = {token for s in out for token in s.inputs}
        moving = {f for f in coupled if f not in named}
        out = [Step(s.name, s.inputs, s.fields - moving) if i != home else
               Step(s.name, s.inputs + tuple(sorted(moving - s.fields)), s.fields | moving)
               for i, s in enumerate(out)]
    return out


MAX_STEP_ROWS = 10_000
MAX_STEPS_BYTES = 1024 ** 2   # a steps CSV file: a row per input, a few kB (as valuation.json, at most 1 MB)
# the characters of a step's name: it labels a row of the reconciliation tables, a bar of the waterfall charts and a
# cell of the change workbook (which holds at most 32,767): a longer name is cut in them, and two steps could then
# read the same
MAX_STEP_NAME = 80


def _shown(name: str, most: int = 40) -> str:
    """A step's name as an error message shows it: quoted, control characters escaped, cut to ``most`` characters."""
    return repr(name[:most]) + ("..." if len(name) > most else "")


def step_name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a step's name (None: nothing): more than :data:`MAX_STEP_NAME` characters, or
    a control character or line break (a name is one line of plain text)."""
    import unicodedata

    kinds = {"Cc": "a control character", "Cs": "an unpaired surrogate", "Zl": "a line break", "Zp": "a line break"}
    bad = next((c for c in name if unicodedata.category(c) in kinds), None)
    if bad is not None:
        return (f"the step's name {_shown(name)} holds U+{ord(bad):04X}, {kinds[unicodedata.category(bad)]} (at "
                f"character {name.index(bad) + 1:,}); expected a name on one line of plain text (letters, digits, "
                "spaces, punctuation).")
    if len(name) > MAX_STEP_NAME:
        return (f"the step's name {_shown(name)} has {len(name):,} characters; at most {MAX_STEP_NAME} are taken (a "
                "step's name labels a row of the reconciliation table, a bar of the waterfall charts and a cell of "
                "the change workbook: a longer one would be cut there, and two steps could read the same).")
    return None


def read_steps(path) -> list[tuple[str, tuple[str, ...]]]:
    """Steps from the ``Analysis of change`` sheet of a workbook (.xlsx) or from a CSV file: one row per input,
    columns step | input | notes (row 2 of the sheet, the first line of the CSV, holds the headers; a step's rows
    may be apart; steps are taken in the order they first appear). Errors name the sheet (or file) and cell. A CSV
    file is read only if it is a regular file (a link to one) of at most :data:`MAX_STEPS_BYTES`; a step's name is
    at most :data:`MAX_STEP_NAME` characters on one line (:func:`step_name_problem`)."""
    from .io.safety import regular_file_bytes

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such steps file.")
    if path.suffix.lower() == ".csv":
        data = regular_file_bytes(path, MAX_STEPS_BYTES, path.name, " (a steps file lists each input once: a few kB)",
                                  follow_links=True)
        lines = {}   # record -> the line of the file it starts on (a quoted cell may hold line breaks)
        try:
            reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
            rows = []
            for row in itertools.islice(reader, MAX_STEP_ROWS + 2):
                rows.append(row)
                lines[len(rows) + 1] = reader.line_num + 1
        except (UnicodeDecodeError, csv.Error) as error:
            said = type(error).__name__ + (f": {error}" if isinstance(error, csv.Error) else "")
            raise InputError(f"{path.name}: the steps file cannot be read ({said}); expected a "
                             "CSV file in UTF-8 with the columns step, input, notes.") from None
        if len(rows) > MAX_STEP_ROWS + 1:
            raise InputError(f"{path.name}: more than {MAX_STEP_ROWS:,} rows; a steps table lists each input once.")
        table = {r: row for r, row in enumerate(rows, start=1)}
        header_row, data_rows = 1, list(range(2, len(rows) + 1))

        def cell(row, column):
            return f"{path.name} line {lines.get(row, row)}, column {column}"

        def get(row, column):
            values = table.get(row, [])
            return values[column - 1] if column <= len(values) else None
    else:
        from .io.workbook import WorkbookReader, _ref

        with WorkbookReader(path) as reader:
            if STEPS_SHEET not in reader.sheetnames:
                raise InputError(f"{reader.name}: no '{STEPS_SHEET}' sheet (columns step | input | notes).")
            cells = reader.sheet(STEPS_SHEET, 3, MAX_STEP_ROWS, " (one per input)", width=3)
        header_row, data_rows, get = 2, cells.data_rows, cells.get

        def cell(row, column):
            return _ref(STEPS_SHEET, row, column)

    for column, expected in enumerate(("step", "input"), start=1):
        header = str(get(header_row, column) or "").strip()
        if header.lower() != expected:
            raise InputError(f"{cell(header_row, column)}: header {_shown(header)}; expected '{expected}' (columns: "
                             "step, input, notes).")
    steps: dict[str, list[str]] = {}
    for r in data_rows:
        name, token = (str(v).strip() if v is not None else "" for v in (get(r, 1), get(r, 2)))
        if not name and not token:
            continue
        if not name:
            raise InputError(f"{cell(r, 1)}: the cell is blank; expected the step's name.")
        problem = step_name_problem(name)
        if problem:
            raise InputError(f"{cell(r, 1)}: {problem}")
        if not token:
            raise InputError(f"{cell(r, 2)}: the cell is blank; expected an input group (e.g. economy) or an input "
                             "(e.g. scheme.contribution_rate).")
        group, _, key = token.partition(".")
        if group not in FIELDS or (key and key not in FIELDS[group]):
            raise InputError(f"{cell(r, 2)}: {_shown(token)} is not an input group or input; expected one of "
                             f"{', '.join(FIELDS)} or group.field (e.g. economy.inflation).")
        steps.setdefault(name, []).append(token)
    if not steps:
        raise InputError(f"{path.name}: no steps listed (columns step, input, notes).")
    resolve_steps(list(steps.items()))
    return [(name, tuple(tokens)) for name, tokens in steps.items()]


STEPS_SHEET = "Analysis of change"


# ------------------------------------------------------------------------------------------ cases

def _same(a, b) -> bool:
    if isinstance(a, xr.DataArray) or isinstance(b, xr.DataArray):
        if not (isinstance(a, xr.DataArray) and isinstance(b, xr.DataArray)) or a.shape != b.shape:
            return False
        return bool(np.array_equal(a.values, b.values, equal_nan=True))
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


class _Cases:
    """The valuations mixing PREVIOUS and CURRENT, by the set of steps applied (valued once each)."""

    def __init__(self, previous, current, steps: list[Step]):
        self.previous, self.current, self.steps = previous, current, steps
        ps, cs = previous.inputs.settings, current.inputs.settings
        for role, case in (("PREVIOUS", previous), ("CURRENT", current)):
            if not case.inputs.has_scheme:
                raise InputError(
                    f"{role} ({case.name}) is a social protection floor costing alone (settings.scheme = no): the "
                    "analysis of change explains the change in the scheme's GAP, actuarial balance, depletion year "
                    "and reserve, which a floor costing alone does not have. Compare the two floor costings' "
                    "results directly, or give both cases the scheme (the floor's effect is then part of the "
                    "provisions step).", field="settings.scheme")
        for key in SHAPE_SETTINGS:
            if ps[key] != cs[key]:
                wider = min(ps[key], cs[key]) if key == "min_age" else max(ps[key], cs[key])
                raise InputError(
                    f"Input 'settings.{key}' differs: {ps[key]} in PREVIOUS ({previous.name}), {cs[key]} in CURRENT "
                    f"({current.name}). The analysis of change mixes the inputs of both cases cell by cell, so the "
                    "ages and the service grid (settings.min_age, max_age, max_service) must be the same: value "
                    f"both cases with settings.{key} = {wider}.",
                    field=f"settings.{key}")
        years = cs["valuation_year"] - ps["valuation_year"]
        if years < 0:
            raise InputError(f"CURRENT ({current.name}) is valued at 1 January {cs['valuation_year']}, before PREVIOUS "
                             f"({previous.name}) at {ps['valuation_year']}: the valuation period step rolls the "
                             "previous case forward; give the earlier valuation as PREVIOUS.")
        if years >= ps["horizon"]:
            raise InputError(f"CURRENT ({current.name}) is valued {years} years after PREVIOUS ({previous.name}), "
                             f"beyond its {ps['horizon']}-year horizon: the previous projection does not reach the "
                             "current valuation date.")
        self.rolled = roll_forward(previous, years)
        self.period_step = next((i for i, s in enumerate(steps) if VALUATION_DATE in s.fields), None)
        covered = set().union(*(s.fields for s in steps))
        for group in FIELDS:
            for key in FIELDS[group]:
                name = f"{group}.{key}"
                if name in covered or name == VALUATION_DATE:
                    continue
                if not _same(self._value(self.rolled, group, key), self._value(current, group, key)):
                    raise InputError(f"Input '{name}' differs between PREVIOUS (rolled forward to "
                                     f"{cs['valuation_year']}) and CURRENT but is in no step of the analysis of "
                                     f"change; add it (or its group '{group}') to a step.", field=name)
        if self.period_step is None and years:
            raise InputError(f"The cases are valued {years} years apart but no step rolls the previous case "
                             f"forward; add '{VALUATION_DATE}' (the valuation period) to a step.")
        self.valuations: dict[frozenset, object] = {}
        self.results: dict[frozenset, object] = {}

    @staticmethod
    def _value(valuation, group, key):
        values = valuation.inputs.settings if group == "settings" else getattr(valuation.inputs, group)
        return values.get(key)   # the floor's inputs are absent from a case without a floor

    def describe(self, applied: frozenset) -> str:
        if not applied:
            return "PREVIOUS"
        names = [s.name for i, s in enumerate(self.steps) if i in applied]
        return f"PREVIOUS with the {', '.join(names)} step{'s' if len(names) > 1 else ''} of CURRENT"

    def valuation(self, applied: frozenset):
        """The case with the steps ``applied`` (indices) taken from CURRENT."""
        if applied == frozenset():
            return self.previous
        if applied == frozenset(range(len(self.steps))):
            return self.current
        if applied not in self.valuations:
            self.valuations[applied] = self._assemble(applied)
        return self.valuations[applied]

    def _assemble(self, applied: frozenset):
        from .valuation import Valuation

        fields = set().union(*(self.steps[i].fields for i in applied))
        base = self.rolled if VALUATION_DATE in fields else self.previous
        t0 = base.inputs.settings["valuation_year"]

        def source(group, key):
            return self.current if f"{group}.{key}" in fields else base

        horizon = source("settings", "horizon").inputs.settings["horizon"]
        raw = {group: {} for group in FIELDS}
        for group in FIELDS:
            for key in FIELDS[group]:
                origin = source(group, key)
                if key not in origin.raw[group] or (group, key) == ("settings", "valuation_year"):
                    continue
                value = self._value(origin, group, key)
                if isinstance(value, xr.DataArray) and Y in value.dims:
                    value = years_from(value, 0, t0, horizon)
                elif isinstance(value, xr.DataArray) and P in value.dims:
                    value = history_ending(value, t0)
                elif (group, key) == ("settings", "scaled_premium_periods") and value is not None:
                    shift = t0 - origin.inputs.settings["valuation_year"]
                    value = scaled_premium_starts([s + shift for s in value], t0, horizon)
                raw[group][key] = value
        raw["settings"].update(valuation_year=t0, horizon=horizon)
        line = raw["economy"].get("poverty_line")
        if line is not None and source("economy", "poverty_line") is not source("economy", "inflation"):
            # the line is given in its own case's money: at the mixed case's inflation it moves with prices, as in
            # any run around a valuation at other prices (methodology §9), so that the step changing the inflation
            # moves a floor's cost with prices and the step changing the line shows the change in its real value
            own = years_from(self._value(source("economy", "poverty_line"), "economy", "inflation"), 0, t0, horizon)
            raw["economy"]["poverty_line"] = line_at_prices(line, own.values, raw["economy"]["inflation"].values)
        scheme = {k: raw["scheme"].get(k, FIELDS["scheme"][k].default) for k in ("grant_type", "exit_benefit")}
        if "refund" not in scheme.values():   # provisions without refunds keep no balances
            for key in REFUND_BALANCES:
                raw["initial"].pop(key, None)
        try:
            return Valuation(**raw, name=self.describe(applied))
        except InputError as error:
            raise InputError(f"The analysis of change cannot value the case {self.describe(applied)}: {error} "
                             "Inputs that depend on each other must change in the same step (see --steps).",
                             error.field, error.where) from None

    def run(self, applied: frozenset):
        if applied not in self.results:
            valuation = self.valuation(applied)
            try:
                self.results[applied] = valuation.run()
            except InputError as error:
                raise InputError(f"The analysis of change cannot value the case {self.describe(applied)}: {error}",
                                 error.field, error.where) from None
        return self.results[applied]


# ------------------------------------------------------------------------------------------ measures

@dataclass(frozen=True)
class _MeasureSpec:
    horizons: tuple[int, ...]
    years: tuple[int, ...]       # reserve ratio at the end of these years
    floor: bool = False          # either case costs a social protection floor


def _measures(results, valuation, spec: _MeasureSpec) -> dict:
    """The measures of one case (see the module docstring)."""
    p, s = results.projection, results.summary
    flows = indicators.Flows(p)
    terminal = valuation.inputs.settings["gap_terminal_reserve"]
    out = {"gap": np.array([indicators.general_average_premium(flows, h, terminal) for h in spec.horizons]),
           "scaled_premium": float(s.scaled_premium.values[0])}
    depletion = float(s.depletion_year)
    out["depleted"] = not math.isnan(depletion)
    out["depletion_year"] = depletion if out["depleted"] else float(p.year.values[-1] + 1)
    for name, da in s.data_vars.items():
        if not da.dims and name not in out:
            out[name] = float(da.values)
    out["reserve_ratio"] = p.reserve_ratio.sel(year=list(spec.years)).values.astype(float)
    if spec.floor and "gdp" in p:
        out.update(_floor_measures(p, spec.horizons))
    return out


def _floor_measures(projection: xr.Dataset, horizons) -> dict:
    """Present values at the case's valuation date over each horizon, and level shares of GDP, of the social
    protection floor's cost, of the fiscal cost, of the scheme's borrowing after depletion and of the fiscal cost
    including it (:func:`actuary.floor.state_cost_summary`); a case without a floor costs none, and its fiscal cost
    is the state's flows to the scheme (:data:`actuary.floor.STATE_FLOWS`)."""
    data, computed = state_cost_summary(projection, horizons)
    at = [computed.index(h) for h in horizons]
    return {name: values[at] for name, (_, values, _) in data.items()}


def _spec(previous, current, reserve_ratio_years) -> _MeasureSpec:
    ps, cs = previous.inputs.settings, current.inputs.settings
    shortest = min(ps["horizon"], cs["horizon"])
    horizons = set(ps["gap_horizons"]) | set(cs["gap_horizons"]) | {ps["horizon"], cs["horizon"]}
    horizons = tuple(sorted(h for h in horizons if 0 < h <= shortest))
    first = cs["valuation_year"]
    last = ps["valuation_year"] + shortest - 1   # a year every case projects
    if reserve_ratio_years is None:
        reserve_ratio_years = [first + n for n in (10, 25, 50) if first + n <= last]
    years = tuple(int(y) for y in reserve_ratio_years)
    for y in years:
        if not first <= y <= last:
            raise InputError(f"Reserve ratio year {y}: every case of the analysis of change projects the years "
                             f"{first}..{last} (from the current valuation year to the shorter horizon's end); "
                             "choose years within them.")
    return _MeasureSpec(horizons, years, previous.inputs.has_floor or current.inputs.has_floor)


MEASURE_NOTES = {
    "depletion_year": "first year whose benefits the year's income and the reserve left cannot pay in full; a case "
                      "whose reserve lasts its whole projection counts the year after its last projection year (a "
                      "lower bound, depleted False)",
    "scaled_premium": "scaled premium of the first period",
    "gap": "general average premium over the next n years (horizons both cases project)",
    "reserve_ratio": "reserve at the end of the year / expenditure of the year",
    "floor_cost_present_value": "present value of the social protection floor's cost over the next n years",
    "floor_cost_level_pct_gdp": "constant share of GDP with the present value of the floor's cost over the next n "
                                "years",
    "fiscal_cost_present_value": "present value of the fiscal cost (floor, state subsidy, minimum-pension top-up) "
                                 "over the next n years",
    "fiscal_cost_level_pct_gdp": "constant share of GDP with the present value of the fiscal cost over the next n "
                                 "years",
    "scheme_borrowing_present_value": "present value of the scheme's deficits financed by borrowing once its reserve "
                                      "is exhausted (each deficit once, without the interest on its debt) over the "
                                      "next n years; 0 under settings.after_depletion payable",
    "scheme_borrowing_level_pct_gdp": "constant share of GDP with the present value of the scheme's deficits "
                                      "financed by borrowing over the next n years",
    "fiscal_cost_with_borrowing_present_value": "present value of the fiscal cost including the scheme's deficits "
                                                "financed by borrowing over the next n years",
    "fiscal_cost_with_borrowing_level_pct_gdp": "constant share of GDP with the present value of the fiscal cost "
                                                "including the scheme's deficits financed by borrowing over the next "
                                                "n years",
}
FLOOR_UNITS = {f"{cost}_{kind}": units for cost in ("floor_cost", "fiscal_cost", "scheme_borrowing",
                                                    "fiscal_cost_with_borrowing")
               for kind, units in (("present_value", "currency at the valuation date"), ("level_pct_gdp", "percent"))}


def analysis_of_change(previous, current, steps=None, all_orders: bool = False,
                       reserve_ratio_years=None) -> xr.Dataset:
    """Analysis of change from ``previous`` to ``current`` (two :class:`actuary.Valuation`): a Dataset with a
    ``step`` dimension (``previous``, then the steps in order, the last equal to ``current``), the measures at
    every step (names of ``Results.summary``: ``gap`` by ``horizon``, ``actuarial_balance``, ``scaled_premium``
    of the first period, ``depletion_year``, balance-sheet items, ...; ``reserve_ratio`` by ``year``) and
    ``effect_<measure>``, the difference from the step before, adding up to the total change.

    ``steps``: (name, inputs) pairs or a mapping (default :data:`DEFAULT_STEPS`; see :func:`read_steps`);
    ``all_orders``: also the Shapley effect of each step (mean over every order of the steps) and its lowest and
    highest effect over the orders (``shapley_effect_<measure>``, ``lowest_effect_<measure>``,
    ``highest_effect_<measure>``), valuing each of the 2**n cases once (n <= 7);
    ``reserve_ratio_years``: years of the reserve ratio (default: 10, 25 and 50 years after the current
    valuation year, within every case's projection)."""
    resolved = resolve_steps(steps)
    n = len(resolved)
    if all_orders and n > MAX_ALL_ORDERS:
        raise InputError(f"All orders of {n} steps means {2 ** n} cases and {math.factorial(n):,} orders; the "
                         f"analysis of change values all orders for at most {MAX_ALL_ORDERS} steps.")
    resolved = with_coupled_inputs(resolved, previous, current)
    cases = _Cases(previous, current, resolved)
    spec = _spec(previous, current, reserve_ratio_years)
    sequence = [frozenset(range(k)) for k in range(n + 1)]
    # the roll-forward first in every order when the dates differ (see the module docstring)
    leading = cases.period_step if previous.inputs.settings["valuation_year"] != \
        current.inputs.settings["valuation_year"] else None
    subsets = list(dict.fromkeys(sequence + (_order_subsets(n, leading) if all_orders else [])))
    values = {subset: _measures(cases.run(subset), cases.valuation(subset), spec) for subset in subsets}
    names = [k for k in values[frozenset()] if all(k in v for v in values.values())]
    step_names = ["previous"] + [s.name for s in resolved]
    dims = {"gap": ("horizon",), "reserve_ratio": ("year",), **{name: ("horizon",) for name in FLOOR_UNITS}}
    data = {}
    first = cases.run(frozenset())   # the previous valuation's results: where each measure's units and meaning are
    for name in names:
        stacked = np.array([np.asarray(values[subset][name], dtype=float) for subset in sequence])
        if name == "depleted":
            data[name] = (("step",), stacked.astype(bool), {"units": "true or false", "description": "the reserve "
                                                            "runs out within the case's projection"})
            continue
        extra = dims.get(name, ())
        source = first.summary[name] if name in first.summary else first.projection[name] \
            if name in first.projection else None
        attrs = {"description": MEASURE_NOTES.get(name) or (source.attrs.get("description", "") if source is not None
                                                            else "")}
        units = source.attrs.get("units") if source is not None else FLOOR_UNITS.get(name)
        if units:
            attrs["units"] = units
        effect = np.full_like(stacked, np.nan)
        effect[1:] = stacked[1:] - stacked[:-1]
        data[name] = (("step",) + extra, stacked, attrs)
        data[f"effect_{name}"] = (("step",) + extra, effect,
                                  dict(attrs, description=f"change in {name} from the step before"))
        if all_orders:
            shapley, lowest, highest = _order_effects({s: np.asarray(values[s][name], dtype=float) for s in subsets},
                                                      n, leading)
            orders = "every order of the steps" + ("" if leading is None else
                                                   f" after the {resolved[leading].name} step, which comes first")
            for label, array, text in (("shapley", shapley, f"mean over {orders} (Shapley)"),
                                        ("lowest", lowest, f"lowest over {orders}"),
                                        ("highest", highest, f"highest over {orders}")):
                padded = np.concatenate([np.full((1,) + array.shape[1:], np.nan), array])
                data[f"{label}_effect_{name}"] = (("step",) + extra, padded,
                                                  dict(attrs, description=f"effect of the step on {name}, {text}"))
    coords = {"step": step_names, "horizon": list(spec.horizons), "year": list(spec.years),
              "inputs": ("step", ["previous valuation"] + [", ".join(s.inputs) for s in resolved])}
    ps, cs = previous.inputs.settings, current.inputs.settings
    ds = xr.Dataset(data, coords=coords, attrs={
        "previous": previous.name, "current": current.name,
        "previous_valuation_year": ps["valuation_year"], "current_valuation_year": cs["valuation_year"],
        "money_unit": cs["money_unit"],   # how the current case shows money (the values are in currency)
        "money": "currency units, not scaled (money_unit is the unit the workbooks and the report show)",
        "all_orders": int(all_orders), "cases_valued": len(cases.results),
        "orders": "" if not all_orders else "every order of the steps" + (
            "" if leading is None else f" that begins with the {resolved[leading].name} step (the cases are valued "
                                       "at different dates: the other steps take the current case's inputs as at "
                                       "its own date)"),
        "conventions": "effect = measure at the step - measure at the step before; effects add up to current - "
                       "previous; money amounts are present values at each case's own valuation date",
    })
    for name, units, description in (
            ("step", "text", "previous (the previous valuation), then each step of the analysis in order, the last "
                             "giving the current valuation"),
            ("inputs", "text", "the inputs each step takes from the current valuation"),
            ("horizon", "years", "years from the valuation year over which a measure by horizon is taken"),
            ("year", "year", "calendar year of the reserve ratio")):
        ds[name].attrs.update(units=units, description=description)
    return ds


def _order_subsets(n: int, first: int | None) -> list[frozenset]:
    """The sets of steps applied that the orders of :func:`_order_effects` pass through: every subset of the n
    steps, or (``first`` the step that comes first in every order) the empty set and every subset holding it."""
    if first is None:
        return [frozenset(c) for k in range(n + 1) for c in itertools.combinations(range(n), k)]
    others = [j for j in range(n) if j != first]
    return [frozenset()] + [frozenset(c) | {first} for k in range(n) for c in itertools.combinations(others, k)]


def _order_effects(values: dict, n: int, first: int | None = None):
    """Each step's effect averaged over every order of the n steps (the Shapley value), with its lowest and
    highest over the orders: in an order, the effect of step i is v(S + i) - v(S), S the steps before it.
    ``first``: a step that comes first in every order (its effect v({first}) - v({}) in each), the other n - 1
    steps in every order after it.

    The mean is taken exactly by the subset form, sum over S not holding i of |S|! (m - |S| - 1)! / m! x
    (v(S + i) - v(S)) over the m steps ordered; the lowest and highest over the m! orders are the lowest and
    highest over the subsets S (every S is the set before i in some order)."""
    shape = next(iter(values.values())).shape
    shapley = np.zeros((n,) + shape)
    lowest = np.full((n,) + shape, np.inf)
    highest = np.full((n,) + shape, -np.inf)
    base = frozenset() if first is None else frozenset({first})
    if first is not None:
        shapley[first] = lowest[first] = highest[first] = values[base] - values[frozenset()]
    ordered = [j for j in range(n) if j != first]
    m = len(ordered)
    for i in ordered:
        others = [j for j in ordered if j != i]
        for k in range(m):
            weight = math.factorial(k) * math.factorial(m - k - 1) / math.factorial(m)
            for before in itertools.combinations(others, k):
                s = frozenset(before) | base
                effect = values[s | {i}] - values[s]
                shapley[i] += weight * effect
                lowest[i] = np.minimum(lowest[i], effect)
                highest[i] = np.maximum(highest[i], effect)
    return shapley, lowest, highest
