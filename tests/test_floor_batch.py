"""The social protection floor in batch runs: every stochastic path's floor and fiscal cost equal a full
valuation of that path's inputs; sensitivities carry them (tornado rows, workbook columns). A floor
costing alone runs its sensitivities (ranked by the floor's level cost) and stochastic paths (fan
charts of its cost, no depletion), from Python and from the command line."""

from dataclasses import fields

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

from actuary import InputError, load_workbook
from actuary.batch import (FLOOR_YEARLY, Scale, Scenario, Set, Shift, sensitivity, standard_sensitivities, tornado,
                           write_sensitivity)
from actuary.cli import main
from actuary.floor import floor_only
from actuary.inputs import FIELDS, Inputs
from actuary.kernels.batch import FLOOR_INDICATORS, IMPROVEMENT_HIGH, IMPROVEMENT_LOW
from actuary.stochastic import (FLOOR_ONLY_INDICATORS, StochasticParameters, draw_paths, floor_only_paths,
                                indicator_names, pack,
                                path_valuation, run_chunk, simulate, write_stochastic)
from actuary.valuation import PROJECT_ROOT

from .test_floor_report import borrowing_from_the_finance_table, own_deficit_from_the_finance_table

CASE = PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx"


@pytest.fixture(scope="module")
def case():
    return load_workbook(CASE)


@pytest.mark.parametrize("state_top_up, after_depletion", [(False, "borrow"), (True, "borrow"), (True, "payable")])
def test_batch_paths_carry_the_floor_of_a_full_valuation(case, state_top_up, after_depletion):
    """(With the minimum pension raised and paid by the state, the fiscal cost carries the top-up the state pays:
    under settings.after_depletion payable, that of the share of the pensions paid after depletion.)"""
    case = case.replace(settings={"after_depletion": after_depletion})
    if state_top_up:
        case = case.replace(scheme={"minimum_pension": 20000.0, "minimum_pension_financing": "state"})
    params = StochasticParameters(wage_volatility=0.02, mortality_volatility=0.004, fertility_volatility=0.1)
    packed = pack(case)
    names = indicator_names(packed)
    assert names[-5:-2] == FLOOR_INDICATORS   # then the life expectancy at 65 of men and women
    values = run_chunk(packed, params, 7, [2, 11])
    draws = draw_paths(case.inputs, params, 7, [2, 11])
    for i in range(2):
        results = path_valuation(case, draws, i).run()
        expected = results.projection
        for k, name in enumerate(names):
            if name.startswith("life_expectancy_65_"):
                reference = expected.life_expectancy_65.sel(sex=name.removeprefix("life_expectancy_65_")).values
            elif name == "fiscal_cost_with_borrowing_pct_gdp" and name not in expected:   # payable: no borrowing
                reference = expected.fiscal_cost_pct_gdp.values
            else:
                reference = expected[name].values
            np.testing.assert_allclose(values[i, k], reference, rtol=1e-9, atol=1e-9 * np.abs(reference).max(),
                                       err_msg=name)
        # the fiscal cost including the scheme's borrowing, from the path's own finance table: the path borrows
        borrowing = borrowing_from_the_finance_table(expected, float(results.summary.depletion_year))
        if after_depletion == "borrow":
            assert borrowing.sum() > 0
        else:   # the path depletes (the top-up paid is p T) and the reserve stays at 0: no borrowing
            assert float(expected.payable_share.min()) < 1
            np.testing.assert_allclose(borrowing, 0.0, atol=1e-9 * float(expected.total_expenditure.max()))
        own = own_deficit_from_the_finance_table(expected, borrowing)   # without the interest on the debt
        if after_depletion == "borrow":
            assert (own < borrowing).any()   # the interest is left out
        np.testing.assert_allclose(values[i, names.index("fiscal_cost_with_borrowing_pct_gdp")],
                                   expected.fiscal_cost_pct_gdp.values + 100 * own / expected.gdp.values,
                                   rtol=1e-9, atol=1e-12)


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
    """(The fiscal cost including the scheme's borrowing of each scenario is the fiscal cost plus the borrowing derived
    from the scenario's own finance table; a scenario whose benefits are cut after depletion borrows nothing.)"""
    cut = Scenario("benefits cut", {"settings.after_depletion": Set("payable")})
    ds = sensitivity(case, extra=[cut])
    direct = Scenario("real return up", {"economy.nominal_return": Shift(0.01)}).apply(case).run()
    np.testing.assert_allclose(ds.floor_cost_pct_gdp.sel(scenario="real return up").values,
                               direct.projection.floor_cost_pct_gdp.values, rtol=1e-12)
    for scenario, results in (("real return up", direct), ("benefits cut", cut.apply(case).run())):
        p = results.projection
        borrowing = borrowing_from_the_finance_table(p, float(results.summary.depletion_year))
        assert (borrowing.max() > 1.0) == (scenario == "real return up")   # (rounding under payable)
        np.testing.assert_allclose(ds.fiscal_cost_with_borrowing_pct_gdp.sel(scenario=scenario).values,
                                   p.fiscal_cost_pct_gdp.values
                                   + 100 * own_deficit_from_the_finance_table(p, borrowing) / p.gdp.values, rtol=1e-9,
                                   atol=1e-12, err_msg=scenario)
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
    assert f"Fiscal cost including the scheme's borrowing in {t0 + 49}, up (% of GDP)" in headers
    assert "Fiscal cost with borrowing" in openpyxl.load_workbook(path).sheetnames


@pytest.fixture(scope="module")
def alone(case):
    """The floor of the Demoland case costed alone, over 40 years."""
    return floor_only(case).replace(settings={"horizon": 40, "gap_horizons": (10, 40)})


def test_sensitivity_of_a_floor_costing_alone_ranks_by_the_floor_level_cost(alone, tmp_path):
    ds = sensitivity(alone)
    assert "gap" not in ds and "reserve_ratio" not in ds and set(FLOOR_YEARLY) - set(ds.data_vars) == \
        {"fiscal_cost_with_borrowing_pct_gdp"}   # no scheme, no borrowing
    one_at_a_time = [s for _, down, up in standard_sensitivities(True, False) for s in (down, up)]
    assert list(ds.scenario.values) == ["base"] + [s.name for s in one_at_a_time] + ["optimistic", "pessimistic"]
    assert not any(s.startswith(("coverage", "retirement")) for s in ds.scenario.values)   # no scheme behaviour
    direct = Scenario("fertility up", {"demography.fertility": Scale(1.2)}).apply(alone).run()
    np.testing.assert_allclose(ds.floor_cost_pct_gdp.sel(scenario="fertility up").values,
                               direct.projection.floor_cost_pct_gdp.values, rtol=1e-12)
    np.testing.assert_allclose(ds.floor_cost_level_pct_gdp.sel(scenario="fertility up").values,
                               direct.summary.floor_cost_level_pct_gdp.values, rtol=1e-12)
    rows = tornado(ds)
    level = ds.floor_cost_level_pct_gdp.isel(horizon=-1)
    for row in rows:
        for side in ("down", "up"):
            assert row[side] == pytest.approx(float(level.sel(scenario=f"{row['assumption']} {side}")) / 100, rel=1e-14)
        assert row["base"] == pytest.approx(float(level.sel(scenario="base")) / 100, rel=1e-14)
    assert [r["swing"] for r in rows] == sorted((r["swing"] for r in rows), reverse=True)
    # the combined scenarios take every assumption to the side that lowered (raised) the level cost
    assert float(level.sel(scenario="optimistic")) < min(float(level.sel(scenario=s.name)) for s in one_at_a_time)
    assert float(level.sel(scenario="pessimistic")) > max(float(level.sel(scenario=s.name)) for s in one_at_a_time)
    path = tmp_path / "sensitivity.xlsx"
    write_sensitivity(ds, path)
    written = openpyxl.load_workbook(path)
    headers = [c.value for c in written["Tornado"][2]]
    assert headers[:4] == ["Assumption", "Level cost of the floor, base (% of GDP)",
                           "Level cost of the floor, assumption down (%)", "Level cost of the floor, assumption up (%)"]
    assert not any("Depletion" in h or "Reserve" in h or "GAP" in h for h in headers)
    titles = [" ".join(r.t for p in c.title.tx.rich.p for r in (p.r or [])) for c in written["Charts"]._charts]
    assert titles[0] == "Tornado: change in the level cost of the floor over 40 years"
    assert "Cost of the floor: base, optimistic and pessimistic scenarios" in titles


def test_stochastic_floor_costing_alone_without_volatility_is_the_base_run(alone):
    calm = StochasticParameters(**{f.name: 0.0 for f in fields(StochasticParameters) if "volatility" in f.name})
    ds = simulate(alone, 6, seed=4, chunk_size=4, params=calm)
    assert "probability_of_depletion" not in ds and "paygo_cost_rate" not in ds
    base = alone.run().projection
    for name in ("floor_cost_pct_gdp", "fiscal_cost_pct_gdp", "gdp"):
        for k in ds.percentile.values:
            np.testing.assert_allclose(ds[name].sel(percentile=k).values, base[name].values, rtol=1e-9, err_msg=name)
    for sex in ("male", "female"):   # the life expectancy at 65 too (from each path's mortality)
        np.testing.assert_allclose(ds[f"life_expectancy_65_{sex}"].values,
                                   np.broadcast_to(base.life_expectancy_65.sel(sex=sex).values, (5, base.sizes["year"])),
                                   rtol=1e-9, err_msg=sex)


def test_a_path_whose_walk_passes_the_improvement_bounds_is_held_at_them(case):
    """A path's random walk may take the mortality improvement rates past the input's bounds, -10% .. 10% a year
    (path 17 of seed 0 with the improvement model at 0.005, the largest mortality_volatility it allows, passes +10%
    in 2097): the rates are held at the bound, in the batch kernel and in the full valuation of the path alike, and
    the run goes on (a floor costing alone, whose paths are full valuations, stopped with an error about an input
    the user never typed). (The improvement model's walk is what takes a path past the bounds for decades; the
    level model's deviations pass them in single years: test_stochastic_mortality.py.)"""
    params = StochasticParameters(mortality_model="improvement", mortality_volatility=0.005)
    draws = draw_paths(case.inputs, params, 0, [17])
    shifted = case.inputs.demography["mortality_improvement"].values + draws["improvement_shift"][0][:, None, None]
    assert shifted.max() > 0.1   # the walk does pass the bound
    held = path_valuation(case, draws, 0).inputs.demography["mortality_improvement"].values
    np.testing.assert_array_equal(held, np.clip(shifted, -0.1, 0.1))
    bounds = FIELDS["demography"]["mortality_improvement"].bounds
    assert (bounds.low, bounds.high) == (IMPROVEMENT_LOW, IMPROVEMENT_HIGH)
    packed = pack(case)
    names = indicator_names(packed)
    values = run_chunk(packed, params, 0, [17])
    expected = path_valuation(case, draws, 0).run().projection
    for k, name in enumerate(names):   # the life expectancy at 65 by sex: one variable a sex in the paths
        reference = expected[name].values if name in expected else \
            expected.life_expectancy_65.sel(sex=name.removeprefix("life_expectancy_65_")).values
        np.testing.assert_allclose(values[0, k], reference, rtol=1e-9, atol=1e-9 * np.abs(reference).max(),
                                   err_msg=name)
    alone = floor_only(case)
    kept = floor_only_paths(alone, params, 0, [17])[0]
    projection = path_valuation(alone, draws, 0).run().projection
    np.testing.assert_allclose(kept[list(FLOOR_ONLY_INDICATORS).index("floor_cost_pct_gdp")],
                               projection.floor_cost_pct_gdp.values, rtol=1e-12)


def test_stochastic_floor_costing_alone_has_fan_charts(alone, tmp_path):
    ds = simulate(alone, 24, seed=5, chunk_size=8, keep_paths=True)
    paths = ds.path_floor_cost_pct_gdp.values
    assert np.all(np.diff(ds.floor_cost_pct_gdp.values, axis=0) >= 0)
    assert np.all(ds.floor_cost_pct_gdp.sel(percentile=5).values >= paths.min(axis=0) - 1e-12)
    assert np.all(ds.floor_cost_pct_gdp.sel(percentile=95).values <= paths.max(axis=0) + 1e-12)
    assert paths[:, -1].std() > 0   # the paths differ
    path = tmp_path / "stochastic.xlsx"
    write_stochastic(ds, path)
    written = openpyxl.load_workbook(path)
    assert "Depletion" not in written.sheetnames and {"Cost of the floor", "Fiscal cost"} <= set(written.sheetnames)
    titles = [" ".join(r.t for p in c.title.tx.rich.p for r in (p.r or [])) for c in written["Charts"]._charts]
    assert "Cost of the floor: fan chart (P5, P25, median, P75, P95)" in titles
    assert not any("depleted" in t for t in titles)


@pytest.mark.parametrize("command", [["sensitivity"], ["stochastic", "--paths", "12", "--chunk-size", "6"],
                                     ["report", "--with-sensitivity", "--with-stochastic", "12"]])
def test_batch_commands_run_a_floor_costing_alone(alone, tmp_path, command):
    workbook = tmp_path / "alone.xlsx"
    alone.to_workbook(workbook)
    result = CliRunner().invoke(main, [command[0], str(workbook), "--out", str(tmp_path / "out"), *command[1:]],
                                terminal_width=200)
    assert result.exit_code == 0 and result.exception is None, result.output
    written = sorted(p.name for p in (tmp_path / "out").iterdir() if p.name != ".actuary-outputs.json")
    assert written[0].startswith(f"alone-{command[0]}")
    if command[0] == "report":
        html = (tmp_path / "out" / "alone-report.html").read_text()
        assert 'data-figure="tornado"' in html and 'data-figure="fan-floor_cost_pct_gdp"' in html
        assert 'id="stochastic"' not in html and 'id="sensitivity"' not in html   # the scheme's chapters
        assert "general average premium" not in html.split('id="methodology"')[0]


@pytest.mark.parametrize("command", [["solve", "--lever", "contribution_rate", "--target", "gap<=0.2"],
                                     ["compare", "OPTION"], ["synth", "--members", "10"]])
def test_scheme_commands_refuse_a_floor_costing_alone_in_one_paragraph(alone, tmp_path, command):
    workbook = tmp_path / "alone.xlsx"
    alone.to_workbook(workbook)
    arguments = [str(workbook) if a == "OPTION" else a for a in command[1:]]
    result = CliRunner().invoke(main, [command[0], str(workbook), *arguments, "--out", str(tmp_path / "out")],
                                terminal_width=200)
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "social protection floor costing alone (settings.scheme = no)" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def _inflation_moves_no_floor_share_of_gdp(case, moved):
    """Demoland-floor's floor benefits are a share of the poverty line, an amount indexed by prices and a share of
    the average wage: each moves with the price index as GDP does, so with the poverty line moving with prices
    another inflation path leaves the floor's cost as a share of GDP unchanged, year by year."""
    expected = case.run().projection.floor_cost_pct_gdp.values
    np.testing.assert_allclose(moved, expected, rtol=1e-10)


def test_a_scenario_of_other_inflation_moves_the_poverty_line_with_its_prices(case):
    """The poverty line is given in the valuation's money: a scenario (a sensitivity test, a Scenarios row, an option)
    of other inflation that gives no poverty line of its own moves it by its price index over the valuation's
    (before, the line stayed put while GDP, prices and wages moved: inflation ranked first among the floor's
    sensitivities, its level cost 1.21% of GDP becoming 1.75% and 0.91%)."""
    up = Scenario("inflation up", {"economy.inflation": Shift(0.01)}).apply(case)
    pi = case.inputs.economy["inflation"].values
    ratio = np.ones_like(pi)
    for t in range(1, pi.size):   # P'_t / P_t, both 1 at the valuation year
        ratio[t] = ratio[t - 1] * (1 + pi[t] + 0.01) / (1 + pi[t])
    line = case.inputs.economy["poverty_line"].values
    np.testing.assert_allclose(up.inputs.economy["poverty_line"].values, line * ratio, rtol=1e-14)
    _inflation_moves_no_floor_share_of_gdp(case, up.run().projection.floor_cost_pct_gdp.values)
    # a scenario that sets the poverty line itself keeps it as given
    given = Scenario("own line", {"economy.inflation": Shift(0.01), "economy.poverty_line": Scale(1.0)}).apply(case)
    np.testing.assert_array_equal(given.inputs.economy["poverty_line"].values, line)


def test_a_scenario_moving_the_poverty_line_validates_its_inputs_once(case, monkeypatch):
    """The moved poverty line is validated with the scenario's other inputs (before, a second validation of the
    whole case re-checked it alone); bad input is said as it was: the inflation first, then the line it moves."""
    validations = []
    cross_checks = Inputs._cross_checks
    monkeypatch.setattr(Inputs, "_cross_checks", lambda self, raw: validations.append(1) or cross_checks(self, raw))
    up = Scenario("inflation up", {"economy.inflation": Shift(0.01)}).apply(case)
    assert len(validations) == 1 and up.inputs.economy["poverty_line"] is not None
    for shift, said in ((0.97, "option 'hot': Input 'economy.poverty_line' at year=2067: value 1.341082602079477e+18 "
                               "is outside (0, 1e+18]; expected a positive number above 0 and at most 1e+18."),
                        (-0.6, "option 'hot': Input 'economy.inflation' at year=2020: value -0.575 is outside "
                               "(-0.5, 1); expected an annual rate above -0.5 and below 1 (a share: 0.05 is 5%).")):
        with pytest.raises(InputError) as raised:
            Scenario("hot", {"economy.inflation": Shift(shift)}, kind="option").apply(case)
        assert str(raised.value) == said
        assert raised.value.field == said.split("'")[3] and raised.value.where == {"year": int(said.split("=")[1][:4])}


@pytest.mark.parametrize("alone", [False, True], ids=["with the scheme (batch kernel)", "floor costing alone"])
def test_stochastic_inflation_moves_the_poverty_line_with_each_paths_prices(case, alone):
    """Paths that differ only in inflation: every path's floor cost as a share of GDP is the valuation's, in the
    batch kernel (scheme and floor) and in the full valuations of a floor costing alone."""
    if alone:
        case = floor_only(case)
    params = StochasticParameters(wage_volatility=0.0, inflation_volatility=0.02, return_volatility=0.0,
                                  mortality_volatility=0.0, mortality_drift_volatility=0.0,
                                  fertility_volatility=0.0)
    packed = pack(case)
    names = list(indicator_names(packed))
    values = run_chunk(packed, params, 3, [0, 5])
    draws = draw_paths(case.inputs, params, 3, [0, 5])
    assert np.ptp(draws["inflation"][:, 1:]) > 0.02   # the paths' prices do differ
    for i in range(2):
        _inflation_moves_no_floor_share_of_gdp(case, values[i, names.index("floor_cost_pct_gdp")])


def test_the_memory_of_kept_paths_counts_the_floors_indicators(case):
    """--keep-paths is refused up front by the memory every path's indicators need: 28 a path with a floor (23 of the
    scheme, 3 of the floor and the life expectancy at 65 of men and women), as many as a floor costing alone has
    (the check counted 23 whatever the case)."""
    from actuary.stochastic import LIFE_EXPECTANCY_INDICATORS, kept_paths_bytes, path_indicator_count

    assert path_indicator_count(case.inputs) == len(indicator_names(pack(case))) == 28
    alone = floor_only(case)
    assert path_indicator_count(alone.inputs) == len(indicator_names(pack(alone))) == \
        len(FLOOR_ONLY_INDICATORS + LIFE_EXPECTANCY_INDICATORS)
    assert kept_paths_bytes(1000, 100, path_indicator_count(case.inputs)) == 1000 * 28 * 100 * 8
