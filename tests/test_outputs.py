"""Outputs go where they are told and say where they came from: names from the input file (never from
the case name inside it), input text as literal text cells, the "About this run" record in every
workbook and data file, documented sheets accepted, failed scenarios reported with exit code 3, the
stale <dimension> tag, lazy scheduling of stochastic paths."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tracemalloc
from datetime import datetime, timezone

import numpy as np
import numba
import openpyxl
import pytest
import xarray as xr
from click.testing import CliRunner

import actuary
from actuary import Valuation, load_workbook
from actuary.batch import Scenario, Set, sensitivity, standard_sensitivities, write_sensitivity
from actuary.cli import main
from actuary.io.provenance import ABOUT_SHEET, read_about_sheet
from actuary.stochastic import simulate
from actuary.valuation import DEMOLAND

from .test_hostile_inputs import snapshot
from .xlsx_edit import add_sheet, edit, set_cells

DEMO = DEMOLAND / "valuation.xlsx"
HOSTILE_TEXT = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "-2+3"]


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], terminal_width=300)
    return result.exit_code, " ".join(result.output.split())


def test_case_name_with_a_path_stays_metadata(tmp_path):
    """A case name '../victim/pwned' writes nothing outside --out: the outputs take the file's name."""
    workbook = set_cells(DEMO, tmp_path / "scheme.xlsx", {"Contents": {"B3": "../victim/pwned"}})
    out = tmp_path / "out"
    code, text = invoke("valuate", workbook, "--out", out)
    assert code == 0, text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scheme.xlsx"]
    assert sorted(p.name for p in out.iterdir()) == [".actuary-outputs.json", "scheme-results.nc",
                                                      "scheme-results.xlsx"]
    assert read_about_sheet(out / "scheme-results.xlsx")["case_name"] == "../victim/pwned"


def test_two_workbooks_with_one_case_name_do_not_collide(tmp_path):
    """Two template-based workbooks (both 'demoland' inside) give two result sets in one --out."""
    out = tmp_path / "out"
    for stem in ("north", "south"):
        assert invoke("template", tmp_path / f"{stem}.xlsx", "--demo")[0] == 0
    for stem in ("north", "south"):
        code, text = invoke("valuate", tmp_path / f"{stem}.xlsx", "--out", out)
        assert code == 0, text
    assert sorted(p.name for p in out.iterdir()) == [".actuary-outputs.json", "north-results.nc", "north-results.xlsx",
                                                      "south-results.nc", "south-results.xlsx"]
    assert read_about_sheet(out / "north-results.xlsx")["input_file"] == "north.xlsx"


def test_name_option_and_file_names_with_spaces(tmp_path):
    workbook = tmp_path / "Plan 2024 (draft).xlsx"
    shutil.copy(DEMO, workbook)
    out = tmp_path / "out"
    assert invoke("valuate", workbook, "--out", out, "--name", "plan-2024.v1")[0] == 0
    assert invoke("valuate", workbook, "--out", out)[0] == 0
    assert sorted(p.name for p in out.iterdir()) == [".actuary-outputs.json", "Plan_2024_draft_-results.nc",
                                                      "Plan_2024_draft_-results.xlsx", "plan-2024.v1-results.nc",
                                                      "plan-2024.v1-results.xlsx"]


def test_template_force_replaces(tmp_path):
    path = tmp_path / "mine.xlsx"
    path.write_bytes(b"old")
    assert invoke("template", path, "--demo", "--force")[0] == 0
    assert load_workbook(path).name == "demoland"


@pytest.fixture(scope="module")
def short_demo():
    """Demoland over 20 years without the balance sheet: batch runs in a few seconds."""
    return Valuation.demo().replace(settings={"horizon": 20, "gap_horizons": (10,), "balance_sheet": "no"})


def test_input_text_is_written_as_literal_text(tmp_path, short_demo):
    """Case and scenario names that look like formulas come out as the same characters, as text."""
    named = Valuation(**short_demo.raw, name=HOSTILE_TEXT[0])
    path = tmp_path / "case.xlsx"
    named.to_workbook(path)
    assert load_workbook(path).name == HOSTILE_TEXT[0]
    out = tmp_path / "out"
    code, text = invoke("valuate", path, "--out", out)
    assert code == 0, text
    results = openpyxl.load_workbook(out / "case-results.xlsx")
    about = {row[0].value: row[2] for row in results[ABOUT_SHEET].iter_rows(min_row=3)}
    assert about["case_name"].data_type == "s" and about["case_name"].value == HOSTILE_TEXT[0]
    written = openpyxl.load_workbook(path)["Contents"]["B3"]
    assert written.data_type == "s" and written.value == HOSTILE_TEXT[0]

    scenarios = [Scenario(name, {"scheme.contribution_rate": Set(0.2)}) for name in HOSTILE_TEXT]
    ds = sensitivity(short_demo, extra=scenarios)
    write_sensitivity(ds, tmp_path / "sensitivity.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "sensitivity.xlsx")["Scenarios"]
    cells = {c.value: c for c in sheet["A"][1:]}
    for name in HOSTILE_TEXT:
        assert cells[name].data_type == "s", name
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:  # LibreOffice shows the text, not a link or a result
        subprocess.run([soffice, "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,"
                        "true,false,false,false,2", "--outdir", str(tmp_path), str(tmp_path / "sensitivity.xlsx")],
                       capture_output=True, timeout=300)
        exported = (tmp_path / "sensitivity-Scenarios.csv").read_text()
        assert '=HYPERLINK(""http://x"",""y"")' in exported and "+1+1" in exported


def test_provenance_in_every_output(tmp_path):
    """valuate (xlsx + netCDF), stochastic (xlsx + zarr): version, input file and SHA-256, case name,
    UTC time, command, seed and parameters, Python/NumPy/Numba versions, one run id per set."""
    workbook = add_sheet(DEMO, tmp_path / "case.xlsx", "Stochastic",
                         [["Stochastic parameters"], ["parameter", "value", "notes"], ["wage_volatility", 0.02]])
    digest = hashlib.sha256(workbook.read_bytes()).hexdigest()
    out = tmp_path / "out"
    start = datetime.now(timezone.utc).replace(microsecond=0)
    assert invoke("valuate", workbook, "--out", out)[0] == 0
    code, text = invoke("stochastic", workbook, "--out", out, "--paths", "20", "--seed", "7", "--format", "zarr")
    assert code == 0, text
    expected = {"actuary_version": actuary.__version__, "input_file": "case.xlsx", "input_sha256": digest,
                "case_name": "demoland", "python_version": sys.version.split()[0], "numpy_version": np.__version__,
                "numba_version": numba.__version__,
                "input_folder_id": hashlib.sha256(str(tmp_path.resolve()).encode()).hexdigest()[:16]}
    with xr.open_dataset(out / "case-results.nc") as results:
        attributes = dict(results.attrs)
    stochastic = dict(xr.open_zarr(out / "case-stochastic.zarr", consolidated=False).attrs)
    for workbook_name, attrs in (("case-results.xlsx", attributes), ("case-stochastic.xlsx", stochastic)):
        about = read_about_sheet(out / workbook_name)
        for key, value in expected.items():
            assert about[key] == value and attrs[f"provenance_{key}"] == value, (workbook_name, key)
        assert about["run_id"] == attrs["provenance_run_id"]
        when = datetime.strptime(about["run_utc"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        assert start <= when <= datetime.now(timezone.utc)
        assert about["command"] == attrs["provenance_command"]
    about = read_about_sheet(out / "case-stochastic.xlsx")
    assert about["seed"] == 7 and about["paths"] == 20 and about["parameter_wage_volatility"] == 0.02
    assert stochastic["provenance_seed"] == 7 and stochastic["provenance_parameter_wage_volatility"] == 0.02


def test_api_outputs_record_the_call(tmp_path, short_demo):
    results = short_demo.run()
    from actuary.io.results import write_results

    write_results(results, Valuation.demo(), tmp_path / "api.xlsx")
    about = read_about_sheet(tmp_path / "api.xlsx")
    assert about["command"].startswith("actuary.io.results.write_results (Python API) in: python ")
    assert about["input_file"] == "valuation.xlsx"
    assert about["input_sha256"] == hashlib.sha256(DEMO.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def short_workbook(tmp_path_factory, short_demo):
    path = tmp_path_factory.mktemp("short") / "short.xlsx"
    short_demo.to_workbook(path)
    return path


def test_documented_sheets_are_accepted_by_every_command(tmp_path, short_workbook):
    """A Stochastic sheet and the user's own Notes sheets are read (or ignored) by valuate, sensitivity and
    stochastic; the Stochastic sheet's parameters are the ones used."""
    workbook = add_sheet(short_workbook, tmp_path / "staged.xlsx", "Stochastic",
                         [["Stochastic parameters"], ["parameter", "value", "notes"],
                          ["mortality_model", "improvement", "earlier versions' model"],
                          ["mortality_volatility", 0.004, "doubled"]])
    workbook = add_sheet(workbook, tmp_path / "case.xlsx", "Notes on sources", [["anything", "=1+1", None, 5]])
    out = tmp_path / "out"
    for args in (["valuate"], ["sensitivity"], ["stochastic", "--paths", "10"]):
        code, text = invoke(*args, workbook, "--out", out)
        assert code == 0, (args, text)
    assert "mortality model improvement (σ_m 0.004, σ_d 0;" in " ".join(text.split())   # the model the paths used
    with xr.open_dataset(out / "case-stochastic.nc") as ds:
        assert ds.attrs["parameter_mortality_volatility"] == 0.004


def test_failed_scenario_exits_3_after_writing_the_others(tmp_path, short_workbook):
    workbook = add_sheet(short_workbook, tmp_path / "case.xlsx", "Scenarios",
                         [["Scenarios"], ["scenario", "input", "operation", "value", "from_year", "to_year",
                                          "from_age", "to_age", "notes"],
                          ["broken", "behaviour.exit_rate", "set", 1.5],
                          ["reform", "scheme.contribution_rate", "set", 0.25]])
    out = tmp_path / "out"
    code, text = invoke("sensitivity", workbook, "--out", out)
    assert code == 3, text
    # (the message names the value's cell and its scenario: not prefixed with the name again)
    assert re.search(r"scenario failed: Scenarios!D3: scenario 'broken': Input 'behaviour.exit_rate' at .*: value 1.5 is "
                     r"outside \[0, 1\]", text)
    run = 1 + 2 * len(standard_sensitivities()) + 2 + 2   # base, down and up, optimistic and pessimistic, the sheet's
    assert f"1 of {run} scenarios failed" in text
    with xr.open_dataset(out / "case-sensitivity.nc") as ds:
        status = dict(zip(ds.scenario.values, ds.status.values))
        assert status["reform"] == "ok" and status["broken"] != "ok"
        assert np.isfinite(ds.gap.sel(scenario="reform")).all()


def test_a_failed_standard_scenario_marks_the_combined_ones(short_demo):
    broken = short_demo.replace(demography={"mortality_improvement": 0.09})  # x1.5 leaves the bounds
    ds = sensitivity(broken)
    status = dict(zip(ds.scenario.values, ds.status.values))
    assert "outside [-0.1, 0.1]" in status["mortality improvement up"]
    assert status["optimistic"].startswith("not run: the one-at-a-time 'mortality improvement' scenarios failed")
    assert status["fertility up"] == "ok"


def test_stale_dimension_tag_hides_no_rows(tmp_path):
    """Pensioners has 409 rows; a <dimension ref="A1:F300"> must not drop the last 109 of them."""
    stale = edit(DEMO, tmp_path / "stale.xlsx", {"Pensioners": lambda s: s.dimension("A1:F300")})
    expected = Valuation.demo().inputs.initial
    loaded = load_workbook(stale).inputs.initial
    for name in ("pensioners", "average_pension"):
        np.testing.assert_array_equal(loaded[name].values, expected[name].values)
    assert float(loaded["pensioners"].sum()) > 0 and openpyxl.load_workbook(stale, read_only=True)[
        "Pensioners"].max_row == 300


def test_stochastic_paths_are_scheduled_lazily(short_demo):
    """Ten million paths: two chunks run in a few MB (listing the path numbers first would take 400 MB)."""
    ran = []

    def stop_after_two(n):
        ran.append(n)
        if len(ran) == 2:
            raise KeyboardInterrupt

    simulate(short_demo, 300, chunk_size=100)  # compile and warm up outside the measurement
    tracemalloc.start()
    with pytest.raises(KeyboardInterrupt):
        simulate(short_demo, 10_000_000, chunk_size=100, pilot=100, progress=stop_after_two)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert ran == [100, 100]
    assert peak < 30 * 1024 ** 2, peak


def test_zip_bomb_refused_in_little_memory(zip_bomb, tmp_path):
    """A 5 MB workbook expanding to 1 GB, from the command line: exit 2, peak memory under 500 MB."""
    path = zip_bomb
    probe = ("import resource, subprocess, sys; r = subprocess.run([sys.executable, '-m', 'actuary.cli', 'valuate', "
             f"{str(path)!r}, '--out', {str(tmp_path / 'out')!r}], capture_output=True, text=True); "
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(r.stderr)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    code, peak_kb = map(int, result.stdout.split()[:2])
    assert code == 2 and re.search(r"expands to 1,02\d MB", " ".join(result.stdout.split()))
    assert peak_kb < 500 * 1024, peak_kb
    assert snapshot(tmp_path / "out") == {}


def test_every_results_variable_has_units_and_a_description(tmp_path):
    """A programmatic user reads the results netCDF without the workbook beside it: every variable of a scheme's,
    a scheme-and-floor's and a floor costing alone's results (projection and summary) says its units and what it
    is (gdp, births, the state subsidy, the valuation-date stocks and the depletion measures had none), and so
    does every coordinate of the file as written: each dimension has one (year, sex, age, benefit, floor_benefit,
    horizon, period), none left a bare dimension."""
    from actuary.floor import floor_only
    from actuary.io.results import netcdf_dataset
    from actuary.valuation import PROJECT_ROOT

    case = load_workbook(PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx")
    short = {"horizon": 30, "gap_horizons": (10, 30), "actuarial_balance_period": 30}
    lacking, coordinates = [], set()
    for valuation in (Valuation.demo(), case, floor_only(case)):
        results = valuation.replace(settings=short if valuation.inputs.has_scheme else
                                    {k: v for k, v in short.items() if k != "actuarial_balance_period"}).run()
        for part in (results.projection, results.summary):
            for name, variable in part.data_vars.items():
                if not all(str(variable.attrs.get(key, "")).strip() for key in ("units", "description")):
                    lacking.append((valuation.inputs.has_scheme, name, variable.attrs))
        path = tmp_path / f"{valuation.name}-{valuation.inputs.has_scheme}.nc"
        netcdf_dataset(results, {}).to_netcdf(path)   # the netCDF file: its coordinates and where money is
        with xr.open_dataset(path) as stored:
            lacking += [(valuation.inputs.has_scheme, name, "no coordinate") for name in stored.dims
                        if name not in stored.coords]
            lacking += [(valuation.inputs.has_scheme, name, stored[name].attrs) for name in stored.coords
                        if not all(str(stored[name].attrs.get(key, "")).strip() for key in ("units", "description"))]
            assert stored.attrs["money"].startswith("currency units, not scaled")
            coordinates.update(stored.coords)
    assert not lacking, lacking
    assert {"year", "sex", "age", "benefit", "floor_benefit", "horizon", "period"} <= coordinates


def test_every_variable_of_a_comparison_and_an_analysis_of_change_has_units_and_a_description():
    """The netCDF files of compare and change, like a valuation's, say each variable's and coordinate's units and
    meaning (a reviewer found none in compare's and about 28 empty descriptions in change's); the differences and
    effects say what they are differences of."""
    from actuary.change import analysis_of_change
    from actuary.compare import comparison
    from actuary.valuation import PROJECT_ROOT

    short = {"horizon": 30, "gap_horizons": (10, 30), "actuarial_balance_period": 30}
    base = Valuation.demo().replace(settings=short)
    floor = load_workbook(PROJECT_ROOT / "valuations" / "demoland-floor" / "valuation.xlsx").replace(settings=short)
    compared = comparison(base, {"x": base.replace(scheme={"ceiling_multiple": 3.0})})
    changed = analysis_of_change(base, floor)   # the floor arrives in the provisions step
    lacking = [(what, name, variable.attrs) for what, ds in (("compare", compared), ("change", changed))
               for name, variable in ds.variables.items()
               if not all(str(variable.attrs.get(key, "")).strip() for key in ("units", "description"))]
    assert not lacking, lacking
    assert compared.gap_difference.attrs["description"].startswith("option - base of: general average premium")
    assert compared.reserve.attrs["units"] == "currency"
    assert changed.effect_gap.attrs["description"] == "change in gap from the step before"
