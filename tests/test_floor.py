"""Social protection floor: closed forms computed here from the projection's own population, births,
GDP and pensioners; kernel = NumPy reference; the pension test sees the scheme's coverage; a case
without a floor is unchanged; a floor costing alone; the floor in batch runs."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings, strategies as st

from actuary import InputError, Valuation
from actuary.floor import floor_benefits, floor_only, floor_variables, project_floor

AMOUNT, TAKE_UP, ADMIN = 6_000.0, 0.85, 0.04


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo().replace(settings={"balance_sheet": "no"})


@pytest.fixture(scope="module")
def plain(demo):
    return demo.run()


def with_floor(valuation, rows, **extra):
    return valuation.replace(floor=floor_benefits(rows) | extra.pop("floor", {}), **extra)


def old_age(name, **more):
    """An old-age floor from 65 named ``name``; its test is its name unless given."""
    test = name if name in ("universal", "pension_tested", "top_up") else "universal"
    return {"benefit": name, "kind": "old_age", "min_age": 65, "amount": AMOUNT, "take_up": TAKE_UP,
            "admin_share": ADMIN, "test": test, **more}


@pytest.fixture(scope="module")
def tested(demo):
    """Old-age floors universal, pension-tested and top-up; a disability floor tested against invalidity."""
    rows = [old_age("universal"), old_age("pension_tested"), old_age("top_up", amount=25_000.0),
            old_age("universal_high", test="universal", amount=25_000.0),
            old_age("tested_high", test="pension_tested", amount=25_000.0),
            {"benefit": "disability_universal", "kind": "disability", "min_age": 18, "max_age": 64, "amount": AMOUNT},
            {"benefit": "disability_tested", "kind": "disability", "min_age": 18, "max_age": 64, "amount": AMOUNT,
             "test": "pension_tested"}]
    return with_floor(demo, rows).run()


def mean_stock(start, end_of_year):
    """Mean of the stocks at the start and end of each year, from the valuation-date stock and the
    end-of-year results."""
    stocks = np.concatenate([start[None], end_of_year])
    return 0.5 * (stocks[1:] + stocks[:-1])


def price_index(valuation):
    inflation = valuation.inputs.economy["inflation"].values
    return np.cumprod(np.r_[1.0, 1 + inflation[1:]])


# ------------------------------------------------------------------------------ closed forms

def test_universal_old_age_is_population_times_amount_take_up_and_administration(demo, tested):
    p = tested.projection
    population = mean_stock(p.population_at_valuation.values, p.population.values)   # [year, sex, age]
    eligible = population[:, :, 65:].sum(axis=(1, 2))
    expected = eligible * AMOUNT * price_index(demo) * TAKE_UP * (1 + ADMIN)
    np.testing.assert_allclose(p.floor_cost.sel(floor_benefit="universal").values, expected, rtol=1e-12)
    np.testing.assert_allclose(p.floor_beneficiaries.sel(floor_benefit="universal").values, eligible * TAKE_UP,
                               rtol=1e-12)
    total = p.floor_cost.sum("floor_benefit").values
    np.testing.assert_allclose(p.floor_cost_pct_gdp.values, 100 * total / p.gdp.values, rtol=1e-12)
    np.testing.assert_allclose(p.fiscal_cost.values, total + p.state_subsidy.values, rtol=1e-12)
    np.testing.assert_allclose(p.fiscal_cost_pct_gdp.values, 100 * p.fiscal_cost.values / p.gdp.values, rtol=1e-12)


def test_child_benefit_from_the_population_aged_0_to_14(demo):
    rows = [{"benefit": "child", "kind": "child", "max_age": 14, "amount": 1_200.0, "indexation": "wages",
             "take_up": 0.7}]
    p = with_floor(demo, rows).run().projection
    children = mean_stock(p.population_at_valuation.values, p.population.values)[:, :, :15].sum(axis=(1, 2))
    inflation = demo.inputs.economy["inflation"].values
    wage_growth = (1 + inflation) * (1 + demo.inputs.economy["real_wage_growth"].values)
    wages = np.cumprod(np.r_[1.0, wage_growth[1:]])
    np.testing.assert_allclose(p.floor_cost.sel(floor_benefit="child").values, children * 1_200.0 * wages * 0.7,
                               rtol=1e-12)


def test_maternity_benefit_counts_the_births_of_the_year(demo):
    rows = [{"benefit": "all", "kind": "maternity", "amount": 0.1, "basis": "average_wage"},
            {"benefit": "young", "kind": "maternity", "sex": "female", "min_age": 15, "max_age": 24,
             "amount": 1_000.0, "indexation": "none"}]
    p = with_floor(demo, rows).run().projection
    births = p.births.sum("sex").values
    wages = p.wage_index.values
    np.testing.assert_allclose(p.floor_beneficiaries.sel(floor_benefit="all").values, births, rtol=1e-12)
    np.testing.assert_allclose(p.floor_cost.sel(floor_benefit="all").values, births * 0.1 * 55_000.0 * wages,
                               rtol=1e-12)
    # births to mothers aged 15-24: rates x mean female population of the year before end-of-year migration
    assert demo.inputs.settings["migration_timing"] == "end"
    women_start = np.concatenate([p.population_at_valuation.values[None], p.population.values])[:-1, 1]
    women_end = p.population.values[:, 1] - demo.inputs.demography["net_migration"].values[:, 1]
    fertility = demo.inputs.demography["fertility"].values
    young = (fertility * 0.5 * (women_start + women_end))[:, 15:25].sum(axis=1)
    np.testing.assert_allclose(p.floor_cost.sel(floor_benefit="young").values, young * 1_000.0, rtol=1e-12)
    assert young.sum() < 0.3 * births.sum()


def test_disability_pension_test_is_universal_minus_the_invalidity_pensioners(tested):
    """Tested against one kind of pension: the cost of the scheme's invalidity pensioners of eligible
    age (mean of the year) comes off the universal cost."""
    p = tested.projection
    pensioners = mean_stock(p.pensioners_at_valuation.sel(benefit="invalidity").values,
                            p.pensioners_by_age.sel(benefit="invalidity").values)[:, :, 18:65].sum(axis=(1, 2))
    universal = p.floor_cost.sel(floor_benefit="disability_universal").values
    expected = universal - pensioners * AMOUNT * p.price_index.values
    np.testing.assert_allclose(p.floor_cost.sel(floor_benefit="disability_tested").values, expected, rtol=1e-10)
    assert np.all(pensioners > 0)


def test_old_age_pension_test_removes_the_scheme_pensioners_counted_as_persons(tested):
    """Old-age floor: persons with an own pension (old age or invalidity), a widow(er)'s or an orphan's
    pension held independently; the persons without any get the floor."""
    p = tested.projection
    population = mean_stock(p.population_at_valuation.values, p.population.values)
    pensions = mean_stock(p.pensioners_at_valuation.values, p.pensioners_by_age.values)   # [year, benefit, sex, age]
    with np.errstate(divide="ignore", invalid="ignore"):
        def share(n):
            return np.where(population > 0, np.minimum(n / population, 1.0), 0.0)
        without = (1 - share(pensions[:, 0] + pensions[:, 1])) * (1 - share(pensions[:, 2])) * (1 - share(pensions[:, 3]))
    pensioners = (population * (1 - without))[:, :, 65:].sum(axis=(1, 2))
    universal = p.floor_cost.sel(floor_benefit="universal").values
    expected = universal - pensioners * AMOUNT * p.price_index.values * TAKE_UP * (1 + ADMIN)
    np.testing.assert_allclose(p.floor_cost.sel(floor_benefit="pension_tested").values, expected, rtol=1e-10)
    assert np.all(expected < 0.6 * universal)


def test_top_up_lies_between_pension_tested_and_universal(tested):
    p = tested.projection
    top_up = p.floor_cost.sel(floor_benefit="top_up").values
    low = p.floor_cost.sel(floor_benefit="tested_high").values
    high = p.floor_cost.sel(floor_benefit="universal_high").values
    assert np.all(low <= top_up) and np.all(top_up < high)
    assert np.all(low[:10] < top_up[:10])  # later the price-indexed floor falls below every cell's pension
    people = p.floor_beneficiaries
    assert np.all(people.sel(floor_benefit="tested_high") <= people.sel(floor_benefit="top_up"))
    assert np.all(people.sel(floor_benefit="top_up") < people.sel(floor_benefit="universal_high"))


def test_top_up_of_a_single_pension_kind_is_the_difference_to_the_average(demo):
    """Disability top-up: invalidity pensioners get max(A - their cell's mean pension of the year, 0),
    the others A; the mean pension in payment is that of the start stock after 1 January indexation
    and of the end stock."""
    level = 30_000.0
    rows = [{"benefit": "top", "kind": "disability", "min_age": 18, "max_age": 64, "amount": level,
             "indexation": "none", "test": "top_up"}]
    valuation = with_floor(demo, rows)
    p = valuation.run().projection
    initial = valuation.inputs.initial
    count = np.concatenate([initial["pensioners"].values[None], p.pensioners_by_age.values])[:, 1]
    amount = np.concatenate([(initial["pensioners"] * initial["average_pension"]).values[None],
                             p.pension_amount_by_age.values])[:, 1]
    beta = p.pension_indexation.values[:, None, None]
    n = 0.5 * (count[:-1] + count[1:])
    paid = 0.5 * (amount[:-1] * (1 + beta) + amount[1:])
    population = mean_stock(p.population_at_valuation.values, p.population.values)
    with np.errstate(divide="ignore", invalid="ignore"):
        average = np.where(n > 0, paid / n, 0.0)
    n = np.minimum(n, population)
    expected = ((population - n) * level + n * np.maximum(level - average, 0.0))[:, :, 18:65].sum(axis=(1, 2))
    np.testing.assert_allclose(p.floor_cost.sel(floor_benefit="top").values, expected, rtol=1e-10)


def test_take_up_phase_in_scales_the_cost_year_by_year(demo):
    years = demo.inputs.coords["year"]
    phase = np.clip(0.2 + 0.05 * (years - years[0]), 0, 0.9)
    rows = [{"benefit": "full", "kind": "child", "max_age": 17, "amount": 0.05, "basis": "gdp_per_capita"},
            {"benefit": "phased", "kind": "child", "max_age": 17, "amount": 0.05, "basis": "gdp_per_capita"}]
    take_up = xr.DataArray(np.stack([np.ones(years.size), phase], axis=1), dims=("year", "floor_benefit"),
                           coords={"year": years, "floor_benefit": ["full", "phased"]})
    p = with_floor(demo, rows, floor={"take_up": take_up}).run().projection
    cost = p.floor_cost
    np.testing.assert_allclose(cost.sel(floor_benefit="phased").values, phase * cost.sel(floor_benefit="full").values,
                               rtol=1e-12)
    # gdp_per_capita: a share of GDP over the mean population of the year
    population = mean_stock(p.population_at_valuation.values, p.population.values).sum(axis=(1, 2))
    np.testing.assert_allclose(p.floor_benefit_amount.sel(floor_benefit="full").values,
                               0.05 * p.gdp.values / population, rtol=1e-12)


def test_eligibility_sex_and_the_poverty_line(demo):
    years = demo.inputs.coords["year"]
    line = xr.DataArray(10_000.0 * 1.03 ** np.arange(years.size), dims="year", coords={"year": years})
    eligibility = xr.DataArray(np.full(121, 0.25), dims="age", coords={"age": np.arange(121)})
    rows = [{"benefit": "women", "kind": "other", "sex": "female", "min_age": 30, "max_age": 39, "amount": 0.5,
             "basis": "poverty_line"}]
    p = with_floor(demo, rows, floor={"eligibility": eligibility}, economy={
        "poverty_line": line, "government_expenditure_pct_gdp": 40.0, "government_revenue_pct_gdp": 35.0}).run().projection
    women = mean_stock(p.population_at_valuation.values, p.population.values)[:, 1, 30:40].sum(axis=1)
    np.testing.assert_allclose(p.floor_cost.sel(floor_benefit="women").values, women * 0.25 * 0.5 * line.values,
                               rtol=1e-12)
    np.testing.assert_allclose(p.floor_cost_pct_government_expenditure.values,
                               100 * p.floor_cost.sum("floor_benefit").values / (0.40 * p.gdp.values), rtol=1e-12)
    np.testing.assert_allclose(p.fiscal_cost_pct_government_revenue.values,
                               100 * p.fiscal_cost.values / (0.35 * p.gdp.values), rtol=1e-12)


def test_fiscal_cost_includes_a_state_financed_minimum_pension_top_up_when_projected(demo):
    """The top-up the state pays (4: under settings payable, that of the share of the pensions paid), not the top-up
    due (5)."""
    valuation = with_floor(demo, [{"benefit": "b", "kind": "other", "amount": 10.0}])
    years = valuation.inputs.coords["year"].size
    cost = {k: np.full((years, 1), 2.0) for k in ("level", "beneficiaries", "cost")}
    variables = {"gdp": (("year",), np.full(years, 100.0), {}), "state_subsidy": (("year",), np.full(years, 3.0), {}),
                 "minimum_pension_top_up": (("year",), np.full(years, 5.0), {}),
                 "minimum_pension_top_up_paid": (("year",), np.full(years, 4.0), {})}
    data, _ = floor_variables(valuation.inputs, cost, variables)
    np.testing.assert_array_equal(data["fiscal_cost"][1], 9.0)
    np.testing.assert_array_equal(data["fiscal_cost_pct_gdp"][1], 9.0)


def test_present_values_and_level_cost_discounted_as_the_gap(tested):
    p, s = tested.projection, tested.summary
    growth = 1 + p.investment_return.values
    v_end = np.cumprod(1 / growth)
    v_mid = np.r_[1.0, v_end[:-1]] / np.sqrt(growth)
    cost = p.floor_cost.sum("floor_benefit").values
    for n, pv, level in zip(s.horizon.values, s.floor_cost_present_value.values, s.floor_cost_level_pct_gdp.values):
        assert pv == pytest.approx(np.sum(v_mid[:n] * cost[:n]), rel=1e-12)
        assert level == pytest.approx(100 * pv / np.sum(v_mid[:n] * p.gdp.values[:n]), rel=1e-12)
    assert list(s.horizon.values) == [10, 25, 50, 75, 100]
    assert np.all(s.fiscal_cost_present_value > s.floor_cost_present_value)


# ------------------------------------------------------------------------------ engine

def test_kernel_matches_reference(demo, tested):
    rows = [old_age("a", test="top_up", basis="average_wage", amount=0.4),
            {"benefit": "m", "kind": "maternity", "amount": 3_000.0},
            {"benefit": "c", "kind": "child", "max_age": 17, "amount": 0.3, "basis": "poverty_line", "test": "top_up"}]
    years = demo.inputs.coords["year"]
    valuation = with_floor(demo, rows, economy={"poverty_line": xr.DataArray(
        np.linspace(9_000, 30_000, years.size), dims="year", coords={"year": years})})
    for case in (valuation, demo.replace(floor=floor_with_tests(demo))):
        kernel, reference = case.run().projection, case.run("reference").projection
        for name in ("floor_cost", "floor_beneficiaries", "floor_benefit_amount", "fiscal_cost"):
            np.testing.assert_allclose(kernel[name].values, reference[name].values, rtol=1e-9, err_msg=name)


def floor_with_tests(demo):
    return floor_benefits([old_age("x", test="pension_tested"), old_age("y", test="top_up", amount=20_000.0)])


@pytest.fixture(scope="module")
def demo_arrays(demo):
    """Demoland's projection arrays that the floor reads (run once)."""
    from actuary.projection import build_kernel_inputs, run_kernels

    kin = build_kernel_inputs(demo.inputs)
    out = run_kernels(kin, demo.inputs.settings["min_age"])
    return kin, out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["old_age", "disability", "child", "other"]),
                          st.sampled_from(["universal", "pension_tested", "top_up"]),
                          st.sampled_from(["currency", "gdp_per_capita", "average_wage"]),
                          st.integers(0, 120), st.integers(0, 120), st.floats(0.0, 1.0), st.floats(0.0, 0.2)),
                min_size=1, max_size=4))
def test_kernel_matches_reference_on_random_floors(demo, demo_arrays, specs):
    kin, out = demo_arrays
    rows = [{"benefit": f"b{i}", "kind": kind, "test": test, "basis": basis, "min_age": min(a, b),
             "max_age": max(a, b), "amount": 20_000.0 if basis == "currency" else 0.3, "take_up": take_up,
             "admin_share": admin}
            for i, (kind, test, basis, a, b, take_up, admin) in enumerate(specs)]
    inputs = demo.replace(floor=floor_benefits(rows)).inputs
    gdp = np.linspace(2e12, 9e12, kin.series["prices"].size)
    args = (inputs, dict(kin.population, **out), {"count": out["pensioner_count"], "amount": out["pensioner_amount"]},
            gdp, kin.series["prices"], kin.series["wages"], kin.series["beta"])
    kernel, reference = project_floor(*args), project_floor(*args, engine="reference")
    for name in kernel:
        np.testing.assert_allclose(kernel[name], reference[name], rtol=1e-9, atol=1e-6, err_msg=name)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.floats(0.3, 1.2), st.floats(0.05, 0.5))
def test_more_coverage_lowers_a_pension_tested_floor(demo, level, step):
    """A scheme covering more workers pays more pensions, so fewer old people need the floor: once the
    change has worked through (every year from the 15th) and over every GAP horizon from 25 years.
    (In the first decade the cost may rise with coverage on Demoland: with less coverage the residual
    method moves older actives to inactivity, and they take deferred pensions at the normal age
    instead of retiring later as actives; a real effect of the scheme's rules, not of the floor.)"""
    rows = [old_age("tested", test="pension_tested", amount=12_000.0)]
    results = []
    for scale in (level, level + step):
        coverage = (demo.inputs.behaviour["coverage"] * scale).clip(0.0, 1.0)
        results.append(with_floor(demo, rows, behaviour={"coverage": coverage}).run())
    low, high = (r.projection.floor_cost.sel(floor_benefit="tested").values[15:] for r in results)
    assert np.all(high < low)
    low, high = (r.summary.floor_cost_level_pct_gdp.sel(horizon=slice(25, None)).values for r in results)
    assert np.all(high < low)


# ------------------------------------------------------------------------------ without a floor, floor alone

def test_a_case_without_a_floor_gives_exactly_the_same_results(demo, plain, tested):
    again = demo.replace(floor=None).run()
    for results in (again, tested):
        for name, variable in plain.projection.data_vars.items():
            np.testing.assert_array_equal(results.projection[name].values, variable.values, err_msg=name)
        for name, variable in plain.summary.data_vars.items():
            np.testing.assert_array_equal(results.summary[name].values, variable.values, err_msg=name)
    assert not any(name.startswith(("floor", "fiscal")) for name in again.projection.data_vars)
    assert set(again.summary.data_vars) == set(plain.summary.data_vars)


def test_floor_of_a_projection_run_past_the_horizon(demo, tested):
    """An actuarial balance over the whole horizon projects one year more (assumptions held): the floor's
    years are those of the horizon, and the same."""
    rows = [old_age("universal"), old_age("pension_tested")]
    longer = with_floor(demo, rows, settings={"actuarial_balance_period": 100}).run()
    assert longer.projection.sizes["year"] == 100
    for name in ("universal", "pension_tested"):
        np.testing.assert_array_equal(longer.projection.floor_cost.sel(floor_benefit=name).values,
                                      tested.projection.floor_cost.sel(floor_benefit=name).values)


def test_floor_costing_alone_from_python(demo, tested):
    rows = [old_age("universal"), {"benefit": "child", "kind": "child", "max_age": 14, "amount": 1_000.0}]
    alone = floor_only(with_floor(demo, rows))
    assert alone.inputs.settings["scheme"] == "no" and alone.inputs.scheme["contribution_rate"] is None
    results = alone.run()
    p = results.projection
    assert "reserve" not in p and "gap" not in results.summary and "state_subsidy" not in p
    # same population and GDP as with the scheme, so the same universal floor
    np.testing.assert_allclose(p.gdp.values, tested.projection.gdp.values, rtol=1e-12)
    np.testing.assert_allclose(p.floor_cost.sel(floor_benefit="universal").values,
                               tested.projection.floor_cost.sel(floor_benefit="universal").values, rtol=1e-12)
    np.testing.assert_array_equal(p.fiscal_cost.values, p.floor_cost.sum("floor_benefit").values)
    reference = alone.run("reference").projection
    np.testing.assert_allclose(reference.floor_cost.values, p.floor_cost.values, rtol=1e-9)
    assert "floor costing alone" in repr(results)


@pytest.mark.parametrize("change,pattern", [
    (lambda v: v.replace(scheme={"contribution_rate": 0.2}),
     r"Input 'scheme.contribution_rate' belongs to the contributory scheme, but settings.scheme is 'no'"),
    (lambda v: v.replace(behaviour={"coverage": 0.5}), r"Input 'behaviour.coverage' belongs to the contributory scheme"),
    (lambda v: v.replace(floor=None), r"settings.scheme' is 'no'.*no floor benefit is given"),
    (lambda v: v.replace(floor={"test": "pension_tested"}),
     r"Input 'floor.test' at floor_benefit=universal: value 'pension_tested' needs the scheme's pensioners"),
])
def test_floor_costing_alone_refuses_scheme_inputs(demo, change, pattern):
    alone = floor_only(with_floor(demo, [old_age("universal")]))
    with pytest.raises(InputError, match=pattern):
        change(alone)


@pytest.mark.parametrize("rows,extra,pattern", [
    ([old_age("x", kind="pension")], {}, r"'floor.kind' at floor_benefit=x: value 'pension' is not an option"),
    ([old_age("x", amount=None)], {}, r"'floor.amount' at floor_benefit=x: no value; 'amount' is required"),
    ([old_age("x", min_age=70, max_age=60)], {}, r"'floor.max_age' at floor_benefit=x: value 60 is below min_age 70"),
    ([old_age("x", min_age=65.5)], {}, r"value 65.5 is not a whole age in 0..120"),
    ([old_age("x", take_up=1.2)], {}, r"'floor.take_up' at year=2020, floor_benefit=x: value 1.2 is outside \[0, 1\]"),
    ([old_age("x", basis="gdp_per_capita", indexation="prices", amount=0.2)], {},
     r"'floor.indexation' at floor_benefit=x: value 'prices' for an amount on the gdp_per_capita basis"),
    ([old_age("x", basis="poverty_line", amount=1.0)], {}, r"value 'poverty_line', but economy.poverty_line is not given"),
    ([old_age("x", basis="average_wage", amount=6000)], {}, r"value 6000 is a share of the average_wage"),
    ([{"benefit": "m", "kind": "maternity", "amount": 1.0, "test": "top_up"}], {},
     r"'floor.test' at floor_benefit=m: value 'top_up' for a maternity benefit"),
    ([old_age("=SUM(A1)")], {}, r"benefit name '=SUM\(A1\)' is not allowed"),
    ([old_age("x"), old_age("x")], {}, r"benefit 'x' is named twice"),
    ([old_age("x")], {"economy": {"government_expenditure_pct_gdp": 0.4}},
     r"'economy.government_expenditure_pct_gdp': value 0.4 is outside \(1, 100\]"),   # one value for every year
    ([old_age("x")], {"floor": {"admin_share": {"y": 0.1}}}, r"benefit 'y' is not a benefit of the floor"),
])
def test_bad_floor_inputs_name_the_field_and_benefit(demo, rows, extra, pattern):
    with pytest.raises(InputError, match=pattern):
        with_floor(demo, rows, **extra)


def test_floor_economy_inputs_without_a_floor_are_refused(demo):
    with pytest.raises(InputError, match=r"'economy.poverty_line' is only used by the social protection floor"):
        demo.replace(economy={"poverty_line": 10_000.0})
