"""A case folder read as hostile, as a workbook is: only the folder's own regular files, within size limits, every
table file read (``*.csv`` in any case) or refused (another table format), strict JSON and CSV; each refusal one
paragraph naming the file, line, column, value and what was expected, exit 2, the output folder untouched. And the
report text of a case folder (``report_text.csv``): read with the sheet's checks, giving the same report text as the
same sections in a workbook's Report text sheet."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

from actuary import InputError, Valuation
from actuary.cli import main
from actuary.io import folder as case_folder
from actuary.io.folder import read_folder_report_text, read_valuation_folder
from actuary.io.report_text import SECTIONS, SHEET, ReportText, read_report_text, write_report_text_csv

from .test_floor_workbook import write_case_folder
from .test_hostile_inputs import out, refused  # noqa: F401 (out: the fixture of an earlier run's outputs)


@pytest.fixture(scope="module")
def short():
    """Demoland over 10 years: small tables, a quick report."""
    return Valuation.demo().replace(settings={"horizon": 10, "gap_horizons": (10,), "balance_sheet": "no"})


@pytest.fixture(scope="module")
def written(tmp_path_factory, short):
    """The short Demoland case as a case folder, written once."""
    folder = tmp_path_factory.mktemp("written") / "case"
    write_case_folder(short, folder)
    return folder


@pytest.fixture
def case(tmp_path, written):
    """A copy of the case folder (named case: its outputs are those of the ``out`` fixture)."""
    folder = tmp_path / "in" / "case"
    shutil.copytree(written, folder)
    return folder


def valuate_refused(case: Path, out: Path, pattern: str) -> str:
    text = refused(["valuate", case, "--out", out], pattern, out)
    assert text.count("error:") == 1, text
    return text


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _edit_line(path: Path, number: int, line: str) -> None:
    lines = _lines(path)
    lines[number - 1] = line
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------------ the files

def test_a_symbolic_link_is_refused_not_followed(case, out):
    (case / "zero.csv").symlink_to("/dev/zero")
    valuate_refused(case, out, r"zero.csv: is a symbolic link; expected a regular file in the folder case")


def test_a_link_to_a_good_table_is_refused_too(case, out, tmp_path):
    target = tmp_path / "elsewhere.csv"
    (case / "economy.inflation.csv").rename(target)
    (case / "economy.inflation.csv").symlink_to(target)
    valuate_refused(case, out, r"economy.inflation.csv: is a symbolic link")


def test_a_fifo_is_refused_without_being_opened(case, out):
    os.mkfifo(case / "pipe.csv")   # opening it would wait for a writer for ever
    valuate_refused(case, out, r"pipe.csv: is a FIFO \(named pipe\); expected a regular file")


def test_a_folder_named_like_a_table_is_refused(case, out):
    (case / "more.csv").mkdir()
    valuate_refused(case, out, r"more.csv: is a folder; expected a regular file")


def test_valuation_json_as_a_link_is_refused(case, out, tmp_path):
    (case / "valuation.json").rename(tmp_path / "spec.json")
    (case / "valuation.json").symlink_to(tmp_path / "spec.json")
    valuate_refused(case, out, r"valuation.json: is a symbolic link")


def test_a_table_too_large_is_refused_before_it_is_read(case, out):
    with open(case / "huge.csv", "wb") as stream:   # sparse: no disk used
        stream.truncate(case_folder.MAX_TABLE_BYTES + 1)
    valuate_refused(case, out, r"huge.csv: the file has 20.0 MB; at most 20 MB are read \(a case folder is read only "
                               r"within limits: valuation.json at most 1 MB, each CSV file at most 20 MB, all files at "
                               r"most 100 MB, at most 200 CSV files")


def test_a_folder_too_large_and_too_many_tables_are_refused(case, out, monkeypatch):
    monkeypatch.setattr(case_folder, "MAX_FOLDER_BYTES", 0.1 * 1024 ** 2)
    valuate_refused(case, out, r"Valuation folder .*case: its files have 0.\d MB; at most 0.1 MB are read")
    monkeypatch.setattr(case_folder, "MAX_FOLDER_BYTES", 10 ** 9)
    monkeypatch.setattr(case_folder, "MAX_TABLES", 5)
    valuate_refused(case, out, r"Valuation folder .*case: \d+ CSV files; at most 5 are read")


def test_a_large_valuation_json_is_refused(case, out):
    spec = json.loads((case / "valuation.json").read_text())
    spec["description"] = "x" * (1024 ** 2)
    (case / "valuation.json").write_text(json.dumps(spec))
    valuate_refused(case, out, r"valuation.json: the file has 1.0 MB; at most 1 MB are read")


def test_a_table_named_in_capitals_is_read(case):
    (case / "demography.population.csv").rename(case / "Demography.Population.CSV")
    valuation = read_valuation_folder(case)
    assert "population" in valuation.raw["demography"]
    _edit_line(case / "Demography.Population.CSV", 3, "male,1,=1+1")   # and read as strictly as any other
    with pytest.raises(InputError, match=r"Demography.Population.CSV, line 3, column C \(demography.population\): "
                                         r"value '=1\+1' is not a number"):
        read_valuation_folder(case)


@pytest.mark.parametrize("name", ["population.tsv", "Population.XLSX", "economy.ods"])
def test_a_table_in_another_format_is_refused_not_skipped(case, out, name):
    (case / name).write_text("year\tdemography.population\n")
    valuate_refused(case, out, rf"{re.escape(name)}: a case folder's tables are CSV files \(UTF-8, comma separated, "
                               r"ending in .csv\); this file would not be read")


def test_other_files_and_hidden_ones_are_not_read(case):
    (case / "README.md").write_text("# notes")
    (case / ".~lock.population.csv#").write_text("lock")
    (case / ".hidden.csv").write_bytes(b"\xff\xfe not a table")
    (case / ".git").mkdir()
    read_valuation_folder(case)


def test_valuation_json_in_capitals_is_said(case, out):
    (case / "valuation.json").rename(case / "Valuation.JSON")
    valuate_refused(case, out, r"Valuation.JSON: expected the name valuation.json \(lower case\)")


# ------------------------------------------------------------------------------------------------ valuation.json

def _spec(case: Path, change) -> None:
    spec = json.loads((case / "valuation.json").read_text())
    change(spec)
    (case / "valuation.json").write_text(json.dumps(spec))


@pytest.mark.parametrize("text, pattern", [
    ('{"name": "a", "name": "b"}', r"valuation.json: the key 'name' is given twice in one object"),
    ('{"settings": {"valuation_year": 2020, "horizon": 10, "horizon": 20}}',
     r"valuation.json: the key 'horizon' is given twice in one object"),
    ('{"scheme": {"vesting_years": NaN}}', r"valuation.json: NaN is not a number JSON allows; expected a finite number"),
    ('{"scheme": {"vesting_years": -Infinity}}', r"valuation.json: -Infinity is not a number JSON allows"),
    ('{"scheme": {"vesting_years": 1e999}}', r"valuation.json: the number 1e999 is too large to be a finite number"),
    ('[1, 2]', r"valuation.json: the file holds list; expected an object"),
    ('{"scheme": [1, 2]}', r"valuation.json: 'scheme' is a list; expected an object of its inputs"),
    ('{"name": 12}', r"valuation.json: 'name' is a number \(12\); expected text"),
    ('{"scheme": {"vesting_years": ', r"valuation.json: not valid JSON \(Expecting value at line 1, column 30\)"),
    ('{"Scheme": {}}', r"valuation.json: unknown entry 'Scheme' \(did you mean scheme\?\)"),
    ('{"scheme": {"vesting_years": {"a": 1}}}', r"valuation.json: 'scheme.vesting_years' is an object; expected"),
    ('[' * 100_000, r"valuation.json: (the JSON is nested too deeply|not valid JSON)"),
])
def test_bad_json_is_refused(case, out, text, pattern):
    (case / "valuation.json").write_text(text)
    valuate_refused(case, out, pattern)


def test_text_where_a_number_is_expected_names_the_key_path(case, out):
    _spec(case, lambda spec: spec["scheme"].update(vesting_years="15"))
    valuate_refused(case, out, r"valuation.json: Input 'scheme.vesting_years': value '15' is not a number")


def test_valuation_json_not_utf8_is_refused(case, out):
    text = (case / "valuation.json").read_text().replace('"name": "', '"name": "Caf\u00e9 ')
    (case / "valuation.json").write_bytes(text.encode("latin-1"))
    valuate_refused(case, out, r"valuation.json, line 1: byte 0xE9 \(character \d+\) is not UTF-8; expected a UTF-8 "
                               r"text file")


# ------------------------------------------------------------------------------------------------ the tables

INFLATION = "economy.inflation.csv"   # year,economy.inflation: the header, then 2020 on line 2


@pytest.mark.parametrize("line, pattern", [
    ("2021,0.02,7", r"economy.inflation.csv, line 3: the row has 3 fields; expected 2, one per column of the header "
                    r"\(year, economy.inflation\)"),
    ("2021", r"economy.inflation.csv, line 3: the row has 1 fields; expected 2"),
    ('2021,"1,5"', r"economy.inflation.csv, line 3, column B \(economy.inflation\): value '1,5' is not a number; "
                   r"expected an annual rate for economy.inflation \(above -0.5 and below 1; [^)]*\) \(a "
                   r"number written plainly"),
    ("2021,12%", r"line 3, column B \(economy.inflation\): value '12%' is not a number"),
    ("2021,=1+1", r"line 3, column B \(economy.inflation\): value '=1\+1' is not a number"),
    ("2021,inf", r"line 3, column B \(economy.inflation\): value 'inf' is not a number"),
    ("2021,1e999", r"line 3, column B \(economy.inflation\): value '1e999' is not a finite number"),
    ("twenty,0.02", r"line 3, column A \(year\): value 'twenty' is not a number; expected a whole number \(year\)"),
    ("2021.5,0.02", r"line 3, column A \(year\): value '2021.5' is not a whole number"),
    (",0.02", r"line 3, column A \(year\): the cell is blank; expected a whole number \(year\)"),
    ("2020,0.02", r"economy.inflation.csv, lines 2 and 3: two rows for year=2020 \(economy.inflation\)"),
    ('2021,"0.02', r"economy.inflation.csv, line \d+: the (line cannot be read as CSV|row has 1 fields)"),
    ("2021,1.5", r"economy.inflation.csv, line 3: Input 'economy.inflation' at year=2021: value 1.5 is outside"),
    # a quoted decimal comma is not a thousands separator (it was read as 25)
    ('2021,"0,025"', r"line 3, column B \(economy.inflation\): value '0,025' is not a number"),
])
def test_a_bad_row_is_refused_naming_file_line_and_column(case, out, line, pattern):
    _edit_line(case / INFLATION, 3, line)
    valuate_refused(case, out, pattern)


def test_a_bad_header_is_refused(case, out):
    _edit_line(case / INFLATION, 1, "year,economy.inflation,")
    valuate_refused(case, out, r"economy.inflation.csv, line 1, column C: the column has no name")
    _edit_line(case / INFLATION, 1, "year,year")
    valuate_refused(case, out, r"economy.inflation.csv, line 1, column B: the column 'year' is named twice")
    _edit_line(case / INFLATION, 1, "year,economy.inflation_rate")
    valuate_refused(case, out, r"economy.inflation.csv: column 'economy.inflation_rate' is not a known input \(line 1, "
                               r"column B;")
    (case / INFLATION).write_text("")
    valuate_refused(case, out, r"economy.inflation.csv: the file is empty; expected a header line")


def test_an_input_given_twice_names_both_files(case, out):
    shutil.copy(case / INFLATION, case / "more.csv")
    valuate_refused(case, out, r"more.csv, line 1, column B: column 'economy.inflation' is also given in "
                               r"economy.inflation.csv")


def test_encoding_errors_are_named_and_a_bom_is_accepted(case, out):
    data = (case / INFLATION).read_bytes()
    (case / INFLATION).write_bytes(b"\xef\xbb\xbf" + data)   # Excel's "CSV UTF-8"
    read_valuation_folder(case)
    lines = data.split(b"\n")
    lines[3] = lines[3].replace(b",", b",\xe9", 1)
    (case / INFLATION).write_bytes(b"\n".join(lines))
    valuate_refused(case, out, r"economy.inflation.csv, line 4: byte 0xE9 \(character 6\) is not UTF-8; expected a "
                               r"UTF-8 text file")


def test_blank_lines_and_crlf_are_read(case, short):
    lines = _lines(case / INFLATION)
    (case / INFLATION).write_bytes(("\r\n".join(lines[:3] + ["", ",", *lines[3:]]) + "\r\n").encode())
    read = read_valuation_folder(case)
    np.testing.assert_array_equal(read.inputs.economy["inflation"].values, short.inputs.economy["inflation"].values)


# ------------------------------------------------------------------------------------------------ report text

FULL = {s.key: (f"Text of {s.key}, with a comma and \"quotes\".\n- an item" if not s.line else f"Line of {s.key}")
        for s in SECTIONS}
FULL["signature_date"] = "7 December 2026"
FULL["conclusions"] = "=1+1 is how a formula would start\n+cmd|' /C calc'!A0"


@pytest.mark.parametrize("lines, pattern", [
    (["section,text", "purpose,Our purpose"],
     r"report_text.csv, line 2, column A \(section\): 'purpose' is not a section of the report text \(did you mean "
     r"purpose_and_scope\?\)"),
    (["section,text", "conclusions,a", "conclusions,b"],
     r"report_text.csv, line 3, column A \(section\): section 'conclusions' is listed twice \(also in line 2\)"),
    (["section,text,notes", "conclusions,a,b"],
     r"report_text.csv, line 1, column C: header 'notes'; expected 'chapter'"),
    (["key,text"], r"report_text.csv, line 1, column A: header 'key'; expected 'section'"),
    (["section,text", "conclusions,a,b"], r"report_text.csv, line 2: the row has 3 fields; expected 2"),
    (["section,text", "conclusions,bell\x07"],
     r"report_text.csv, line 2, column B \(text\): the text contains the control character U\+0007"),
    (["section,text", "actuary_name,\"two\nlines\""],
     r"report_text.csv, line 2, column B \(text\): 'actuary_name' \(Name\) is one line of the signature block"),
    (["section,text", "signature_date,2026-13-45"],
     r"report_text.csv, line 2, column B \(text\): value '2026-13-45' is not a date; expected the date of signature"),
    (["section,text", ",text without a key"], r"report_text.csv, line 2, column A \(section\): the cell is blank"),
])
def test_a_bad_report_text_csv_is_refused_by_the_report_before_anything_runs(case, out, lines, pattern):
    (case / "report_text.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused(["report", case, "--out", out], pattern, out)


def test_a_report_text_csv_link_is_refused_even_by_valuate(case, out, tmp_path):
    (tmp_path / "text.csv").write_text("section,text\n")
    (case / "report_text.csv").symlink_to(tmp_path / "text.csv")
    valuate_refused(case, out, r"report_text.csv: is a symbolic link")


def test_report_text_csv_reads_as_the_sheet_and_round_trips(case, short, tmp_path):
    """report_text.csv written from a ReportText reads back the same; a workbook written with it holds the same
    Report text sheet; a text starting with '=' or '+' is a literal text cell there, never a formula; the CSV's
    signature date as a date reads as the sheet's date cell does."""
    text = ReportText(dict(FULL))
    write_report_text_csv(case / "report_text.csv", text)
    assert read_folder_report_text(case).texts == text.texts
    short.to_workbook(tmp_path / "case.xlsx", text=read_folder_report_text(case))
    assert read_report_text(tmp_path / "case.xlsx").texts == text.texts
    ws = openpyxl.load_workbook(tmp_path / "case.xlsx")[SHEET]
    cell = next(ws.cell(row=r, column=2) for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=1).value
                == "conclusions")
    assert cell.data_type == "s" and cell.value == FULL["conclusions"] and cell.quotePrefix
    (case / "report_text.csv").write_text("section,text,chapter,what to write\nsignature_date,2026-12-07,x,y\n")
    assert read_folder_report_text(case).texts == {"signature_date": "7 December 2026"}


def _narrative(html: str) -> list[str]:
    """The actuary's text as placed in a report: every section's block and the signature block, in order."""
    blocks = re.findall(r'<div class="narrative" id="text-[^"]+".*?</div>|<table class="signature".*?</table>', html,
                        re.S)
    return blocks


def test_a_case_folder_report_text_gives_the_report_of_the_same_text_in_a_workbook(case, short, tmp_path,
                                                                                  monkeypatch):
    """actuary report on a case folder with report_text.csv and on a workbook of the same case with the same text in
    its Report text sheet: the same sections in the same places of the same chapters, no draft; without the file
    the folder's report is a draft that says where to give the text."""
    import actuary.report.pdf as pdf

    monkeypatch.setattr(pdf, "engine", lambda: None)   # the HTML is what is compared: no PDF printed
    write_report_text_csv(case / "report_text.csv", ReportText(dict(FULL)))
    workbook = tmp_path / "in" / "book.xlsx"
    short.to_workbook(workbook, text=ReportText(dict(FULL)))
    runner = CliRunner()
    for source in (case, workbook):
        result = runner.invoke(main, ["report", str(source), "--out", str(tmp_path / "out")], terminal_width=400)
        assert result.exit_code == 0, result.output
        assert "Draft" not in result.output
    from_folder = (tmp_path / "out" / "case-report.html").read_text()
    from_workbook = (tmp_path / "out" / "book-report.html").read_text()
    assert "DRAFT" not in from_folder and 'class="gap"' not in from_folder
    assert len(_narrative(from_folder)) == len(SECTIONS) - 2   # the signature lines in one block
    assert _narrative(from_folder) == _narrative(from_workbook)
    assert re.findall(r"<h2>[^<]+</h2>", from_folder) == re.findall(r"<h2>[^<]+</h2>", from_workbook)
    assert "=1+1 is how a formula would start" in from_folder
    (case / "report_text.csv").unlink()
    result = runner.invoke(main, ["report", str(case), "--out", str(tmp_path / "draft")], terminal_width=400)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"Draft: {len(SECTIONS)} sections" in said and "Give them in case/report_text.csv (columns section,text" \
        in said
    draft = (tmp_path / "draft" / "case-report.html").read_text()
    assert "They are given in case/report_text.csv" in " ".join(draft.split())


def test_text_of_a_case_folder_never_becomes_a_formula_in_the_results_workbook(case, tmp_path):
    """The case's name from valuation.json is written in the results workbook as literal text."""
    name = "=HYPERLINK(\"http://example.invalid\",\"click\")"
    _spec(case, lambda spec: spec.update(name=name))
    result = CliRunner().invoke(main, ["valuate", str(case), "--out", str(tmp_path / "out")], terminal_width=400)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(tmp_path / "out" / "case-results.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(name in c.value for c in cells)
    assert not [c.coordinate for c in cells if c.data_type == "f" or (c.value.startswith("=") and not c.quotePrefix)]


def test_to_folder_writes_a_case_folder_that_reads_back_the_same_inputs_and_text(short, tmp_path):
    """Valuation.to_folder: the same inputs read back (the floor's per-benefit inputs in one floor.csv, in the case's
    order of benefits; a "no limit" written as none), report_text.csv with the text; never into a folder with files."""
    from actuary import load_workbook
    from actuary.valuation import DEMOLAND_FLOOR_ONLY

    from .test_floor_workbook import assert_same_inputs

    short.to_folder(tmp_path / "scheme", text=ReportText(dict(FULL)))
    assert_same_inputs(short, read_valuation_folder(tmp_path / "scheme"))
    assert read_folder_report_text(tmp_path / "scheme").texts == ReportText(dict(FULL)).texts
    alone = load_workbook(DEMOLAND_FLOOR_ONLY)
    alone = alone.replace(floor={"max_age": alone.raw["floor"]["max_age"].fillna(np.inf)})
    alone.to_folder(tmp_path / "floor")
    assert _lines(tmp_path / "floor" / "floor.csv")[1].startswith("social_pension,old_age,both,65.0,none,")
    read = read_valuation_folder(tmp_path / "floor")
    assert_same_inputs(alone, read)
    assert list(read.inputs.coords["floor_benefit"]) == list(alone.inputs.coords["floor_benefit"])
    assert read_folder_report_text(tmp_path / "floor").texts == {}
    with pytest.raises(InputError, match=r"floor: exists and is not an empty folder; a case folder is written only "
                                         r"into a new or empty folder"):
        alone.to_folder(tmp_path / "floor")


def test_a_bad_value_of_the_floor_table_is_named_by_its_line(tmp_path, out):
    """The inputs' own checks (bounds, options) name the file and line of the row at fault."""
    from actuary import load_workbook
    from actuary.valuation import DEMOLAND_FLOOR_ONLY

    case = tmp_path / "case"
    load_workbook(DEMOLAND_FLOOR_ONLY).to_folder(case)
    lines = _lines(case / "floor.csv")
    row = next(i for i, line in enumerate(lines, start=1) if line.startswith("disability_benefit,"))
    _edit_line(case / "floor.csv", row, lines[row - 1].replace(",universal,", ",sometimes,"))
    valuate_refused(case, out, rf"floor.csv, line {row}: Input 'floor.test' at floor_benefit=disability_benefit: "
                               r"value 'sometimes' is not an option; expected one of universal, pension_tested, top_up")



def test_a_semicolon_separated_or_capitalised_header_is_shown_with_what_to_do(case, out):
    """Saved by a European-locale spreadsheet (semicolons) or with capitalised names: the message quotes the header
    read and says what a case folder expects (it said only "no dimension column")."""
    path = case / INFLATION
    path.write_text("\n".join(line.replace(",", ";") for line in _lines(path)) + "\n", encoding="utf-8")
    valuate_refused(case, out, r"economy.inflation.csv: no dimension column in its header 'year;economy.inflation'; "
                               r".* The file seems separated by semicolons: a case folder's CSV files are comma "
                               r"separated")
    path.write_text("\n".join(line.replace(";", ",") for line in _lines(path)) + "\n", encoding="utf-8")
    _edit_line(case / INFLATION, 1, "Year,economy.inflation")
    valuate_refused(case, out, r"no dimension column in its header 'Year,economy.inflation'.* Dimension names are "
                               r"lower case")


def test_the_owner_file_excel_keeps_beside_an_open_file_is_not_read(case, out, tmp_path):
    (case / "~$economy.inflation.csv").write_bytes(b"\x00owner")
    (case / "~$notes.xlsx").write_bytes(b"\x00owner")
    result = CliRunner().invoke(main, ["valuate", str(case), "--out", str(tmp_path / "ok")], terminal_width=400)
    assert result.exit_code == 0, result.output + result.stderr


def test_a_blank_or_missing_cell_is_said_as_such_with_its_line(case, out):
    """A blank value is left out of the table: the validation's error (a gap of years, a value 'nan') named the next
    year's line or no line at all; it names the blank cell's line, or says the file has no row for the cell."""
    _edit_line(case / INFLATION, 3, "2021,")
    valuate_refused(case, out, r"economy.inflation.csv.*gap.*\(economy.inflation.csv, line 3: the cell of "
                               r"economy.inflation for year=2021 is blank, and a blank cell is left out.\)")
    population = case / "demography.population.csv"
    lines = _lines(population)
    number = next(i for i, line in enumerate(lines, start=1) if line.startswith("female,40,"))
    _edit_line(case / INFLATION, 3, "2021,0.02")
    _edit_line(population, number, "female,40,")
    valuate_refused(case, out, rf"demography.population.csv, line {number}: the cell of demography.population for "
                               r"sex=female, age=40 is blank; expected a value \(this input has no default")
    population.write_text("\n".join(lines[:number - 1] + lines[number:]) + "\n", encoding="utf-8")
    valuate_refused(case, out, r"demography.population.csv: no row for sex=female, age=40 \(demography.population\); "
                               r"expected a value for every sex, age the valuation uses")


def test_a_sex_written_otherwise_names_its_first_line(case, out):
    population = case / "demography.population.csv"
    lines = _lines(population)
    number = next(i for i, line in enumerate(lines, start=1) if line.startswith("female,"))
    population.write_text("\n".join(line.replace("female,", "Female,") for line in lines) + "\n", encoding="utf-8")
    valuate_refused(case, out, rf"demography.population.csv, line {number}: Input 'demography.population': unknown "
                               r"sex 'Female'; expected male or female \(lower case\).")


@pytest.mark.parametrize("command", ["valuate", "report"])
def test_the_outputs_are_not_written_into_the_case_folder(case, command):
    """--out the case folder itself (or a folder inside it): the outputs would become files of the case, refused as
    tables at its next reading; refused before anything is written."""
    before = sorted(p.name for p in case.iterdir())
    for out in (case, case / "results"):
        result = CliRunner().invoke(main, [command, str(case), "--out", str(out)], terminal_width=400)
        assert result.exit_code == 2, result.output + result.stderr
        assert "is the case folder" in " ".join(result.stderr.split()) and "Give another --out" in result.stderr
        assert sorted(p.name for p in case.iterdir()) == before


def test_a_folder_given_where_a_workbook_is_expected_points_to_convert(case):
    """Where only a workbook will do (actuary data --into fills one), a case folder is refused pointing to convert."""
    from actuary import load_workbook

    with pytest.raises(InputError) as caught:
        load_workbook(case)
    assert f"is a folder; expected a workbook (.xlsx). (A case folder is read by the valuation commands; a workbook of " \
           f"one: actuary convert {case} {case}.xlsx.)" in str(caught.value)
