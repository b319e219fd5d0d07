"""Social protection floor costing (ILO Recommendation No. 202; the ILO's Rapid Assessment Protocol)
on the valuation's own projection: non-contributory benefits for old age, disability, children and
maternity, and the whole fiscal cost to the state beside the contributory scheme.

Inputs (group ``floor``, one entry per benefit: the rows of the workbook's ``Floor`` sheet; see
:data:`actuary.inputs.FIELDS`): kind, sex, min_age, max_age, amount, basis, indexation, take_up (by
year: the ``Floor take-up`` sheet phases it in), test, admin_share, and eligibility by sex and age
(the ``Floor eligibility`` sheet: targeting or disability prevalence). From Python,
:func:`floor_benefits` turns rows into these inputs::

    Valuation.demo().replace(floor=floor_benefits([
        {"benefit": "social_pension", "kind": "old_age", "min_age": 65, "amount": 0.15,
         "basis": "gdp_per_capita", "take_up": 0.9, "test": "pension_tested", "admin_share": 0.03}]))

Cost of benefit b in year t (currency, administration included)::

    cost_t = take_up_t x (1 + admin_share) x sum over sex s, age x of eligibility(s, x) x paid(t, s, x)

- beneficiaries are person-years: the mean of the stocks at the start and at the end of the year
  (1 January t and t+1), for the population and for the scheme's pensions alike, at the completed
  age of each stock; the ``population`` results variable is the end-of-year stock, so the start
  stock of the first year is ``population_at_valuation``. ``maternity`` counts the year's births by
  the mother's age (the population kernel's own births; sex both or female).
- universal: paid = P x A, with P the mean population of the cell and A the benefit a year.
- pension_tested: paid = P x prod_g (1 - s_g) x A: only persons without a tested scheme pension.
  The tested pensions (old-age floor: old-age, invalidity and survivors' pensions; disability floor:
  invalidity pensions; child and other benefits: every scheme pension) are counted as persons: the
  engine tracks pensions, not persons, so a cell's pensions fall into groups held independently of
  each other (own pensions, old-age or invalidity, which exclude each other; widow(er)s'; orphans'),
  s_g = min(N_g / P, 1) the share of the cell holding group g, with N_g the mean number of its
  pensions. With one group (the disability floor) this is max(P - N, 0) x A.
- top_up: the persons holding the groups of a subset G (probability prod_{g in G} s_g
  prod_{g not in G} (1 - s_g)) receive max(A - sum_{g in G} average_g, 0), average_g the group's mean
  amount in payment during the year (after the 1 January indexation); the others receive A. The
  spread of pensions within a cell is not modelled (each group at its cell average).
- A: basis currency = amount at the valuation year indexed by prices, wages or not at all;
  gdp_per_capita = amount x GDP_t / mean population_t; average_wage = amount x national average wage_t;
  poverty_line = amount x economy.poverty_line_t. The poverty line is given in each year's money, at the
  valuation's inflation: runs around the valuation at other prices (sensitivity tests, scenarios and
  options that change economy.inflation without giving a poverty line of their own, stochastic paths)
  move it with their price index, P'_t / P_t times the given line (:func:`poverty_line_at_prices`), as a
  standard of living is; a valuation of its own takes the line as given.

Outputs: ``floor_beneficiaries``, ``floor_benefit_amount``, ``floor_cost`` (year, floor_benefit);
``floor_cost_pct_gdp`` = 100 x total cost / GDP (percent, as every ``_pct_`` variable; other rates are
fractions) and by benefit; ``floor_cost_pct_government_expenditure`` / ``_revenue`` when those economy
inputs are given; ``fiscal_cost`` = floor cost + the state subsidy to the scheme + the state-financed
minimum-pension top-up it pays (``minimum_pension_top_up_paid`` when the projection has it: under
settings.after_depletion payable, the top-up of the share of the pensions paid), with its ratios; it leaves
out the scheme's own deficit after depletion, given beside it: ``scheme_borrowing`` (the year's increase in the
scheme's debt ``scheme_debt`` = max(-reserve, 0), interest included; 0 under settings.after_depletion payable) and,
under borrow, ``fiscal_cost_with_borrowing`` = fiscal cost + the scheme's own deficit of the year financed by
borrowing, max(D_t - (1 + i_t) D_t-1, 0) at mid-year (:func:`own_deficit`: not the scheme borrowing, which includes
the interest on the debt carried in), with their ratios. The
summary holds the floor's and the fiscal cost's present values over the GAP horizons (discounted as
the GAP discounts: mid-year, at the projected returns) and the level share of GDP that finances each
(100 x PV cost / PV GDP); those of the scheme's borrowing value each deficit once, without the interest on the
debt (which bears the discount rate), and the total's are the sum. A floor costing alone (settings.scheme = "no")
projects the population and GDP only; its tests must be universal (there are no scheme pensioners).
"""

from __future__ import annotations

import re

import numpy as np
import xarray as xr

from . import indicators, series
from .inputs import FB, FIELDS, REQUIRED, _check_kind, _coerce
from .kernels.floor import BASIS_CODES, TEST_CODES, floor_kernel
from .kernels.series import RULE_CODES
from .reference.floor import floor_reference
from . import validation as check
from .validation import SEXES, InputError

PER_BENEFIT = ("kind", "sex", "min_age", "max_age", "amount", "basis", "indexation", "test", "admin_share")
TESTED_PENSIONS = {  # scheme benefits (old_age, invalidity, widow, orphan) a pension test looks at, by kind
    "old_age": (1, 1, 1, 1), "disability": (0, 1, 0, 0), "child": (1, 1, 1, 1), "other": (1, 1, 1, 1),
    "maternity": (0, 0, 0, 0)}
# the state's flows to the scheme that the fiscal cost adds to the floor's cost (results variables, when present)
STATE_FLOWS = (("state_subsidy", "state subsidy to the scheme"),
               ("minimum_pension_top_up_paid", "state-financed minimum-pension top-up paid"))
GOVERNMENT = {"expenditure": "government_expenditure_pct_gdp", "revenue": "government_revenue_pct_gdp"}
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_ .()\-]{0,39}")


# ----------------------------------------------------------------------------------- inputs

def floor_benefits(rows) -> dict:
    """Floor inputs from rows (a list of dicts or a pandas DataFrame), one per benefit with the Floor
    sheet's columns: ``benefit`` (its name) and any of kind, sex, min_age, max_age, amount, basis,
    indexation, take_up, test, admin_share; absent keys take their defaults."""
    records = rows.to_dict("records") if hasattr(rows, "to_dict") else list(rows)
    names = [str(r.get("benefit", "")) for r in records]
    out = {}
    for key in PER_BENEFIT + ("take_up",):
        if any(key in r for r in records):
            out[key] = xr.DataArray(np.array([r.get(key) for r in records], dtype=object), dims=FB,
                                    coords={FB: names})
    return out


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or \
        (isinstance(value, (float, np.floating)) and np.isnan(value))


def _entries(name: str, value, labels: list[str]) -> dict:
    """A per-benefit input as {benefit: value}: a scalar (every benefit), a dict, a pandas Series, a
    1-D DataArray over floor_benefit or a sequence in the order of the benefits."""
    if value is None or np.ndim(value) == 0 and not isinstance(value, (dict, xr.DataArray)):
        return {label: value for label in labels}
    if isinstance(value, xr.DataArray):
        if value.ndim == 0:
            return {label: value.item() for label in labels}
        if value.dims != (FB,) or FB not in value.coords:
            raise InputError(f"Input '{name}' has dimensions {value.dims}; expected ('{FB}',) with the benefits' "
                             "names as labels.", field=name)
        value = dict(zip([str(v) for v in value[FB].values], value.values.tolist()))
    elif hasattr(value, "to_dict") and not isinstance(value, dict):
        value = value.to_dict()
    if isinstance(value, dict):
        unknown = [k for k in value if k not in labels]
        if unknown:
            raise InputError(f"Input '{name}': benefit '{unknown[0]}' is not a benefit of the floor (floor.kind "
                             f"names {', '.join(labels)}).", field=name, where={FB: unknown[0]})
        return {label: value.get(label) for label in labels}
    values = list(value)
    if len(values) != len(labels):
        raise InputError(f"Input '{name}' has {len(values)} values; expected one per floor benefit "
                         f"({len(labels)}: {', '.join(labels)}).", field=name)
    return dict(zip(labels, values))


def _benefit_names(kind) -> list[str]:
    if isinstance(kind, xr.DataArray) and kind.ndim == 1 and FB in kind.coords:
        names = [str(v) for v in kind[FB].values]
    elif isinstance(kind, dict):
        names = [str(k) for k in kind]
    elif hasattr(kind, "index") and hasattr(kind, "to_dict"):
        names = [str(k) for k in kind.index]
    else:
        raise InputError("Input 'floor.kind' must name each benefit: a DataArray over 'floor_benefit' (the names "
                         "as labels), a dict {name: kind} or a pandas Series; see actuary.floor.floor_benefits.",
                         field="floor.kind")
    seen = set()
    for label in names:
        if not NAME.fullmatch(label):
            raise InputError(f"Input 'floor.kind': benefit name '{label}' is not allowed; expected a name starting "
                             "with a letter, of letters, digits, spaces and _ . ( ) -, at most 40 characters.",
                             field="floor.kind", where={FB: label})
        if label in seen:
            raise InputError(f"Input 'floor.kind': benefit '{label}' is named twice; each benefit needs its own "
                             "name.", field="floor.kind", where={FB: label})
        seen.add(label)
    if not names:
        raise InputError("Input 'floor.kind' names no benefit.", field="floor.kind")
    return names


def _error(key: str, label: str, text: str) -> InputError:
    return InputError(f"Input 'floor.{key}' at {FB}={label}: {text}", field=f"floor.{key}", where={FB: label})


def _per_benefit(key: str, raw: dict, labels: list[str], settings: dict) -> np.ndarray:
    """Validated values of a per-benefit field (blank entries take the field's default)."""
    field = FIELDS["floor"][key]
    entries = _entries(f"floor.{key}", raw.get(key), labels)
    out = []
    for label, value in entries.items():
        if _blank(value) or (key == "max_age" and isinstance(value, (int, float)) and value == np.inf):
            if field.default is REQUIRED:
                raise _error(key, label, f"no value; '{key}' is required for every benefit ({field.units or field.doc}).")
            out.append(field.default)
            continue
        if field.kind == "choice":
            text = str(value).strip()
            if text not in field.choices:
                raise _error(key, label, f"value '{value}' is not an option; expected one of "
                                         f"{', '.join(field.choices)}.")
            out.append(text)
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _error(key, label, f"value {value!r} is not a number; expected {field.units or field.kind}.") from None
        if not np.isfinite(number):
            raise _error(key, label, f"value {number} is not a finite number.")
        if field.kind == "age":
            if number != round(number) or not 0 <= number <= settings["max_age"]:
                raise _error(key, label, f"value {number:g} is not a whole age in 0..{settings['max_age']} "
                                         "(settings.max_age)" + ("; leave it blank for no upper limit." if
                                                                 key == "max_age" else "."))
        elif field.kind == "probability" and not 0 <= number <= 1:
            raise _error(key, label, f"value {number:g} is outside [0, 1]; expected {field.units}.")
        elif number < 0:
            raise _error(key, label, f"value {number:g} is negative; expected {field.units}.")
        out.append(number)
    return np.array(out, dtype=object if field.kind == "choice" else float)


def validate_floor(raw: dict, inputs) -> dict:
    """The validated floor inputs of ``inputs`` (empty without a floor); sets inputs.coords['floor_benefit']."""
    economy = inputs.economy
    if not raw:
        for key in ("poverty_line",) + tuple(GOVERNMENT.values()):
            if economy[key] is not None:
                raise InputError(f"Input 'economy.{key}' is only used by the social protection floor, but the case "
                                 "has no floor benefit; remove it or add the Floor sheet.", field=f"economy.{key}")
        return {}
    if not inputs.national:
        raise InputError("Input 'floor': a social protection floor is costed on the national population, but "
                         "settings.national_population is 'no' (a scheme-only valuation); remove the floor or give "
                         "the national population.", field="floor.kind")
    if "kind" not in raw:
        raise InputError("Input 'floor.kind' is required: the floor's benefits (the Floor sheet's benefit and kind "
                         "columns).", field="floor.kind")
    labels = _benefit_names(raw["kind"])
    inputs.coords[FB] = np.array(labels)
    settings = inputs.settings
    values = {key: _per_benefit(key, raw, labels, settings) for key in PER_BENEFIT}
    for i, label in enumerate(labels):
        kind, basis, test = values["kind"][i], values["basis"][i], values["test"][i]
        if values["max_age"][i] < values["min_age"][i]:
            raise _error("max_age", label, f"value {values['max_age'][i]:g} is below min_age "
                                           f"{values['min_age'][i]:g}.")
        if kind == "maternity" and values["sex"][i] == "male":
            raise _error("sex", label, "value 'male' for a maternity benefit; it counts births by the mother's age "
                                       "(sex both or female).")
        if test != "universal" and kind == "maternity":
            raise _error("test", label, f"value '{test}' for a maternity benefit; births have no scheme pension to "
                                        "test: expected universal.")
        if test != "universal" and not inputs.has_scheme:
            raise _error("test", label, f"value '{test}' needs the scheme's pensioners, and a floor costing alone "
                                        "(settings.scheme = no) has none: expected universal.")
        given = _entries("floor.indexation", raw.get("indexation"), labels)[label]
        if basis != "currency":
            if not _blank(given):
                raise _error("indexation", label, f"value '{given}' for an amount on the {basis} basis, which moves "
                                                  "with its basis each year; leave it blank (indexation applies to "
                                                  "currency amounts).")
            values["indexation"][i] = ""
        if basis == "poverty_line" and economy["poverty_line"] is None:
            raise _error("basis", label, "value 'poverty_line', but economy.poverty_line is not given (a year-by-year "
                                         "series in the Schedules sheet).")
        if basis != "currency" and values["amount"][i] > 5:
            raise _error("amount", label, f"value {values['amount'][i]:g} is a share of the {basis} on this basis "
                                          "(e.g. 0.2); for an amount in currency use the basis currency.")
    if economy["poverty_line"] is not None and "poverty_line" not in values["basis"].tolist():
        raise InputError("Input 'economy.poverty_line' is only used by floor benefits on the poverty_line basis, and "
                         "none has it; remove it or use it.", field="economy.poverty_line")
    out = {}
    for key in PER_BENEFIT:
        out[key] = xr.DataArray(values[key].astype(str) if values[key].dtype == object else values[key], dims=FB,
                                coords={FB: labels}, name=key, attrs={"units": FIELDS["floor"][key].units})
    out["take_up"] = _table_field("take_up", raw, labels, inputs.coords)
    out["eligibility"] = _table_field("eligibility", raw, labels, inputs.coords)
    return out


def _table_field(key: str, raw: dict, labels: list[str], coords: dict) -> xr.DataArray:
    """take_up (year, floor_benefit) or eligibility (floor_benefit, sex, age): a scalar, a per-benefit value
    (blank entries: the default) or a labelled table."""
    name, field = f"floor.{key}", FIELDS["floor"][key]
    value = raw.get(key, field.default)
    if isinstance(value, xr.DataArray) and value.dims == (FB,) or isinstance(value, (dict, list, tuple)) or \
            hasattr(value, "to_dict") and not isinstance(value, xr.DataArray):
        entries = _entries(name, value, labels)
        value = xr.DataArray([field.default if _blank(v) else v for v in entries.values()], dims=FB,
                             coords={FB: labels})
        try:
            value = value.astype(float)
        except (TypeError, ValueError):
            bad = next(k for k, v in entries.items() if not _blank(v) and not _is_number(v))
            raise _error(key, bad, f"value {entries[bad]!r} is not a number.") from None
    if isinstance(value, xr.DataArray) and FB in value.dims:
        unknown = [str(v) for v in value[FB].values if str(v) not in labels]
        if unknown:
            raise InputError(f"Input '{name}': benefit '{unknown[0]}' is not a benefit of the floor (floor.kind names "
                             f"{', '.join(labels)}).", field=name, where={FB: unknown[0]})
        missing = [v for v in labels if v not in [str(x) for x in value[FB].values]]
        if missing:
            value = value.reindex({FB: labels}, fill_value=field.default)
    if isinstance(value, xr.DataArray) and "sex" in value.dims and field.fill is not None:
        value = check.sexes(name, value.reindex(sex=sorted(set(map(str, value.sex.values)) | set(SEXES)),
                                                fill_value=field.fill))
    da = _coerce(name, field, value, coords).rename(key)
    _check_kind(name, field, da)
    da.attrs["units"] = field.units
    return da


def _is_number(value) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------------- projection

def kernel_inputs(inputs) -> dict:
    """Arrays of :func:`actuary.kernels.floor.floor_kernel` that depend on the floor inputs only."""
    floor, coords = inputs.floor, inputs.coords
    ages = coords["population_age"]
    labels = coords[FB]
    n = labels.size
    eligible = floor["eligibility"].values.copy()
    rules = np.zeros((n, 6))
    tested = np.zeros((n, 4))
    field = {key: floor[key].values for key in ("kind", "sex", "min_age", "max_age", "indexation", "amount", "basis",
                                                "test", "admin_share")}   # each field's values read once
    for b in range(n):
        kind, sex = str(field["kind"][b]), str(field["sex"][b])
        low, high = field["min_age"][b], field["max_age"][b]
        eligible[b, :, (ages < low) | (ages > high)] = 0.0
        if sex == "female" or kind == "maternity":
            eligible[b, 0] = 0.0
        elif sex == "male":
            eligible[b, 1] = 0.0
        indexation = str(field["indexation"][b]) or "none"
        rules[b] = (field["amount"][b], BASIS_CODES[str(field["basis"][b])], RULE_CODES[indexation],
                    TEST_CODES[str(field["test"][b])], kind == "maternity", field["admin_share"][b])
        tested[b] = TESTED_PENSIONS[kind]
    poverty = inputs.economy["poverty_line"]
    return dict(eligible=np.ascontiguousarray(eligible), take_up=np.ascontiguousarray(floor["take_up"].values),
                rules=rules, tested=tested, average_wage0=float(inputs.economy["average_wage"]),
                poverty_line=np.ascontiguousarray(poverty.values if poverty is not None else np.zeros(len(coords["year"]))))


def poverty_line_at_prices(inputs, inflation) -> xr.DataArray | None:
    """``economy.poverty_line`` of ``inputs`` (None if not given) in the money of another inflation path
    ``inflation`` (by year, the projection's years): times P'_t / P_t, the price index of ``inflation`` over that
    of the valuation's own (both 1 at the valuation year)."""
    line = inputs.economy["poverty_line"]
    if line is None:
        return None
    return line_at_prices(line, inputs.economy["inflation"].values, inflation)


def line_at_prices(line: xr.DataArray, own_inflation, inflation) -> xr.DataArray:
    """A poverty line by year given at ``own_inflation`` in the money of ``inflation`` (both by the line's years):
    times P'_t / P_t, both price indices 1 at the first year."""
    ratio = series.price_index(np.asarray(inflation, dtype=float)) / series.price_index(
        np.asarray(own_inflation, dtype=float))
    return line * xr.DataArray(ratio, dims="year", coords={"year": line["year"].values})


def project_floor(inputs, population: dict, pensions: dict | None, gdp, prices, wages, beta,
                  engine: str = "kernel") -> dict[str, np.ndarray]:
    """Level, beneficiaries and cost [year, benefit] of the floor on a projection.

    ``population``: the population kernel's inputs and outputs (population [year + 1, sex, age],
    fertility, migration, even); ``pensions``: scheme pensions in payment (count, amount [year + 1, k,
    sex, age]) or None without a scheme."""
    return floor_costs(floor_arguments(inputs, population, pensions, gdp, prices, wages, beta), engine)


def floor_arguments(inputs, population: dict, pensions: dict | None, gdp, prices, wages, beta) -> dict:
    """The arguments of :func:`actuary.kernels.floor.floor_kernel` (in its order) for :func:`project_floor`."""
    arrays = kernel_inputs(inputs)
    stock = population["population"]
    if pensions is None:
        shape = (stock.shape[0], 4) + stock.shape[1:]
        pensions = {"count": np.zeros(shape), "amount": np.zeros(shape)}
    c = np.ascontiguousarray
    return dict(population=stock, count=pensions["count"], amount=pensions["amount"], beta=c(beta, dtype=float),
                fertility=population["fertility"], migration=population["migration"],
                start_share=0.5 if population["even"] else 0.0, prices=c(prices, dtype=float),
                wages=c(wages, dtype=float), gdp=c(gdp, dtype=float), average_wage0=arrays["average_wage0"],
                poverty_line=arrays["poverty_line"], eligible=arrays["eligible"], take_up=arrays["take_up"],
                rules=arrays["rules"], tested=arrays["tested"])


def floor_costs(args: dict, engine: str = "kernel") -> dict[str, np.ndarray]:
    """Level, beneficiaries and cost [year, benefit] from the kernel's arguments (:func:`floor_arguments`); the
    kernel releases the GIL."""
    if engine != "kernel":
        level, beneficiaries, cost = floor_reference(**args)
    else:
        shape = (args["gdp"].shape[0], args["rules"].shape[0])
        level, beneficiaries, cost = np.empty(shape), np.empty(shape), np.empty(shape)
        floor_kernel(*args.values(), level, beneficiaries, cost)  # (positional: Numba's keyword dispatch is slow)
    return {"level": level, "beneficiaries": beneficiaries, "cost": cost}


def floor_variables(inputs, floor: dict[str, np.ndarray], variables: dict) -> tuple[dict, dict]:
    """The floor's results variables and coordinates, given the projection's ``variables`` (name ->
    (dims, values, attrs), before the Dataset is built): see the module docstring."""
    Y = "year"
    gdp = variables["gdp"][1]
    total = floor["cost"].sum(axis=1)
    fiscal = total.copy()
    parts = ["floor cost"]
    for name, what in STATE_FLOWS:
        if name in variables:
            fiscal = fiscal + variables[name][1]
            parts.append(what)
    data = {
        "floor_beneficiaries": ((Y, FB), floor["beneficiaries"], "persons",
                                "mean of the stocks at the start and end of the year (maternity: births) x "
                                "eligibility x take-up"),
        "floor_benefit_amount": ((Y, FB), floor["level"], "currency a year", "full benefit per beneficiary"),
        "floor_cost": ((Y, FB), floor["cost"], "currency", "benefits paid + administration"),
        "floor_cost_pct_gdp": ((Y,), 100 * total / gdp, "percent", "total floor cost / GDP"),
        "floor_cost_pct_gdp_by_benefit": ((Y, FB), 100 * floor["cost"] / gdp[:, None], "percent", "cost / GDP"),
        "fiscal_cost": ((Y,), fiscal, "currency", " + ".join(parts)),
        "fiscal_cost_pct_gdp": ((Y,), 100 * fiscal / gdp, "percent", "fiscal cost / GDP"),
    }
    with_borrowing = None
    if "reserve" in variables:   # a scheme beside the floor: its borrowing after depletion, beside the fiscal cost
        borrowed = borrowing_data(variables["reserve"][1], float(variables["reserve_at_valuation"][1]),
                                  variables["investment_return"][1], gdp)
        data.update(borrowed)
        if inputs.settings["after_depletion"] == "borrow":
            with_borrowing = fiscal + own_deficit(borrowed["scheme_debt"][1],
                                                  float(variables["reserve_at_valuation"][1]),
                                                  variables["investment_return"][1])
            data["fiscal_cost_with_borrowing"] = ((Y,), with_borrowing, "currency",
                                                  "fiscal cost + the scheme's own deficit of the year: "
                                                  + " + ".join(parts) + " + " + OWN_DEFICIT)
            data["fiscal_cost_with_borrowing_pct_gdp"] = ((Y,), 100 * with_borrowing / gdp, "percent",
                                                          "fiscal cost including the scheme's borrowing / GDP")
    for aggregate, key in GOVERNMENT.items():
        share = inputs.economy[key]
        if share is not None:
            spending = share.values / 100 * gdp
            data[f"floor_cost_pct_government_{aggregate}"] = ((Y,), 100 * total / spending, "percent",
                                                             f"total floor cost / government {aggregate}")
            data[f"fiscal_cost_pct_government_{aggregate}"] = ((Y,), 100 * fiscal / spending, "percent",
                                                              f"fiscal cost / government {aggregate}")
            if with_borrowing is not None:
                data[f"fiscal_cost_with_borrowing_pct_government_{aggregate}"] = (
                    (Y,), 100 * with_borrowing / spending, "percent",
                    f"fiscal cost including the scheme's borrowing / government {aggregate}")
    out = {name: (dims, values, {"units": units, "description": doc}) for name, (dims, values, units, doc) in data.items()}
    return out, {FB: inputs.coords[FB]}


BORROWING_DESCRIPTION = ("the scheme's deficit financed by borrowing once its reserve is exhausted (settings."
                         "after_depletion borrow): the year's increase in its debt, max(D_t - D_t-1, 0) with D = "
                         "max(-reserve, 0), the interest on the debt included; 0 under payable, where benefits are "
                         "cut to what income and the reserve left pay")


OWN_DEFICIT = ("the year's deficit of the scheme financed by borrowing, without the interest on the debt carried in: "
               "max(D_t - (1 + i_t) D_t-1, 0) / (1 + i_t)^(1/2), D = scheme_debt and i the investment return, at "
               "mid-year as the other flows; what the state would pay were it to cover each deficit as it arises. It "
               "is scheme_borrowing less scheme_debt_interest while the return is not negative; in a year of negative "
               "return the debt carried in shrinks by itself, by -i_t D_t-1, and the own deficit is the change in the "
               "debt plus that shrinkage, when positive")


def own_deficit(debt, reserve_at_valuation: float, investment_return) -> np.ndarray:
    """The year's own deficit of the scheme financed by borrowing, at mid-year, from the scheme's debt D_t =
    max(-V_t, 0) by year (D_t-1 of the first year from the reserve at the valuation date) and the investment return
    i_t the debt bears: max(D_t - (1 + i_t) D_t-1, 0) / (1 + i_t)^(1/2), the change in the debt less what the debt
    carried in would have become by itself (:func:`scheme_borrowing`'s end-of-year value, discounted half a year).
    The fiscal cost including the scheme's borrowing adds it, by year as in its present values: the interest on the
    debt would count each deficit again every year it stays unpaid.

    While i_t >= 0 it is (scheme_borrowing - scheme_debt_interest) / (1 + i_t)^(1/2), to the last bit (the same
    subtraction, (D_t - D_t-1) - i_t D_t-1, whenever it is positive). In a year of negative return it is not: the
    debt carried in falls by -i_t D_t-1 without any repayment, so a year whose debt falls by less than that still
    has a deficit of its own, and one whose debt rises has a deficit larger than its borrowing (the difference of
    borrowing and a negative interest would instead count the debt's fall as a deficit, even in a year of
    surplus). The batch kernel (:mod:`actuary.kernels.batch`) works it out the same way for each path."""
    debt = np.asarray(debt, dtype=float)
    rate = np.asarray(investment_return, dtype=float)
    before = debt_carried_in(debt, reserve_at_valuation)
    return np.maximum((debt - before) - rate * before, 0.0) / np.sqrt(1.0 + rate)


def debt_carried_in(debt, reserve_at_valuation: float) -> np.ndarray:
    """D_t-1 by year: the debt at the end of the year before, max(-reserve at the valuation date, 0) for the first."""
    return np.concatenate([[max(-float(reserve_at_valuation), 0.0)], np.asarray(debt, dtype=float)[:-1]])


def borrowing_data(reserve, reserve_at_valuation: float, investment_return, gdp) -> dict:
    """The scheme's borrowing, debt and the interest on it by year, and their shares of GDP, from its end-of-year
    reserve, the reserve at the valuation date, the investment return and GDP (:func:`scheme_borrowing`): name ->
    (dims, values, units, description), as :func:`floor_variables` builds them; also the borrowing of a scheme
    without a floor that :mod:`actuary.compare` sets beside its options."""
    Y = "year"
    borrowing, debt, interest = scheme_borrowing(reserve, reserve_at_valuation, investment_return)
    return {
        "scheme_borrowing": ((Y,), borrowing, "currency", BORROWING_DESCRIPTION),
        "scheme_borrowing_pct_gdp": ((Y,), 100 * borrowing / gdp, "percent", "scheme borrowing / GDP"),
        "scheme_debt_interest": ((Y,), interest, "currency", "of the scheme's borrowing, the part that pays the "
                                                             "interest on its debt carried in: i_t D_t-1 held "
                                                             "within [0, scheme_borrowing], i the investment return "
                                                             "(0 in a year of negative return, when the debt "
                                                             "shrinks by itself: the part cannot be negative)"),
        "scheme_debt_interest_pct_gdp": ((Y,), 100 * interest / gdp, "percent",
                                         "interest on the scheme's debt financed by borrowing / GDP"),
        "scheme_debt": ((Y,), debt, "currency", "the scheme's debt at the end of the year: minus the reserve "
                                                "when it is negative (settings.after_depletion borrow), else 0"),
        "scheme_debt_pct_gdp": ((Y,), 100 * debt / gdp, "percent", "scheme debt / GDP"),
    }


def scheme_borrowing(reserve, reserve_at_valuation: float, investment_return) -> tuple[np.ndarray, np.ndarray,
                                                                                       np.ndarray]:
    """(borrowing, debt, interest) by year from the scheme's end-of-year reserve V_t, the reserve at the valuation
    date and the investment return i_t (the rate the debt bears):
    the debt D_t = max(-V_t, 0) and the borrowing of year t, the part of the year's deficit that neither income nor
    the reserve left at its start pays, max(D_t - D_t-1, 0). Before depletion both are 0; in the depletion year the
    borrowing is D_t (the deficit less the reserve left); after it, minus the year's net cash flow V_t - V_t-1 (the
    deficit, the interest on the debt included, since a negative reserve bears the investment return). A year whose
    surplus repays debt borrows nothing (repayments are not netted). Under settings.after_depletion payable the
    reserve never falls below zero and all are 0. The interest is the part of the borrowing that pays the interest
    on the debt carried in, i_t D_t-1 held within [0, borrowing_t]: a part of the borrowing is neither negative nor
    more than all of it, so in a year of negative return (the debt carried in shrinks by itself) it is 0. The year's
    own deficit financed by borrowing, at its end-of-year value, is max(D_t - (1 + i_t) D_t-1, 0) (:func:`own_deficit`
    gives it at mid-year), which the present values count: the borrowing less the interest while i_t >= 0."""
    debt = np.maximum(-np.asarray(reserve, dtype=float), 0.0)
    before = debt_carried_in(debt, reserve_at_valuation)
    borrowing = np.maximum(debt - before, 0.0)
    interest = np.minimum(np.maximum(np.asarray(investment_return, dtype=float) * before, 0.0), borrowing)
    return borrowing, debt, interest


def floor_extension(inputs, population: dict, pensions: dict | None, prices, wages, beta, engine: str = "kernel",
                    gdp=None, beside=None):
    """A function of the projection's variables returning the floor's variables and coordinates (the
    hook of :func:`actuary.projection.to_dataset`, so that the Dataset is built once).

    ``gdp`` (the projection's, given) and ``beside(function, *arguments)`` (queues the call elsewhere, returns a
    function that gives its result): the floor's costs are worked out there from now on, while the caller goes on
    (building the Dataset)."""
    if gdp is not None and beside is not None:
        pending = beside(floor_costs, floor_arguments(inputs, population, pensions, gdp, prices, wages, beta),
                         engine)

        def extend(variables: dict) -> tuple[dict, dict]:
            return floor_variables(inputs, pending(), variables)
        return extend

    def extend(variables: dict) -> tuple[dict, dict]:
        cost = project_floor(inputs, population, pensions, variables["gdp"][1], prices, wages, beta, engine)
        return floor_variables(inputs, cost, variables)
    return extend


def floor_summary(ds: xr.Dataset, horizons) -> dict:
    """Summary variables: present values of the floor cost and of the fiscal cost over each horizon
    (mid-year discounting at the projected returns, as the GAP), and the level share of GDP financing
    each: 100 x PV cost / PV GDP. Returns name -> (dims, values, attrs) and the horizons."""
    values = {name: ds.variables[name].values for name in ("investment_return", "gdp", "floor_cost", "fiscal_cost")}
    horizons = indicators.summary_horizons(ds.sizes["year"], horizons)   # (the variables read directly: a
    v_mid, _ = indicators.discount_by_returns(values["investment_return"])  # DataArray each costs more than the sums)
    n = np.array(horizons)

    def present_values(flow):
        return np.cumsum(v_mid * flow)[n - 1]

    gdp = present_values(values["gdp"])
    data = {}
    flows = [("floor_cost", values["floor_cost"].sum(axis=1), None), ("fiscal_cost", values["fiscal_cost"], None)]
    if "scheme_borrowing" in ds.variables:
        # the deficits financed by borrowing, each valued once: without the interest on the debt, which bears the
        # discount rate (counting it too would value each deficit again every year it stays unpaid)
        deficits = own_deficit(ds.variables["scheme_debt"].values, float(ds.variables["reserve_at_valuation"].values),
                               values["investment_return"])   # so the present value is that of the debt, discounted
        flows.append(("scheme_borrowing", deficits, "scheme's deficits financed by borrowing (without the "
                                                    "interest on its debt)"))
        if "fiscal_cost_with_borrowing" in ds.variables:
            flows.append(("fiscal_cost_with_borrowing", values["fiscal_cost"] + deficits,
                          "fiscal cost including the scheme's deficits financed by borrowing (without the interest "
                          "on its debt)"))
    for name, flow, words in flows:
        what = words or name.replace("_", " ")
        pv = present_values(flow)
        data[f"{name}_present_value"] = ("horizon", pv, {"units": "currency at the valuation date",
                                                         "description": f"present value of the {what} over the "
                                                                        "next n years"})
        data[f"{name}_level_pct_gdp"] = ("horizon", 100 * pv / gdp, {
            "units": "percent", "description": f"constant share of GDP with the present value of the {what} over "
                                               "the next n years"})
    return data, horizons


def state_cost_summary(projection: xr.Dataset, horizons) -> tuple[dict, list]:
    """:func:`floor_summary` of any projection with GDP, whether or not it costs a floor, with the scheme's
    borrowing and the fiscal cost including it whenever it has a scheme: where runs are set beside each other (the
    analysis of change, the comparison of options) each has the same measures. A projection without a floor costs
    none and its fiscal cost is the state's flows to the scheme (:data:`STATE_FLOWS`); one without the borrowing
    variables (no floor) has them from its reserve (:func:`borrowing_data`). Under settings.after_depletion payable
    the reserve never falls below zero: the borrowing is 0 and the fiscal cost including it is the fiscal cost
    (which a valuation's results then leave out)."""
    keep = ["investment_return", "gdp"]
    if "floor_cost" in projection:
        ds = projection[keep + ["floor_cost", "fiscal_cost"]]
    else:
        years = projection.sizes["year"]
        fiscal = sum((projection[name].values for name, _ in STATE_FLOWS if name in projection), np.zeros(years))
        ds = projection[keep].assign(floor_cost=(("year", FB), np.zeros((years, 1))), fiscal_cost=("year", fiscal))
    if "reserve" in projection:
        at_valuation = float(projection.reserve_at_valuation)
        if "scheme_borrowing" in projection:
            borrowing, debt = projection.scheme_borrowing.values, projection.scheme_debt.values
        else:
            borrowing, debt, _ = scheme_borrowing(projection.reserve.values, at_valuation,
                                                  projection.investment_return.values)
        deficit = own_deficit(debt, at_valuation, ds.investment_return.values)
        ds = ds.assign(scheme_borrowing=("year", borrowing), scheme_debt=("year", debt),
                       reserve_at_valuation=at_valuation,
                       fiscal_cost_with_borrowing=("year", ds.fiscal_cost.values + deficit))
    return floor_summary(ds, horizons)


def national_projection(inputs, engine: str = "kernel") -> xr.Dataset:
    """The projection of a floor costing alone: population, GDP, life expectancy at 65 and the floor (no
    scheme)."""
    from .projection import (GDP_DESCRIPTION, add_report_variables, demographic_dependency_ratio, employment_share,
                             gross_domestic_product, mortality_table, population_kernel_inputs, run_population)

    eco = inputs.economy
    years = inputs.coords["year"]
    p = population_kernel_inputs(inputs, mortality_table(inputs))
    out = run_population(p, engine)
    gdp = gross_domestic_product(inputs, out["population"], employment_share(inputs))
    indices = {"prices": series.price_index(eco["inflation"].values),
               "wages": series.wage_index(eco["inflation"].values, eco["real_wage_growth"].values)}
    Y, S, A = "year", "sex", "age"
    pop = out["population"][1:]
    data = {
        "population": ((Y, S, A), pop, "persons", "national population, end of the year"),
        "births": ((Y, S), out["births"], "persons", "live births of the year, by sex of the child"),
        "deaths": ((Y, S), out["deaths"], "persons", "national deaths"),
        "gdp": ((Y,), gdp, "currency", GDP_DESCRIPTION),
        "demographic_dependency_ratio": ((Y,), demographic_dependency_ratio(pop), "ratio",
                                         "population 65+ / 15-64, end of the year"),
        "wage_index": ((Y,), indices["wages"], "index", "average wage, t0 = 1"),
        "price_index": ((Y,), indices["prices"], "index", "t0 = 1"),
        "investment_return": ((Y,), eco["nominal_return"].values, "rate", "discount rate of present values"),
    }
    variables = {k: (d, np.asarray(v), {"units": u, "description": doc}) for k, (d, v, u, doc) in data.items()}
    variables["population_at_valuation"] = ((S, A), out["population"][0], {
        "units": "persons", "description": "national population at 1 January of the valuation year"})
    coords = {Y: years, S: list(inputs.coords["sex"]), A: inputs.coords["population_age"]}
    extend = floor_extension(inputs, dict(p, **out), None, indices["prices"], indices["wages"], np.zeros(years.size),
                             engine)
    more, more_coords = extend(variables)
    ds = add_report_variables(xr.Dataset({**variables, **more}, coords={**coords, **more_coords}), inputs)
    ds.attrs.update({"valuation_year": int(years[0]), "horizon": int(years.size), "min_age": inputs.settings["min_age"],
                     "scheme": "no", "conventions": "flows of each year; stocks at the end of the year (1 January "
                                                   "of the next); valuation-date stocks in *_at_valuation"})
    return ds


def floor_only(valuation, name: str | None = None):
    """The floor costing alone of ``valuation`` (settings.scheme = "no"): its national inputs (settings,
    economy, demography, labour force participation) and its floor; pension tests become universal,
    since there are no scheme pensioners."""
    from .inputs import without_scheme

    raw = {group: {k: v for k, v in values.items() if without_scheme(group, k)} for group, values in valuation.raw.items()}
    raw["settings"]["scheme"] = "no"
    if "test" in raw["floor"]:
        raw["floor"]["test"] = "universal"
    return type(valuation)(**raw, name=name or valuation.name)
