"""Batch runs: scenarios, sensitivities, stochastic paths, in process and on a real Dask LocalCluster."""

import re
import warnings

import numpy as np
import openpyxl
import pytest
import xarray as xr
from click.testing import CliRunner

from actuary import InputError, Valuation
from actuary.batch import Scale, Scenario, Set, Shift, read_scenarios, run_scenarios, sensitivity, tornado
from actuary.cli import main
from actuary.kernels.batch import INDICATORS
from actuary.stochastic import (StochasticParameters, StreamedPercentiles, draw_paths, path_valuation, pack,
                                run_chunk, simulate)

from .xlsx_edit import add_sheet


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


@pytest.fixture(scope="module")
def in_process(demo):
    return simulate(demo, 200, seed=11, chunk_size=64, keep_paths=True)


def test_batch_paths_equal_full_valuations_of_the_same_inputs(demo):
    """The stochastic batch kernel gives what Valuation.run() gives on each path's inputs."""
    params = StochasticParameters(wage_volatility=0.02, mortality_volatility=0.004)
    values = run_chunk(pack(demo), params, 5, [3, 17])
    draws = draw_paths(demo.inputs, params, 5, [3, 17])
    for i in range(2):
        expected = path_valuation(demo, draws, i).run().projection
        for k, name in enumerate(INDICATORS):
            reference = expected[name].values
            np.testing.assert_allclose(values[i, k], reference, rtol=1e-9, atol=1e-9 * np.abs(reference).max(),
                                       err_msg=name)


def test_batch_kernel_runs_its_slots_on_threads(demo):
    """The batch kernel is a plain nogil kernel whose slots run_chunk runs on threads, not parallel=True: Numba's
    parallel lowering compiles and optimises the kernel (with the scheme kernels linked in) once more, about a
    minute of a first run's compilation; the paths are the same on two threads as on one."""
    from actuary.kernels.batch import simulate_paths

    assert not simulate_paths.targetoptions.get("parallel")
    params = StochasticParameters(wage_volatility=0.02)
    packed = pack(demo)
    np.testing.assert_array_equal(run_chunk(packed, params, 3, [0, 1, 2], threads=2),
                                  run_chunk(packed, params, 3, [0, 1, 2], threads=1))


def _types_of_calls(kernel, arguments: dict, callee) -> set:
    """The argument types with which Numba's type inference has the dispatcher ``kernel``, called with
    ``arguments``, call the dispatcher ``callee`` (type inference alone: nothing of ``kernel`` is compiled)."""
    import inspect

    import numba
    from numba.core import compiler, ir, typed_passes
    from numba.core.registry import cpu_target

    class TypeInferenceOnly(compiler.CompilerBase):
        def define_pipelines(self):
            passes = compiler.DefaultPassBuilder.define_untyped_pipeline(self.state)
            passes.add_pass(typed_passes.NopythonTypeInference, "nopython frontend")
            passes.finalize()
            return [passes]

    bound = inspect.signature(kernel.py_func).bind(**arguments)
    flags = compiler.Flags()
    flags.nrt = True
    inference = TypeInferenceOnly(cpu_target.typing_context, cpu_target.target_context, None,
                                  tuple(numba.typeof(value) for value in bound.arguments.values()), None, flags, {})
    try:
        inference.compile_extra(kernel.py_func)
    except Exception:  # no lowering: what comes after type inference fails, the types are known
        if inference.state.calltypes is None:
            raise
    typemap, calltypes = inference.state.typemap, inference.state.calltypes
    return {tuple(signature.args) for expr, signature in calltypes.items()
            if isinstance(expr, ir.Expr) and expr.op == "call"
            and getattr(typemap[expr.func.name], "dispatcher", None) is callee}


def test_batch_kernel_and_a_valuation_share_the_compiled_scheme_kernels(demo, monkeypatch):
    """The batch kernel calls the insured kernel and the series kernels with the argument types Valuation.run()
    does, so a process running both (actuary stochastic, the tests) compiles each once: a second signature is a
    second compilation (the insured kernel's takes a quarter of a minute with an empty Numba cache, as in CI)."""
    import inspect

    import numba

    from actuary import projection, series, stochastic
    from actuary.kernels import batch, scheme
    from actuary.kernels import series as series_kernels

    def capturing(module, name, kernel, seen):
        def capture(*args, **kwargs):
            bound = inspect.signature(kernel.py_func).bind(*args, **kwargs)
            seen.add(tuple(numba.typeof(value) for value in bound.arguments.values()))
            return kernel(*args, **kwargs)
        monkeypatch.setattr(module, name, capture)

    in_run = {"insured_kernel": set(), "indexed": set(), "reference_earnings_path": set()}
    capturing(projection, "insured_kernel", scheme.insured_kernel, in_run["insured_kernel"])
    capturing(series, "indexed", series_kernels.indexed, in_run["indexed"])
    capturing(series, "reference_earnings_path", series_kernels.reference_earnings_path,
              in_run["reference_earnings_path"])
    demo.replace().run()
    batch_arguments = {}
    monkeypatch.setattr(stochastic, "simulate_paths", lambda *args, **kwargs: batch_arguments.update(
        inspect.signature(batch.simulate_paths.py_func).bind(*args, **kwargs).arguments))
    run_chunk(pack(demo), StochasticParameters(), 0, [0], threads=1)
    for name, callee in (("insured_kernel", scheme.insured_kernel), ("indexed", series_kernels.indexed),
                         ("reference_earnings_path", series_kernels.reference_earnings_path)):
        assert len(in_run[name]) == 1, name
        assert _types_of_calls(batch.simulate_paths, batch_arguments, callee) == in_run[name], name


def test_same_seed_same_results_whatever_the_chunking(demo, in_process):
    other = simulate(demo, 200, seed=11, chunk_size=37, keep_paths=True)
    for name in in_process.data_vars:
        np.testing.assert_array_equal(other[name].values, in_process[name].values, err_msg=name)
    different = simulate(demo, 200, seed=12, chunk_size=64)
    assert not np.allclose(different.reserve.values, in_process.reserve.values)


def test_local_cluster_gives_identical_results(demo, in_process):
    pytest.importorskip("dask.distributed")
    distributed = simulate(demo, 200, seed=11, chunk_size=50, workers=2, keep_paths=True)
    for name in in_process.data_vars:
        np.testing.assert_allclose(distributed[name].values, in_process[name].values, rtol=1e-12, atol=0,
                                   err_msg=name)


def test_local_cluster_workers_run_without_the_statistical_profiler():
    """The workers' profiler samples every thread's stack every 10 ms for a dashboard the cluster does not
    have (about 5% of the paths' time): it is off on the workers, and the caller's Dask settings are left
    as they were."""
    dask = pytest.importorskip("dask")
    from actuary.batch import _dask_client

    before = dask.config.get("distributed.worker.profile.enabled")
    with _dask_client(1, None) as client:
        profiling = client.run(lambda dask_worker: "profile" in dask_worker.periodic_callbacks)
    assert list(profiling.values()) == [False]
    assert dask.config.get("distributed.worker.profile.enabled") == before


def test_streamed_percentiles_match_exact_ones_and_do_not_grow_with_paths(in_process):
    paths = np.stack([in_process[f"path_{name}"].values for name in INDICATORS], axis=1)
    reducer = StreamedPercentiles(paths[:50])
    for start in range(0, 200, 30):
        reducer.add(paths[start:start + 30])
    size = reducer.counts.nbytes
    exact = np.percentile(paths, [5, 25, 50, 75, 95], axis=0)
    approximate = reducer.percentiles([5, 25, 50, 75, 95])
    width = (reducer.high - reducer.low) / reducer.bins
    # within two bins plus the widest gap between neighbouring paths of the exact (interpolated) percentiles
    spacing = np.diff(np.sort(paths, axis=0), axis=0).max(axis=0)
    assert np.all(np.abs(approximate - exact) <= 2 * width + spacing)
    reducer.add(paths)
    assert reducer.counts.nbytes == size and reducer.n == 400


def test_probability_of_depletion_counts_paths(in_process):
    reserve = in_process.path_reserve.values
    expected = (np.minimum.accumulate(reserve, axis=1) < 0).mean(axis=0)
    np.testing.assert_allclose(in_process.probability_of_depletion.values, expected)
    assert np.all(np.diff(in_process.probability_of_depletion.values) >= 0)


def test_invalid_scenario_is_reported_and_the_others_finish(demo):
    scenarios = [Scenario("higher returns", {"economy.nominal_return": Shift(0.01)}),
                 Scenario("broken", {"behaviour.exit_rate": Set(1.5)}),
                 Scenario("no such input", {"economy.interest": Set(0.03)}),
                 Scenario("later retirement", {"scheme.normal_retirement_age": Shift(1.0, years=(2030, None))})]
    ds = run_scenarios(demo, scenarios)
    status = dict(zip(ds.scenario.values, ds.status.values))
    assert status["higher returns"] == "ok" and status["later retirement"] == "ok"
    assert "scenario 'broken'" in status["broken"] and "outside [0, 1]" in status["broken"]
    assert "'economy.interest' is not an input" in status["no such input"]
    assert "broken" in ds.attrs["failed"]
    assert np.isnan(ds.gap.sel(scenario="broken")).all() and np.isfinite(ds.gap.sel(scenario="higher returns")).all()


def test_scenario_overrides_limited_to_years_and_ages(demo):
    valuation = Scenario("x", {"scheme.contribution_rate": Set(0.25, years=(2030, 2034)),
                               "behaviour.coverage": Scale(0.5, ages=(20, 29))}).apply(demo)
    rate = valuation.inputs.scheme["contribution_rate"]
    assert float(rate.sel(year=2030)) == 0.25 and float(rate.sel(year=2035)) == float(
        demo.inputs.scheme["contribution_rate"].sel(year=2035))
    coverage = valuation.inputs.behaviour["coverage"]
    base = demo.inputs.behaviour["coverage"]
    np.testing.assert_allclose(coverage.sel(age=25), 0.5 * base.sel(age=25))
    np.testing.assert_allclose(coverage.sel(age=30), base.sel(age=30))


@pytest.fixture(scope="module")
def sensitivities(demo):
    return sensitivity(demo)


@pytest.mark.parametrize("assumption,direction", [
    ("mortality improvement", +1),   # longer lives cost more
    ("real return", -1),             # higher returns lower the premium
    ("fertility", -1),               # more future contributors
    ("net migration", -1),
    ("coverage", -1),
    ("collection rate", -1),         # more of the contributions due collected: the same cost on more income
])
def test_sensitivity_directions(sensitivities, assumption, direction):
    row = next(r for r in tornado(sensitivities) if r["assumption"] == assumption)
    assert np.sign(row["gap_up"] - row["gap_base"]) == direction
    assert np.sign(row["gap_down"] - row["gap_base"]) == -direction


def test_combined_scenarios_bracket_every_one_at_a_time_result(sensitivities):
    gap = sensitivities.gap.isel(horizon=-1)
    singles = gap.sel(scenario=[s for s in sensitivities.scenario.values
                                if s not in ("optimistic", "pessimistic")])
    assert float(gap.sel(scenario="optimistic")) < float(singles.min())
    assert float(gap.sel(scenario="pessimistic")) > float(singles.max())


def test_scenarios_sheet_runs_with_the_sensitivity_command(tmp_path, demo, workbook_copy):
    path = _with_scenarios(workbook_copy, demo, tmp_path, [
        ["reform", "scheme.contribution_rate", "set", 0.25, 2025, None, None, None, "rate to 25%"],
        ["reform", "scheme.normal_retirement_age", "shift", 2, 2030, None, None, None, None]])
    scenarios = read_scenarios(path)
    assert [s.name for s in scenarios] == ["reform"] and len(scenarios[0].overrides) == 2
    result = CliRunner().invoke(main, ["sensitivity", str(path), "--out", str(tmp_path / "out")], terminal_width=200)
    assert result.exit_code == 0, result.output
    written = openpyxl.load_workbook(tmp_path / "out" / "case-sensitivity.xlsx")
    names = [c.value for c in written["Scenarios"]["A"]]
    assert "reform" in names and "optimistic" in names
    # the command's own table says the scenario's GAP and its change from the base (it printed only the standard's)
    with xr.open_dataset(tmp_path / "out" / "case-sensitivity.nc") as ds:
        gap, base = (100 * float(ds.gap.sel(scenario=n).isel(horizon=-1)) for n in ("reform", "base"))
    assert re.search(rf"reform\s*│\s*{gap:.2f}%\s*│\s*{gap - base:+.2f}", result.output), result.output
    titles = ["".join(r.t for p in c.title.tx.rich.p for r in (p.r or [])) for c in written["Charts"]._charts]
    assert titles[0].startswith("Tornado")


@pytest.fixture(scope="module")
def small(demo):
    """Demoland over 40 years without its balance sheet."""
    return demo.replace(settings={"horizon": 40, "balance_sheet": "no"})


def _with_scenarios(workbook_copy, valuation, tmp_path, rows):
    """``valuation``'s workbook (through the ``workbook_copy`` fixture) with a Scenarios sheet of ``rows`` (scenario,
    input, operation, value, ...)."""
    plain = workbook_copy(valuation, tmp_path / "plain-case.xlsx")
    header = ["scenario", "input", "operation", "value", "from_year", "to_year", "from_age", "to_age", "notes"]
    # the sheet added in the workbook's XML (an openpyxl load and save of Demoland's workbook takes seconds)
    path = add_sheet(plain, tmp_path / "case.xlsx", "Scenarios", [[], header, *rows])
    plain.unlink()
    return path


def test_a_failed_scenario_shows_no_depletion_year(tmp_path, demo, workbook_copy):
    """A scenario that fails has no results: its depletion year is blank, not "none" (which reads as a reserve
    never depleted); the command exits 3 after writing the others'."""
    path = _with_scenarios(workbook_copy, demo.replace(settings={"balance_sheet": "no"}), tmp_path,
                           [["broken", "behaviour.exit_rate", "set", 1.5]])
    result = CliRunner().invoke(main, ["sensitivity", str(path), "--out", str(tmp_path / "out")], terminal_width=200)
    assert result.exit_code == 3, result.output
    sheet = openpyxl.load_workbook(tmp_path / "out" / "case-sensitivity.xlsx")["Scenarios"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=3, values_only=True) if r[0]}
    assert rows["broken"][1] != "ok" and rows["broken"][2] is None
    assert rows["optimistic"][1] == "ok" and (rows["optimistic"][2] == "none" or isinstance(rows["optimistic"][2], int))


def test_scenarios_sheet_errors_name_the_cell(tmp_path, demo, workbook_copy):
    path = _with_scenarios(workbook_copy, demo, tmp_path, [["reform", "scheme.contribution_rate", "double", 0.25]])
    with pytest.raises(InputError, match=r"Scenarios!C3: operation 'double'; expected one of set, scale, shift"):
        read_scenarios(path)


def test_a_scenarios_row_outside_the_projection_is_refused_before_anything_runs(tmp_path, demo, workbook_copy, small):
    """A Scenarios row for years a 40-year projection from 2020 does not have, or ages no input has, would leave
    the scenario's results the base's: the sensitivity command refuses it naming the cells (exit 2, nothing
    written), before running any scenario."""
    path = _with_scenarios(workbook_copy, small, tmp_path,
                           [["late", "scheme.contribution_rate", "set", 0.25, 2070, 2080]])
    result = CliRunner().invoke(main, ["sensitivity", str(path), "--out", str(tmp_path / "out")], terminal_width=200)
    assert result.exit_code == 2, result.output
    assert "Scenarios!E3:F3: scenario 'late', scheme.contribution_rate: years 2070 .. 2080 lie outside the " \
           "projection's years 2020-2059" in result.output
    assert not (tmp_path / "out").exists()
    path = _with_scenarios(workbook_copy, small, tmp_path,
                           [["old", "behaviour.retirement_rate", "scale", 1.1, None, None, 130, 140]])
    with pytest.raises(InputError, match=r"^Scenarios!G3:H3: scenario 'old', behaviour.retirement_rate: ages 130 .. "
                                         r"140 select none of the input's ages"):
        read_scenarios(path, base=small)
    path = _with_scenarios(workbook_copy, small, tmp_path,
                           [["flat", "economy.nominal_return", "shift", 0.01, None, None, 60, 65]])
    with pytest.raises(InputError, match=r"^Scenarios!G3:H3: scenario 'flat' limits economy.nominal_return to "
                                         r"ages, but economy.nominal_return has no age dimension \(its dimensions: "
                                         r"year\)"):
        read_scenarios(path)


def test_an_error_in_a_separate_scenarios_file_names_it(tmp_path, demo, workbook_copy, small):
    """With --scenarios FILE two workbooks may hold a Scenarios sheet: the error names the file at fault."""
    path = _with_scenarios(workbook_copy, small, tmp_path,
                           [["late", "scheme.contribution_rate", "set", 0.25, 2070, 2080]])
    workbook_copy(small, tmp_path / "main.xlsx")
    result = CliRunner().invoke(main, ["sensitivity", str(tmp_path / "main.xlsx"), "--scenarios", str(path), "--out",
                                       str(tmp_path / "out")], terminal_width=200)
    assert result.exit_code == 2, result.output
    assert "error: case.xlsx: Scenarios!E3:F3: scenario 'late'" in " ".join(result.output.split())


@pytest.mark.parametrize("key, value, shown", [("settings.horizon", 50, "50"),
                                               ("settings.valuation_year", 2030, "2030"),
                                               ("settings.gap_horizons", "20, 30", "20, 30"),
                                               ("settings.national_population", "no", "no"),
                                               ("settings.scheme", "no", "no")])
def test_a_scenarios_row_on_the_projection_s_years_or_horizons_is_refused(tmp_path, demo, workbook_copy, key, value,
                                                                           shown):
    """A scenario is compared with the base year by year and horizon by horizon (one Dataset): a row that
    changes the projected years, the GAP horizons or the kind of valuation (which results there are) broke the
    Dataset (a traceback) or failed naming an input the user never typed; it is refused as the sheet is read,
    naming the cells, the value and what to do."""
    path = _with_scenarios(workbook_copy, demo, tmp_path, [["other", key, "set", value]])
    with pytest.raises(InputError, match=rf"^Scenarios!B3:D3: scenario 'other' would set {key} \({shown}\), which .*"
                                         r"compared with the base valuation year by year and horizon by horizon.*"
                                         r"run the change as a valuation of its own"):
        read_scenarios(path, base=demo)


def test_run_scenarios_refuses_a_scenario_of_other_years(demo):
    """From Python too: a scenario changing the horizon broke the scenarios' Dataset with a ValueError (shapes
    (50,) and (100,)) after running them all; it is refused first, naming the scenario and the setting."""
    with pytest.raises(InputError, match=r"^scenario 'short' changes settings.horizon, which changes the projection's "
                                         r"years; the scenarios are compared with the base valuation year by year"):
        run_scenarios(demo, [Scenario("base"), Scenario("short", {"settings.horizon": Set(50)})])


def test_a_scenarios_file_changing_the_horizon_is_refused_before_anything_runs(tmp_path, demo, workbook_copy, small):
    """``actuary sensitivity --scenarios FILE`` with a row on settings.horizon: exit 2, the file and cells named,
    no traceback, nothing written (it was a ValueError from the scenarios' Dataset)."""
    path = _with_scenarios(workbook_copy, small, tmp_path, [["short", "settings.horizon", "set", 30]])
    workbook_copy(small, tmp_path / "main.xlsx")
    result = CliRunner().invoke(main, ["sensitivity", str(tmp_path / "main.xlsx"), "--scenarios", str(path), "--out",
                                       str(tmp_path / "out")], terminal_width=200)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "error: case.xlsx: Scenarios!B3:D3: scenario 'short' would set settings.horizon (30), which changes the " \
           "projection's years" in said and "Traceback" not in said
    assert not (tmp_path / "out").exists()


def test_a_scenario_in_both_workbooks_is_said_to_be_in_both(tmp_path, demo, workbook_copy, small):
    """The same scenario name in the valuation workbook's Scenarios sheet and in --scenarios: the error says
    where each one is (it asked "in the valuation workbook and in --scenarios?")."""
    own = _with_scenarios(workbook_copy, small, tmp_path, [["reform", "scheme.contribution_rate", "set", 0.25]])
    own = own.rename(tmp_path / "main.xlsx")
    other = _with_scenarios(workbook_copy, small, tmp_path, [["reform", "scheme.contribution_rate", "set", 0.3]])
    result = CliRunner().invoke(main, ["sensitivity", str(own), "--scenarios", str(other), "--out",
                                       str(tmp_path / "out")], terminal_width=200)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "scenario 'reform' is defined twice: in the Scenarios sheet of the valuation workbook main.xlsx and in " \
           "the Scenarios sheet of --scenarios case.xlsx; give each scenario one name" in said
    assert "?" not in result.output and not (tmp_path / "out").exists()


def test_stochastic_command_writes_fan_charts(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, ["stochastic", "--paths", "60", "--seed", "3", "--out", str(tmp_path),
                                           "--format", "zarr"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert not [w for w in caught if "zarr" in str(w.message).lower()]   # nor on writing the store
    written = openpyxl.load_workbook(tmp_path / "demoland-stochastic.xlsx")
    assert {"Depletion", "PAYG cost rate", "Reserve ratio", "Charts"} <= set(written.sheetnames)
    # long labels make sheet names of whole words (Excel allows 31 characters), not cut mid-word
    assert {"System dependency ratio", "Demographic dependency ratio", "Replacement rate, new pensions",
            "Grants (withdrawal and funeral)"} <= set(written.sheetnames)
    titles = ["".join(r.t for p in c.title.tx.rich.p for r in (p.r or [])) for c in written["Charts"]._charts]
    from actuary.kernels.batch import INDICATORS
    from actuary.stochastic import LIFE_EXPECTANCY_INDICATORS

    assert "PAYG cost rate: fan chart (P5, P25, median, P75, P95)" in titles
    assert len(titles) == 1 + len(INDICATORS + LIFE_EXPECTANCY_INDICATORS)
    import xarray as xr

    with warnings.catch_warnings():
        warnings.simplefilter("error")   # consolidated metadata: opened as it is, without a warning
        stored = xr.open_zarr(tmp_path / "demoland-stochastic.zarr")
    assert stored.attrs["paths"] == 60 and stored.reserve.sizes["percentile"] == 5


def test_scenarios_on_a_local_cluster_match_in_process(demo):
    pytest.importorskip("dask.distributed")
    scenarios = [Scenario("higher returns", {"economy.nominal_return": Shift(0.01)}),
                 Scenario("broken", {"behaviour.exit_rate": Set(1.5)}),
                 Scenario("lower fertility", {"demography.fertility": Scale(0.8)})]
    local = run_scenarios(demo, scenarios)
    distributed = run_scenarios(demo, scenarios, workers=2, chunk_size=1)
    assert list(distributed.status.values) == list(local.status.values)
    for name in ("gap", "reserve", "paygo_cost_rate", "depletion_year"):
        np.testing.assert_allclose(distributed[name].values, local[name].values, rtol=1e-12, atol=0, err_msg=name)


def test_existing_scheduler_gives_the_in_process_results(demo, tmp_path):
    """``--scheduler ADDRESS`` (a cluster the user already runs) reaches the same numbers, from the
    command line (stochastic) and from Python (scenarios)."""
    distributed = pytest.importorskip("dask.distributed")
    import xarray as xr

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        result = CliRunner().invoke(main, ["stochastic", "--paths", "60", "--seed", "3", "--chunk-size", "25",
                                           "--scheduler", address, "--out", str(tmp_path)], terminal_width=200)
        assert result.exit_code == 0, result.output
        scenarios = [Scenario("higher returns", {"economy.nominal_return": Shift(0.01)}),
                     Scenario("lower fertility", {"demography.fertility": Scale(0.8)})]
        remote = run_scenarios(demo, scenarios, scheduler=address, chunk_size=1)
    local = simulate(demo, 60, seed=3)
    with xr.open_dataset(tmp_path / "demoland-stochastic.nc") as stored:
        for name in local.data_vars:
            np.testing.assert_allclose(stored[name].values, local[name].values, rtol=1e-12, atol=0, err_msg=name)
    here = run_scenarios(demo, scenarios)
    for name in ("gap", "reserve", "depletion_year"):
        np.testing.assert_allclose(remote[name].values, here[name].values, rtol=1e-12, atol=0, err_msg=name)


def test_payable_paths_equal_full_valuations_and_deplete_when_borrowing_paths_do(demo):
    """With benefits cut to what is payable after depletion, the batch kernel still gives each path's full
    valuation, no reserve falls below zero, and a path is depleted in the same year as under borrowing
    (the same definition: the first year whose benefits income and reserve cannot pay in full)."""
    payable = demo.replace(settings={"after_depletion": "payable"})
    params = StochasticParameters(return_volatility=0.08)
    values = run_chunk(pack(payable), params, 9, [4])
    expected = path_valuation(payable, draw_paths(payable.inputs, params, 9, [4]), 0).run().projection
    for k, name in enumerate(INDICATORS):
        reference = expected[name].values
        np.testing.assert_allclose(values[0, k], reference, rtol=1e-9, atol=1e-9 * np.abs(reference).max(),
                                   err_msg=name)
    paid = simulate(payable, 40, seed=4, chunk_size=20, params=params, keep_paths=True)
    borrowed = simulate(demo, 40, seed=4, chunk_size=20, params=params)
    assert paid.path_reserve.values.min() >= 0
    np.testing.assert_array_equal(paid.probability_of_depletion.values, borrowed.probability_of_depletion.values)
    short = np.logical_or.accumulate(paid.path_payable_share.values < 1, axis=1).mean(axis=0)
    np.testing.assert_array_equal(paid.probability_of_depletion.values, short)


def _attributes_of_written(ds, path):
    """``ds`` written to netCDF at ``path`` and read back."""
    import xarray as xr

    ds.to_netcdf(path)
    with xr.open_dataset(path) as stored:
        return stored.load()


def _check_described(stored, demo_results):
    """Every variable and coordinate has units and a description; money is said to be in currency units (never
    the workbooks' millions); fractions and percents are told apart; the units are a valuation netCDF's own."""
    assert "money_unit" not in stored.attrs
    assert stored.attrs["money"] == "currency units, not scaled"
    assert stored.attrs["money_unit_in_workbooks"] == "millions"
    for name, variable in stored.variables.items():
        assert variable.attrs.get("units") and variable.attrs.get("description"), name
    reserve = stored.reserve.attrs
    assert reserve["units"] == "currency" and "currency units, not scaled" in reserve["description"]
    assert stored.paygo_cost_rate.attrs["units"] == "share" and "0.05 is 5%" in stored.paygo_cost_rate.description
    assert stored.expenditure_pct_gdp.attrs["units"] == "percent" and "5.0 is 5%" in \
        stored.expenditure_pct_gdp.description
    p, s = demo_results.projection, demo_results.summary
    for name, variable in stored.variables.items():
        name = str(name).removeprefix("path_")
        given = (p[name] if name in p.data_vars else s[name] if name in s.data_vars else None)
        if given is not None and "units" in given.attrs:
            assert variable.attrs["units"] == given.attrs["units"], name


def test_sensitivity_netcdf_says_units_and_money_in_currency_units(sensitivities, demo, tmp_path):
    stored = _attributes_of_written(sensitivities, tmp_path / "s.nc")
    _check_described(stored, demo.run())
    assert float(stored.reserve.sel(scenario="base").isel(year=0)) > 1e9   # currency units, not millions
    assert stored.gap.attrs["units"] == "share of insurable earnings" and stored.status.attrs["units"] == "text"
    assert stored.depletion_year.attrs["units"] == "year"


def test_stochastic_netcdf_says_units_of_percentiles_and_paths(in_process, demo, tmp_path):
    stored = _attributes_of_written(in_process, tmp_path / "p.nc")
    _check_described(stored, demo.run())
    assert stored.reserve.description.startswith("percentiles across paths")
    assert stored.path_reserve.description.startswith("each path's") and stored.path_reserve.units == "currency"
    assert stored.probability_of_depletion.units == "share" and "0.05 is 5%" in \
        stored.probability_of_depletion.description
    assert stored.percentile.units == "percent" and stored.path.description.startswith("path k")


def test_every_variable_the_batch_runs_may_write_has_units_and_a_description():
    """A yearly indicator added to the stochastic kernel or the sensitivity runs needs its line in
    OUTPUT_VARIABLES (the runs would fail without it)."""
    from actuary.batch import BY_HORIZON, FLOOR_YEARLY, OUTPUT_VARIABLES, YEARLY, variable_attributes
    from actuary.kernels.batch import FLOOR_INDICATORS
    from actuary.stochastic import FLOOR_ONLY_INDICATORS, LIFE_EXPECTANCY_INDICATORS

    names = {*YEARLY, *FLOOR_YEARLY, *BY_HORIZON, "depletion_year", "actuarial_balance", "status", "move",
             *LIFE_EXPECTANCY_INDICATORS,
             *INDICATORS, *FLOOR_INDICATORS, *FLOOR_ONLY_INDICATORS, "probability_of_depletion"}
    assert names <= set(OUTPUT_VARIABLES), names - set(OUTPUT_VARIABLES)
    assert variable_attributes("path_gdp")["description"].startswith("each path's")


def test_collection_rate_scenarios_move_contributions_by_the_ratio_of_collection_rates(sensitivities, demo):
    """The collection rate moves income alone: each year's contributions (rate x collection rate x wage bill) move by
    the ratio of the collection rates, the wage bill does not move, and the GAP (the cost over the present value of
    the collected share of the wage bill) moves by the inverse ratio over every horizon; the reserve is lower in
    every year of the pessimistic side, the actuarial balance lower and the depletion no later. Up is capped at 100%
    (demoland collects 96%: +4 points, not +5), and the pessimistic combined scenario takes the side down."""
    from actuary.batch import ClippedShift, combined_scenarios

    collection = demo.inputs.scheme["collection_rate"].values
    assert np.ptp(collection) == 0 and 0.95 < collection[0] < 1   # one rate, which +5 points would take past 100%
    c0 = collection[0]
    base = sensitivities.sel(scenario="base")
    for side, c1 in (("down", c0 - 0.05), ("up", 1.0)):
        s = sensitivities.sel(scenario=f"collection rate {side}")
        assert str(s.status.values) == "ok"
        np.testing.assert_allclose(s.contributions / base.contributions, c1 / c0, rtol=1e-12, err_msg=side)
        np.testing.assert_array_equal(s.insurable_wage_bill, base.insurable_wage_bill)
        np.testing.assert_allclose(s.gap / base.gap, c0 / c1, rtol=1e-10, err_msg=side)
    down = sensitivities.sel(scenario="collection rate down")
    assert (down.reserve < base.reserve).all()
    assert float(down.actuarial_balance) < float(base.actuarial_balance)
    assert float(down.depletion_year) <= float(base.depletion_year)
    # the values the moves gave, which their words alone do not tell (up: at most 100%), said by the run itself
    move = {str(n): str(m) for n, m in zip(sensitivities.scenario.values, sensitivities.move.values)}
    assert move["collection rate down"] == f"Collection rate -5.00 percentage points: {100 * c0:.1f}% -> " \
                                           f"{100 * c0 - 5:.1f}%"
    assert move["collection rate up"] == f"Collection rate +5.00 percentage points (at most 100%): {100 * c0:.1f}% " \
                                         "-> 100.0%"
    assert move["fertility down"] == "Fertility rates x 0.8" and move["base"] == ""
    optimistic, pessimistic = combined_scenarios(sensitivities)
    assert pessimistic.overrides["scheme.collection_rate"] == ClippedShift(-0.05)
    assert optimistic.overrides["scheme.collection_rate"] == ClippedShift(0.05)


def test_contribution_density_scenarios_move_contributions_and_credits(sensitivities, demo):
    """Contribution density moves the densities of contributions and of service credits, each kept at most 1
    (demoland credits 93% of the year, contributes for 90%: x 1.1 credits 100%, not 102.3%). In the valuation year
    the wage bill, and so contributions, move by the density's ratio (the actives are those of the base; credits
    earned in the year pay no pension yet); decades on, fewer credits mean less pension expenditure (down) and more
    (up); and with less income in the first year and the same pensions, the reserve at its end is lower (down)."""
    from actuary.batch import standard_sensitivities

    beh = demo.inputs.behaviour
    contributed, credited = beh["contribution_density"].values, beh["credit_density"].values
    assert np.ptp(contributed) == 0 and np.ptp(credited) == 0 and credited.flat[0] * 1.1 > 1
    _, down, up = next(pair for pair in standard_sensitivities() if pair[0] == "contribution density")
    for scenario, factor in ((down, 0.9), (up, 1.1)):
        applied = scenario.apply(demo).inputs.behaviour
        np.testing.assert_allclose(applied["contribution_density"], np.minimum(contributed * factor, 1.0), rtol=1e-15)
        np.testing.assert_allclose(applied["credit_density"], np.minimum(credited * factor, 1.0), rtol=1e-15)
    base = sensitivities.sel(scenario="base")
    moved = {side: sensitivities.sel(scenario=f"contribution density {side}") for side in ("down", "up")}
    first = base.year.values[0]
    for side, factor in (("down", 0.9), ("up", 1.1)):
        s = moved[side]
        assert float(s.contributions.sel(year=first) / base.contributions.sel(year=first)) == \
            pytest.approx(factor, rel=1e-12), side
    later = first + 40
    expenditure = float(base.total_expenditure.sel(year=later))
    assert float(moved["down"].total_expenditure.sel(year=later)) < 0.97 * expenditure
    assert float(moved["up"].total_expenditure.sel(year=later)) > 1.03 * expenditure
    assert float(moved["down"].reserve.sel(year=first)) < float(base.reserve.sel(year=first))


def _chart_texts(chart):
    """(title, y-axis title, y-axis number format) of a chart read back by openpyxl."""
    def text(title):
        return "".join(r.t for p in title.tx.rich.p for r in (p.r or [])) if title is not None else ""

    return text(chart.title), text(chart.y_axis.title), chart.y_axis.numFmt.formatCode if chart.y_axis.numFmt else None


def test_sensitivity_command_prints_the_optimistic_side_and_shows_changes_in_points(sensitivities, demo, tmp_path,
                                                                                     monkeypatch, workbook_copy):
    """The printed table names each assumption's optimistic side (the combined scenarios in a table of their own,
    not under "up"); the Tornado sheet and chart give changes in percentage points without a % sign; the netCDF
    file the command writes says its money is in currency units."""
    import xarray as xr

    from actuary.batch import POINTS

    monkeypatch.setattr("actuary.batch.sensitivity", lambda *args, **kwargs: sensitivities.copy(deep=True))
    path = workbook_copy(demo, tmp_path / "case.xlsx")
    result = CliRunner().invoke(main, ["sensitivity", str(path), "--out", str(tmp_path / "out")], terminal_width=200)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()

    def cells(start):
        return [c.strip() for c in re.split("[│┃]", next(line for line in lines if line[2:].startswith(start)))[1:-1]]

    assert cells("assumption ") == ["assumption", "down", "base", "up", "optimistic side"]
    for assumption, side in (("real return", "up"), ("mortality improvement", "down"), ("fertility", "up")):
        assert cells(f"{assumption} ")[-1] == side, assumption
    assert any("Every assumption on its optimistic (pessimistic) side" in line for line in lines)
    assert cells("scenario ") == ["scenario", "value"] and len(cells("optimistic ")) == 2   # not under "up"
    rows = {r["assumption"]: r for r in tornado(sensitivities)}
    wb = openpyxl.load_workbook(tmp_path / "out" / "case-sensitivity.xlsx")
    ws = wb["Tornado"]
    headers = [c.value for c in ws[2]]
    down, up = headers.index("Change down (percentage points)") + 1, headers.index("Change up (percentage points)") + 1
    for r in range(3, 3 + len(rows)):
        row = rows[ws.cell(r, 1).value]
        assert ws.cell(r, up).value == pytest.approx(100 * (row["up"] - row["base"]), rel=1e-12)
        assert ws.cell(r, down).number_format == ws.cell(r, up).number_format == POINTS
    title, axis, fmt = _chart_texts(wb["Charts"]._charts[0])
    assert title.startswith("Tornado") and fmt == POINTS and "%" not in fmt
    # the notes under the table say the values a move held within 0% to 100% gave, as the report does (moves_of)
    notes = [c.value for c in ws["A"] if isinstance(c.value, str) and c.value.startswith("Collection rate:")]
    c0 = 100 * float(demo.inputs.scheme["collection_rate"][0])
    assert notes == [f"Collection rate: down = Collection rate -5.00 percentage points: {c0:.1f}% -> {c0 - 5:.1f}%; up "
                     f"= Collection rate +5.00 percentage points (at most 100%): {c0:.1f}% -> 100.0%."]
    with xr.open_dataset(tmp_path / "out" / "case-sensitivity.nc") as stored:
        assert stored.attrs["money"] == "currency units, not scaled" and "money_unit" not in stored.attrs
        assert stored.reserve.units == "currency" and stored.attrs["provenance_case_name"]


def test_stochastic_fan_charts_label_their_axes_readably(in_process, tmp_path):
    """Money and persons on a scaled axis keep a decimal when the largest value is below 100 in that unit (0.4 and
    1.3 trillions would both read 1 under #,##0), and say "currency units"; an index keeps two decimals."""
    from actuary.io import presentation as pres
    from actuary.io.results import chart_unit
    from actuary.stochastic import write_stochastic

    write_stochastic(in_process, tmp_path / "s.xlsx")
    charts = {t[0].split(":")[0]: t for t in map(_chart_texts, openpyxl.load_workbook(tmp_path / "s.xlsx")["Charts"]
                                                 ._charts)}
    assert charts["Average wage index"][2] == "0.00"
    checked = 0
    for name in INDICATORS:
        variable = pres.VARIABLES[name]
        if variable.kind not in ("money", "persons") or name not in in_process:
            continue
        scale, word = chart_unit(in_process[name].values)
        _, axis, fmt = charts[variable.label.split(":")[0]]
        assert fmt == ("#,##0.0" if float(np.abs(in_process[name]).max()) / scale < 100 else "#,##0"), name
        if variable.kind == "money":
            assert axis == f"{word} of currency units", name
        checked += 1
    assert checked > 5


def test_stochastic_workbook_has_the_life_expectancy_at_65_by_sex(in_process, demo, tmp_path):
    """What the mortality model does, in the measure a board reads: the period life expectancy at 65 of men and of
    women, percentiles by year (starting from the valuation's own in the valuation year) on a sheet each, with a fan
    chart; the paths kept have it too."""
    from actuary.stochastic import write_stochastic

    base = demo.run().projection.life_expectancy_65
    for sex in ("male", "female"):
        values = in_process[f"life_expectancy_65_{sex}"]
        assert values.units == "years of life" and values.description.startswith("percentiles across paths")
        np.testing.assert_allclose(values.isel(year=0), float(base.sel(sex=sex).isel(year=0)), rtol=1e-12)
        assert float(values.sel(percentile=95).isel(year=-1) - values.sel(percentile=5).isel(year=-1)) > 1
        assert in_process[f"path_life_expectancy_65_{sex}"].shape == (200, in_process.sizes["year"])
    write_stochastic(in_process, tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    ws = wb["Life expectancy at 65, women"]
    assert ws.cell(2, 3).value == "P25 (years)"
    assert ws.cell(3, 4).value == pytest.approx(float(base.sel(sex="female").isel(year=0)))
    assert "Period life expectancy at 65, men: fan chart (P5, P25, median, P75, P95)" in \
        [_chart_texts(chart)[0] for chart in wb["Charts"]._charts]


def test_scenario_moves_in_words_say_their_years_ages_and_values():
    """What a Scenarios row changes, in words (the report and the sensitivity workbook show it): the years, ages or
    cohorts it is limited to, a rate set as a percentage, a shift of an age in years, an option or a list as given
    (an option's value, text, failed the number format and stopped the whole sensitivity run)."""
    from actuary.batch import _describe

    said = _describe(Scenario("board", {
        "scheme.contribution_rate": Set(0.25, years=(2030, None)),
        "economy.nominal_return": Shift(-0.01, years=(2025, 2034)),
        "scheme.normal_retirement_age": Shift(2, years=(None, 2040)),
        "behaviour.retirement_rate": Scale(1.1, ages=(60, 64)),
        "scheme.normal_retirement_age_by_cohort": Set(67, cohorts=(1970, None)),
        "settings.after_depletion": Set("borrow"),
        "scheme.bend_points": Set((12000.0, 70000.0))}))
    assert said.split(", ")[:5] == ["Contribution rate set to 25.00% from 2030",
                                    "Nominal investment return -1.00 percentage points in 2025-2034",
                                    "Normal retirement age +2 years until 2040",
                                    "Retirement rate of eligible actives x 1.1 at ages 60-64",
                                    "Normal retirement age by cohort set to 67 for those born from 1970"]
    assert "After depletion set to borrow" in said and "Bend points set to 12000.0, 70000.0" in said
