"""Reform options side by side: the base valuation and each option (a whole valuation workbook, or changes to
the base from a ``Reforms`` sheet), their key results and their differences from the base.

The ``Reforms`` sheet (in the base workbook) has one row per change: option | input (group.field) | operation
(set, scale, shift) | value | from_year | to_year | from_cohort | to_cohort | notes; the rows of one option
together make it (the Scenarios machinery of :mod:`actuary.batch`; cohort bounds limit a change to the years
of birth of a by-cohort input, e.g. scheme.normal_retirement_age_by_cohort).

The comparison Dataset has an ``option`` dimension (the base first) and, for each measure, its value and its
difference from the base (``<measure>_difference`` = option - base, so the base's differences are 0):
by year the contribution rate, PAYG cost rate, break-even rate, reserve, reserve ratio, pensioners, average
old-age pension in payment at the end of the year, benefit expenditure; the depletion year, the GAP by horizon,
the actuarial balance, the balance-sheet items; and the adequacy measures of :mod:`actuary.adequacy` by career, sex
and retirement year. With a social protection floor beside the scheme (:mod:`actuary.floor`), also the state's
cost: the floor's cost and the fiscal cost (floor + state subsidy to the scheme + state-financed minimum-pension
top-up) in % of GDP by year, and their present values and level shares of GDP by horizon, each the option's own
valuation result. The scheme's borrowing once its reserve is exhausted (settings.after_depletion borrow) and, with a
floor, the fiscal cost including it, likewise (:data:`BORROWING_YEARLY`, :data:`BORROWING_HORIZONS`): with a floor
always (each option's valuation results); without one whenever some option's reserve runs out within the projection
(an option that delays depletion cuts the borrowing), worked out from each option's own projection as a valuation
with a floor does (:func:`scheme_borrowing_measures`), for a case with GDP (not a scheme-only valuation). The fiscal
cost including the borrowing is shown when every option has it (settings.after_depletion borrow: under payable the
scheme borrows nothing and its valuation does not give it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from .adequacy import stylized_careers
from .batch import SCENARIO_FIXED_SETTINGS, read_overrides
from .floor import borrowing_data, poverty_line_at_prices, state_cost_summary
from .inputs import FIELDS
from .io import presentation as pres
from .validation import InputError

REFORM_COLUMNS = ("option", "input", "operation", "value", "from_year", "to_year", "from_cohort", "to_cohort", "notes")
YEARLY = ("contribution_rate", "paygo_cost_rate", "breakeven_contribution_rate", "reserve", "reserve_ratio",
          "pensioners", "average_old_age_pension", "benefit_expenditure")
ADEQUACY = ("replacement_rate", "benefit_ratio_10", "benefit_ratio_20")
# the retirement year in which the report (and the command line's summary) compares the options' adequacy: this many
# years after the valuation year (or the last year), late enough for a phased reform to show
ADEQUACY_AFTER = 20
# the state's cost with a floor beside the scheme (results variables of actuary.floor): by year in % of GDP, and by
# horizon (the GAP's horizons) the present values and level shares of GDP
FISCAL_YEARLY = ("floor_cost_pct_gdp", "fiscal_cost_pct_gdp")
FISCAL_HORIZONS = ("floor_cost_level_pct_gdp", "fiscal_cost_level_pct_gdp", "floor_cost_present_value",
                   "fiscal_cost_present_value")
# the scheme's borrowing once its reserve is exhausted (settings.after_depletion borrow) and, with a floor, the fiscal
# cost including it: by year in % of GDP and by horizon. With a floor, each option's valuation results; without one,
# the same measures of the scheme's borrowing worked out from the option's own projection (actuary.floor.borrowing_data,
# state_cost_summary), shown when some option's reserve runs out within the projection
BORROWING_YEARLY = ("scheme_borrowing_pct_gdp", "fiscal_cost_with_borrowing_pct_gdp")
BORROWING_HORIZONS = ("scheme_borrowing_level_pct_gdp", "fiscal_cost_with_borrowing_level_pct_gdp",
                      "scheme_borrowing_present_value", "fiscal_cost_with_borrowing_present_value")
SUMMARY_ITEMS = ("depletion_year", "actuarial_balance", "total_assets", "total_liabilities", "balance",
                 "balance_within_horizon", "balance_after_horizon", "accrued_liability", "funded_ratio")


def read_reforms(path, base, definitions: dict | None = None) -> dict:
    """The options of the ``Reforms`` sheet of the workbook at ``path``, as validated valuations built on
    ``base`` (an option that fails names itself and the problem); ``definitions``, when given, receives each
    option's changes in words (:func:`describe_reform`)."""
    options = {}
    # an option projects the base's years, over its GAP horizons, with its results: rows on those settings are refused
    for scenario in read_overrides(path, "Reforms", REFORM_COLUMNS, fixed=SCENARIO_FIXED_SETTINGS):
        valuation = scenario.apply(base)
        valuation.name = scenario.name
        options[scenario.name] = valuation
        if definitions is not None:
            definitions[scenario.name] = describe_reform(scenario.overrides) + \
                (f" {MOVED_WITH_PRICES}" if poverty_line_moved_with_prices(base, valuation) else "")
    return options


def _bounds(bounds, prefix: str, within: str = "in ") -> str:
    """Inclusive bounds in words: " in 2025", " in 2025-2030", " from 2025", " up to 2030" (after ``prefix``)."""
    if bounds is None:
        return ""
    low, high = bounds
    if low is not None and high is not None:
        return f" {prefix}{within}{low}" + ("" if low == high else f"-{high}")
    return f" {prefix}from {low}" if low is not None else f" {prefix}up to {high}"


def describe_reform(overrides: dict) -> str:
    """An option's changes in words: "Contribution rate + 0.03 in 2025-2030; Normal retirement age by cohort
    + 1 for cohorts born from 1970" (each operation, value and its year and cohort bounds)."""
    from .batch import Scale, Set, Shift

    from .batch import override_parts as rows

    parts = []
    for key, override in [(key, row) for key, override in overrides.items() for row in rows(override)]:
        group, _, name = key.partition(".")
        label = pres.field_label(name, group=group)
        value = override.value if isinstance(override, (Set, Scale, Shift)) else override
        shown = ", ".join(f"{v:g}" for v in value) if isinstance(value, tuple) else \
            value if isinstance(value, str) else f"{float(value):g}"
        if isinstance(override, Shift):
            text = f"{label} {'+' if override.value >= 0 else '-'} {abs(override.value):g}"
        elif isinstance(override, Scale):
            text = f"{label} x {shown}"
        else:
            text = f"{label} set to {shown}"
        if isinstance(override, (Set, Scale, Shift)):
            text += _bounds(override.years, "") + _bounds(override.cohorts, "for cohorts born ") + \
                _bounds(override.ages, "at ages ", "")
        parts.append(text)
    return "; ".join(parts)


# the groups of inputs that are provisions (the scheme's legislation, the social protection floor's design); the
# others are assumptions (economy, demography, behaviour), data (initial) and methods (settings)
PROVISIONS = ("scheme", "floor")
# how the locations of the cells in which an input differs are said, by dimension
WHERE = {"year": " in {}", "past_year": " in the past years {}", "cohort": " for cohorts born {}",
         "age": " at ages {}", "service": " at service {}"}


# what an option's inputs say of its poverty line when the engine moved it with the option's prices (the user did
# not change it: actuary.batch.Scenario.apply, actuary.floor.poverty_line_at_prices)
MOVED_WITH_PRICES = "(the poverty line moved with prices)"


def poverty_line_moved_with_prices(base, option) -> bool:
    """Whether ``option``'s poverty line differs from ``base``'s only as the base's line moved with the option's
    price index (a scenario or Reforms row of other inflation that gives no poverty line of its own)."""
    was, now = base.inputs.economy["poverty_line"], option.inputs.economy["poverty_line"]
    if was is None or now is None or was.shape != now.shape or np.array_equal(was.values, now.values):
        return False
    moved = poverty_line_at_prices(base.inputs, option.inputs.economy["inflation"].values)
    return bool(np.allclose(now.values, moved.values, rtol=1e-12, atol=0.0))


def _given(valuation, group: str, key: str):
    """The validated value of input ``group.key`` (None when it has none: an optional input not given)."""
    values = valuation.inputs.settings if group == "settings" else getattr(valuation.inputs, group)
    return values.get(key)


def _text(value) -> str:
    """A value as the workbook reads it: 0.07, 15, prices, "12,000, 70,000", none; amounts of 1,000 or more
    (money, as a rule) with thousands separators and whole units: 86068.8 reads 86,069."""
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, str):
        return value
    value = float(value)
    return f"{value:,.0f}" if value == round(value) or abs(value) >= 1e3 else f"{value:.6g}"


def _runs(chosen, labels) -> str:
    """Labels as runs of consecutive ones (in the order of ``labels``): "2025-2059", "60, 65-67"."""
    flags = [bool(c) for c in chosen]
    out, i = [], 0
    while i < len(flags):
        if flags[i]:
            j = i
            while j + 1 < len(flags) and flags[j + 1]:
                j += 1
            out.append(f"{labels[i]}" if i == j else f"{labels[i]}-{labels[j]}")
            i = j + 1
        else:
            i += 1
    return ", ".join(out)


def _array_difference(key: str, base: xr.DataArray, option: xr.DataArray) -> str | None:
    """How a by-year (by-age, ...) input differs, or None where it does not: "scheme.contribution_rate 0.18 ->
    0.2 in 2025-2059" when the cells that differ hold one value in each, "scheme.accrual: differs in 2030-2059"
    otherwise (the years, cohorts, ages, ... where any cell differs, when not all)."""
    if base.dims != option.dims or base.shape != option.shape or any(
            not np.array_equal(base[d].values, option[d].values) for d in base.dims if d in base.coords):
        return f"{key}: differs (other labels or shape)"
    a, b = base.values, option.values
    differs = a != b
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        differs &= ~(np.isnan(a) & np.isnan(b))
    if not differs.any():
        return None
    where = ""
    for axis, dim in enumerate(base.dims):
        chosen = differs.any(axis=tuple(k for k in range(differs.ndim) if k != axis))
        if chosen.all() or dim not in base.coords:
            continue
        labels = [str(v) for v in base[dim].values]
        if dim == "sex":
            where += " for " + " and ".join(pres.SEX_LABELS.get(v, v) for v, c in zip(labels, chosen) if c)
        else:
            where += WHERE.get(dim, f" for {dim} {{}}").format(_runs(chosen, labels))
    was, now = np.unique(a[differs]), np.unique(b[differs])
    if was.size == 1 and now.size == 1:
        return f"{key} {_text(was[0].item())} -> {_text(now[0].item())}{where}"
    if base.ndim == 1 and a.dtype.kind == "f" and b.dtype.kind == "f":   # a schedule: its range in each
        return f"{key} {_span(was)} -> {_span(now)}{where}"
    return f"{key}: differs{where}"


def _span(values: np.ndarray) -> str:
    """One value, or the lowest and highest of several: "0.07", "0.045..0.06"."""
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    return _text(low) if low == high else f"{_text(low)}..{_text(high)}"


def _table_in_words(group: str, name: str, value) -> str:
    """A by-year or by-cohort input (by sex or not) in words, as the provisions chapter says it: "by year, men: 65
    in 2020-2029 and 67 from 2030 / women: 63 in 2020-2025 ...", "by cohort, men and women: 65 for cohorts born up
    to 1959, rising cohort by cohort to 67 for those born from 1971 (...)" (the same for both sexes said once);
    "none" when not given, "given" for a table of other dimensions."""
    if value is None:
        return "none"
    dims = [d for d in value.dims if d != "sex"]
    if len(dims) != 1 or dims[0] not in ("year", "cohort"):
        return "given"
    kind = pres.field_kind(FIELDS[group][name])
    labels = value[dims[0]].values

    def one(values) -> str:
        if dims[0] == "cohort" and kind == "age":
            return pres.cohort_text(values, labels).replace("; ", ", ")
        shown = pres.age_text if kind == "age" else _text
        return pres.schedule_text(values, labels, shown)

    if "sex" not in value.dims:
        return f"by {dims[0]}: {one(value.values)}"
    texts = {sex: one(value.sel(sex=sex).values) for sex in value.sex.values}
    if len(set(texts.values())) == 1:
        return f"by {dims[0]}, men and women: {next(iter(texts.values()))}"
    return f"by {dims[0]}, " + " / ".join(f"{pres.SEX_LABELS.get(str(sex), str(sex))}: {text}"
                                          for sex, text in texts.items())


def _form(valuation, group: str, name: str):
    """(field, value) of the form of input ``group.name`` that ``valuation`` gives: by year (``name``) or by cohort
    (``name``_by_cohort); (None, None) when neither."""
    for field in (name, f"{name}_by_cohort"):
        value = _given(valuation, group, field)
        if value is not None:
            return field, value
    return None, None


def _by_cohort_instead(out: dict, base, option) -> None:
    """An input that moves from its by-year form to its by-cohort form (or back), e.g. the normal retirement age,
    said once in values under the by-year input: "scheme.normal_retirement_age: by year: ... -> by cohort: ..."
    (rather than "given -> none" and "none -> given")."""
    for key in [k for k in out if k.endswith("_by_cohort")]:
        plain = key[:-len("_by_cohort")]
        group, _, name = plain.partition(".")
        (was_field, was), (now_field, now) = _form(base, group, name), _form(option, group, name)
        if plain in out and was is not None and now is not None and was_field != now_field:
            out[plain] = f"{plain}: {_table_in_words(group, was_field, was)} -> " \
                         f"{_table_in_words(group, now_field, now)}"
            del out[key]


def input_differences(base, option) -> dict[str, str]:
    """The inputs in which ``option`` differs from ``base`` (both validated valuations), group.field -> the
    difference in words with the base's and the option's values: "scheme.vesting_years 15 -> 20",
    "scheme.contribution_rate 0.18 -> 0.2 in 2025-2059", "economy.nominal_return: differs in 2030-2059". Only
    the inputs that either valuation gives are compared (one derived from another, e.g. the early retirement age
    from the normal one when not given, differs with it). A poverty line that the option's other inflation moved
    with its prices is no input changed: the inflation's difference says so, "(the poverty line moved with
    prices)"."""
    out = {}
    for group in FIELDS:
        for name in FIELDS[group]:
            if name not in base.raw[group] and name not in option.raw[group]:
                continue
            key = f"{group}.{name}"
            was, now = _given(base, group, name), _given(option, group, name)
            if isinstance(was, xr.DataArray) and isinstance(now, xr.DataArray):
                text = _array_difference(key, was, now)
            elif isinstance(was, xr.DataArray) or isinstance(now, xr.DataArray):   # a table given in one only
                text = f"{key}: {_table_in_words(group, name, was)} -> {_table_in_words(group, name, now)}"
            else:
                text = None if was == now else f"{key} {_text(was)} -> {_text(now)}"
            if text is not None:
                out[key] = text
    _by_cohort_instead(out, base, option)
    if "economy.inflation" in out and poverty_line_moved_with_prices(base, option):   # not an input the user changed
        out.pop("economy.poverty_line", None)
        out["economy.inflation"] += f" {MOVED_WITH_PRICES}"
    return out


def beyond_provisions(differences: dict[str, str]) -> list[str]:
    """The inputs of ``differences`` (group.field) that are not provisions: assumptions, data or methods."""
    return [key for key in differences if key.partition(".")[0] not in PROVISIONS]


def describe_differences(differences: dict[str, str]) -> str:
    """An option's differences from the base in words: the provisions, then (set apart) the assumptions, data and
    methods; "identical to the base (no input differs)" when there are none."""
    if not differences:
        return "identical to the base (no input differs)"
    other = beyond_provisions(differences)
    provisions = "; ".join(text for key, text in differences.items() if key not in other)
    beyond = "also changes assumptions, data or methods: " + "; ".join(differences[k] for k in other) if other \
        else ""
    return "; ".join(part for part in (provisions or "no provision differs", beyond) if part)


def other_inputs_sentence(ds: xr.Dataset) -> str:
    """What the comparison says of its options' assumptions: each option projected with the base's assumptions,
    data and methods (only provisions differ), or those that also change assumptions, data or methods named with
    those inputs, so that no sentence claims the same assumptions where they differ."""
    names = [str(o) for o in ds.option.values[1:]]
    beyond = dict(zip(names, (str(b) for b in ds["changes_beyond_provisions"].values[1:])))
    alike = [o for o in names if not beyond[o]]
    said = []
    if alike:
        which = "Each option is" if len(alike) == len(names) else \
            ("Option " if len(alike) == 1 else "Options ") + ", ".join(f"'{o}'" for o in alike) + \
            (" is" if len(alike) == 1 else " are")
        said.append(f"{which} projected with the same assumptions, data and methods as the base; only "
                    "provisions differ.")
    for option in names:
        if beyond[option]:
            said.append(f"Option '{option}' also changes assumptions, data or methods ({beyond[option]}): its "
                        "differences from the base are not the effect of its provisions alone.")
    return " ".join(said)


def _measures(valuation, results=None) -> dict:
    results = results or valuation.run()
    p, s = results.projection, results.summary
    old_age = p.pension_amount_by_age.sel(benefit="old_age").sum(("sex", "age"))
    count = p.pensioners_by_age.sel(benefit="old_age").sum(("sex", "age"))
    yearly = {name: p[name].values for name in YEARLY + FISCAL_YEARLY + BORROWING_YEARLY if name in p}
    with np.errstate(divide="ignore", invalid="ignore"):
        yearly["average_old_age_pension"] = np.where(count > 0, old_age / count, np.nan)
    scalars = {k: float(s[k]) for k in s.data_vars if s[k].ndim == 0 and
               (k in SUMMARY_ITEMS or k.startswith(("asset_", "liability_")))}
    adequacy = stylized_careers(valuation)
    # units and meaning of each measure, from the valuation's own results
    attrs = {name: dict(p[name].attrs) for name in yearly if name in p}
    attrs.update({k: dict(s[k].attrs) for k in scalars})
    horizons = {k: s[k] for k in FISCAL_HORIZONS + BORROWING_HORIZONS if k in s}
    if "scheme_borrowing" not in p and "reserve" in p and "gdp" in p:   # no floor: the scheme's borrowing all the same
        yearly_borrowing, horizon_borrowing = scheme_borrowing_measures(p, s.horizon.values)
        yearly.update({k: v.values for k, v in yearly_borrowing.items()})
        attrs.update({k: dict(v.attrs) for k, v in yearly_borrowing.items()})
        horizons.update(horizon_borrowing)
    attrs.update({k: dict(v.attrs) for k, v in horizons.items()})
    attrs["gap"] = dict(s.gap.attrs)
    # the pensions and pensioners at the end of the year (31 December), as pension_amount_by_age and
    # pensioners_by_age: a change to the award formula moves the first year's value through that year's awards
    attrs["average_old_age_pension"] = {"units": "currency a year",
                                        "description": "average old-age pension in payment at the end of the year: "
                                                       "annual amount of the old-age pensions in payment / their "
                                                       "number"}
    attrs.update({k: dict(adequacy[k].attrs) for k in ADEQUACY})
    return {"yearly": yearly, "scalars": scalars, "gap": s.gap, "horizons": horizons, "adequacy": adequacy,
            "attrs": attrs, "borrows": bool((p.reserve.values < 0).any())}


def scheme_borrowing_measures(p: xr.Dataset, horizons) -> tuple[dict, dict]:
    """The scheme's borrowing of a projection without a floor (whose results do not give it), as a valuation with a
    floor gives it: ``scheme_borrowing_pct_gdp`` by year (DataArrays by name), and ``scheme_borrowing_present_value``
    and ``scheme_borrowing_level_pct_gdp`` by horizon (:func:`actuary.floor.borrowing_data`,
    :func:`actuary.floor.state_cost_summary`); 0 while the reserve lasts and under settings.after_depletion payable."""
    name = "scheme_borrowing_pct_gdp"
    dims, values, units, description = borrowing_data(p.reserve.values, float(p.reserve_at_valuation),
                                                      p.investment_return.values, p.gdp.values)[name]
    yearly = {name: xr.DataArray(values, dims=dims, coords={"year": p.year.values},
                                 attrs={"units": units, "description": description})}
    data, computed = state_cost_summary(p, horizons)
    by_horizon = {}
    for key in ("scheme_borrowing_level_pct_gdp", "scheme_borrowing_present_value"):
        dims, values, attrs = data[key]
        by_horizon[key] = xr.DataArray(values, dims=dims, coords={"horizon": computed}, attrs=attrs)
    return yearly, by_horizon


def comparison(base, options: dict, definitions: dict | None = None, base_results=None) -> xr.Dataset:
    """The base and each option (name -> Valuation) side by side, with differences from the base;
    ``definitions`` (name -> text) become the coordinate ``definition`` (an option without one: its
    :func:`input_differences` in words); ``changes_beyond_provisions``: the inputs other than provisions (assumptions,
    data, methods) in which each option differs from the base, comma-separated (empty: provisions only);
    ``base_results``: the base's results when already run."""
    if not options:
        raise InputError("compare: no options; give option workbooks or a Reforms sheet in the base workbook.")
    names = ["base"] + list(options)
    alone = next((n for n, v in zip(names, [base, *options.values()]) if not v.inputs.has_scheme), None)
    if alone is not None:
        raise InputError(f"compare: {'the base' if alone == 'base' else f'option {alone!r}'} is a social protection "
                         "floor costing alone (settings.scheme = no); compare sets contributory schemes side by side "
                         "(contributions, reserve, GAP, adequacy), which it does not have. Cost floor designs with "
                         "actuary valuate, actuary sensitivity or actuary stochastic.")
    if len(set(names)) != len(names):
        raise InputError(f"compare: option names must be distinct and not 'base'; got {', '.join(names[1:])}.")
    years = base.inputs.coords["year"]
    for name, valuation in options.items():   # before any projection is run
        if not np.array_equal(valuation.inputs.coords["year"], years):
            settings, own = base.inputs.settings, valuation.inputs.settings
            differ = [key for key in ("valuation_year", "horizon") if own[key] != settings[key]]
            raise InputError(f"compare: option '{name}' projects {valuation.inputs.coords['year'][0]}.."
                             f"{valuation.inputs.coords['year'][-1]} (valuation_year {own['valuation_year']}, horizon "
                             f"{own['horizon']}); the base {years[0]}..{years[-1]} (valuation_year "
                             f"{settings['valuation_year']}, horizon {settings['horizon']}): an option is compared "
                             f"with the base year by year; give it {' and '.join(f'{k} {settings[k]}' for k in differ)} "
                             "(valuation.replace(settings={...})).")
    runs = [_measures(base, base_results)] + [_measures(v) for v in options.values()]
    data = {}
    # without a floor the scheme's borrowing is shown when some option's reserve runs out (with one, always: the
    # valuations' own results)
    floor = base.inputs.has_floor or any(v.inputs.has_floor for v in options.values())
    borrowing = floor or any(r["borrows"] for r in runs)
    for key in YEARLY + FISCAL_YEARLY + (BORROWING_YEARLY if borrowing else ()):
        if all(key in r["yearly"] for r in runs):
            data[key] = (("option", "year"), np.stack([r["yearly"][key] for r in runs]))
    scalars = [k for k in runs[0]["scalars"] if all(k in r["scalars"] for r in runs)]
    for key in scalars:
        data[key] = (("option",), np.array([r["scalars"][key] for r in runs]))
    horizons = runs[0]["gap"]["horizon"].values
    gaps = [r["gap"].reindex(horizon=horizons).values for r in runs]
    data["gap"] = (("option", "horizon"), np.stack(gaps))
    for key in FISCAL_HORIZONS + (BORROWING_HORIZONS if borrowing else ()):
        if all(key in r["horizons"] for r in runs):
            data[key] = (("option", "horizon"), np.stack([r["horizons"][key].reindex(horizon=horizons).values
                                                          for r in runs]))
    adequacy = [r["adequacy"] for r in runs]
    for key in ADEQUACY:
        data[key] = (("option", "career", "sex", "year"), np.stack([a[key].values for a in adequacy]))
    ds = xr.Dataset(data, coords={"option": names, "year": years, "horizon": horizons,
                                  "career": adequacy[0]["career"].values, "sex": ["male", "female"]})
    for key in list(ds.data_vars):
        ds[key].attrs.update(runs[0]["attrs"].get(key, {}))
        ds[f"{key}_difference"] = ds[key] - ds[key].sel(option="base")
        ds[f"{key}_difference"].attrs.update(ds[key].attrs, description=f"option - base of: "
                                                                       f"{ds[key].attrs.get('description', key)}")
        units = str(ds[key].attrs.get("units", ""))
        if units == "percent":   # a difference of percentages is in percentage points: 0.5 is 0.5 pp
            ds[f"{key}_difference"].attrs["units"] = "percentage points"
        elif units.startswith("share"):   # of fractions: 0.01 is 1 percentage point (the workbook's 1.00 pp)
            ds[f"{key}_difference"].attrs["description"] += "; a difference of fractions: 0.01 is 1 percentage point"
    definitions = definitions or {}
    differences = {name: input_differences(base, valuation) for name, valuation in options.items()}
    ds.coords["definition"] = ("option", ["the base valuation"] + [definitions.get(o) or
                                                                   describe_differences(differences[o])
                                                                   for o in options])
    ds.coords["changes_beyond_provisions"] = ("option", [""] + [", ".join(beyond_provisions(differences[o]))
                                                               for o in options])
    for name, units, description in (
            ("option", "text", "base (the base valuation), then each option"),
            ("year", "year", "calendar year"),
            ("horizon", "years", "years from the valuation year over which the GAP (and the present values and level "
                                 "shares of GDP of the scheme's borrowing after depletion; with a floor, also of the "
                                 "floor's cost, the fiscal cost and the fiscal cost including the scheme's borrowing) "
                                 "is taken"),
            ("career", "text", "stylized career of the adequacy measures"),
            ("sex", "text", "sex"),
            ("definition", "text", "what each option changes, in words"),
            ("changes_beyond_provisions", "text", "the inputs other than provisions (assumptions, data, methods) in "
                                                  "which the option differs from the base")):
        ds[name].attrs.update(units=units, description=description)
    ds.attrs.update(base=base.name, valuation_year=int(years[0]), money_unit=base.inputs.settings["money_unit"],
                    money="currency units, not scaled (money_unit is the unit the workbooks and the report show)",
                    entry_age=int(base.inputs.settings["adequacy_entry_age"]),
                    density=float(base.inputs.settings["adequacy_density"]),
                    description="each option and its difference from the base (option - base)")
    return ds


# how each measure of the comparison is shown: the results' own labels, kinds and units where the measure is a
# results variable (actuary.io.presentation), and the comparison's own measures
ADEQUACY_VARIABLES = {
    "replacement_rate": pres.Variable("Gross replacement rate at award", "share",
                                      unit="pension / the worker's earnings in the year of retirement"),
    "benefit_ratio_10": pres.Variable("Benefit ratio after 10 years of payment", "share",
                                      unit="pension / average wage of that year"),
    "benefit_ratio_20": pres.Variable("Benefit ratio after 20 years of payment", "share",
                                      unit="pension / average wage of that year"),
}
YEARLY_VARIABLES = {name: pres.VARIABLES[name] for name in YEARLY if name in pres.VARIABLES}
YEARLY_VARIABLES["average_old_age_pension"] = pres.Variable("Average old-age pension in payment, end of year",
                                                            "amount")
YEARLY_VARIABLES.update({name: pres.VARIABLES[name] for name in FISCAL_YEARLY + BORROWING_YEARLY})   # with a floor
SHEET_NAMES = {"contribution_rate": "Contribution rate", "paygo_cost_rate": "PAYG cost rate",
               "breakeven_contribution_rate": "Break-even rate", "reserve": "Reserve", "reserve_ratio": "Reserve ratio",
               "pensioners": "Pensioners", "average_old_age_pension": "Average old-age pension",
               "benefit_expenditure": "Pensions due", "replacement_rate": "Replacement rate at award",
               "benefit_ratio_10": "Benefit ratio after 10 years", "benefit_ratio_20": "Benefit ratio after 20 years",
               "floor_cost_pct_gdp": "Floor cost", "fiscal_cost_pct_gdp": "Fiscal cost",
               "scheme_borrowing_pct_gdp": "Scheme borrowing",
               "fiscal_cost_with_borrowing_pct_gdp": "Fiscal cost with borrowing"}
# the measures drawn overlaying the options (the report's comparison chapter draws the first two)
OVERLAID = ("reserve_ratio", "paygo_cost_rate", "contribution_rate", "reserve")


@dataclass(frozen=True)
class Row:
    """One measure of the comparison as shown: label with its unit, number format, kind, the value of each
    option (base first) and each option's difference from the base, as cells hold them (money in the money
    unit, rates as fractions under a percent format)."""

    name: str
    label: str
    format: str
    kind: str
    values: np.ndarray
    differences: np.ndarray


def _row(name: str, variable, label: str, values, differences, money_unit: str) -> Row:
    unit = pres.unit_text(variable, money_unit)
    return Row(name, pres.header(label, unit), pres.number_format(variable.kind), variable.kind,
               pres.shown(values, variable.kind, money_unit), pres.shown(differences, variable.kind, money_unit))


def difference_cells(row: Row) -> tuple[np.ndarray, str]:
    """The cells of a row's differences from the base and their number format: a difference of rates in percentage
    points (100 x the difference of the fractions under :data:`actuary.io.presentation.POINTS_FORMAT`: -0.0156
    reads "-1.56 pp", as the report says it), others as the row's values."""
    if row.format.endswith("%"):
        return 100 * np.asarray(row.differences, dtype=float), pres.POINTS_FORMAT
    return row.differences, row.format


def summary_rows(ds: xr.Dataset, money_unit: str) -> list[Row]:
    """The one-number measures by option: depletion year, actuarial balance, GAP by horizon, then the balance
    sheet items the runs have and, with a floor, the floor's and the fiscal cost by horizon (present value, level
    share of GDP), in the results' order and words."""
    rows = []
    for name, variable in pres.SUMMARY.items():
        if name in ds and ds[name].dims == ("option", "horizon"):   # the GAP, the floor's and the fiscal cost
            for h in ds.horizon.values:
                label = variable.label.format(int(h))
                rows.append(_row(f"{name}/{int(h)}", variable, label, ds[name].sel(horizon=h).values,
                                 ds[f"{name}_difference"].sel(horizon=h).values, money_unit))
        elif name in ds and ds[name].dims == ("option",):
            rows.append(_row(name, variable, variable.label, ds[name].values, ds[f"{name}_difference"].values,
                             money_unit))
    return rows


def yearly_rows(ds: xr.Dataset, name: str, money_unit: str) -> tuple[str, list[Row]]:
    """(label with unit, a Row per year) of a yearly measure, the options side by side."""
    variable = YEARLY_VARIABLES[name]
    label = pres.header(variable.label.replace("{}", "").strip(), pres.unit_text(variable, money_unit))
    values = ds[name].transpose("year", "option").values
    differences = ds[f"{name}_difference"].transpose("year", "option").values
    return label, [_row(str(int(y)), variable, str(int(y)), values[i], differences[i], money_unit)
                   for i, y in enumerate(ds.year.values)]


def adequacy_year(ds) -> int:
    """The retirement year of the options' adequacy as the report and the command line show it
    (:data:`ADEQUACY_AFTER` years after the valuation year, or the last year)."""
    years = ds.year.values
    return int(years[min(ADEQUACY_AFTER, years.size - 1)])


def adequacy_rows(ds: xr.Dataset, name: str, years=None) -> tuple[str, list[tuple[str, str, Row]]]:
    """(label with unit, (career, sex, Row by retirement year)) of an adequacy measure; ``years``: the
    retirement years shown (default every year)."""
    variable = ADEQUACY_VARIABLES[name]
    label = pres.header(variable.label, pres.unit_text(variable, "units"))
    chosen = ds.year.values if years is None else np.asarray(years)
    positions = [int(np.flatnonzero(ds.year.values == y)[0]) for y in chosen]
    values = ds[name].transpose("career", "sex", "year", "option").values
    differences = ds[f"{name}_difference"].transpose("career", "sex", "year", "option").values
    out = []
    for c, career in enumerate(ds.career.values):
        for s, sex in enumerate(ds.sex.values):
            for year, i in zip(chosen, positions):
                out.append((str(career), pres.SEX_LABELS[str(sex)],
                            _row(str(int(year)), variable, str(int(year)), values[c, s, i], differences[c, s, i],
                                 "units")))
    return label, out


def write_comparison(ds: xr.Dataset, path, provenance: dict | None = None) -> None:
    """The comparison workbook, laid out and formatted as the results workbooks (labels in words, units in the
    headers, money in the base's money unit): a Summary sheet with the one-number measures (depletion year,
    actuarial balance, GAP by horizon, balance-sheet items), one sheet per yearly measure and one per adequacy
    measure (by career, sex and retirement year), each with the options side by side and their differences
    from the base (option - base); a Charts sheet overlaying the options; and "About this run" (``provenance``).
    Option names are written as literal text."""
    from openpyxl import Workbook

    from .io.provenance import add_about_sheet, for_api
    from .io.results import ChartPages, SheetWriter, print_setup
    from .io.workbook import _atomic_save

    options = [str(o) for o in ds.option.values]
    unit = ds.attrs.get("money_unit", "millions")
    case = str(ds.attrs["base"])
    wb = Workbook()
    option_headers = options + [f"{o} - base" for o in options[1:]]

    def table(ws, title: str, index: list[str], rows: list[tuple[list, Row]], freeze: str):
        writer = SheetWriter(ws)
        writer.title(1, title)
        writer.note(2, "Each option side by side with the base, then each option's difference from the base "
                       "(option - base; a difference of rates in percentage points, pp).")
        writer.headers(3, index + option_headers)
        for r, (keys, row) in enumerate(rows, start=4):
            for c, (key, dim) in enumerate(zip(keys, index), start=1):
                writer.put(r, c, int(key) if dim == "Year" else key, "0" if dim == "Year" else None,
                           text=dim != "Year")
            for c, value in enumerate(row.values, start=len(index) + 1):
                writer.put(r, c, value, row.format)
            differences, fmt = difference_cells(row)
            for c, value in enumerate(differences[1:], start=len(index) + len(row.values) + 1):
                writer.put(r, c, value, fmt)
        writer.fit()
        ws.freeze_panes = freeze
        print_setup(ws, case, title_rows="1:3")

    ws = wb.active
    ws.title = "Summary"
    table(ws, f"Reform options compared with the base ({case})", ["Measure"],
          [([row.label], row) for row in summary_rows(ds, unit)], "B4")
    if "definition" in ds.coords:
        writer = SheetWriter(wb.create_sheet("Options"))
        writer.title(1, "The base and the reform options")
        beyond = ds["changes_beyond_provisions"].values if "changes_beyond_provisions" in ds.coords else None
        writer.headers(2, ["Option", "Definition"] + ([] if beyond is None else
                                                      ["Also changes assumptions, data or methods"]))
        for r, (option, text) in enumerate(zip(options, ds["definition"].values), start=3):
            writer.put(r, 1, option, text=True)
            writer.put(r, 2, str(text), text=True)
            if beyond is not None and r > 3:
                writer.put(r, 3, str(beyond[r - 3]) or "no: provisions only", text=True)
        if beyond is not None and any(beyond):
            writer.note(3 + len(options) + 1, other_inputs_sentence(ds))
        writer.fit()
        print_setup(writer.ws, case)
    for name in YEARLY_VARIABLES:
        if name in ds:
            label, rows = yearly_rows(ds, name, unit)
            table(wb.create_sheet(SHEET_NAMES[name]), label, ["Year"],
                  [([row.name], row) for row in rows], "B4")
    for name in ADEQUACY_VARIABLES:
        label, rows = adequacy_rows(ds, name)
        title = f"{label}, stylized careers by retirement year (entry at {ds.attrs.get('entry_age', '')})"
        table(wb.create_sheet(SHEET_NAMES[name]), title,
              ["Career", "Sex", "Year"], [([career, sex, row.name], row) for career, sex, row in rows], "D4")
    charts = ChartPages(wb, case)
    for name in OVERLAID:
        if name in ds:
            label, rows = yearly_rows(ds, name, unit)
            series = {o: np.array([row.values[k] for row in rows]) for k, o in enumerate(options)}
            charts.line(f"{label.split(' (')[0]}: the options", label[label.find("(") + 1:-1] if "(" in label
                        else label, ds.year.values, series, rows[0].format)
    label, rows = adequacy_rows(ds, "replacement_rate")
    career = str(ds.career.values[1])
    chosen = [row for c, sex, row in rows if c == career and sex == pres.SEX_LABELS["male"]]
    charts.line(f"Gross replacement rate at award, {career}, men: the options", "Pension / earnings in the year "
                "of retirement", ds.year.values, {o: np.array([row.values[k] for row in chosen])
                                                  for k, o in enumerate(options)}, chosen[0].format,
                x_title="Year of retirement")
    charts.finish()
    add_about_sheet(wb, provenance or for_api(None, "compare.write_comparison"))
    _atomic_save(wb, Path(path))
