"""Bad valuation inputs raise InputError naming the field, the cell and the value."""

import numpy as np
import pytest
import xarray as xr

from actuary import InputError, Valuation


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


def _replace(demo, **groups):
    return demo.replace(**groups)


def test_unknown_field(demo):
    with pytest.raises(InputError, match=r"'scheme.contribution' is not a known field of 'scheme'"):
        _replace(demo, scheme={"contribution": 0.2})


def test_nan_in_a_schedule(demo):
    rate = demo.inputs.scheme["contribution_rate"].copy()
    rate.loc[dict(year=2031)] = np.nan
    with pytest.raises(InputError, match=r"'scheme.contribution_rate' at year=2031: value nan is not a finite number"):
        _replace(demo, scheme={"contribution_rate": rate})


def test_negative_count(demo):
    active = demo.inputs.initial["active"].copy()
    active.loc[dict(sex="female", age=30, service=5)] = -1.0
    with pytest.raises(InputError, match=r"'initial.active' at sex=female, age=30, service=5: value -1.0 is negative"):
        _replace(demo, initial={"active": active})


def test_rate_outside_unit_interval(demo):
    with pytest.raises(InputError, match=r"'behaviour.exit_rate' at year=2020, sex=male, age=15: value 1.5 is outside \[0, 1\]"):
        _replace(demo, behaviour={"exit_rate": 1.5})


@pytest.mark.parametrize("field,value,expected", [
    ("contribution_rate", 18.0, r"value 18.0 is outside \[0, 1\]; expected an amount or share between 0 and 1 "
                                r"\(a share: 0.18 is 18%\)"),
    ("late_retirement_increment", 6.0, r"value 6.0 is outside \[0, 1\]"),
    ("widow_share", 60.0, r"value 60.0 is outside \[0, 1\]"),
    ("orphan_share", 1.5, r"value 1.5 is outside \[0, 1\]"),
    ("indexation_price_weight", 7.0, r"value 7.0 is outside \[0, 1\]"),
    ("indexation_wage_weight", -0.5, r"value -0.5 is negative"),
    ("indexation_floor", 5.0, r"value 5.0 is outside \[-1, 1\]; expected an annual rate"),
    ("indexation_cap", -2.0, r"value -2.0 is outside \[-1, 1\]"),
])
def test_a_share_or_rate_typed_as_a_percentage_is_refused(demo, field, value, expected):
    """Shares of earnings or of a pension and indexation weights are numbers of [0, 1], the indexation floor and cap
    rates of [-1, 1]: 18 for 18% (a projection that would run with nonsense) is refused. (Not the bend-point rates:
    a formula may credit a bracket above its earnings.)"""
    with pytest.raises(InputError, match=rf"'scheme.{field}'.*{expected}"):
        _replace(demo, scheme={field: value})


def test_the_indexation_floor_and_cap_may_still_be_left_open(demo):
    open_ended = _replace(demo, scheme={"indexation_floor": -np.inf, "indexation_cap": np.inf})
    assert (open_ended.inputs.scheme["indexation_floor"], open_ended.inputs.scheme["indexation_cap"]) == \
        (-np.inf, np.inf)
    capped = _replace(demo, scheme={"indexation_floor": 0.0, "indexation_cap": 0.03})
    assert (capped.inputs.scheme["indexation_floor"], capped.inputs.scheme["indexation_cap"]) == (0.0, 0.03)


def test_schedule_not_covering_the_horizon(demo):
    short = xr.DataArray(np.full(31, 0.02), dims="year", coords={"year": np.arange(2020, 2051)})
    with pytest.raises(InputError, match=r"'economy.inflation': year 2051 is missing; it must cover years 2020..2119"):
        _replace(demo, economy={"inflation": short})


def test_dimension_a_field_cannot_have(demo):
    by_age = xr.DataArray([0.1, 0.2], dims="age", coords={"age": [20, 21]})
    with pytest.raises(InputError, match=r"'scheme.contribution_rate' has dimension 'age', which it cannot depend on"):
        _replace(demo, scheme={"contribution_rate": by_age})


def test_unknown_option(demo):
    with pytest.raises(InputError, match=r"'scheme.revaluation': 'salaries' is not an option"):
        _replace(demo, scheme={"revaluation": "salaries"})


def test_retirement_age_out_of_range(demo):
    with pytest.raises(InputError, match=r"'scheme.normal_retirement_age' at year=2020, sex=male: value 75.0 is outside 16..70"):
        _replace(demo, scheme={"normal_retirement_age": 75})


def test_growth_only_input_with_residual_method(demo):
    with pytest.raises(InputError, match=r"'behaviour.entrants' is only used by the growth new-entrant method"):
        _replace(demo, behaviour={"entrants": 1000.0})


def test_maximum_below_minimum(demo):
    with pytest.raises(InputError, match=r"'scheme.maximum_pension' at year=2020: value 1000.0 is below scheme.minimum_pension"):
        _replace(demo, scheme={"maximum_pension": 1000.0})


def test_unknown_sex_label(demo):
    scale = demo.inputs.behaviour["salary_scale"].assign_coords(sex=["male", "x"])
    with pytest.raises(InputError, match=r"'behaviour.salary_scale': unknown sex 'x'"):
        _replace(demo, behaviour={"salary_scale": scale})


def test_ages_with_gap(demo):
    population = demo.inputs.demography["population"].drop_sel(age=40)
    with pytest.raises(InputError, match=r"'demography.population': age 41 after age 39 leaves a gap"):
        _replace(demo, demography={"population": population})


def test_text_where_a_number_is_expected(demo):
    with pytest.raises(InputError, match=r"'scheme.vesting_years': value 'fifteen' is not a number"):
        _replace(demo, scheme={"vesting_years": "fifteen"})


def test_pensioners_without_amount(demo):
    amount = demo.inputs.initial["average_pension"].copy()
    amount.loc[dict(benefit="old_age", sex="male", age=70)] = 0.0
    with pytest.raises(InputError, match=r"'initial.average_pension' at benefit=old_age, sex=male, age=70: value 0"):
        _replace(demo, initial={"average_pension": amount})


@pytest.mark.parametrize("horizons,message", [
    ((0, 10), r"settings.gap_horizons': value 0 is outside 1..100 years"),
    ((500,), r"settings.gap_horizons': value 500 is outside 1..100 years"),
    ((10, 10), r"settings.gap_horizons': \[10, 10\] gives a horizon twice"),
])
def test_gap_horizons_outside_the_projection_are_refused(demo, horizons, message):
    """A horizon the user gives is never dropped silently."""
    with pytest.raises(InputError, match=message):
        _replace(demo, settings={"gap_horizons": horizons})


def test_default_gap_horizons_fit_a_short_projection(demo):
    """The default horizons (10, 25, 50, 75) beyond a 40-year projection are left out, as documented."""
    short = _replace(demo, settings={"horizon": 40})
    assert list(short.run().summary["gap"].horizon.values) == [10, 25, 40]
    # and the report's settings table says so, as it does for the actuarial balance's period capped at the horizon
    from actuary.io.presentation import provisions

    words = {label: text for _, label, text, _ in provisions(short.inputs)}
    assert words["Horizons of the general average premium"] == ("10, 25, 40 years (the full horizon is always "
                                                                 "included; 50, 75 left out: beyond the 40-year "
                                                                 "horizon)")
    assert words["Actuarial balance period"] == "40 years (the period of 75 years capped at the horizon)"
