"""The social protection floor in batch runs: every stochastic path's floor and fiscal cost equal a full
valuation of that path's inputs; sensitivities carry them (tornado rows, workbook columns)."""

import numpy as np
import openpyxl
import pytest

from actuary import InputError, load_workbook
from actuary.batch import Scenario, Shift, run_scenarios, sensitivity, tornado, write_sensitivity
from actuary.floor import floor_only
from actuary.kernels.batch import FLOOR_INDICATORS
from actuary.stochastic import (StochasticParameters, draw_paths, indicator_names, pack, path_valuation, run_chunk,
                                simulate, write_stochastic)
from actuary.valuation import PROJECT_ROOT

CASE = PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx"


@pytest.fixture(scope="module")
def case():
    return load_workbook(CASE)


@pytest.mark.parametrize("state_top_up", [False, True])
def test_batch_paths_carry_the_floor_of_a_full_valuation(case, state_top_up):
    """(With the minimum pension raised and paid by the state, the fiscal cost carries its top-up.)"""
    if state_top_up:
        case = case.replace(scheme={"minimum_pension": 20000.0, "minimum_pension_financing": "state"})
    params = StochasticParameters(wage_volatility=0.02, mortality_volatility=0.004, fertility_volatility=0.1)
    packed = pack(case)
    names = indicator_names(packed)
    assert names[-2:] == FLOOR_INDICATORS
    values = run_chunk(packed, params, 7, [2, 11])
    draws = draw_paths(case.inputs, params, 7, [2, 11])
    for i in range(2):
        expected = path_valuation(case, draws, i).run().projection
        for k, name in enumerate(names):
            reference = expected[name].values
            np.testing.assert_allclose(values[i, k], reference, rtol=1e-9, atol=1e-9 * np.abs(reference).max(),
                                       err_msg=name)


def test_stochastic_run_has_floor_fan_charts(case, tmp_path):
    ds = simulate(case, 40, seed=2, chunk_size=20)
    assert ds.floor_cost_pct_gdp.sizes == {"percentile": 5, "year": 100}
    assert np.all(np.diff(ds.fiscal_cost_pct_gdp.values, axis=0) >= 0)   # percentiles in order
    path = tmp_path / "stochastic.xlsx"
    write_stochastic(ds, path)
    written = openpyxl.load_workbook(path)
    assert {"Cost of the floor", "Fiscal cost"} <= set(written.sheetnames)
    titles = [" ".join(r.t for p in c.title.tx.rich.p for r in (p.r or [])) for c in written["Charts"]._charts]
    assert any(t.startswith("Cost of the floor: fan chart") for t in titles)
    assert any(t.startswith("Fiscal cost: fan chart") for t in titles)


def test_sensitivity_carries_the_floor(case, tmp_path):
    ds = sensitivity(case)
    direct = Scenario("real return up", {"economy.nominal_return": Shift(0.01)}).apply(case).run().projection
    np.testing.assert_allclose(ds.floor_cost_pct_gdp.sel(scenario="real return up").values,
                               direct.floor_cost_pct_gdp.values, rtol=1e-12)
    rows = {r["assumption"]: r for r in tornado(ds)}
    t0 = int(ds.year[0])
    fertility = rows["fertility"]
    assert fertility["floor_cost_pct_gdp_25_up"] == float(
        ds.floor_cost_pct_gdp.sel(scenario="fertility up", year=t0 + 24))
    # more children: a dearer child benefit and maternity benefit in 25 years, a larger GDP later
    assert fertility["floor_cost_pct_gdp_25_up"] != fertility["floor_cost_pct_gdp_25_down"]
    path = tmp_path / "sensitivity.xlsx"
    write_sensitivity(ds, path)
    headers = [c.value for c in openpyxl.load_workbook(path)["Tornado"][2]]
    assert f"Cost of the floor in {t0 + 24}, up (% of GDP)" in headers
    assert f"Fiscal cost in {t0 + 49}, down (% of GDP)" in headers


def test_batch_runs_of_a_floor_costing_alone_are_refused(case):
    alone = floor_only(case)
    for run in (lambda: run_scenarios(alone, [Scenario("x", {"economy.nominal_return": Shift(0.01)})]),
                lambda: simulate(alone, 10)):
        with pytest.raises(InputError, match="a floor costing alone .* has none"):
            run()
