"""The command line: the main job writes its outputs and says where; bad input exits 2 with a
one-paragraph message, no traceback and no output file (more bad inputs in test_workbook.py)."""

import subprocess
import sys

import numpy as np
import openpyxl
import xarray as xr

from actuary import Valuation


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "actuary.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_valuate_demoland_writes_results(tmp_path):
    result = run("valuate", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    text = result.stdout.replace("\n", "")
    assert f"Wrote {tmp_path / 'demoland-results.xlsx'}" in text and f"Wrote {tmp_path / 'demoland-results.nc'}" in text
    assert "General average premium" in result.stdout
    with xr.open_dataset(tmp_path / "demoland-results.nc") as written:
        expected = Valuation.demo().run()
        np.testing.assert_allclose(written.reserve.values, expected.projection.reserve.values, rtol=1e-12)
        np.testing.assert_allclose(written.summary_gap.values, expected.summary.gap.values, rtol=1e-12)
        level = float(written.summary_level_contribution_rate)
    # the level contribution rate for a reserve ratio of 1 is the results workbook's (and the report's) figure
    summary = openpyxl.load_workbook(tmp_path / "demoland-results.xlsx", read_only=True)["Summary"]
    shown = [row[1] for row in summary.iter_rows(values_only=True)
             if isinstance(row[0], str) and row[0].startswith("Level contribution rate from")]
    assert len(shown) == 1 and 0 < level < 1 and abs(shown[0] - level) <= 1e-15
    assert sorted(p.name for p in tmp_path.iterdir()) == [".actuary-outputs.json", "demoland-results.nc",
                                                           "demoland-results.xlsx"]


def test_bad_workbook_exits_2_without_traceback_or_output(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    out = tmp_path / "out"
    result = run("valuate", str(bad), "--out", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert "not an Excel workbook (.xlsx)" in result.stderr and "error:" not in result.stdout   # errors: stderr
    assert not out.exists() or not any(out.iterdir())


def test_template_needs_an_xlsx_path(tmp_path):
    result = run("template", str(tmp_path / "case.csv"))
    assert result.returncode == 2 and "give a path ending in .xlsx" in result.stderr


def test_population_command(tmp_path):
    result = run("population", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    with xr.open_dataset(tmp_path / "wpp2019_canada-population.nc") as written:
        assert written.population.sel(year=2020).sum() > 37e6


def test_population_text_in_a_csv_names_the_file_line_and_value(tmp_path):
    """Text in a column of numbers of the WPP folder: the error names the file, its line and the value (it said
    "Input 'fertility' must hold numbers; got values of type object"); exit 2, nothing written."""
    import shutil

    from actuary.cli import WPP_CANADA

    data = tmp_path / "mydata"
    shutil.copytree(WPP_CANADA, data)
    path = data / "input_fertility.csv"
    lines = path.read_text().splitlines()
    year, age, _ = lines[4].split(",")
    lines[4] = f"{year},{age},one"
    path.write_text("\n".join(lines) + "\n")
    result = run("population", "--data", str(data), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "input_fertility.csv, line 5, column C (asfr): value 'one' is not a number" in " ".join(result.stderr.split())
    assert not (tmp_path / "out").exists()


def test_population_help_says_the_outputs_are_named_after_the_data_folder():
    """--name defaults to the data folder's name (not an input file's, nor demoland)."""
    result = run("population", "--help")
    said = " ".join(result.stdout.split())
    assert "default: the data folder's name, wpp2019_canada without --data" in said and "demoland" not in said


def test_every_option_of_every_command_has_a_help_text():
    """``actuary COMMAND --help`` says what each option does (stochastic --format and synth --format said
    nothing)."""
    import click

    from actuary.cli import main

    def options(command, path):
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from options(sub, path + [name])
        else:
            yield from ((path, p) for p in command.params if isinstance(p, click.Option))

    silent = [(" ".join(path), p.opts[0]) for path, p in options(main, []) if not (p.help or "").strip()]
    assert not silent, silent
