"""The command line: the main job writes its outputs and says where; bad input exits 2 with a
one-paragraph message, no traceback and no output file."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import xarray as xr

from actuary import Valuation
from actuary.valuation import DEMOLAND


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "actuary.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_valuate_demoland_writes_results(tmp_path):
    result = run("valuate", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    nc = tmp_path / "demoland-results.nc"
    assert f"Wrote {nc}" in result.stdout.replace("\n", "")
    assert "General average premium" in result.stdout
    with xr.open_dataset(nc) as written:
        expected = Valuation.demo().run().projection
        np.testing.assert_allclose(written.reserve.values, expected.reserve.values, rtol=1e-12)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demoland-results.nc", "demoland-summary.nc"]


def test_bad_case_exits_2_without_traceback_or_output(tmp_path):
    case = tmp_path / "case"
    shutil.copytree(DEMOLAND, case)
    spec = json.loads((case / "valuation.json").read_text())
    spec["scheme"]["vesting_years"] = "fifteen"
    (case / "valuation.json").write_text(json.dumps(spec))
    out = tmp_path / "out"
    result = run("valuate", str(case), "--out", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert "scheme.vesting_years" in result.stdout and "'fifteen' is not a number" in result.stdout
    assert not out.exists() or not any(out.iterdir())


def test_unknown_column_in_a_case_table(tmp_path):
    case = tmp_path / "case"
    shutil.copytree(DEMOLAND, case)
    table = (case / "by_year.csv").read_text().splitlines()
    table[0] += ",economy.inflation_rate"
    table[1:] = [line + ",0.02" for line in table[1:]]
    (case / "by_year.csv").write_text("\n".join(table) + "\n")
    result = run("valuate", str(case), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "by_year.csv: column 'economy.inflation_rate' is not a known input" in result.stdout


def test_population_command(tmp_path):
    result = run("population", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    with xr.open_dataset(tmp_path / "wpp2019_canada-population.nc") as written:
        assert written.population.sel(year=2020).sum() > 37e6
