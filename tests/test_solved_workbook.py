"""The workbooks written from a case read from a workbook (``actuary solve``'s NAME-solved.xlsx, ``actuary convert``
to a workbook, ``Valuation.to_workbook`` after ``replace`` or ``roll_forward``) keep the sheets that other commands
read, Scenarios, Stochastic, Reforms and Analysis of change, and the user's Notes sheets: re-read, they give the same
scenarios, parameters, options, steps and notes as the input (compared as the objects their readers parse, not as
bytes), and a formula-like text or a formula of the input is never a live formula in the output."""

import sys

import openpyxl
import pytest
from click.testing import CliRunner

from actuary import InputError, Valuation, load_workbook
from actuary.batch import SCENARIO_COLUMNS, read_overrides, read_scenarios
from actuary.change import read_steps
from actuary.cli import main
from actuary.compare import REFORM_COLUMNS, read_reforms
from actuary.io.safety import text_cell
from actuary.stochastic import StochasticParameters, read_parameters

SCENARIOS = [["returns up", "economy.nominal_return", "shift", 0.01, 2025, None, None, None, "a point more"],
             ["returns up", "behaviour.exit_rate", "scale", "1.1", None, None, 30, 49, None],   # a number as text
             ["=cmd|' /C calc'!A0", "scheme.contribution_rate", "set", 0.2, 2030, 2035, None, None, "@SUM(A1)"]]
REFORMS = [["rate up", "scheme.contribution_rate", "shift", 0.02, 2022, None, None, None, "two points"],
           ["later", "scheme.normal_retirement_age", "shift", 1, 2030, None, None, None, None]]
STOCHASTIC = [["mortality_model", "improvement", "earlier runs' model"], ["mortality_volatility", 0.003, None],
              ["wage_volatility", 0.02, "=HYPERLINK(\"http://example.invalid\",\"x\")"]]
STEPS = [["period", "settings.valuation_year"], ["rates", "economy.nominal_return", "returns first"],
         ["everything else", "initial"], ["everything else", "demography"], ["everything else", "economy"],
         ["everything else", "behaviour"], ["everything else", "scheme"], ["everything else", "settings"]]
FORMULA_LIKE = "=HYPERLINK(\"http://example.invalid\",\"open me\")"


def _rows(ws, title, headers, rows):
    """Title in row 1, headers in row 2, ``rows`` from row 3; text cells typed as text (a formula-like text stays
    text in the input, as Excel keeps text typed after an apostrophe)."""
    for r, values in enumerate([[title], headers, *rows], start=1):
        for c, value in enumerate(values, start=1):
            if isinstance(value, str):
                text_cell(ws, r, c, value)
            elif value is not None:
                ws.cell(row=r, column=c, value=value)


@pytest.fixture(scope="module")
def small():
    return Valuation.demo().replace(settings={"horizon": 20, "gap_horizons": (10,), "balance_sheet": "no"})


@pytest.fixture(scope="module")
def case(small, tmp_path_factory):
    """``small``'s workbook with every sheet the valuation object itself does not hold."""
    path = tmp_path_factory.mktemp("case") / "case.xlsx"
    small.to_workbook(path)
    wb = openpyxl.load_workbook(path)
    _rows(wb.create_sheet("Scenarios"), "Scenarios", list(SCENARIO_COLUMNS), SCENARIOS)
    _rows(wb.create_sheet("Stochastic"), "Stochastic parameters", ["parameter", "value", "notes"], STOCHASTIC)
    _rows(wb.create_sheet("Reforms"), "Reform options", list(REFORM_COLUMNS), REFORMS)
    _rows(wb.create_sheet("Analysis of change"), "Steps", ["step", "input", "notes"], STEPS)
    notes = wb.create_sheet("Notes on the solve")
    _rows(notes, "Why this case", ["what", "value"], [[FORMULA_LIKE, 1.5], ["+1+1", "-2"], [None, None, True]])
    notes["D9"] = "=1+1"   # a formula (openpyxl saves none of its value): carried as its text, never live
    wb.save(path)
    return path


def _parsed(path, base):
    """What the commands read from the workbook's sheets, as their readers parse it."""
    definitions = {}
    options = read_reforms(path, base, definitions)
    book = openpyxl.load_workbook(path, data_only=True)
    # every cell of the Notes sheet but D9, the formula (checked on its own)
    notes = {c.coordinate: c.value for row in book["Notes on the solve"].iter_rows() for c in row
             if c.value is not None and c.coordinate != "D9"}
    return {"scenarios": read_scenarios(path, base=base), "parameters": read_parameters(path),
            "reforms": read_overrides(path, "Reforms", REFORM_COLUMNS), "options": list(options),
            "definitions": definitions, "steps": read_steps(path), "notes": notes}


@pytest.fixture(scope="module")
def solved(case, tmp_path_factory):
    out = tmp_path_factory.mktemp("solved")
    result = CliRunner().invoke(main, ["solve", str(case), "--lever", "contribution_rate", "--target",
                                       "reserve_ratio>=1", "--until", "2035", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert ("its sheets Scenarios, Stochastic, Reforms, Analysis of change, Notes on the solve kept"
            in " ".join(result.output.split()))
    return out / "case-solved.xlsx"


def test_the_solved_workbook_keeps_the_sheets_other_commands_read(case, solved, small):
    before, after = _parsed(case, small), _parsed(solved, load_workbook(solved))
    assert before["parameters"] != StochasticParameters()   # the case's own, not the defaults
    assert [s.name for s in before["scenarios"]] == ["returns up", "=cmd|' /C calc'!A0"]
    assert before["options"] == ["rate up", "later"] and len(before["steps"]) == 3
    assert before["notes"] == {"A1": "Why this case", "A2": "what", "B2": "value", "A3": FORMULA_LIKE, "B3": 1.5,
                               "A4": "+1+1", "B4": "-2", "C5": True}
    assert after == before
    assert openpyxl.load_workbook(solved).sheetnames[-5:] == ["Scenarios", "Stochastic", "Reforms",
                                                              "Analysis of change", "Notes on the solve"]


def test_formula_like_text_and_formulas_of_the_input_are_text_in_the_solved_workbook(solved):
    book = openpyxl.load_workbook(solved)   # as written: formulas as formulas
    notes = book["Notes on the solve"]
    assert notes["A3"].value == FORMULA_LIKE and notes["A3"].data_type == "s"
    assert notes["A4"].value == "+1+1" and notes["A4"].data_type == "s"
    assert notes["B4"].value == "-2" and notes["B4"].data_type == "s"
    assert notes["B3"].value == 1.5 and notes["C5"].value is True
    assert notes["D9"].value == "=1+1" and notes["D9"].data_type == "s"   # the formula's text, not a formula
    assert book["Scenarios"]["A5"].value == "=cmd|' /C calc'!A0" and book["Scenarios"]["A5"].data_type == "s"
    assert book["Scenarios"]["D4"].value == "1.1" and book["Scenarios"]["D4"].data_type == "s"   # text stays text
    assert book["Stochastic"]["C5"].data_type == "s"
    formulas = [c.coordinate for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_a_report_with_sensitivity_on_the_solved_workbook_runs_the_users_scenarios(case, solved, small, tmp_path,
                                                                                    monkeypatch):
    """The scenarios the report's sensitivity run is given are those of the case's Scenarios sheet (without it,
    none: only the standard ones would run)."""
    import actuary.batch

    monkeypatch.setenv("ACTUARY_CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.setitem(sys.modules, "weasyprint", None)   # no PDF engine: the HTML alone
    given, run = [], actuary.batch.sensitivity

    def sensitivity(base, *args, extra=None, **kwargs):
        given.append(list(extra or []))
        return run(base, *args, extra=extra, **kwargs)

    monkeypatch.setattr(actuary.batch, "sensitivity", sensitivity)
    result = CliRunner().invoke(main, ["report", str(solved), "--with-sensitivity", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "case-solved-report.html").exists()
    assert given == [read_scenarios(case, base=small)] and [s.name for s in given[0]] == ["returns up",
                                                                                          "=cmd|' /C calc'!A0"]


def test_convert_replace_and_roll_forward_keep_the_sheets(case, small, tmp_path):
    """``actuary convert`` to a workbook, and a case replaced or rolled forward in Python, written with
    to_workbook."""
    before = _parsed(case, small)
    done = CliRunner().invoke(main, ["convert", str(case), str(tmp_path / "converted.xlsx")])
    assert done.exit_code == 0, done.output
    assert _parsed(tmp_path / "converted.xlsx", small) == before
    read = load_workbook(case)
    read.replace(scheme={"vesting_years": 10}).to_workbook(tmp_path / "replaced.xlsx")
    assert _parsed(tmp_path / "replaced.xlsx", small) == before
    rolled = read.roll_forward(0)
    rolled.to_workbook(tmp_path / "rolled.xlsx")
    assert _parsed(tmp_path / "rolled.xlsx", small) == before
    read.to_workbook(tmp_path / "template.xlsx", blank=True)   # a blank template holds none of the case's sheets
    assert "Scenarios" not in openpyxl.load_workbook(tmp_path / "template.xlsx").sheetnames


def test_a_formula_without_a_saved_value_in_a_sheet_read_by_a_command_is_refused_naming_it(small, tmp_path,
                                                                                           monkeypatch):
    """Its value is unknown: written blank it would change the sheet's meaning (a blank to_year: to the end), as
    its text a scenario's name; the workbook is not written."""
    path = tmp_path / "case.xlsx"
    small.to_workbook(path)
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("Scenarios")
    _rows(ws, "Scenarios", list(SCENARIO_COLUMNS), SCENARIOS[:1])
    ws["F3"] = "=E3+5"
    wb.save(path)
    read = load_workbook(path)
    with pytest.raises(InputError, match=r"^Scenarios!F3: formula =E3\+5 has no calculated value saved"):
        read.to_workbook(tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()
    # actuary solve says it before solving (the solved workbook could not be written), and writes nothing
    monkeypatch.setattr(Valuation, "solve", lambda *a, **k: pytest.fail("solved a case whose workbook is refused"))
    result = CliRunner().invoke(main, ["solve", str(path), "--lever", "contribution_rate", "--target",
                                       "reserve_ratio>=1", "--out", str(tmp_path / "solved")], terminal_width=400)
    assert result.exit_code == 2 and "Scenarios!F3: formula =E3+5 has no calculated value saved" in result.output
    assert not (tmp_path / "solved").exists()


def test_a_hidden_sheet_stays_hidden_and_a_very_hidden_one_very_hidden(small, tmp_path):
    """A very hidden Scenarios sheet is refused by the command that reads it (its rows would be read unseen): written
    visible, the output would run what the input refuses."""
    path = tmp_path / "case.xlsx"
    small.to_workbook(path)
    wb = openpyxl.load_workbook(path)
    scenarios = wb.create_sheet("Scenarios")
    _rows(scenarios, "Scenarios", list(SCENARIO_COLUMNS), SCENARIOS[:1])
    scenarios.sheet_state = "veryHidden"
    notes = wb.create_sheet("Notes kept out of sight")
    notes["A1"] = "kept"
    notes.sheet_state = "hidden"
    wb.save(path)
    load_workbook(path).to_workbook(tmp_path / "out.xlsx")
    book = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert book["Scenarios"].sheet_state == "veryHidden" and book["Notes kept out of sight"].sheet_state == "hidden"
    for workbook in (path, tmp_path / "out.xlsx"):
        with pytest.raises(InputError, match="sheet 'Scenarios' is very hidden"):
            read_scenarios(workbook)
