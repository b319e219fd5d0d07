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
    """The record of the latest roll in the rolled workbook's last sheet, Notes - roll-forward (its first section)."""
    return roll_sections(path)[0][1]


def roll_sections(path):
    """The sections of the Notes - roll-forward sheet, the workbook's last sheet, after its title and headers: [(the
    heading, {item: value})], in the sheet's order (a section: a heading alone in column A, its items below, a blank
    row after)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        assert wb.sheetnames[-1] == NOTES_SHEET
        rows = [tuple(row) + (None,) * 3 for row in wb[NOTES_SHEET].iter_rows(min_row=3, values_only=True)]
    finally:
        wb.close()
    sections = []
    for row in rows:
        if not any(v is not None for v in row):
            continue
        if row[1] is None and row[2] is None:   # a heading
            sections.append((row[0], {}))
        else:
            if not sections:   # items without a heading
                sections.append((None, {}))
            sections[-1][1][row[0]] = row[2]
    return sections


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


def test_the_rolled_workbook_is_written_once(previous, tmp_path, monkeypatch):
    """The Notes - roll-forward sheet is written with the workbook (to_workbook's record), not added by opening the
    written file again and saving it a second time."""
    from openpyxl.workbook.workbook import Workbook

    saved = []
    save = Workbook.save
    monkeypatch.setattr(Workbook, "save", lambda self, filename: (saved.append(filename), save(self, filename))[1])
    done = _run("roll-forward", previous, "--to", 2021, "--out", tmp_path)
    assert done.exit_code == 0, done.output
    assert len(saved) == 1, saved
    record = read_about_sheet_named(tmp_path / "previous-rolled-2021.xlsx")
    assert record["rolled_to"] == "1 January 2021" and not any(k.startswith("carried_change") for k in record)
    import openpyxl

    wb = openpyxl.load_workbook(tmp_path / "previous-rolled-2021.xlsx", read_only=True)
    try:
        assert wb[NOTES_SHEET]["A1"].value == ("Notes - roll-forward: where this valuation workbook came from (not "
                                               "read as input)")
        contents = {row[0]: row[1] for row in wb["Contents"].iter_rows(values_only=True) if row and row[0]}
        assert "actuary roll-forward's record" in contents[NOTES_SHEET]
    finally:
        wb.close()


REFORMS = [  # option | input | operation | value | from_year | to_year | from_cohort | to_cohort | notes
    ["temporary", "scheme.contribution_rate", "shift", 0.01, 2020, 2022, None, None, "over by 2023"],
    ["phased", "scheme.contribution_rate", "shift", 0.02, 2021, 2030, None, None, "started in 2021"],
    ["phased", "scheme.contribution_rate", "shift", 0.03, 2031, None, None, None, None],
    ["later", "scheme.contribution_rate", "shift", 0.01, 2025, None, None, None, None],
    ["past", "scheme.contribution_rate", "shift", 0.01, None, 2021, None, None, None]]
SCENARIOS = [  # scenario | input | operation | value | from_year | to_year | from_age | to_age | notes
    ["early shock", "economy.nominal_return", "shift", -0.01, 2020, 2024, None, None, None],
    ["early shock", "behaviour.exit_rate", "scale", 1.1, None, 2022, 30, 49, None],
    ["all years", "economy.nominal_return", "shift", 0.01, None, None, None, None, None]]


@pytest.fixture(scope="module")
def with_sheets(previous):
    """previous.xlsx with a Reforms and a Scenarios sheet whose rows begin (or end) before 2023, rolled to 2023."""
    import openpyxl

    from actuary.batch import SCENARIO_COLUMNS
    from actuary.compare import REFORM_COLUMNS

    path = previous.parent / "sheets.xlsx"
    wb = openpyxl.load_workbook(previous)
    for name, columns, rows in (("Reforms", REFORM_COLUMNS, REFORMS), ("Scenarios", SCENARIO_COLUMNS, SCENARIOS)):
        ws = wb.create_sheet(name)
        for row in [[name], list(columns), *rows]:
            ws.append(row)
    wb.save(path)
    out = previous.parent / "out-sheets"
    return path, out, _run("roll-forward", path, "--to", 2023, "--out", out)


def test_rows_whose_years_have_passed_are_dropped_or_start_at_the_new_valuation_year(with_sheets, tmp_path):
    """Rolled 2020 -> 2023, a Reforms or Scenarios row from 2021 starts in 2023 (calendar years are absolute: the
    others keep theirs), one that ended by 2022 is dropped, an option left without rows is no longer in the sheet;
    each change is in the Notes - roll-forward sheet and said on screen in one line; actuary compare runs on the
    rolled workbook (it refused Reforms!E3, a year before its projection) and the clipped option applies from
    2023."""
    import xarray as xr

    from actuary.batch import read_scenarios

    path, out, done = with_sheets
    assert done.exit_code == 0, done.output
    rolled = out / "sheets-rolled-2023.xlsx"
    said = [line for line in done.output.splitlines() if "changes to the rows of the carried sheets" in line]
    assert len(said) == 1 and said[0].startswith(
        "9 changes to the rows of the carried sheets whose years were before 2023 (listed in the sheet Notes - "
        "roll-forward): Reforms row 3 (option 'temporary', scheme.contribution_rate shift 0.01, years 2020 to 2022) "
        "dropped"), said
    record = read_about_sheet_named(rolled)
    changes = [v for k, v in record.items() if k.startswith("carried_change_")]
    assert changes == [
        "Reforms row 3 (option 'temporary', scheme.contribution_rate shift 0.01, years 2020 to 2022) dropped: its "
        "years ended before 2023, they have passed",
        "Reforms!E3 (option 'phased', scheme.contribution_rate shift 0.02, years 2021 to 2030; row 4 before the "
        "roll) now from 2023: its years before 2023 have passed",
        "Reforms row 7 (option 'past', scheme.contribution_rate shift 0.01, years the start to 2021) dropped: its "
        "years ended before 2023, they have passed",
        "Reforms: option 'temporary' has no row left (every row of it ended before 2023): it is no longer in the "
        "sheet",
        "Reforms: option 'past' has no row left (every row of it ended before 2023): it is no longer in the sheet",
        "Reforms: the rows below the dropped rows moved up, the kept rows contiguous and in their order: rows 4-6 "
        "are now rows 3-5 (the title and the headers did not move)",
        "Scenarios!E3 (scenario 'early shock', economy.nominal_return shift -0.01, years 2020 to 2024) now from "
        "2023: its years before 2023 have passed",
        "Scenarios row 4 (scenario 'early shock', behaviour.exit_rate scale 1.1, years the start to 2022) dropped: "
        "its years ended before 2023, they have passed",
        "Scenarios: the rows below the dropped row moved up, the kept rows contiguous and in their order: row 5 is "
        "now row 4 (the title and the headers did not move)"]
    # the kept rows, contiguous from row 3 in their order (the dropped ones left no blank row)
    import openpyxl

    wb = openpyxl.load_workbook(rolled, read_only=True)
    try:
        sheets = {name: [list(row) for row in wb[name].iter_rows(min_row=3, max_col=9, values_only=True)]
                  for name in ("Reforms", "Scenarios")}
    finally:
        wb.close()
    assert sheets["Reforms"] == [["phased", "scheme.contribution_rate", "shift", 0.02, 2023, 2030, None, None,
                                  "started in 2021"], REFORMS[2], REFORMS[3]]
    assert sheets["Scenarios"] == [SCENARIOS[0][:4] + [2023] + SCENARIOS[0][5:], SCENARIOS[2]]
    base = load_workbook(rolled)
    scenarios = read_scenarios(rolled, base=base)   # as actuary sensitivity reads them: accepted
    assert [s.name for s in scenarios] == ["early shock", "all years"]
    assert scenarios[0].overrides["economy.nominal_return"].years == (2023, 2024)
    assert set(scenarios[0].overrides) == {"economy.nominal_return"}   # the ages 30-49 row ended in 2022
    compare = _run("compare", rolled, "--out", tmp_path)
    assert compare.exit_code == 0, compare.output
    (nc,) = tmp_path.glob("*.nc")
    with xr.open_dataset(nc) as ds:
        assert [str(o) for o in ds.option.values] == ["base", "phased", "later"]
        rate = ds.contribution_rate_difference.sel(option="phased")
        np.testing.assert_allclose(rate.sel(year=slice(2023, 2030)), 0.02, rtol=1e-12)
        np.testing.assert_allclose(rate.sel(year=slice(2031, None)), 0.03, rtol=1e-12)
        assert float(ds.contribution_rate_difference.sel(option="later", year=2024)) == 0


def test_a_roll_by_no_years_changes_no_row(with_sheets, tmp_path):
    path, _, _ = with_sheets
    done = _run("roll-forward", path, "--to", 2020, "--out", tmp_path)
    assert done.exit_code == 0, done.output
    assert "changes to the rows" not in done.output
    assert not [k for k in read_about_sheet_named(tmp_path / "sheets-rolled-2020.xlsx") if k.startswith("carried")]



def test_rolled_over_a_shorter_projection_rows_after_its_end_are_dropped_or_end_in_it(previous, tmp_path):
    """Rolled 2020 -> 2023 over 25 years (2023-2047), a Reforms row of 2021-2049 runs 2023-2047 and one from 2048 is
    dropped, each said in the Notes - roll-forward sheet and on screen; actuary compare runs on the rolled workbook
    (it refused Reforms!F3 and E4, years outside the projection's 2023-2047)."""
    import openpyxl
    import xarray as xr

    from actuary.compare import REFORM_COLUMNS

    path = tmp_path / "long.xlsx"
    wb = openpyxl.load_workbook(previous)
    ws = wb.create_sheet("Reforms")
    for row in [["Reforms"], list(REFORM_COLUMNS),
                ["phased", "scheme.contribution_rate", "shift", 0.02, 2021, 2049, None, None, None],
                ["late", "scheme.contribution_rate", "shift", 0.01, 2048, None, None, None, None]]:
        ws.append(row)
    wb.save(path)
    out = tmp_path / "out"
    done = _run("roll-forward", path, "--to", 2023, "--horizon", 25, "--out", out)
    assert done.exit_code == 0, done.output
    assert "carried sheets whose years were before 2023 or after 2047 (listed" in " ".join(done.output.split())
    rolled = out / "long-rolled-2023.xlsx"
    changes = [v for k, v in read_about_sheet_named(rolled).items() if k.startswith("carried_change_")]
    assert changes == [
        "Reforms!E3 (option 'phased', scheme.contribution_rate shift 0.02, years 2021 to 2049) now from 2023: its "
        "years before 2023 have passed",
        "Reforms!F3 (option 'phased', scheme.contribution_rate shift 0.02, years 2021 to 2049) now to 2047: the "
        "rolled projection ends in 2047",
        "Reforms row 4 (option 'late', scheme.contribution_rate shift 0.01, years 2048 to the end) dropped: its years "
        "begin after 2047, the rolled projection's last year",
        "Reforms: option 'late' has no row left (every row of it ended before 2023 or began after 2047): it is no "
        "longer in the sheet"]
    compare = _run("compare", rolled, "--out", tmp_path / "compared")
    assert compare.exit_code == 0, compare.output
    (nc,) = (tmp_path / "compared").glob("*.nc")
    with xr.open_dataset(nc) as ds:
        assert [str(o) for o in ds.option.values] == ["base", "phased"]
        np.testing.assert_allclose(ds.contribution_rate_difference.sel(option="phased"), 0.02, rtol=1e-12)


def _with_sheet(source, target, name, rows, extra=None):
    """``source`` saved as ``target`` with a sheet ``name`` of ``rows`` (from row 1) and the cells ``extra``."""
    import openpyxl

    wb = openpyxl.load_workbook(source)
    ws = wb.create_sheet(name)
    for row in rows:
        ws.append(row)
    for ref, value in (extra or {}).items():
        ws[ref] = value
    wb.save(target)
    return target


def test_a_row_dropped_in_the_middle_leaves_no_hole_and_the_rolled_workbook_values_as_in_process(previous, tmp_path):
    """Rolled 2020 -> 2023, the Reforms row of 2020-2022 between two kept rows is dropped: the rows below it move up
    one row (a note alone and a blank row of the input with them, in their order), the title and the headers stay
    where they were; the options read from the rolled workbook are those of the sheet
    written by hand as it should be, on the case rolled in process, and value the same."""
    import openpyxl

    from actuary.compare import REFORM_COLUMNS, read_reforms

    phased = ["phased", "scheme.contribution_rate", "shift", 0.02, 2021, 2030, None, None, "started in 2021"]
    temporary = ["temporary", "scheme.contribution_rate", "shift", 0.01, 2020, 2022, None, None, "over by 2023"]
    note = [None] * 8 + ["a note alone"]
    later = ["later", "scheme.contribution_rate", "shift", 0.01, 2025, None, None, None, None]
    path = _with_sheet(previous, tmp_path / "middle.xlsx", "Reforms",
                       [["Reforms"], list(REFORM_COLUMNS), phased, temporary, note, [], later])
    out = tmp_path / "out"
    done = _run("roll-forward", path, "--to", 2023, "--out", out)
    assert done.exit_code == 0, done.output
    rolled = out / "middle-rolled-2023.xlsx"
    wb = openpyxl.load_workbook(rolled)
    try:
        ws = wb["Reforms"]
        cells = {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}
    finally:
        wb.close()
    expected = {}
    for r, row in enumerate([["Reforms"], list(REFORM_COLUMNS), phased[:4] + [2023] + phased[5:], note, [], later],
                            start=1):
        expected.update({f"{'ABCDEFGHI'[c]}{r}": v for c, v in enumerate(row) if v is not None})
    assert cells == expected
    changes = [v for k, v in read_about_sheet_named(rolled).items() if k.startswith("carried_change_")]
    assert changes[-1] == ("Reforms: the rows below the dropped row moved up, the kept rows contiguous and in their "
                           "order: rows 5-7 are now rows 4-6 (the title and the headers did not move)")
    # read and valued as the sheet written by hand as it should be, on the case rolled in process
    by_hand = _with_sheet(previous, tmp_path / "by-hand.xlsx", "Reforms",
                          [["Reforms"], list(REFORM_COLUMNS), phased[:4] + [2023] + phased[5:], later])
    in_process = load_workbook(previous).roll_forward(3)
    said, said_by_hand = {}, {}
    options = read_reforms(rolled, load_workbook(rolled), said)
    expected_options = read_reforms(by_hand, in_process, said_by_hand)
    assert list(options) == list(expected_options) == ["phased", "later"] and said == said_by_hand
    for name, option in options.items():
        _same_results(option.run(), expected_options[name].run())


def test_rolling_a_rolled_workbook_keeps_the_earlier_roll_in_its_notes(previous, tmp_path):
    """Rolled 2020 -> 2021, then the rolled workbook 2021 -> 2023: its sheet Notes - roll-forward holds both rolls, the
    latest first, each headed by its years and its run date, the earlier one's record as the first roll wrote it; a
    note the actuary typed in the sheet between the rolls is kept beside the item it was beside, and a formula in it
    (no value saved: a workbook written by a program) is written as its text, never as a live formula."""
    import openpyxl

    first = _run("roll-forward", previous, "--to", 2021, "--out", tmp_path / "first")
    assert first.exit_code == 0, first.output
    once = tmp_path / "first" / "previous-rolled-2021.xlsx"
    (heading, record), = roll_sections(once)
    assert heading == f"Roll-forward 2020 -> 2021: from 1 January 2020 to 1 January 2021, run {record['run_utc']} (UTC)"
    wb = openpyxl.load_workbook(once)
    ws = wb[NOTES_SHEET]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value == "input_file")
    ws.cell(row, 4).value = "=1+1"
    ws.cell(row, 5).value = "checked by A. Actuary"
    wb.save(once)
    second = _run("roll-forward", once, "--to", 2023, "--out", tmp_path / "second")
    assert second.exit_code == 0, second.output
    twice = tmp_path / "second" / "previous-rolled-2021-rolled-2023.xlsx"
    sections = roll_sections(twice)
    assert [h.split(": from")[0] for h, _ in sections] == ["Roll-forward 2021 -> 2023", "Roll-forward 2020 -> 2021"]
    assert sections[0][0] == (f"Roll-forward 2021 -> 2023: from 1 January 2021 to 1 January 2023, run "
                              f"{sections[0][1]['run_utc']} (UTC)")
    assert sections[0][1]["input_file"] == "previous-rolled-2021.xlsx" and sections[0][1]["rolled_years"] == 2
    assert sections[1] == (heading, record)
    wb = openpyxl.load_workbook(twice)
    try:
        ws = wb[NOTES_SHEET]
        assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
        latest, kept = [r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value == "input_file"]
        assert ws.cell(latest, 3).value == "previous-rolled-2021.xlsx" and ws.cell(latest, 4).value is None
        assert ws.cell(kept, 3).value == "previous.xlsx"
        assert ws.cell(kept, 4).value == "=1+1" and ws.cell(kept, 4).data_type == "s"
        assert ws.cell(kept, 5).value == "checked by A. Actuary"
        headings = [r for r in range(3, ws.max_row + 1) if str(ws.cell(r, 1).value).startswith("Roll-forward ")]
        assert headings[0] == 3 and len(headings) == 2 and all(ws.cell(r, 1).font.bold for r in headings)
    finally:
        wb.close()
    # and a third roll keeps both
    third = _run("roll-forward", twice, "--to", 2024, "--out", tmp_path / "third")
    assert third.exit_code == 0, third.output
    sections3 = roll_sections(tmp_path / "third" / "previous-rolled-2021-rolled-2023-rolled-2024.xlsx")
    assert [h.split(": from")[0] for h, _ in sections3] == ["Roll-forward 2023 -> 2024", "Roll-forward 2021 -> 2023",
                                                            "Roll-forward 2020 -> 2021"]
    assert sections3[1:] == sections


def test_a_record_written_before_the_headings_is_kept_under_one():
    """The sheet an earlier version wrote (title, headers, the items from row 3) goes below the new record under its
    heading, read from its items; a sheet of that name that is not such a record is kept whole."""
    from actuary.cli_rollforward import NOTES_TITLE, earlier_rolls
    from actuary.io.carried import CarriedSheet

    cells = {(1, 1): NOTES_TITLE, (2, 1): "item", (2, 2): "description", (2, 3): "value",
             (3, 1): "input_file", (3, 2): "input file", (3, 3): "previous.xlsx",
             (4, 1): "run_utc", (4, 2): "run date and time (UTC)", (4, 3): "2024-03-01T10:00:00Z",
             (5, 1): "rolled_to", (5, 3): "1 January 2023", (6, 1): "rolled_years", (6, 3): 3}
    below = earlier_rolls(CarriedSheet(NOTES_SHEET, cells))
    assert below[0] == ((1, 1), "Roll-forward 2020 -> 2023: from 1 January 2020 to 1 January 2023, run "
                                "2024-03-01T10:00:00Z (UTC)", True)
    assert below[1:] == tuple(((r - 1, c), v, False) for (r, c), v in sorted(cells.items()) if r >= 3)
    mine = {(1, 1): "my own notes", (2, 2): "=SUM(A1)"}
    assert earlier_rolls(CarriedSheet(NOTES_SHEET, mine, {(3, 1): "=A1"})) == (
        ((1, 1), "my own notes", False), ((2, 2), "=SUM(A1)", False), ((3, 1), "=A1", False))
