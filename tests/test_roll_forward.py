"""Valuation.roll_forward: the same assumptions, the projection of year N as the new initial state. Valuing
the rolled case gives the original's cash flows and stocks for the years both project (1e-12); the state it
carries is the original's projection at that date (read from the results Dataset, an independent source);
the economic history and the per-cell service and units it needs are inputs of their own."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from actuary import InputError, Valuation, load_workbook
from actuary.inputs import FIELDS
from actuary.projection import build_kernel_inputs, run_kernels
from actuary.rollforward import REBASED

from .schemes import random_scheme, schemes

# series rebased to the valuation date by definition (index = 1 and no indexation in the first year)
REBASED_SERIES = ("wage_index", "price_index", "pension_indexation")


def assert_same_overlap(original, rolled, rtol=1e-12):
    """Every yearly variable of ``rolled`` equals ``original``'s for the years both project, to ``rtol`` of the
    variable's largest magnitude; the rebased indices are the original's divided by their value at the new
    valuation year (the real reserve at the prices of that year), the indexation the original's after its first
    year."""
    years = rolled.year.values[rolled.year.values <= original.year.values[-1]]
    assert years.size > 0
    for name, variable in original.data_vars.items():
        if "year" not in variable.dims or variable.dtype.kind != "f":
            continue
        expected = variable.sel(year=years).values
        actual = rolled[name].sel(year=years).values
        if name in ("wage_index", "price_index"):
            expected = expected / expected[0]
        elif name == "reserve_real":   # at the prices of the new valuation year
            expected = expected * float(original.price_index.sel(year=years[0]))
        elif name == "pension_indexation":
            expected, actual = expected[1:], actual[1:]
        finite = np.isfinite(expected)
        np.testing.assert_array_equal(finite, np.isfinite(actual), err_msg=name)
        scale = np.abs(expected[finite]).max() if finite.any() else 0.0
        np.testing.assert_allclose(actual[finite], expected[finite], rtol=0, atol=rtol * scale, err_msg=name)


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


@pytest.fixture(scope="module")
def demo_results(demo):
    return demo.run()


@pytest.mark.parametrize("years", [1, 3])
def test_demoland_rolled_forward_gives_the_same_cash_flows(demo, demo_results, years):
    rolled = demo.roll_forward(years)
    assert rolled.inputs.settings["valuation_year"] == 2020 + years
    assert rolled.inputs.settings["horizon"] == demo.inputs.settings["horizon"]
    assert_same_overlap(demo_results.projection, rolled.run().projection)


def test_the_rolled_state_is_the_projection_at_that_date(demo, demo_results):
    """Read back from the original's results Dataset: stocks at the end of year 2022 and the indexation of
    1 January 2023."""
    p = demo_results.projection
    rolled = demo.roll_forward(3).inputs
    end = p.sel(year=2022)
    ini = rolled.initial
    np.testing.assert_allclose(ini["active"].sum("service"), end.active.sel(age=ini["active"].age), rtol=1e-14)
    np.testing.assert_allclose(ini["inactive"].sum("service"), end.inactive.sel(age=ini["inactive"].age), rtol=1e-14)
    np.testing.assert_allclose(ini["pensioners"], end.pensioners_by_age, rtol=1e-14)
    indexed = end.pension_amount_by_age * (1 + float(p.pension_indexation.sel(year=2023)))
    np.testing.assert_allclose(ini["pensioners"] * ini["average_pension"], indexed, rtol=1e-13, atol=1e-6)
    assert ini["reserve"] == pytest.approx(float(end.reserve), rel=1e-15)
    np.testing.assert_allclose(rolled.demography["population"], end.population, rtol=1e-14)
    assert rolled.economy["gdp"] == pytest.approx(float(p.gdp.sel(year=2023)), rel=1e-13)
    wages = float(p.wage_index.sel(year=2023))
    assert rolled.economy["average_wage"] == pytest.approx(demo.inputs.economy["average_wage"] * wages, rel=1e-14)
    assert float(rolled.scheme["minimum_pension"][0]) == pytest.approx(float(p.minimum_pension.sel(year=2023)),
                                                                       rel=1e-14)
    np.testing.assert_allclose(rolled.economy["inflation"], demo.inputs.economy["inflation"].sel(
        year=slice(2023, None)).values.tolist() + [float(demo.inputs.economy["inflation"][-1])] * 3)
    np.testing.assert_array_equal(rolled.economy["past_inflation"].values,
                                  demo.inputs.economy["inflation"].sel(year=[2020, 2021, 2022]).values)


def test_rolling_twice_is_rolling_once(demo):
    twice = demo.roll_forward(2).roll_forward(3).run().projection
    once = demo.roll_forward(5).run().projection
    assert_same_overlap(once, twice)


def test_kernel_and_reference_carry_the_same_state(demo):
    kin = build_kernel_inputs(demo.inputs)
    kernel = run_kernels(kin, 15, "kernel", years=4)
    reference = run_kernels(kin, 15, "reference", years=4)
    assert kernel["state"].keys() == reference["state"].keys()
    for name, values in kernel["state"].items():
        np.testing.assert_allclose(values, reference["state"][name], rtol=1e-9, atol=1e-9 * np.abs(values).max(),
                                   err_msg=name)
    # the run of the first years is the full run's beginning
    full = run_kernels(kin, 15, "kernel")
    np.testing.assert_array_equal(kernel["wage_bill"], full["wage_bill"][:4])
    np.testing.assert_array_equal(kernel["pensioner_count"], full["pensioner_count"][:5])


def remembered(groups: dict) -> dict:
    """The random scheme without what a rolled case cannot remember (actuary.rollforward): the state's share of
    the pensions in payment, and insurable-earnings limits changing by year (held at their first value)."""
    groups["scheme"]["minimum_pension_financing"] = "scheme"
    for key in ("ceiling_multiple", "floor_multiple"):
        value = groups["scheme"].get(key)
        if isinstance(value, xr.DataArray):
            groups["scheme"][key] = float(value.values.flat[0])
    return groups


@settings(max_examples=12, deadline=None)
@given(groups=schemes(), years=st.integers(1, 6), lag=st.integers(0, 3), career=st.booleans(),
       history=st.sampled_from(["none", "inflation", "both"]))
def test_random_schemes_rolled_forward_give_the_same_cash_flows(groups, years, lag, career, history):
    """Every feature of the random schemes, with indexation lags and whole-career reference earnings that
    reach back before the new valuation date, and an economic history given or not; but for the two things a
    rolled case does not remember (see actuary.rollforward): the state's share of the pensions in payment, and
    insurable-earnings limits that changed before the new date (held at their first value here)."""
    groups = remembered(groups)
    groups["scheme"].update(indexation_lag=lag)
    if career:
        groups["scheme"]["reference_earnings_years"] = 0
    if history != "none":
        groups["economy"]["past_inflation"] = xr.DataArray([0.06, 0.01, 0.03], dims="past_year",
                                                           coords={"past_year": [2017, 2018, 2019]})
    if history == "both":
        groups["economy"]["past_real_wage_growth"] = 0.015
    original = Valuation(**groups)
    rolled = original.roll_forward(years)
    assert_same_overlap(original.run().projection, rolled.run().projection)


def test_a_longer_horizon_extends_the_last_assumptions(demo, demo_results):
    rolled = demo.roll_forward(2, horizon=110)
    assert rolled.inputs.coords["year"][-1] == 2131
    nominal = rolled.inputs.economy["nominal_return"]
    assert np.all(nominal.sel(year=slice(2119, None)) == float(demo.inputs.economy["nominal_return"][-1]))
    assert_same_overlap(demo_results.projection, rolled.run().projection)


def test_rolling_beyond_the_horizon_is_refused(demo):
    with pytest.raises(InputError, match="from 0 to 99"):
        demo.roll_forward(100)
    same = demo.roll_forward(0)
    assert same.inputs.settings["valuation_year"] == 2020


def test_every_amount_fixed_at_the_valuation_date_is_rebased():
    """A field whose units say it is fixed at t0 must move to t0 + N when rolling forward: it is in REBASED or
    part of the initial state (so that a new such field cannot be forgotten)."""
    dated = {(g, k) for g, fields in FIELDS.items() for k, f in fields.items() if "t0" in f.units and g != "initial"}
    assert dated <= set(REBASED), dated - set(REBASED)


def test_the_rolled_case_goes_through_the_workbook(demo, tmp_path):
    """The new inputs (exact service and units per cell, the economic history) are written and read back."""
    rolled = demo.roll_forward(2)
    rolled.to_workbook(tmp_path / "rolled.xlsx")
    again = load_workbook(tmp_path / "rolled.xlsx")
    for key in ("credited_service", "accrued_units", "inactive_credited_service", "inactive_accrued_units"):
        np.testing.assert_allclose(again.inputs.initial[key], rolled.inputs.initial[key], rtol=1e-15, err_msg=key)
    for key in ("past_inflation", "past_real_wage_growth"):
        np.testing.assert_array_equal(again.inputs.economy[key], rolled.inputs.economy[key])
    assert float(again.run().summary.actuarial_balance) == pytest.approx(
        float(rolled.run().summary.actuarial_balance), rel=1e-12)


# ------------------------------------------------------------------------------- the new inputs

def small(seed=3, **changes):
    groups = random_scheme(seed, horizon=8)
    groups["settings"]["gap_horizons"] = [3, 5]   # within the 8 years
    for group, values in changes.items():
        groups[group].update(values)
    return groups


def test_economic_history_deflates_reference_earnings_and_feeds_lagged_indexation():
    """Reference earnings of the first year over 3 years, revalued by prices, from the history (computed here
    from the definition: the cohort's t0 salary x W_{t0-k} / W_{t0}, revalued by P_{t0} / P_{t0-k}); the
    indexation of year t0 + 1 with a lag of 2 uses the inflation of t0 - 1."""
    past_inflation = [0.04, 0.02, 0.07]
    past_real = [0.01, 0.03, -0.02]
    groups = small(scheme=dict(reference_earnings_years=3, revaluation="prices", indexation_lag=2,
                               indexation_price_weight=1.0, indexation_wage_weight=0.0, indexation_cap=1.0),
                   economy=dict(past_inflation=xr.DataArray(past_inflation, dims="past_year",
                                                            coords={"past_year": [2017, 2018, 2019]}),
                                past_real_wage_growth=xr.DataArray(past_real, dims="past_year",
                                                                   coords={"past_year": [2017, 2018, 2019]})))
    valuation = Valuation(**groups)
    p = valuation.run().projection
    eco = valuation.inputs.economy
    pi0, r0 = float(eco["inflation"][0]), float(eco["real_wage_growth"][0])
    growth = [(1 + pi0) * (1 + r0)] + [(1 + a) * (1 + b) for a, b in zip(past_inflation[::-1], past_real[::-1])]
    prices = [1 + pi0] + [1 + a for a in past_inflation[::-1]]
    wage_level = np.concatenate([[1.0], 1 / np.cumprod(growth[:2])])    # W_{t0-k} / W_{t0}, k = 0, 1, 2
    price_level = np.concatenate([[1.0], 1 / np.cumprod(prices[:2])])
    salary = p.average_insurable_salary.sel(year=2020).values           # the t0 salary by sex and age
    for sex in range(2):
        for age in (25, 35, 45):
            terms = [salary[sex, age - k] * wage_level[k] / price_level[k] for k in range(3)]
            expected = np.mean(terms)
            actual = float(p.reference_earnings.isel(year=0, sex=sex).sel(age=age))
            assert actual == pytest.approx(expected, rel=1e-13), (sex, age)
    assert float(p.pension_indexation.sel(year=2021)) == pytest.approx(past_inflation[-1], rel=1e-15)
    assert float(p.pension_indexation.sel(year=2022)) == pytest.approx(pi0, rel=1e-15)
    # without the history, the valuation year's rates stand for the past (the convention before it existed)
    for key in ("past_inflation", "past_real_wage_growth"):
        del groups["economy"][key]
    assert float(Valuation(**groups).run().projection.pension_indexation.sel(year=2021)) == pytest.approx(pi0)


def test_a_short_history_is_held_at_its_first_year_and_must_end_before_the_valuation_year():
    groups = small(economy=dict(past_inflation=xr.DataArray([0.05, 0.02], dims="past_year",
                                                            coords={"past_year": [2018, 2019]}),
                                past_real_wage_growth=0.01))
    economy = Valuation(**groups).inputs.economy
    np.testing.assert_array_equal(economy["past_real_wage_growth"].past_year, [2018, 2019])
    np.testing.assert_array_equal(economy["past_real_wage_growth"], [0.01, 0.01])
    groups["economy"]["past_inflation"] = xr.DataArray([0.05, 0.02], dims="past_year",
                                                       coords={"past_year": [2017, 2018]})
    with pytest.raises(InputError, match="must end in 2019"):
        Valuation(**groups)


def test_recorded_service_and_units_replace_the_conventions():
    """Giving the conventional values (k + 1/2 and the first year's schedule) changes nothing; doubling every
    active's accrued units doubles the old-age awards of the first year (no minimum or maximum pension)."""
    groups = small(seed=5, scheme=dict(past_service_credit=1.0, minimum_pension=0.0, maximum_pension=np.inf))
    base = Valuation(**groups)
    ini = base.inputs.initial
    k = ini["active"].service
    service = xr.zeros_like(ini["active"]) + (k + 0.5)
    accrual = base.inputs.scheme["accrual"].isel(year=0).values
    units = xr.DataArray(np.interp(service.values, np.arange(accrual.size), accrual), dims=service.dims,
                         coords=service.coords)
    same = base.replace(initial=dict(credited_service=service, accrued_units=units,
                                     inactive_credited_service=service, inactive_accrued_units=units))
    np.testing.assert_allclose(same.run().projection.benefit_expenditure, base.run().projection.benefit_expenditure,
                               rtol=1e-14)
    # the first year's old-age awards to actives are linear in the units they bring (those of the inactive
    # insured are unchanged): doubling the units adds what the units alone were worth
    awards = {factor: base.replace(initial=dict(accrued_units=factor * units)).run().projection
              .new_pension_amount.isel(year=0).sel(benefit="old_age") for factor in (0.0, 1.0, 2.0)}
    assert float(awards[2.0].sum()) > float(awards[1.0].sum()) > float(awards[0.0].sum())
    np.testing.assert_allclose(awards[2.0] - awards[1.0], awards[1.0] - awards[0.0], rtol=1e-9,
                               atol=1e-9 * float(awards[2.0].max()))


def test_recorded_service_needs_full_past_service_credit():
    groups = small(scheme=dict(past_service_credit=0.5))
    groups["initial"]["credited_service"] = 3.0
    with pytest.raises(InputError, match="past_service_credit"):
        Valuation(**groups)


def test_batch_paths_with_a_history_equal_full_valuations():
    """The stochastic batch kernel deflates past earnings and lags indexation with the same history."""
    from actuary.kernels.batch import INDICATORS
    from actuary.stochastic import StochasticParameters, draw_paths, pack, path_valuation, run_chunk

    groups = small(seed=7, scheme=dict(indexation_lag=2, reference_earnings_years=0),
                   economy=dict(past_inflation=xr.DataArray([0.09, 0.02], dims="past_year",
                                                            coords={"past_year": [2018, 2019]})))
    base = Valuation(**groups)
    params = StochasticParameters(wage_volatility=0.02)
    values = run_chunk(pack(base), params, 3, [0, 1])
    draws = draw_paths(base.inputs, params, 3, [0, 1])
    for i in range(2):
        expected = path_valuation(base, draws, i).run().projection
        for k, name in enumerate(INDICATORS):
            if name not in expected:
                continue
            reference = expected[name].values
            np.testing.assert_allclose(values[i, k], reference, rtol=1e-9, atol=1e-9 * np.nanmax(np.abs(reference)),
                                       err_msg=name)


def test_a_floor_rolled_forward_costs_the_same_for_the_overlapping_years():
    """Currency amounts indexed by prices, by wages or not at all move to the new date with their index; shares of
    GDP per capita and of the average wage move with their basis: the floor's yearly cost is the original's."""
    from actuary.floor import floor_benefits

    rows = [{"benefit": "prices", "kind": "old_age", "min_age": 45, "amount": 3_000.0, "test": "pension_tested"},
            {"benefit": "wages", "kind": "child", "max_age": 14, "amount": 800.0, "indexation": "wages"},
            {"benefit": "flat", "kind": "disability", "min_age": 20, "max_age": 44, "amount": 500.0,
             "indexation": "none", "test": "top_up"},
            {"benefit": "gdp", "kind": "other", "min_age": 30, "max_age": 35, "amount": 0.1, "basis": "gdp_per_capita"},
            {"benefit": "wage_share", "kind": "maternity", "amount": 0.2, "basis": "average_wage"}]
    case = Valuation(**remembered(random_scheme(5, horizon=12))).replace(floor=floor_benefits(rows))
    original = case.run().projection
    rolled = case.roll_forward(4)
    np.testing.assert_array_equal(rolled.inputs.floor["amount"].values[3:], case.inputs.floor["amount"].values[3:])
    assert_same_overlap(original, rolled.run().projection)


def test_a_floor_costing_alone_is_not_rolled_forward():
    from actuary.valuation import DEMOLAND_FLOOR_ONLY

    with pytest.raises(InputError, match="floor costing alone"):
        load_workbook(DEMOLAND_FLOOR_ONLY).roll_forward(1)


# ------------------------------------------------------------------ the carried sheets' rows rolled forward

BOUND = st.one_of(st.none(), st.integers(2016, 2053))
ROW = st.one_of(st.none(), st.tuples(st.sampled_from(["a", "b", "c"]), BOUND, BOUND, st.booleans()))


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(ROW, max_size=12), year=st.integers(2021, 2030))
def test_rolled_rows_stay_in_order_with_no_hole_where_a_row_was_dropped(rows, year):
    """A Reforms sheet of a case valued 2020-2049 rolled to ``year``: its rows (a blank one: None) are the input's in
    their order without those whose years ended before ``year`` (blank rows of the input kept), from row 3 on with no
    gap where a dropped row was; a kept row starting before ``year`` starts in it; a row whose bounds the command
    refuses (outside 2020-2049, or the first after the last, or none) is left as it is; the title, the headers and
    the cells right of the table (column K: here beside some rows) stay at their cells."""
    from actuary.compare import REFORM_COLUMNS
    from actuary.io.carried import TABLE_WIDTH, CarriedSheet, from_valuation_year

    assert TABLE_WIDTH == len(REFORM_COLUMNS)
    fixed = {(1, 1): "Reforms", (1, 5): "a title note", **{(2, c): h for c, h in enumerate(REFORM_COLUMNS, start=1)}}

    def table(rows):
        cells = {}
        for r, row in enumerate(rows, start=3):
            if row is not None:
                name, low, high, _ = row
                cells.update({(r, c): v for c, v in enumerate((name, "scheme.contribution_rate", "shift", 0.01,
                                                               low, high), start=1) if v is not None})
        return cells

    beside = {(r, 11): f"beside row {r}" for r, row in enumerate(rows, start=3) if row is not None and row[3]}
    sheet = CarriedSheet("Reforms", {**fixed, **table(rows), **beside})
    (rolled,), changes = from_valuation_year([sheet], 2020, 2049, year)

    def refused(low, high):
        given = [b for b in (low, high) if b is not None]
        return not given or not all(2020 <= b <= 2049 for b in given) or None not in (low, high) and low > high

    expected_rows = []
    for row in rows:
        if row is not None and not refused(row[1], row[2]):
            name, low, high, side = row
            if high is not None and high < year:
                continue   # dropped
            row = (name, low if low is None else max(low, year), high, side)
        expected_rows.append(row)
    assert rolled.cells == {**fixed, **table(expected_rows), **beside}
    assert len([c for c in changes if " dropped: " in c]) == len(rows) - len(expected_rows)
