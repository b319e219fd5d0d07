"""The member-data commands treat their options and output folder like the other commands: bad
values exit 2 with one message before anything is read or written, extracts are only read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .test_hostile_inputs import refused

DEMO = Path(__file__).resolve().parents[1] / "valuations" / "demoland" / "valuation.xlsx"


@pytest.mark.parametrize("seed", ["-1", str(2 ** 32), "99999999999999999999999"])
def test_synth_seed_out_of_range(seed, tmp_path):
    refused(["synth", DEMO, "--members", "10", "--seed", seed, "--out", tmp_path / "x"],
            r"Invalid value for '--seed': .* is not in the range 0<=x<=4294967295", tmp_path)


@pytest.mark.parametrize("command", ["data", "synth", "experience"])
def test_out_that_is_a_file_is_refused_before_reading(command, tmp_path):
    """--out a file: exit 2 at once, although the extracts named do not even exist (nothing read)."""
    afile = tmp_path / "afile"
    afile.write_text("mine")
    missing = tmp_path / "missing.csv"
    args = {"data": ["data", "--members", missing, "--pensioners", missing, "--valuation-date", "2020-01-01",
                     "--into", DEMO],
            "synth": ["synth", DEMO, "--members", "10"],
            "experience": ["experience", DEMO, "--members", missing, missing, "--pensioners", missing, missing,
                           "--valuation-date", "2020-01-01"]}[command]
    refused(args + ["--out", afile], rf"--out {afile}: is a file; expected a folder for the outputs", tmp_path)
    assert afile.read_text() == "mine"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere: a read-only folder cannot be tested as root")
def test_out_not_writable_is_refused_before_reading(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        refused(["synth", DEMO, "--members", "10", "--out", locked / "sub"], r"cannot write there", tmp_path)
    finally:
        locked.chmod(0o700)


def test_a_missing_sqlite_database_is_not_created(tmp_path):
    database = tmp_path / "newdb.db"
    out = tmp_path / "out"
    refused(["data", "--members", f"sqlite:///{database}", "--members-table", "insured", "--pensioners",
             f"sqlite:///{database}", "--pensioners-table", "pensioners", "--valuation-date", "2020-01-01",
             "--into", DEMO, "--out", out], r"no such SQLite database file", tmp_path)
    assert not database.exists()


def test_output_names_from_the_workbook_are_cleaned(tmp_path):
    """A workbook named '=1+1 x.xlsx' gives outputs named 1_1_x-..., as valuate does."""
    from actuary.io.safety import stem_name

    source = tmp_path / "=1+1 x.xlsx"
    assert stem_name(source) == "1_1_x"
    assert stem_name(tmp_path / "case.v2.xlsx") == "case.v2"


def test_experience_says_when_an_option_of_two_files_took_the_next_option(tmp_path):
    """`--pensioners FIRST` with SECOND forgotten swallows `--valuation-date`: the error names --pensioners and what
    it got, not the valuation date as missing (it was given)."""
    from click.testing import CliRunner

    from actuary.cli import main

    result = CliRunner().invoke(main, ["experience", str(tmp_path / "x.xlsx"), "--members", "a.csv", "b.csv",
                                       "--pensioners", "a.csv", "--valuation-date", "2020-01-01"])
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "Invalid value for '--pensioners': takes two values" in said and "'--valuation-date'" in said
    assert "Missing option" not in said


def test_the_data_command_synth_prints_runs_as_pasted(tmp_path):
    """synth ends with 'Try: actuary data ...': that line, pasted into a shell, fills the workbook the records were
    drawn from (it said --into WORKBOOK, which a pasted command took for a file name: 'WORKBOOK: no such file');
    a folder and a workbook with spaces in their names are quoted."""
    import shlex
    import shutil

    from click.testing import CliRunner

    from actuary.cli import main

    folder = tmp_path / "my cases"
    folder.mkdir()
    workbook = folder / "my scheme.xlsx"
    shutil.copy(DEMO, workbook)
    runner = CliRunner()
    drawn = runner.invoke(main, ["synth", str(workbook), "--members", "2000", "--seed", "3", "--out",
                                 str(folder / "extract")], terminal_width=400)
    assert drawn.exit_code == 0, drawn.output
    line = " ".join(drawn.output.split("Try:", 1)[1].split())
    words = shlex.split(line)
    assert words[:2] == ["actuary", "data"] and words[words.index("--into") + 1] == str(workbook)
    filled = runner.invoke(main, words[1:] + ["--out", str(tmp_path / "checks")], terminal_width=400)
    assert filled.exit_code == 0, filled.output


def test_templates_never_replace_the_users_own_files(tmp_path):
    """`actuary data --templates FOLDER` writes its three CSVs as one set of outputs, like every command: the user's
    own insured.csv there is refused (exit 2, nothing written, the file as it was) unless --force; what it wrote is
    recorded, so that it replaces its own unchanged templates later, but not one edited since."""
    import json

    from click.testing import CliRunner

    from actuary.cli import main
    from actuary.data.layouts import INSURED, template_csv
    from actuary.io.files import MANIFEST

    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "insured.csv").write_text("MY DATA\n")
    text = refused(["data", "--templates", folder], r"--templates .*'insured\.csv' \(.*\).* --force", tmp_path)
    assert "--out" not in text
    assert sorted(p.name for p in folder.iterdir()) == ["insured.csv"]
    runner = CliRunner()
    forced = runner.invoke(main, ["data", "--templates", str(folder), "--force"])
    assert forced.exit_code == 0, forced.output
    assert (folder / "insured.csv").read_text() == template_csv(INSURED)
    recorded = json.loads((folder / MANIFEST).read_text())["outputs"]
    assert sorted(recorded) == ["controls.csv", "insured.csv", "pensioners.csv"]
    again = runner.invoke(main, ["data", "--templates", str(folder)])   # its own unchanged files: replaced
    assert again.exit_code == 0, again.output
    (folder / "pensioners.csv").write_text("id,sex\n1,M\n")   # edited since
    refused(["data", "--templates", folder], r"'pensioners\.csv' \(changed since actuary wrote it", tmp_path)
    assert (folder / "pensioners.csv").read_text() == "id,sex\n1,M\n"


HOSTILE_IDS = ["\x01control{n}", '=HYPERLINK("http://evil.example/?{n}","click")', "@SUM(1+1)*cmd|x{n}", "+1+{n}",
               "-1+{n}", "\t=1+{n}"]


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    """`actuary data` on 2,000 synthetic members plus 6 records with hostile ids and the sex '=1+1' (rule M203),
    into --out "d_o'q" (an apostrophe), the sheet's limit of records hit lowered to 3 so that all of them go to
    <name>-data-checks-records.csv as beyond 100,000 (the path of DuckDB's COPY, without writing 100,001
    records): (the CLI's result, the output folder)."""
    import csv
    import shutil

    from click.testing import CliRunner

    from actuary import Valuation
    from actuary.cli import main
    from actuary.data import intake
    from actuary.data.synth import synthesize

    folder = tmp_path_factory.mktemp("injected")
    manifest = synthesize(Valuation.demo(), 2000, 1, folder)
    with open(folder / "insured-2020.csv", "a", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for n, hostile in enumerate(HOSTILE_IDS):
            writer.writerow([hostile.format(n=n), "=1+1", "1970-01-01", "1990-01-01", "active", "10", "12", "1000"])
    shutil.copy(DEMO, folder / "case.xlsx")
    out = folder / "d_o'q"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(intake, "MAX_SHEET_ROWS", 3)
        result = CliRunner().invoke(main, ["data", "--members", str(folder / "insured-2020.csv"), "--pensioners",
                                           str(folder / "pensioners-2020.csv"), "--valuation-date", "2020-01-01",
                                           "--weight", str(manifest["weight"]), "--into", str(folder / "case.xlsx"),
                                           "--out", str(out)], terminal_width=400)
    return result, out


def test_records_csv_under_an_out_with_an_apostrophe(injected):
    """More records hit than the sheet holds, --out "d_o'q": the CSV of all of them is written there (the path was
    put into DuckDB's COPY by an f-string: a ParserException, exit 1), nothing else left in the folder."""
    result, out = injected
    assert result.exit_code == 0, (result.output, result.exception)
    assert sorted(p.name for p in out.iterdir()) == [".actuary-outputs.json", "case-data-checks-records.csv",
                                                     "case-data-checks.xlsx"]


def test_records_csv_holds_no_live_formula(injected):
    """No field of the records CSV starts with what a spreadsheet evaluates (=, +, -, @, tab, CR) unless it is a
    plain number; the hostile ids and values are there with a leading apostrophe, the rest as read; rows are
    numbers."""
    import csv
    import re

    from actuary.data.csvout import FORMULA_START, PLAIN_NUMBER

    _, out = injected
    with open(out / "case-data-checks-records.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and list(rows[0]) == ["rule", "file", "line", "id", "field", "value", "detail"]
    for row in rows:
        assert row["line"].isdigit()
        for field in row.values():
            assert field[:1] not in FORMULA_START or re.fullmatch(PLAIN_NUMBER, field), row
    hit = {row["id"]: row for row in rows if row["rule"] == "M203"}
    for n, hostile in enumerate(HOSTILE_IDS):
        written = ("'" if hostile[:1] in FORMULA_START else "") + hostile.format(n=n)
        assert written in hit, sorted(hit)
        assert hit[written]["value"] == "'=1+1"
    assert {(row["rule"], row["file"], row["field"]) for row in rows} >= {("M203", "insured", "sex")}   # as written


def test_checks_workbook_text_stays_text_on_edit(injected):
    """Every text cell of the checks workbook that starts like a formula is a text cell with the quote prefix (as
    Excel sets for typed-in text), so that editing it (F2, Enter) keeps it text; a control character in an id is
    dropped (openpyxl refused it: a traceback); numbers stay numbers."""
    from openpyxl import load_workbook

    _, out = injected
    wb = load_workbook(out / "case-data-checks.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    formula_like = [c for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert any(c.value.startswith("=HYPERLINK") for c in formula_like)
    assert not [c.coordinate for c in formula_like if c.data_type != "s" or not c.quotePrefix]
    records = wb["Records"]
    assert "control0" in [c.value for c in records["D"]]   # a control character dropped (was IllegalCharacterError)
    header = next(r for r in range(1, 10) if records.cell(r, 1).value == "rule")
    assert isinstance(records.cell(header + 1, 3).value, int)   # the row of the record, a number


def test_the_records_csv_path_is_any_folder_name(tmp_path):
    """copy_csv puts the path into DuckDB's COPY (which takes no parameter for it) through sources._literal: every
    character a file name may hold comes back from a literal as itself, and a folder named with quotes, a
    backslash, glob characters, '~', a newline or SQL of its own gets the file, nothing else happening."""
    import csv

    import duckdb

    from actuary.data.csvout import copy_csv
    from actuary.data.sources import _literal

    con = duckdb.connect()
    every = "".join(chr(c) for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert con.execute(f"SELECT {_literal(every)}").fetchone()[0] == every
    con.execute("CREATE TABLE t AS SELECT 1 AS row, '=1+1' AS value")
    for name in ["d_o'q", 'a"b', "b\\c", "s*[ab]?{x}", "~", "$HOME", "new\nline", "数", "x'; DROP TABLE t; --"]:
        folder = tmp_path / name
        copy_csv(con, "SELECT * FROM t", folder / "r.csv")
        assert [p.name for p in folder.iterdir()] == ["r.csv"]
        with open(folder / "r.csv", newline="", encoding="utf-8") as handle:
            assert list(csv.reader(handle)) == [["row", "value"], ["1", "'=1+1"]]
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["d_o'q", 'a"b', "b\\c", "s*[ab]?{x}", "~", "$HOME",
                                                                 "new\nline", "数", "x'; DROP TABLE t; --"])


def test_experience_summary_keeps_file_names_as_text(tmp_path):
    """The experience workbook's Summary names the extracts as given: a file named '=1+1 x.csv' is a text cell with
    the quote prefix (it stays text once edited), one holding a control character is written without it (it was
    IllegalCharacterError, a traceback)."""
    import datetime as dt

    from openpyxl import load_workbook

    from actuary import Valuation
    from actuary.data.experience import run_experience
    from actuary.data.sources import Source
    from actuary.data.synth import synthesize

    manifest = synthesize(Valuation.demo(), 2000, 5, tmp_path, years=2)
    files = manifest["files"]
    first = tmp_path / files["insured"]
    hostile = first.rename(tmp_path / "=1+1 x.csv")
    odd = (tmp_path / files["pensioners"]).rename(tmp_path / "@p\x01.csv")
    _, path = run_experience(DEMO, (Source(str(hostile)), Source(str(tmp_path / files["insured_next"]))),
                             (Source(str(odd)), Source(str(tmp_path / files["pensioners_next"]))),
                             dt.date(2020, 1, 1), tmp_path / "out")
    ws = load_workbook(path)["Summary"]
    cell = next(c for c in ws["B"] if isinstance(c.value, str) and "1+1 x.csv" in c.value)
    assert cell.value.startswith("=1+1 x.csv: ") and cell.data_type == "s" and cell.quotePrefix
    assert "@p.csv: " in cell.value
    assert isinstance(next(c for c in ws["A"] if str(c.value).startswith("members of extract 1")).offset(0, 1).value,
                      int)


@pytest.mark.parametrize("value", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "-2.5", "+1e3", "-.5e-3", "12",
                                   "-", "+", "-1,000", "-inf", "- 1", "'=1", " =1", "ok", "", "=", "１００", "－1"])
def test_csv_neutralising_in_sql_is_the_documented_rule(value):
    """DuckDB's expression (the records CSV) and neutral_text say the same of every value: a leading apostrophe
    before =, +, -, @, tab or CR unless the field is a plain number."""
    import duckdb

    from actuary.data.csvout import neutral_sql, neutral_text

    written = duckdb.connect().execute(f"SELECT {neutral_sql('v')} FROM (SELECT ? AS v)", [value]).fetchone()[0]
    assert written == neutral_text(value)
    assert written == (value if value[:1] not in "=+-@\t\r" or value in ("-2.5", "+1e3", "-.5e-3") or not value
                       else "'" + value)


@pytest.mark.parametrize("seed, errors", [(0, 0.0), (6, 0.0), (1, 0.02), (1, 0.05)])
def test_the_data_command_synth_prints_passes_with_a_small_sample(seed, errors, tmp_path):
    """2,000 members: the command synth prints runs through (exit 0). The contributors' and contributions' controls
    had a fixed 2% tolerance, 1.5 and less than one sampling standard error: R02 stopped seed 0, R01 seed 1 with 2%
    errors; with 5% errors the planted exclusions passed --max-excluded (X02); seed 6 has an age whose earners all
    earn the insurable floor, whose weight made the salary scale's graduation singular (a LinAlgError traceback)."""
    import shlex
    import shutil

    from click.testing import CliRunner

    from actuary.cli import main

    workbook = tmp_path / "case.xlsx"
    shutil.copy(DEMO, workbook)
    runner = CliRunner()
    drawn = runner.invoke(main, ["synth", str(workbook), "--members", "2000", "--seed", str(seed), "--errors",
                                 str(errors), "--out", str(tmp_path / "extract")], terminal_width=400)
    assert drawn.exit_code == 0, drawn.output
    words = shlex.split(" ".join(drawn.output.split("Try:", 1)[1].split()))
    assert ("--max-excluded" in words) == (errors == 0.05)
    filled = runner.invoke(main, words[1:] + ["--out", str(tmp_path / "checks")], terminal_width=400)
    assert filled.exit_code == 0, (filled.output, filled.exception)
    assert "Filled" in filled.output
