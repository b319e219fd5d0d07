"""``Valuation.replace`` (and the scenarios built on it) validates only the inputs that change: the
inputs and the errors must be exactly those of validating the whole case again (``Valuation(**raw)``),
including the defaults that follow other fields (productivity growth = real wage growth, early
retirement age = normal retirement age) and the checks across fields."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings, strategies as st

from actuary import InputError, Valuation
from actuary.batch import Scale, Scenario
from actuary.inputs import FIELDS


@pytest.fixture(scope="module")
def base():
    """Demoland without productivity growth or early retirement ages given (both follow other fields)."""
    raw = {g: dict(v) for g, v in Valuation.demo().raw.items()}
    del raw["economy"]["productivity_growth"], raw["scheme"]["early_retirement_age"]
    return Valuation(**raw)


def assert_same_inputs(ours, full):
    assert ours.settings == full.settings
    assert ours.coords.keys() == full.coords.keys()
    for group in ("scheme", "economy", "demography", "behaviour", "initial", "floor"):
        a, b = getattr(ours, group), getattr(full, group)
        assert a.keys() == b.keys(), group
        for key in a:
            if isinstance(b[key], xr.DataArray):
                xr.testing.assert_identical(a[key], b[key])
            else:
                assert a[key] == b[key] or (a[key] is None and b[key] is None), f"{group}.{key}"


def full_validation(valuation, **groups):
    raw = {g: dict(v) for g, v in valuation.raw.items()}
    for group, values in groups.items():
        raw[group] = {} if values is None else {**raw[group], **values}
    return Valuation(**raw)


@pytest.mark.parametrize("groups", [
    {"economy": {"real_wage_growth": 0.02}},                     # productivity growth follows it
    {"scheme": {"normal_retirement_age": 63.0}},                  # the early retirement age follows it
    {"scheme": {"contribution_rate": 0.2, "vesting_years": 12.0}},
    {"behaviour": {"exit_rate": 0.01}, "initial": {"reserve": 1e9}},
    {"settings": {"horizon": 60}},                                # coordinates move: validated in full
    {"settings": {"balance_sheet": "no", "scaled_premium_target": 1.5}},   # scaled-premium defaults follow
])
def test_replace_equals_full_validation(base, groups):
    ours = base.replace(**groups)
    full = full_validation(base, **groups)
    assert_same_inputs(ours.inputs, full.inputs)


@pytest.mark.parametrize("groups", [
    {"scheme": {"early_retirement_age": 70.0}},     # later than the normal age: a check across fields
    {"scheme": {"ceiling_multiple": 0.1}},          # below the floor multiple
    {"economy": {"inflation": "high"}},             # not a number
    {"behaviour": {"exit_rate": 1.5}},              # not a probability
    {"scheme": {"no_such_field": 1.0}},             # unknown field
    {"settings": {"scaled_premium_rule": "reserve_ratio"}},   # a rule without its target
    {"settings": {"balance_sheet": "maybe"}},       # not a choice
])
def test_replace_refuses_what_full_validation_refuses(base, groups):
    with pytest.raises(InputError) as full:
        full_validation(base, **groups)
    with pytest.raises(InputError) as ours:
        base.replace(**groups)
    assert str(ours.value) == str(full.value)


NUMERIC_SCALARS = [(g, k) for g in ("scheme", "economy") for k, f in FIELDS[g].items()
                   if f.kind not in ("choice",) and not f.dims]


@settings(max_examples=12, deadline=None)
@given(field=st.sampled_from(NUMERIC_SCALARS), factor=st.floats(0.5, 1.5))
def test_scaled_scalar_replace_equals_full_validation(base, field, factor):
    group, key = field
    current = getattr(base.inputs, group)[key]
    if current is None or not np.isfinite(current):
        return
    groups = {group: {key: current * factor}}
    try:
        full = full_validation(base, **groups)
    except InputError as error:
        with pytest.raises(InputError, match=None) as ours:
            base.replace(**groups)
        assert str(ours.value) == str(error)
        return
    assert_same_inputs(base.replace(**groups).inputs, full.inputs)


def test_scenario_validates_like_the_whole_case(base):
    scenario = Scenario("wages", {"economy.real_wage_growth": Scale(1.2)})
    ours = scenario.apply(base)
    full = full_validation(base, economy={"real_wage_growth": base.inputs.economy["real_wage_growth"] * 1.2})
    assert ours.name == f"{base.name}:wages"
    assert_same_inputs(ours.inputs, full.inputs)


def test_scenarios_share_the_demography_only_when_unchanged(base):
    """A scenario that leaves the demography alone reuses its base's mortality table and national population
    (and gets the results of validating and projecting it afresh); one that changes it does not."""
    base.run()
    wages = base.replace(economy={"real_wage_growth": 0.02})
    assert wages.inputs.by_demography is base.inputs.by_demography
    fresh = full_validation(base, economy={"real_wage_growth": 0.02})
    assert fresh.inputs.by_demography is not base.inputs.by_demography
    ours, theirs = wages.run().projection, fresh.run().projection
    for name in ("population", "births", "reserve", "benefit_expenditure", "life_expectancy_65"):
        np.testing.assert_array_equal(ours[name].values, theirs[name].values, err_msg=name)
    improvement = base.inputs.demography["mortality_improvement"] * 1.5
    faster = base.replace(demography={"mortality_improvement": improvement})
    assert faster.inputs.by_demography is not base.inputs.by_demography
    assert float(faster.run().projection.life_expectancy_65[-1, 0]) > float(ours.life_expectancy_65[-1, 0])
