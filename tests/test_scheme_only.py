"""Scheme-only valuations (no national population): the stationary closed form, the stable initial
population and single-age schedules of the helpers, results without population indicators, and the
workbook, command line and batch runs coping with them."""

import numpy as np
import openpyxl
import pytest
import xarray as xr
from click.testing import CliRunner

from actuary import InputError, Valuation, load_workbook, single_ages, stable_actives
from actuary.batch import sensitivity, tornado
from actuary.cli import main
from actuary.io.results import write_results
from actuary.stochastic import NATIONAL_INDICATORS, StochasticParameters, draw_paths, pack, path_valuation, run_chunk
from actuary.kernels.batch import INDICATORS

from .test_scheme_closed_form import BIRTHS, COVERAGE, ENTRY, OMEGA, R, SRB, _q, closed_form_paygo, stationary_valuation

SEXES = ["male", "female"]
POPULATION_VARIABLES = ("population", "births", "deaths", "target_insured", "gdp", "expenditure_pct_gdp",
                        "demographic_dependency_ratio", "population_at_valuation")


def da(values, **coords):
    return xr.DataArray(np.asarray(values, dtype=float), dims=tuple(coords), coords=coords)


def scheme_only_stationary(horizon=30, **groups) -> Valuation:
    """The stationary scheme of test_scheme_closed_form without a national population: COVERAGE x BIRTHS
    entrants a year at age 20 (growth method, no growth), the initial actives from the service table
    (everyone in service from 20 to 64) by ``stable_actives``, the stationary pensioners."""
    national = stationary_valuation(horizon)
    ages = np.arange(ENTRY, OMEGA + 1)
    male = SRB / (1 + SRB)
    distribution = da([[male if x == ENTRY else 0.0 for x in ages], [1 - male if x == ENTRY else 0.0 for x in ages]],
                      sex=SEXES, age=ages)
    table = da(np.where(ages < R, 1.0, 0.0), age=ages)
    entrants = COVERAGE * BIRTHS
    raw = {g: dict(x) for g, x in national.raw.items()}
    raw["settings"].update(national_population="no", new_entrant_method="growth")
    for key in ("population", "fertility", "sex_ratio_at_birth"):
        raw["demography"].pop(key, None)
    for key in ("gdp",):
        raw["economy"].pop(key)
    for key in ("participation", "coverage"):
        raw["behaviour"].pop(key)
    raw["behaviour"].update(entrants=entrants, entrant_distribution=distribution)
    raw["initial"]["active"] = stable_actives(table, distribution, entrants, 0.0, max_service=60)
    for group, values in groups.items():
        raw[group].update(values)
    return Valuation(**raw)


@pytest.fixture(scope="module")
def stationary():
    return scheme_only_stationary()


@pytest.fixture(scope="module")
def stationary_results(stationary):
    return stationary.run()


def test_scheme_only_stationary_paygo_equals_the_closed_form(stationary, stationary_results):
    p = stationary_results.projection
    np.testing.assert_allclose(p.paygo_cost_rate, closed_form_paygo(), rtol=1e-10)
    np.testing.assert_allclose(p.active, p.active_at_valuation.broadcast_like(p.active), rtol=1e-10, atol=1e-6)
    # the helper's stable population is the hand-built stationary one of the national case
    np.testing.assert_allclose(stationary.inputs.initial["active"].values,
                               stationary_valuation(2).inputs.initial["active"].values, rtol=1e-14)


def test_population_indicators_are_absent_not_nan(stationary_results):
    p = stationary_results.projection
    for name in POPULATION_VARIABLES:
        assert name not in p, name
    for name, variable in p.data_vars.items():
        if variable.dtype.kind == "f" and name != "replacement_rate":
            assert not np.any(np.isnan(variable.values)), name
    assert p.attrs["national_population"] == "no"


def test_stocks_dependency_ratio_in_the_stationary_scheme(stationary_results):
    """Pensioners / actives, both at 31 December: sum of the pensioners' survivorship from 65 over the
    45 ages in service; the flow ratio divides the same pensioners by the actives' exposure."""
    q = _q()
    survivors = np.concatenate([[1.0], np.cumprod(1 - q[R:OMEGA])])
    expected = survivors.sum() / (R - ENTRY)
    p = stationary_results.projection
    np.testing.assert_allclose(p.system_dependency_ratio_stock, expected, rtol=1e-10)
    exposure = (R - 1 - ENTRY) + 0.5 + 0.5
    np.testing.assert_allclose(p.system_dependency_ratio, survivors.sum() / exposure, rtol=1e-10)


def test_stable_population_grows_with_its_entrants():
    """With entrants growing at g for ever and a service table built from the engine's own decrements,
    the stable population stays stable: a year later every cell is (1 + g) times larger."""
    g = 0.02
    base = scheme_only_stationary(horizon=3)
    ages = np.arange(ENTRY, OMEGA + 1)
    exit_rate = np.where(ages < R, 0.01 + 0.002 * (ages - ENTRY) % 0.05, 0.0)
    q = _q()[ENTRY:]
    survival = (1 - q) * (1 - exit_rate)
    table = da(np.where(ages < R, np.concatenate([[1.0], np.cumprod(survival[:-1])]), 0.0), age=ages)
    distribution = base.inputs.behaviour["entrant_distribution"]
    entrants = 1000.0
    active = stable_actives(table, distribution, entrants, g, max_service=60)
    v = base.replace(behaviour={"exit_rate": da(exit_rate, age=ages), "entrants": entrants, "entrant_growth": g},
                     scheme={"exit_benefit": "none"}, initial={"active": active})
    p = v.run().projection
    np.testing.assert_allclose(p.active.sel(year=2000, age=ages), (1 + g) * active.sum("service"), rtol=1e-12)
    assert float(p.withdrawals.sum()) > 0 and float(p.inactive.sum()) == 0.0


def test_single_ages_from_five_year_groups():
    """Groups 20-24: 10%, 25-29: 6%, 30-34: 4%; step: the group's value; linear: through the groups'
    mean ages 22, 27, 32, held beyond (age 24: 10% + 2/5 x (6% - 10%) = 8.4%)."""
    table = {20: 0.10, 25: 0.06, 30: 0.04}
    step = single_ages(table, method="step")
    assert list(step.age.values) == list(range(20, 35))
    np.testing.assert_allclose(step.values, [0.10] * 5 + [0.06] * 5 + [0.04] * 5)
    linear = single_ages(table)
    np.testing.assert_allclose(linear.sel(age=[20, 22, 24, 27, 29, 32, 34]).values,
                               [0.10, 0.10, 0.084, 0.06, 0.06 - 2 / 5 * 0.02, 0.04, 0.04], rtol=1e-14)
    by_sex = da([[1.0, 2.0], [3.0, 5.0]], sex=SEXES, age=[60, 65])
    out = single_ages(by_sex, ages=np.arange(58, 70))
    assert out.dims == ("sex", "age")
    np.testing.assert_allclose(out.sel(sex="female", age=[58, 62, 64, 67, 69]).values, [3.0, 3.0, 3.8, 5.0, 5.0])
    with pytest.raises(InputError, match="every 5 years"):
        single_ages({20: 0.1, 30: 0.2})


def test_scheme_only_workbook_round_trip_and_command_line(stationary, tmp_path):
    path = tmp_path / "scheme.xlsx"
    stationary.to_workbook(path)
    again = load_workbook(path)
    for group in ("settings", "scheme", "behaviour", "initial"):
        for key, value in getattr(stationary.inputs, group).items():
            other = getattr(again.inputs, group)[key]
            if hasattr(value, "values"):  # openpyxl writes 16 significant digits (1.1400000000000001 -> 1.14)
                np.testing.assert_allclose(value.values, other.values, rtol=1e-15, atol=0, err_msg=f"{group}.{key}")
            else:
                assert value == other, (group, key)
    result = CliRunner().invoke(main, ["valuate", str(path), "--out", str(tmp_path / "out")], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "GDP" not in result.output and "General average premium" in result.output
    written = openpyxl.load_workbook(tmp_path / "out" / "scheme-results.xlsx", read_only=True)
    assert "Population by age" not in written.sheetnames
    demography = [c.value for c in next(written["Demography"].iter_rows(min_row=2, max_row=2))]
    assert not any(h.startswith(("Population", "Births", "Deaths")) for h in demography)   # life expectancy only
    headers = [c.value for c in next(written["Financial projection"].iter_rows(min_row=2, max_row=2))]
    assert not any(h.startswith("GDP") for h in headers) and "Reserve, end of year (millions)" in headers


def test_population_inputs_refused_in_a_scheme_only_workbook(stationary, tmp_path):
    path = tmp_path / "scheme.xlsx"
    stationary.to_workbook(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Economy"]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=1).value == "gdp")
    ws.cell(row=row, column=2, value=1e10)
    wb.save(path)
    with pytest.raises(InputError, match=rf"^Economy!B{row}: Input 'economy.gdp' is only used with a national "
                                         "population"):
        load_workbook(path)


def test_national_workbook_needs_its_population_column(tmp_path):
    path = tmp_path / "national.xlsx"
    Valuation.demo().to_workbook(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Labour force"]
    column = next(c.column for c in ws[2] if c.value == "coverage")
    ws.delete_cols(column)
    wb.save(path)
    with pytest.raises(InputError, match=r"^Labour force!.*column 'coverage' is missing"):
        load_workbook(path)


def test_scheme_only_refuses_the_residual_method(stationary):
    with pytest.raises(InputError, match="expected 'growth'"):
        stationary.replace(settings={"new_entrant_method": "residual"}, behaviour={})


def test_write_results_and_sensitivities_without_population(stationary, stationary_results, tmp_path):
    write_results(stationary_results, stationary, tmp_path / "r.xlsx")
    ds = sensitivity(stationary)
    assert ds.attrs["failed"] == ""
    assert "fertility down" not in ds.scenario.values and "expenditure_pct_gdp" not in ds
    rows = tornado(ds)
    assert {r["assumption"] for r in rows} == {"mortality improvement", "real wage growth", "real return",
                                               "inflation", "contribution density", "collection rate",
                                               "retirement rates"}


def test_batch_paths_equal_full_valuations_without_population(stationary):
    """The stochastic batch kernel on a scheme-only valuation with the new provisions switched on
    (refunds at exit above 5 years' exit vesting, accrual changed in 2010, salary scale at exact ages)
    gives what Valuation.run() gives on each path's inputs; the population indicators are absent."""
    years = stationary.inputs.coords["year"]
    accrual = stationary.inputs.scheme["accrual"].copy()
    accrual.loc[dict(year=slice(2010, None))] *= 0.8
    ages = np.arange(ENTRY, OMEGA + 1)
    v = stationary.replace(
        scheme={"exit_benefit": "refund", "exit_vesting_years": 5.0, "refund_contribution_rate": 0.04,
                "accrual": accrual},
        behaviour={"exit_rate": da(np.where(ages < 50, 0.03, 0.0), age=ages), "salary_scale_ages": "exact"})
    params = StochasticParameters(wage_volatility=0.02)
    values = run_chunk(pack(v), params, 5, [1, 2])
    draws = draw_paths(v.inputs, params, 5, [1, 2])
    for i in range(2):
        expected = path_valuation(v, draws, i).run().projection
        for k, name in enumerate(INDICATORS):
            if name in NATIONAL_INDICATORS:
                assert name not in expected
                continue
            reference = expected[name].values
            np.testing.assert_allclose(values[i, k], reference, rtol=1e-9, atol=1e-9 * np.abs(reference).max(),
                                       err_msg=name)
    assert years.size == values.shape[2]
