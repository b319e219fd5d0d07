"""actuary convert: a valuation workbook as a case folder and back, the actuary's report text with it; the same
inputs both ways (the valuation's results equal), a folder written whole or not at all and never replaced, a
workbook replaced only with --force, a case that would not run not converted."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from actuary import Valuation, load_workbook
from actuary.cli import main
from actuary.io import folder as folder_io
from actuary.io.folder import read_folder_report_text, read_valuation_folder
from actuary.io.report_text import SECTIONS, SHEET, read_report_text

from .xlsx_edit import set_cells

TEXT = {"purpose_and_scope": "Valuation at 31 December 2019, asked by the board.\n- item one\n- item, two",
        "opinion": '=1+1 is "not" a formula here', "signature_date": "2026-12-07",
        "limitations": "- a list whose first item would be a formula to a spreadsheet",
        "conclusions": "@SUM(1) and '=HYPERLINK(\"x\")' as written by a hostile sender",
        "recommendations": "'- a text the actuary began with an apostrophe"}


def _convert(*args):
    return CliRunner().invoke(main, ["convert", *map(str, args)], terminal_width=400)


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    """A short Demoland workbook with some report text."""
    folder = tmp_path_factory.mktemp("convert")
    short = Valuation.demo().replace(settings={"horizon": 10, "gap_horizons": (10,)})
    short.to_workbook(folder / "base.xlsx")
    rows = {s.key: 3 + i for i, s in enumerate(SECTIONS)}
    return set_cells(folder / "base.xlsx", folder / "case.xlsx",
                     {SHEET: {f"B{rows[key]}": value for key, value in TEXT.items()}})


def test_a_workbook_to_a_folder_and_back_keeps_the_inputs_and_the_text(workbook, tmp_path):
    done = _convert(workbook, tmp_path / "case")
    assert done.exit_code == 0, done.output + done.stderr
    assert "Wrote" in done.output and "case folder" in done.output
    folder_case = read_valuation_folder(tmp_path / "case")
    text = read_folder_report_text(tmp_path / "case")
    written = read_report_text(workbook).texts
    same_date = {**written, "signature_date": "7 December 2026"}   # an ISO date in a CSV is read as a date
    assert set(written) == set(TEXT) and text.texts == same_date
    import csv
    with open(tmp_path / "case" / "report_text.csv", encoding="utf-8", newline="") as stream:
        fields = [row[1] for row in csv.reader(stream)]
    # no field a spreadsheet opening the CSV would evaluate (the texts beginning "=", "-", "@" carry an apostrophe)
    assert fields and not any(f[:1] in ("=", "+", "-", "@", "\t", "\r") for f in fields)
    assert "'@SUM(1) and '=HYPERLINK(\"x\")' as written by a hostile sender" in fields
    done = _convert(tmp_path / "case", tmp_path / "back.xlsx")
    assert done.exit_code == 0, done.output + done.stderr
    back = load_workbook(tmp_path / "back.xlsx")
    original = load_workbook(workbook)
    for case in (folder_case, back):   # the same valuation: every summary value equal
        summary, expected = case.run().summary, original.run().summary
        for name in expected.data_vars:
            assert np.allclose(summary[name].values, expected[name].values, rtol=1e-12, equal_nan=True), name
    assert read_report_text(tmp_path / "back.xlsx").texts == same_date


def test_nothing_is_replaced_without_being_asked(workbook, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("my notes")
    done = _convert(workbook, tmp_path / "mine")
    assert done.exit_code == 2 and "exists and is not an empty folder" in " ".join(done.stderr.split())
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]
    (tmp_path / "mine.xlsx").write_bytes(b"my workbook")
    done = _convert(workbook, tmp_path / "mine.xlsx")
    assert done.exit_code == 2 and "exists; convert never replaces a file silently" in done.stderr
    assert (tmp_path / "mine.xlsx").read_bytes() == b"my workbook"
    done = _convert(workbook, tmp_path / "mine.xlsx", "--force")
    assert done.exit_code == 0 and load_workbook(tmp_path / "mine.xlsx").inputs.settings["horizon"] == 10
    (tmp_path / "empty").mkdir()
    assert _convert(workbook, tmp_path / "empty").exit_code == 0 and (tmp_path / "empty" / "valuation.json").exists()
    done = _convert(workbook, tmp_path / "case.txt")
    assert done.exit_code == 2 and "'.txt' is neither" in done.stderr


def test_a_folder_is_written_whole_or_not_at_all(workbook, tmp_path, monkeypatch):
    real = folder_io.write_valuation_folder

    def failing(valuation, folder, text=None):
        real(valuation, folder, text=text)
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(folder_io, "write_valuation_folder", failing)
    done = _convert(workbook, tmp_path / "case")
    assert done.exit_code == 1 and "case: cannot be written (No space left on device)" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []   # no folder, no staging folder left


def test_a_case_that_would_not_run_is_not_converted(workbook, tmp_path):
    bad = set_cells(workbook, tmp_path / "bad.xlsx", {"Settings": {"B4": "forty"}})
    done = _convert(bad, tmp_path / "case")
    assert done.exit_code == 2 and "Traceback" not in done.output + done.stderr
    assert not (tmp_path / "case").exists()


def test_the_sheets_a_folder_cannot_hold_are_named_and_a_folder_stochastic_run_says_its_parameters(workbook, tmp_path):
    """The Stochastic, Scenarios, Reforms and Analysis of change sheets (read by other commands) and the user's
    Notes sheets stay in the workbook: convert names them, and what running on the folder then means."""
    import openpyxl

    book = openpyxl.load_workbook(workbook)
    book.create_sheet("Stochastic")
    book.create_sheet("Notes mine")
    book.save(tmp_path / "extra.xlsx")
    done = _convert(tmp_path / "extra.xlsx", tmp_path / "case")
    assert done.exit_code == 0, done.output + done.stderr
    said = " ".join(done.stderr.split())
    assert ("not the sheets Stochastic (actuary stochastic runs on the default parameters on the folder); Notes mine "
            "of extra.xlsx: keep the workbook for them.") in said
    assert "note" not in _convert(workbook, tmp_path / "plain").stderr
    done = CliRunner().invoke(main, ["stochastic", str(tmp_path / "case"), "--paths", "2", "--out",
                                     str(tmp_path / "out")], terminal_width=400)
    assert done.exit_code == 0, done.output + done.stderr
    assert "a case folder has no Stochastic sheet: the default parameters are used" in " ".join(done.stderr.split())
