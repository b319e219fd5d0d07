"""The embedded Demoland case: real population, every part-1 feature in use, kernel = reference."""

import numpy as np
import pandas as pd
import pytest

from actuary import Valuation
from actuary.inputs import FIELDS, PROVISIONS_BY_YEAR


SCHEMA_YEAR = ["insurable_wage_bill", "contributions", "benefit_expenditure", "grants", "admin_expenses",
               "total_expenditure", "investment_income", "reserve", "paygo_cost_rate", "reserve_ratio",
               "trust_fund_ratio", "gdp", "expenditure_pct_gdp", "contributors", "pensioners",
               "system_dependency_ratio", "demographic_dependency_ratio", "replacement_rate"]
SCHEMA_AGE = ["population", "active", "inactive", "new_entrants", "average_insurable_salary"]
SCHEMA_BENEFIT_AGE = ["pensioners_by_age", "new_pensioners", "average_pension"]


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


@pytest.fixture(scope="module")
def results(demo):
    return demo.run()


def test_results_use_the_schema_names(results):
    p = results.projection
    for name in SCHEMA_YEAR:
        assert p[name].dims == ("year",), name
    for name in SCHEMA_AGE:
        assert p[name].dims[0] == "year" and "sex" in p[name].dims, name
    for name in SCHEMA_BENEFIT_AGE:
        assert p[name].dims == ("year", "benefit", "sex", "age"), name
    assert p.benefit_expenditure_by_benefit.dims == ("year", "benefit")
    assert p.pensioners_by_benefit.dims == ("year", "benefit")
    assert list(results.summary.horizon.values) == [10, 25, 50, 75, 100]
    assert p.sizes["year"] == 100 and p.year.values[0] == 2020


def test_population_is_canada_2020(demo, wpp_folder):
    """Demoland's base population at ages 0-99 is WPP 2019's Canada at 1 January 2020 within 0.2%."""
    published = pd.read_csv(wpp_folder / "output_population.csv")
    published = published[published.year == 2020].set_index(["sex", "age"]).population.to_xarray()
    ours = demo.inputs.demography["population"].sel(age=slice(0, 99))
    relative = np.abs(ours / published.sel(sex=ours.sex, age=ours.age) - 1)
    assert float(relative.max()) < 0.002


def test_kernel_matches_reference_on_demoland(demo, results):
    """The projection and the summary (with the balance sheet from the closed-group runs)."""
    reference = demo.run("reference")
    for ours, theirs in ((results.projection, reference.projection), (results.summary, reference.summary)):
        for name, variable in ours.data_vars.items():
            if variable.dtype.kind == "f":
                np.testing.assert_allclose(variable.values, theirs[name].values, rtol=1e-9,
                                           atol=1e-9 * max(1.0, float(np.nanmax(np.abs(theirs[name].values)))),
                                           err_msg=name)


def test_features_bind_in_demoland(results):
    p = results.projection
    assert p.contribution_rate.min() < p.contribution_rate.max()          # a contribution-rate schedule
    salary = p.average_insurable_salary.sel(year=2020, age=50, sex="male")
    assert salary < 1.25 * 55_000                                          # the ceiling bites (lognormal)
    assert float(p.withdrawal_grants.sum()) > 0 and float(p.grant_recipients.sum()) > 0   # refunds
    assert float(p.funeral_grants.sum()) > 0
    for benefit in ("invalidity", "widow", "orphan"):
        assert float(p.new_pensioners.sel(benefit=benefit).sum()) > 0, benefit
        assert float(p.pensioners_at_valuation.sel(benefit=benefit).sum()) > 0, benefit
    assert float(p.invalidity_conversions.sum()) > 0 and float(p.reentries.sum()) > 0
    assert float(p.pensioner_exits.sel(benefit="widow").sum()) > 0                        # remarriage
    assert float(p.new_pensioners.sel(benefit="old_age", age=slice(59, 63)).sum()) > 0   # early retirement
    assert float(p.new_pensioners.sel(benefit="old_age", age=slice(66, 69)).sum()) > 0   # late retirement
    assert float(p.state_subsidy.sum()) > 0 and float(p.admin_expenses.sum()) > 0
    assert float(p.inactive_retirements.sum()) > 0


SCALARS = [(group, name) for group in ("scheme", "economy") for name, field in FIELDS[group].items()
           if (not field.dims or name in PROVISIONS_BY_YEAR) and field.kind not in ("choice",)]


def _perturbed(name, field, value):
    if name == "indexation_lag":
        return 0
    if name == "reference_earnings_years":
        return 5
    if name == "indexation_floor":
        return 0.03
    if name == "indexation_cap":
        return 0.01
    if name == "maximum_pension":
        return 0.5 * value if np.isfinite(value) else 30_000.0   # lower it so that it binds
    if name == "orphan_age_limit":
        return 12
    if name == "survivor_share_cap":
        return 0.5          # binds: widow 60% + orphans 20% each
    if not np.isfinite(value) or value == 0:
        return 0.05
    if field.kind == "probability" and value * 1.1 > 1:
        return value * 0.9
    return value * 1.1


@pytest.mark.parametrize("group,name", SCALARS)
def test_every_scalar_provision_changes_the_projection(demo, results, group, name):
    """No accepted parameter is ignored: moving any scalar provision moves the projection."""
    raw = {g: dict(v) for g, v in demo.raw.items()}
    field = FIELDS[group][name]
    value = getattr(demo.inputs, group)[name]
    if name in PROVISIONS_BY_YEAR:  # constant in Demoland
        value = float(value.values[0])
    base = results.projection
    if name == "grant_multiple":  # Demoland refunds contributions: switch to the multiple-of-earnings grant
        del raw["scheme"]["refund_contribution_rate"]
        raw["scheme"]["grant_type"] = "multiple"
        value = 0.0
    if name == "exit_vesting_years":  # Demoland's leavers keep deferred rights: compare refunds with and without
        raw["scheme"]["exit_benefit"] = "refund"
        base = Valuation(**raw).run().projection
        value = 10.0
    if name == "flat_pension_service":  # prorates a flat-rate pension: give Demoland one
        raw["scheme"]["flat_pension"] = 2000.0
        base = Valuation(**raw).run().projection
        value = 40.0
    raw[group][name] = _perturbed(name, field, value)
    changed = Valuation(**raw).run().projection
    difference = max(float(np.nanmax(np.abs(changed[v] - base[v]))) for v in
                     ("total_expenditure", "insurable_wage_bill", "reserve", "gdp"))
    assert difference > 0, f"{group}.{name} = {raw[group][name]} changed nothing"


def test_each_demo_is_its_own_copy():
    """Valuation.demo() parses and validates the workbook once and deep-copies it for each call: changing one
    copy's inputs or validated inputs in place leaves the next call's untouched."""
    first = Valuation.demo()
    expected = float(np.asarray(first.inputs.scheme["contribution_rate"]).ravel()[0])
    first.inputs.scheme["contribution_rate"].values[...] = expected + 0.5
    first.raw["scheme"]["contribution_rate"].values[...] = expected + 0.5
    first.inputs.by_demography["planted"] = None
    second = Valuation.demo()
    assert float(np.asarray(second.inputs.scheme["contribution_rate"]).ravel()[0]) == expected
    assert float(np.asarray(second.raw["scheme"]["contribution_rate"]).ravel()[0]) == expected
    assert "planted" not in second.inputs.by_demography
    assert second.source == first.source and second.name == first.name == "demoland"
