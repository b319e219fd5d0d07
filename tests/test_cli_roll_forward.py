"""actuary roll-forward: the workbook it writes is ``roll_forward`` in Python (the same valuation date, initial state
and results), the input of ``actuary change``; a --to before the valuation year or beyond the projection, or a
--horizon out of bounds, is one paragraph, exit 2, nothing written."""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner

from actuary import Valuation, load_workbook
from actuary.cli import main
from actuary.cli_rollforward import NOTES_SHEET
from actuary.io.report_text import SECTIONS, SHEET, read_report_text

from .xlsx_edit import set_cells


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], terminal_width=400)


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """Demoland over 30 years as the workbook previous.xlsx (valued at 1 January 2020), with a report text."""
    folder = tmp_path_factory.mktemp("rollfwd")
    Valuation.demo().replace(settings={"horizon": 30, "gap_horizons": (10, 25)}).to_workbook(folder / "base.xlsx")
    row = 3 + [s.key for s in SECTIONS].index("opinion")
    return set_cells(folder / "base.xlsx", folder / "previous.xlsx", {SHEET: {f"B{row}": "The scheme is sound."}})


@pytest.fixture(scope="module")
def rolled(previous):
    """previous.xlsx rolled forward to 2023 by the command: (its output folder, the run)."""
    out = previous.parent / "out"
    return out, _run("roll-forward", previous, "--to", 2023, "--out", out)


def _same_results(actual, expected, rtol=1e-12):
    for part in ("projection", "summary"):
        a, e = getattr(actual, part), getattr(expected, part)
        assert sorted(a.data_vars) == sorted(e.data_vars)
        for name in e.data_vars:
            if np.issubdtype(e[name].dtype, np.number):
                np.testing.assert_allclose(a[name].values, e[name].values, rtol=rtol, atol=0, err_msg=name)


def test_the_rolled_workbook_is_roll_forward_in_python(previous, rolled):
    out, done = rolled
    assert done.exit_code == 0, done.output
    path = out / "previous-rolled-2023.xlsx"
    assert f"Wrote {path}" in " ".join(done.output.split())
    assert sorted(p.name for p in out.iterdir()) == [".actuary-outputs.json", "previous-rolled-2023.xlsx"]
    written, expected = load_workbook(path), load_workbook(previous).roll_forward(3)
    assert written.inputs.settings["valuation_year"] == expected.inputs.settings["valuation_year"] == 2023
    assert written.inputs.settings["horizon"] == expected.inputs.settings["horizon"] == 30
    assert set(written.inputs.initial) == set(expected.inputs.initial)
    for key, value in expected.inputs.initial.items():
        np.testing.assert_allclose(np.asarray(written.inputs.initial[key]), np.asarray(value), rtol=1e-12, atol=0,
                                   err_msg=key)
    _same_results(written.run(), expected.run())
    assert read_report_text(path).texts == read_report_text(previous).texts == {"opinion": "The scheme is sound."}
    # where it came from: a Notes sheet (not read as input) with the run's record
    record = read_about_sheet_named(path)
    assert record["input_file"] == "previous.xlsx" and record["rolled_to"] == "1 January 2023"
    assert record["rolled_years"] == 3 and record["rolled_horizon"] == 30


def read_about_sheet_named(path):
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        assert wb.sheetnames[-1] == NOTES_SHEET
        rows = list(wb[NOTES_SHEET].iter_rows(min_row=3, values_only=True))
    finally:
        wb.close()
    return {row[0]: row[2] for row in rows if row and row[0]}


def test_actuary_change_runs_from_the_previous_to_the_rolled_workbook(previous, rolled, tmp_path):
    out, done = rolled
    assert done.exit_code == 0, done.output
    import xarray as xr

    change = _run("change", previous, out / "previous-rolled-2023.xlsx", "--out", tmp_path)
    assert change.exit_code == 0, change.output
    with xr.open_dataset(tmp_path / "previous-rolled-2023-change.nc") as ds:
        steps = [str(s) for s in ds.step.values]
        assert steps[:2] == ["previous", "valuation period"]
        # the rolled case is the valuation-period step's case: every later step changes nothing
        effects = np.abs(ds.effect_actuarial_balance.values[2:])
        assert effects.max() <= 1e-12 * max(1.0, abs(float(ds.actuarial_balance[0]))), dict(zip(steps[2:], effects))
        assert float(ds.effect_actuarial_balance[1]) != 0.0


def test_horizon_reaches_roll_forward(previous, tmp_path):
    done = _run("roll-forward", previous, "--to", 2021, "--horizon", 25, "--out", tmp_path, "--name", "short")
    assert done.exit_code == 0, done.output
    written = load_workbook(tmp_path / "short-rolled-2021.xlsx")
    expected = load_workbook(previous).roll_forward(1, horizon=25)
    assert written.inputs.settings["horizon"] == 25 and written.inputs.settings["valuation_year"] == 2021
    _same_results(written.run(), expected.run())


@pytest.mark.parametrize("args, pattern", [
    (["--to", 2019], r"--to 2019: is before the valuation year of previous.xlsx \(1 January 2020\); .* expected a "
                     r"year from 2020 to 2049"),
    (["--to", 2050], r"--to 2050: is beyond the projection of previous.xlsx \(2020-2049\); .* expected a year from "
                     r"2020 to 2049"),
    (["--to", 2023, "--horizon", 500], r"--horizon 500: value 500(\.0)? is outside \[1, 300\]"),
    (["--to", 2023, "--horizon", 12], r"--horizon 12: the rolled case does not fit this horizon: Input "
                                      r"'settings.gap_horizons': value 25 is outside 1..12 years .* Give another "
                                      r"--horizon, or change gap_horizons in the Settings of previous.xlsx."),
])
def test_a_bad_date_or_horizon_is_one_paragraph_exit_2_nothing_written(previous, tmp_path, args, pattern):
    out = tmp_path / "out"
    done = _run("roll-forward", previous, *args, "--out", out)
    assert done.exit_code == 2, done.output
    assert "Traceback" not in done.output
    # (on a cold Numba cache the first-run note comes before: reading a case compiles the kernels it validates with)
    lines = [line for line in done.output.splitlines() if line.strip() and not line.startswith("note: first run")]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.output   # one paragraph
    assert re.search(pattern, lines[0]), lines[0]
    assert not out.exists() or not [p for p in out.iterdir()]


def test_help_names_the_output_and_the_python_options():
    said = " ".join(_run("roll-forward", "--help").output.split())
    assert "NAME-rolled-YEAR.xlsx" in said and "--to YEAR" in said and "--horizon YEARS" in said
