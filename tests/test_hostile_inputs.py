"""Hostile and malformed inputs: workbooks, command-line options and Python calls. Each is refused with
exit code 2 (or InputError) and one message naming the sheet and cell (or the option or field), the
value and what was expected; never a traceback; a pre-existing output folder is left byte-identical
(no output replaced, no partial or temporary file)."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from actuary import InputError, Valuation, load_workbook
from actuary.cli import main
from actuary.io.safety import MAX_PARTS
from actuary.stochastic import StochasticParameters, simulate
from actuary.valuation import DEMOLAND

from .xlsx_edit import RawNumber, add_sheet, edit, rewrite, set_cells, sheet_parts

DEMO = DEMOLAND / "valuation.xlsx"


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


def snapshot(folder: Path) -> dict:
    """Every path under ``folder`` (itself if a file) with its bytes (None for folders)."""
    if not folder.exists():
        return {}
    if folder.is_file():
        return {".": folder.read_bytes()}
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


@pytest.fixture
def out(tmp_path):
    """An output folder holding the outputs of an earlier run (which a refused run must not touch)."""
    from actuary.io.files import OutputSet

    folder = tmp_path / "out"
    folder.mkdir()
    names = ["case-results.xlsx", "case-results.nc", "case-sensitivity.xlsx", "case-sensitivity.nc",
             "case-stochastic.xlsx", "case-stochastic.nc", "demoland-results.xlsx", "demoland-results.nc"]
    with OutputSet(folder, names) as outputs:   # actuary's own outputs (in the folder's manifest): replaceable
        for name in names:
            outputs.path(name).write_bytes(f"earlier output {name}".encode())
        outputs.commit()
    (folder / "victim").mkdir()
    (folder / "victim" / "keep.txt").write_text("the user's own file")
    return folder


def refused(args, pattern, folder: Path, code: int = 2):
    """Run the CLI in process: exit ``code``, ``pattern`` in the one message, no traceback, ``folder``
    unchanged."""
    before = snapshot(folder)
    result = CliRunner().invoke(main, [str(a) for a in args], terminal_width=400)
    text = " ".join(result.output.split())
    assert result.exit_code == code, (result.exit_code, text, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in text
    assert re.search(pattern, text), text
    assert snapshot(folder) == before
    return text


def case(tmp_path, cells=None, changes=None) -> Path:
    """A copy of the Demoland workbook named case.xlsx with ``cells`` set ({sheet: {ref: value}})
    and ``changes`` applied ({sheet: function(Sheet)})."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    target = folder / "case.xlsx"
    source = DEMO
    if cells:
        source = set_cells(source, target, cells)
    if changes:
        staged = folder / "staged.xlsx"
        shutil.copy(source, staged)
        edit(staged, target, changes)
        staged.unlink()
    if source == DEMO and not changes:
        shutil.copy(DEMO, target)
    return target


# ------------------------------------------------------------------------------------ workbook cells

CELLS = {
    # class: (sheet, cell, value, expected message)
    "text inf in a rate": ("Schedules", "J10", "inf", r"Schedules!J10: value 'inf' is not a number; expected a number"),
    "text nan in a count": ("Population", "C7", "nan", r"Population!C7: value 'nan' is not a number; expected a number"),
    "text 1e999 in a table": ("Schedules", "H12", "1e999",
                              r"Schedules!H12: value '1e999' is not a finite number; expected a number"),
    "stored number 1e999": ("Population", "C9", RawNumber("1e999"),
                            r"Population!C9: value inf is not a finite number; expected a number"),
    "text inf where no maximum is documented": ("Scheme", "B15", "inf",
                                                r"Scheme!B15: value 'inf' is not a number; expected a number"),
    "boolean in a number cell": ("Scheme", "B3", True, r"Scheme!B3: value 'True' is not a number; expected a number"),
    "decimal comma": ("Schedules", "B6", "0,18", r"Schedules!B6: value '0,18' is not a number; expected a number"),
    "yearly rate above 100%": ("Schedules", "J20", 1.5,
                               r"Schedules!J20: Input 'economy.nominal_return' at year=2036: value 1.5 is outside "
                               r"\(-0.5, 1\); expected an annual rate above -0.5 and below 1"),
    "yearly rate at -50%": ("Schedules", "H20", -0.5,
                            r"Schedules!H20: Input 'economy.inflation' at year=2036: value -0.5 is outside "
                            r"\(-0.5, 1\)"),
    "mortality improvement 20%": ("Demographic rates", "D9", 0.2,
                                  r"Demographic rates!D9: Input 'demography.mortality_improvement' at year=2020, "
                                  r"sex=male, age=5: value 0.2 is outside \[-0.1, 0.1\]"),
    "negative vesting years": ("Scheme", "B3", -1,
                               r"Scheme!B3: Input 'scheme.vesting_years': value -1.0 is negative; expected a number "
                               r">= 0"),
    "negative pension amount": ("Pensioners", "E5", -100,
                                r"Pensioners!E5: Input 'initial.average_pension' at benefit=old_age, sex=male, "
                                r"age=61: value -100.0 is negative; expected an amount or share >= 0"),
    "retirement age beyond the age range": ("Retirement ages", "C4", 200,
                                            r"Retirement ages!C4: Input 'scheme.normal_retirement_age' at year=2020, "
                                            r"sex=male: value 200.0 is outside \[0, 120\]; expected an age"),
    "indexation lag of ten billion years": ("Scheme", "B23", 13478978560.0,   # it asked for 100 GiB of history
                                            r"Scheme!B23: Input 'scheme.indexation_lag': value 13478978560.0 is "
                                            r"outside \[0, 100\]; expected a whole number"),
    "valuation year 10**9": ("Settings", "B3", 10 ** 9,
                             r"Settings!B3: Input 'settings.valuation_year': value 1000000000.0 is outside "
                             r"\[1800, 2500\]"),
    "max_age of a million": ("Settings", "B6", 10 ** 6,
                             r"Settings!B6: Input 'settings.max_age': value 1000000.0 is outside \[1, 150\]"),
    "gap horizons not a list": ("Settings", "B12", "10; 25",
                                r"Settings!B12: value '10; 25' is not a list of whole numbers"),
    "unknown option": ("Scheme", "B18", "salaries",
                       r"Scheme!B18: value 'salaries' is not an option for revaluation; expected one of wages, "
                       r"prices, none"),
    "blank required setting": ("Settings", "B3", None, r"Settings!B3: the cell is blank; 'valuation_year' is required"),
    "duplicate input row": ("Scheme", "A4", "vesting_years",
                            r"Scheme!A4: 'vesting_years' is listed twice \(also in row 3\)"),
    "value outside the table": ("Schedules", "S7", 0.5,
                                r"Schedules!S7: value '0.5' is outside the table \(columns A..R, headed in row 2\)"),
    "data in the units row": ("Fertility", "A3", 0,
                              r"Fertility!A3: value '0' in the units row; row 3 holds the units and the data start "
                              r"in row 4"),
    "rich markup in a cell": ("Scheme", "B18", "[/bold]",
                              r"Scheme!B18: value '\[/bold\]' is not an option for revaluation"),
    "formula in a setting without a saved value": ("Settings", "B4", "=100+0",
                                                   r"Settings!B4: formula =100\+0 has no calculated value saved"),
}


@pytest.mark.parametrize("name", sorted(CELLS))
def test_bad_cell_is_refused_naming_the_cell(name, tmp_path, out):
    sheet, ref, value, pattern = CELLS[name]
    if isinstance(value, str) and value.startswith("="):  # a formula cell without a saved value
        workbook = case(tmp_path, changes={sheet: lambda s: s.formula(ref, value[1:])})
    else:
        workbook = case(tmp_path, {sheet: {ref: value}})
    refused(["valuate", workbook, "--out", out], pattern, out)


# ------------------------------------------------------------------------------------ workbook structure

def test_unknown_sheet_suggests_the_closest_name(tmp_path, out):
    workbook = add_sheet(case(tmp_path), tmp_path / "in" / "case2.xlsx", "Scenario", [[None], ["scenario"]])
    refused(["valuate", workbook, "--out", out],
            r"case2.xlsx: sheet 'Scenario' is not part of a valuation workbook. Did you mean 'Scenarios'\?", out)


def test_table_longer_than_the_layout_is_refused_after_one_row_too_many(tmp_path, out):
    """A million rows of Fertility (one age each): refused on the 122nd data row, not after reading all."""
    parts = sheet_parts(DEMO)
    with zipfile.ZipFile(DEMO) as z:
        xml = z.read(parts["Fertility"]).decode()
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>0</v></c></row>'
                   for r in range(4, 1_000_004))
    head, rest = xml.split('<row r="4">', 1)
    tail = rest.split("</sheetData>", 1)[1]
    (tmp_path / "in").mkdir()
    workbook = rewrite(DEMO, tmp_path / "in" / "case.xlsx",
                       {parts["Fertility"]: (head + rows + "</sheetData>" + tail).encode()})
    refused(["valuate", workbook, "--out", out],
            r"Fertility!A125: the table has more than 121 data rows \(this is one too many: rows from 4\); "
            r"expected at most 121 \(one per age", out)


@pytest.mark.parametrize("cell, value, pattern", [
    ("A1000000", "x", r"Settings!A1000000: a cell below the table holds a value \('x'\), after 999,973 blank rows: "
                      r"its 24 data rows end at row 26, .* Clear A1000000 \(comments go in the notes column"),
    ("C5000", "oops", r"Settings!C5000: a cell below the table holds a value \('oops'\), after 4,973 blank rows: "
                      r".* Clear C5000 "),
])
def test_a_stray_cell_far_below_a_full_table_is_named_to_clear(tmp_path, out, cell, value, pattern):
    """A value typed far down a sheet whose table is full is not "one too many" data row of the table: the cell
    with the value is named (its column too), with the blank rows before it, and is to be cleared."""
    workbook = case(tmp_path, cells={"Settings": {cell: value}})
    text = refused(["valuate", workbook, "--out", out], pattern, out)
    assert "one too many" not in text


def test_missing_column_named_by_its_cell(tmp_path, out):
    workbook = case(tmp_path, changes={"Schedules": lambda s: s.delete_column(8)})
    refused(["valuate", workbook, "--out", out], r"Schedules!R2: column 'inflation' is missing", out)


def test_macro_project_inside_an_xlsx(tmp_path, out):
    (tmp_path / "in").mkdir()
    workbook = rewrite(DEMO, tmp_path / "in" / "case.xlsx", {"xl/vbaProject.bin": b"\x00macro"})
    refused(["valuate", workbook, "--out", out], r"case.xlsx: the workbook contains macros \(vbaProject.bin\)", out)


def test_truncated_workbook(tmp_path, out):
    (tmp_path / "in").mkdir()
    workbook = tmp_path / "in" / "case.xlsx"
    workbook.write_bytes(DEMO.read_bytes()[: DEMO.stat().st_size // 2])
    refused(["valuate", workbook, "--out", out], r"case.xlsx: not an Excel workbook \(.xlsx\)", out)


# ------------------------------------------------------------------------------------ hostile containers

def test_zip_bomb_is_refused_before_parsing(zip_bomb, out):
    assert zip_bomb.stat().st_size < 6 * 1024 ** 2
    refused(["valuate", zip_bomb, "--out", out],
            r"case.xlsx: the workbook expands to 1,02\d MB; at most 200 MB uncompressed are read", out)


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")  # the test writes the duplicate on purpose
def test_a_part_stored_twice_is_refused(tmp_path, out):
    """Two zip entries of the same name (the first with a formula, the last clean): readers differ in which
    they show, so the workbook is not read at all."""
    (tmp_path / "in").mkdir()
    workbook = tmp_path / "in" / "case.xlsx"
    part = sheet_parts(DEMO)["Settings"]
    with zipfile.ZipFile(DEMO) as source, zipfile.ZipFile(workbook, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            data = source.read(name)
            if name == part:
                target.writestr(name, re.sub(rb'<c r="B4"[^>]*><v>\d+</v></c>', b'<c r="B4"><f>1</f></c>', data))
            target.writestr(name, data)
    refused(["valuate", workbook, "--out", out], rf"case.xlsx: the workbook's zip container holds the part {part} "
                                                 "twice", out)


def test_part_with_a_ratio_above_100_is_refused(tmp_path, out):
    (tmp_path / "in").mkdir()
    workbook = rewrite(DEMO, tmp_path / "in" / "case.xlsx", {"xl/media/zeros.bin": bytes(50 * 1024 ** 2)})
    refused(["valuate", workbook, "--out", out], r"part xl/media/zeros.bin expands \d[\d,]* times .* at most 100:1", out)


def test_too_many_parts(tmp_path, out):
    (tmp_path / "in").mkdir()
    workbook = rewrite(DEMO, tmp_path / "in" / "case.xlsx",
                       {f"customXml/item{i}.bin": b"" for i in range(MAX_PARTS + 1)})
    refused(["valuate", workbook, "--out", out], r"the workbook has 10,0\d\d parts; at most 10,000 are read", out)


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                             .encode() for i in range(1, 10))
                  + b']>')


def _with_doctype(part_xml: bytes, doctype: bytes, reference: bytes) -> bytes:
    body = part_xml.split(b"?>", 1)[1] if part_xml.startswith(b"<?xml") else part_xml
    return doctype + body.replace(b"<t>Settings: one row per input</t>", b"<t>" + reference + b"</t>", 1)


def test_billion_laughs_in_a_sheet_is_refused(tmp_path, out):
    parts = sheet_parts(DEMO)
    with zipfile.ZipFile(DEMO) as z:
        xml = z.read(parts["Settings"])
    (tmp_path / "in").mkdir()
    workbook = rewrite(DEMO, tmp_path / "in" / "case.xlsx",
                       {parts["Settings"]: _with_doctype(xml, BILLION_LAUGHS, b"&lol9;")})
    refused(["valuate", workbook, "--out", out],
            rf"case.xlsx: part {parts['Settings']} \(sheet Settings\) declares a document type or XML entities", out)


def test_external_entity_in_the_workbook_part_is_refused(tmp_path, out):
    with zipfile.ZipFile(DEMO) as z:
        xml = z.read("xl/workbook.xml")
    doctype = b'<?xml version="1.0"?><!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    hostile = doctype + xml.replace(b'name="Contents"', b'name="&xxe;"', 1)
    (tmp_path / "in").mkdir()
    workbook = rewrite(DEMO, tmp_path / "in" / "case.xlsx", {"xl/workbook.xml": hostile})
    refused(["valuate", workbook, "--out", out], r"part xl/workbook.xml declares a document type or XML entities", out)


def test_entities_hidden_after_a_long_prolog_are_refused_by_the_container_check(tmp_path, out):
    """A DOCTYPE after 64 KB of comments: the container check reads every part through (streamed), not only its
    first 64 KB, and refuses it before openpyxl parses anything (defusedxml would refuse it a second time)."""
    parts = sheet_parts(DEMO)
    with zipfile.ZipFile(DEMO) as z:
        xml = z.read(parts["Settings"])
    prolog = b'<?xml version="1.0"?><!--' + b" " * 70_000 + b"-->"
    hostile = _with_doctype(xml, prolog + BILLION_LAUGHS.split(b"?>", 1)[1], b"&lol9;")
    (tmp_path / "in").mkdir()
    workbook = rewrite(DEMO, tmp_path / "in" / "case.xlsx", {parts["Settings"]: hostile})
    refused(["valuate", workbook, "--out", out],
            rf"case.xlsx: part {parts['Settings']} \(sheet Settings\) declares a document type or XML entities", out)


# ------------------------------------------------------------------------------------ Stochastic and Scenarios

STOCHASTIC_HEADER = [["Stochastic parameters"], ["parameter", "value", "notes"]]
SCENARIO_HEADER = [["Scenarios"], ["scenario", "input", "operation", "value", "from_year", "to_year", "from_age",
                                   "to_age", "notes"]]
SHEETS = {
    "stochastic: unknown parameter": ("Stochastic", [["wage_volatilty", 0.02]], "stochastic",
                                      r"Stochastic!A3: 'wage_volatilty' is not a stochastic parameter \(did you "
                                      r"mean wage_volatility\?\)"),
    "stochastic: text inf": ("Stochastic", [["wage_volatility", "inf"]], "stochastic",
                             r"Stochastic!B3: value 'inf' is not a number; expected a number \(wage_volatility\)"),
    "stochastic: negative volatility": ("Stochastic", [["return_volatility", -0.1]], "stochastic",
                                        r"Stochastic!B3: Stochastic parameter 'return_volatility': value -0.1 is "
                                        r"outside \[0, 0.5\]"),
    "stochastic: mortality volatility above its bound": ("Stochastic", [["mortality_model", "level"],
                                                                        ["mortality_volatility", 0.05]], "stochastic",
                                                         r"Stochastic!B4: Stochastic parameter 'mortality_volatility': "
                                                         r"value 0.05 is above 0.04; with mortality_model 'level' it "
                                                         r"is the yearly standard deviation of the change in log "
                                                         r"mortality .* expected 0 to 0.04 \(default 0.02\)"),
    "stochastic: improvement model's volatility above its bound": (
        "Stochastic", [["mortality_model", "improvement"], ["mortality_volatility", 0.02]], "stochastic",
        r"Stochastic!B4: Stochastic parameter 'mortality_volatility': value 0.02 is above 0.005; with mortality_model "
        r"'improvement' it is the yearly standard deviation of a random walk .* expected 0 to 0.005 "
        r"\(default 0.002\)"),
    "stochastic: a mortality volatility without its model": (
        "Stochastic", [["wage_volatility", 0.02], ["mortality_volatility", 0.002]], "stochastic",
        r"Stochastic!B4: 'mortality_volatility' is given \(0.002\) but not 'mortality_model', and what the value means "
        r"depends on the model: .* Add a row 'mortality_model' with level or improvement."),
    "stochastic: a drift error with the improvement model": (
        "Stochastic", [["mortality_drift_volatility", 0.003], ["mortality_model", " improvement "]], "stochastic",
        r"Stochastic!B3: Stochastic parameter 'mortality_drift_volatility': value 0.003 is given with mortality_model "
        r"'improvement', whose random walk on the improvement rates has no drift error; expected 0"),
    "stochastic: drift error above its bound": (
        "Stochastic", [["mortality_drift_volatility", 0.02]], "stochastic",
        r"Stochastic!B3: Stochastic parameter 'mortality_drift_volatility': value 0.02 is above 0.01; it is the "
        r"standard deviation of the error in the trend of mortality.* expected 0 to 0.01 \(default 0.003\)"),
    "stochastic: unknown mortality model": (
        "Stochastic", [["mortality_model", "lee-carter"]], "stochastic",
        r"Stochastic!B3: Stochastic parameter 'mortality_model': value 'lee-carter' is not a mortality model; "
        r"expected 'level' \(the default"),
    "stochastic: mortality model left blank": (
        "Stochastic", [["mortality_model", None, "which one?"]], "stochastic",
        r"Stochastic!B3: the cell is blank; expected the mortality model, level or improvement"),
    "stochastic: correlation of 1": ("Stochastic", [["correlation_wage_inflation", 0.1],
                                                    ["correlation_wage_return", 1]], "stochastic",
                                     r"Stochastic!B4: Stochastic parameter 'correlation_wage_return': value 1.0 is "
                                     r"outside \(-1, 1\)"),
    "scenarios: unknown operation": ("Scenarios", [["reform", "scheme.contribution_rate", "double", 0.2]],
                                     "sensitivity", r"Scenarios!C3: operation 'double'; expected one of set, scale, "
                                                    r"shift"),
    "scenarios: unknown input": ("Scenarios", [["reform", "scheme.contribution", "set", 0.2]], "sensitivity",
                                 r"Scenarios!B3: 'scheme.contribution' is not an input; expected group.field"),
    "scenarios: text inf value": ("Scenarios", [["reform", "scheme.contribution_rate", "set", "inf"]],
                                  "sensitivity", r"Scenarios!D3: value 'inf' is not a number"),
    "scenarios: a standard scenario's name": ("Scenarios", [["base", "scheme.contribution_rate", "set", 0.2]],
                                              "sensitivity", r"Scenarios!A3: scenario name 'base' is taken by a "
                                                             r"standard scenario"),
    "scenarios: fractional year": ("Scenarios", [["reform", "scheme.contribution_rate", "set", 0.2, 2030.5]],
                                   "sensitivity", r"Scenarios!E3: value 2030.5 is not a whole number \(year\)"),
}


@pytest.mark.parametrize("name", sorted(SHEETS))
def test_bad_stochastic_or_scenarios_sheet(name, tmp_path, out):
    sheet, rows, command, pattern = SHEETS[name]
    header = STOCHASTIC_HEADER if sheet == "Stochastic" else SCENARIO_HEADER
    workbook = add_sheet(DEMO, (tmp_path / "case.xlsx"), sheet, header + rows)
    refused([command, workbook, "--out", out, *(["--paths", "5"] if command == "stochastic" else [])], pattern, out)


# ------------------------------------------------------------------------------------ command-line options

OPTIONS = {
    "--workers 0": (["stochastic", "--workers", "0"], r"Invalid value for '--workers': 0 worker processes; expected 1"),
    "--workers beyond the cores": (["sensitivity", "--workers", "100000"],
                                   r"Invalid value for '--workers': 100000 worker processes"),
    "--chunk-size 0": (["stochastic", "--chunk-size", "0"], r"Invalid value for '--chunk-size': 0 is not in the range "
                                                            r"1<=x<=10000"),
    "--chunk-size 10**9": (["stochastic", "--chunk-size", str(10 ** 9)], r"Invalid value for '--chunk-size'"),
    "--seed -1": (["stochastic", "--seed", "-1"], r"Invalid value for '--seed': -1 is not in the range "
                                                  r"0<=x<=9223372036854775807"),
    "--seed 2**63": (["stochastic", "--seed", str(2 ** 63)], r"Invalid value for '--seed': 9223372036854775808 is "
                                                             r"not in the range"),
    "--paths 0": (["stochastic", "--paths", "0"], r"Invalid value for '--paths': 0 is not in the range x>=1"),
    "--paths text": (["stochastic", "--paths", "many"], r"Invalid value for '--paths': 'many' is not a valid integer"),
    "--paths 1.5": (["stochastic", "--paths", "1.5"], r"Invalid value for '--paths': '1.5' is not a valid integer"),
    "--format unknown": (["stochastic", "--format", "parquet"], r"Invalid value for '--format': 'parquet' is not one "
                                                                r"of 'netcdf', 'zarr'"),
    "--name with ..": (["valuate", "--name", "../victim/pwned"], r"Invalid value for '--name': contains '/'"),
    "--name absolute": (["valuate", "--name", "/tmp/pwned"], r"Invalid value for '--name': contains '/'"),
    "--name starting with a dot": (["valuate", "--name", ".hidden"], r"Invalid value for '--name': starts with '.'"),
    "--name with ..  inside": (["valuate", "--name", "a..b"], r"Invalid value for '--name': contains '..'"),
    "--workers with --scheduler": (["sensitivity", "--workers", "1", "--scheduler", "tcp://127.0.0.1:1"],
                                   r"--workers and --scheduler: give one of them"),
    "--scheduler malformed": (["stochastic", "--paths", "5", "--scheduler", "nonsense"],
                              r"--scheduler nonsense: cannot use this Dask scheduler \(ValueError: missing port"),
    "--scheduler unknown scheme": (["stochastic", "--paths", "5", "--scheduler", "foo://x:1"],
                                   r"--scheduler foo://x:1: cannot use this Dask scheduler \(ValueError: unknown "
                                   r"address scheme"),
}


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_bad_option_exits_2_with_one_message(name, out):
    args, pattern = OPTIONS[name]
    refused(args + ["--out", out], pattern, out)


def test_unreachable_scheduler_is_refused_within_the_timeout(out):
    refused(["stochastic", "--paths", "5", "--scheduler", "tcp://127.0.0.1:1", "--out", out],
            r"--scheduler tcp://127.0.0.1:1: cannot use this Dask scheduler \(OSError: Timed out trying to connect "
            r".* after 10 s\); expected the address of a running Dask scheduler .*tried for at most 15 s", out)


def _listener(answer: bytes | None):
    """A TCP server on a free local port that accepts connections and then says ``answer`` (or
    nothing at all, holding the connection open): a service that is not a Dask scheduler."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []

    def serve():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            held.append(connection)
            if answer is not None:
                try:
                    connection.sendall(answer)
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    return server, held


@pytest.mark.parametrize("answer,pattern", [
    (None, "something accepts connections there but no Dask scheduler answered"),
    (b"\xff" * 64, "(what came back is not Dask's protocol|cannot use this Dask scheduler)"),
    (b"HTTP/1.0 400 Bad request\r\n\r\n", "(what came back is not Dask's protocol|cannot use this Dask scheduler)"),
], ids=["silent", "garbage", "web server"])
def test_a_port_that_is_not_a_scheduler_is_refused_in_time(answer, pattern, out):
    """A port that accepts connections but does not speak Dask's protocol: refused (exit 2, one
    message) within the time limit, not a hang and not a misleading memory error."""
    server, held = _listener(answer)
    try:
        address = "tcp://127.0.0.1:%d" % server.getsockname()[1]
        refused(["stochastic", "--paths", "5", "--scheduler", address, "--out", out],
                rf"--scheduler {address}: {pattern}.*expected the address of a running Dask scheduler", out)
    finally:
        server.close()
        for connection in held:
            connection.close()


def test_scenarios_file_missing(out, tmp_path):
    refused(["sensitivity", "--scenarios", tmp_path / "nowhere.xlsx", "--out", out],
            r"nowhere.xlsx: no such file", out)


def test_scenarios_file_not_a_workbook(out, tmp_path):
    path = tmp_path / "scenarios.xlsx"
    path.write_text("scenario,input\nreform,scheme.contribution_rate\n")
    refused(["sensitivity", "--scenarios", path, "--out", out], r"scenarios.xlsx: not an Excel workbook", out)


def test_scenarios_file_without_the_sheet(out, tmp_path):
    path = tmp_path / "scenarios.xlsx"
    shutil.copy(DEMO, path)
    refused(["sensitivity", "--scenarios", path, "--out", out],
            r"scenarios.xlsx: the workbook has no sheet 'Scenarios'", out)


def test_out_is_a_file(tmp_path):
    target = tmp_path / "results.txt"
    target.write_text("not a folder")
    refused(["valuate", "--out", target], r"--out .*results.txt: is a file; expected a folder", target)


def test_out_below_a_file(tmp_path):
    target = tmp_path / "results.txt"
    target.write_text("not a folder")
    refused(["valuate", "--out", target / "sub"], r"--out .*results.txt/sub: .*results.txt is a file; expected a folder", target)


def test_out_not_writable(tmp_path):
    folder = Path("/proc/actuary-out")  # not writable even for root
    refused(["valuate", "--out", folder], r"--out /proc/actuary-out: cannot write there", tmp_path)


def test_template_refuses_an_existing_file(tmp_path):
    path = tmp_path / "mine.xlsx"
    path.write_bytes(b"the user's workbook")
    refused(["template", path, "--demo"], r"mine.xlsx: exists; the template never replaces a file silently.* "
                                          r"--force", tmp_path)


def test_workbook_argument_missing(out, tmp_path):
    refused(["valuate", tmp_path / "typo.xlsx", "--out", out], r"typo.xlsx: no such file", out)


def test_folder_without_a_case(out, tmp_path):
    refused(["valuate", tmp_path, "--out", out], r"valuation.json not found", out)


def test_keep_paths_that_would_not_fit_are_refused_up_front(out):
    refused(["stochastic", "--paths", str(10 ** 9), "--keep-paths", "--out", out],
            r"--keep-paths: 1,000,000,000 paths need [\d,.]+ GB in .*; [\d,.]+ GB are free there|"
            r"--keep-paths: 1,000,000,000 paths x 25 indicators x 100 years need [\d,.]+ GB of memory", out)


# ------------------------------------------------------------------------------------ Python API

API = {
    "text for a number": ({"scheme": {"vesting_years": "15"}},
                          r"Input 'scheme.vesting_years': value '15' is not a number; expected years of service"),
    "None for a field with a default": ({"scheme": {"vesting_years": None}},
                                        r"Input 'scheme.vesting_years': value None; expected years of service \(or "
                                        r"leave it out for the default 15.0\)"),
    "None for a required field": ({"economy": {"inflation": None}},
                                  r"Input 'economy.inflation': value None; expected a year"),
    "boolean for a number": ({"scheme": {"vesting_years": True}},
                             r"Input 'scheme.vesting_years': value True is not a number"),
    "boolean for a whole number": ({"settings": {"horizon": True}},
                                   r"Input 'settings.horizon': value True is not a number"),
    "wrong shape": ({"scheme": {"contribution_rate": np.zeros(7)}},
                    r"Input 'scheme.contribution_rate' has shape \(7,\); expected a scalar, a labelled DataArray or "
                    r"an array of shape \(100,\)"),
    "ragged list": ({"scheme": {"contribution_rate": [[0.1], [0.1, 0.2]]}},
                    r"Input 'scheme.contribution_rate': value \[\[0.1\], \[0.1, 0.2\]\] is not an array of numbers"),
    "array of booleans": ({"scheme": {"contribution_rate": np.ones(100, dtype=bool)}},
                          r"Input 'scheme.contribution_rate': value .* holds booleans \(True/False\); expected numbers"),
    "labelled text": ({"economy": {"inflation": xr.DataArray(["2%"] * 100, dims="year",
                                                             coords={"year": np.arange(2020, 2120)})}},
                      r"Input 'economy.inflation': value '2%' is not a number; expected numbers"),
    "infinite count": ({"demography": {"population": np.inf}},
                       r"Input 'demography.population' at sex=male, age=0: value inf is not a finite number"),
    "text option given a number": ({"scheme": {"revaluation": 1}},
                                   r"Input 'scheme.revaluation': 1 is not an option; expected one of"),
    "unknown group": ({"schemes": {"vesting_years": 10}}, r"replace\(\): 'schemes' is not an input group"),
    "group not a mapping": ({"scheme": 0.2}, r"replace\(\): scheme=0.2 is not a mapping of field names to values"),
}


@pytest.mark.parametrize("name", sorted(API))
def test_replace_with_a_bad_value_names_the_field(name, demo):
    groups, pattern = API[name]
    with pytest.raises(InputError, match=pattern):
        demo.replace(**groups)


def test_stochastic_parameters_and_simulate_arguments(demo):
    with pytest.raises(InputError, match=r"Stochastic parameter 'wage_volatility': value 'high' is not a finite"):
        StochasticParameters(wage_volatility="high")
    with pytest.raises(InputError, match=r"--paths: value 0 is not a whole number in 1..any"):
        simulate(demo, 0)
    with pytest.raises(InputError, match=r"--seed: value -1 is not a whole number in 0..9223372036854775807"):
        simulate(demo, 5, seed=-1)


def test_infinity_only_where_documented(demo):
    """maximum_pension documents 'no maximum' (blank or none in a workbook, inf in Python); a count does not."""
    assert bool((demo.replace(scheme={"maximum_pension": np.inf}).inputs.scheme["maximum_pension"] == np.inf).all())
    with pytest.raises(InputError, match=r"'scheme.minimum_pension': value inf is not a finite number"):
        demo.replace(scheme={"minimum_pension": np.inf})
    with pytest.raises(InputError, match=r"'scheme.indexation_cap': value -inf is not a finite number"):
        demo.replace(scheme={"indexation_cap": -np.inf})


def test_none_word_gives_no_maximum_in_a_workbook(tmp_path):
    loaded = load_workbook(set_cells(DEMO, tmp_path / "case.xlsx", {"Scheme": {"B15": "none", "B24": " None "}}))
    assert bool((loaded.inputs.scheme["maximum_pension"] == np.inf).all())   # by year (provisions by year)
    assert bool((loaded.inputs.scheme["ceiling_multiple"] == np.inf).all())


def _sheet_workbook(path: Path, title: str, rows: list) -> Path:
    """A workbook of one sheet ``title`` holding ``rows`` from row 1."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = title
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def test_correlations_that_cannot_go_together_name_the_first_correlation_cell(tmp_path):
    """Three correlations that form no correlation matrix are a fault of the three together: the error points
    to the first correlation's value cell the sheet gives (it pointed to B2, the header), with their values."""
    from actuary.stochastic import read_parameters

    path = _sheet_workbook(tmp_path / "s.xlsx", "Stochastic", STOCHASTIC_HEADER + [
        ["wage_volatility", 0.01], ["correlation_wage_return", 0.9], ["correlation_wage_inflation", 0.9],
        ["correlation_inflation_return", -0.9]])
    with pytest.raises(InputError, match=r"^Stochastic!B4: Stochastic parameters: the three correlations "
                                         r"\(correlation_wage_inflation 0.9, correlation_wage_return 0.9, "
                                         r"correlation_inflation_return -0.9\) do not form a valid \(positive "
                                         r"definite\) correlation matrix; expected"):
        read_parameters(path)


@pytest.mark.parametrize("title, columns", [("Stochastic", ["parameter", "value", "notes"]),
                                            ("Scenarios", ["scenario", "input", "operation", "value", "from_year",
                                                           "to_year", "from_age", "to_age", "notes"])])
def test_headers_in_row_1_are_said_to_go_in_row_2(tmp_path, title, columns):
    """A Stochastic or Scenarios sheet with its headers in row 1 (no title row): the error at A2 says that row 1
    is the title and the headers go in row 2."""
    from actuary.batch import read_scenarios
    from actuary.stochastic import read_parameters

    first = ["wage_volatility", 0.02] if title == "Stochastic" else ["reform", "scheme.contribution_rate", "set", 0.2]
    path = _sheet_workbook(tmp_path / "s.xlsx", title, [columns, first])
    with pytest.raises(InputError, match=rf"^{title}!A2: header '{first[0]}'; expected '{columns[0]}' "
                                         r"\(columns: .*\)\. Row 1 of the sheet is its title and the headers go in "
                                         r"row 2, .*; here the headers are in row 1: insert a title row above them\.$"):
        read_parameters(path) if title == "Stochastic" else read_scenarios(path)


# ------------------------------------------------------------------- bounds while reading, damaged parts

def _settings_xml(change) -> dict:
    """The parts of Demoland with its Settings sheet's XML passed through ``change`` (bytes -> bytes)."""
    part = sheet_parts(DEMO)["Settings"]
    with zipfile.ZipFile(DEMO) as z:
        return {part: change(z.read(part))}


def _row_one(extra: bytes):
    return lambda xml: re.sub(rb'(<row r="1"[^>]*>.*?)(</row>)', lambda m: m.group(1) + extra + m.group(2), xml,
                              count=1, flags=re.S)


def test_a_row_of_more_cells_than_excel_has_columns_is_refused_before_parsing(tmp_path, out):
    cells = b"".join(b"<c><v>%d</v></c>" % i for i in range(16_385))   # no r: the parser would keep them all
    workbook = rewrite(DEMO, tmp_path / "case.xlsx", _settings_xml(_row_one(cells)))
    refused(["valuate", workbook, "--out", out], r"case.xlsx: part xl/worksheets/sheet\d+.xml \(sheet Settings\): "
                                                 r"row 1 has more than 16,384 cells", out)


def test_a_sheet_of_more_cells_than_the_limit_is_refused(tmp_path, monkeypatch):
    import actuary.io.workbook as workbook_module

    monkeypatch.setattr(workbook_module, "MAX_SHEET_CELLS", 1000)
    with pytest.raises(InputError, match=r"part xl/worksheets/sheet\d+.xml holds [\d,]+ cells; at most 1,000"):
        load_workbook(DEMO)


def test_a_row_beyond_the_last_row_of_a_sheet_is_refused(tmp_path):
    far = lambda xml: xml.replace(b"</sheetData>", b'<row r="2000000000"><c><v>1</v></c></row></sheetData>')
    workbook = rewrite(DEMO, tmp_path / "case.xlsx", _settings_xml(far))
    with pytest.raises(InputError, match=r"row 2,000,000,000 is beyond the last row of a sheet \(1,048,576\)"):
        load_workbook(workbook)


@pytest.mark.parametrize("ref", ["E1", "E2", "XFD1"])
def test_a_value_beside_the_title_or_headers_is_refused(tmp_path, ref):
    workbook = set_cells(DEMO, tmp_path / "case.xlsx", {"Settings": {ref: 123456789}})
    with pytest.raises(InputError, match=rf"Settings!{ref}: value '123456789' is outside the table"):
        load_workbook(workbook)


@pytest.mark.parametrize("sheet, ref", [("Population", "Z3"), ("Settings", "F1")])
def test_a_value_right_of_a_table_above_its_data_is_refused(tmp_path, sheet, ref):
    workbook = set_cells(DEMO, tmp_path / "case.xlsx", {sheet: {ref: 7}})
    with pytest.raises(InputError, match=rf"{sheet}!{ref}: value '7' is outside the table"):
        load_workbook(workbook)


def test_a_note_in_the_notes_column_is_read_as_before(tmp_path):
    workbook = set_cells(DEMO, tmp_path / "case.xlsx", {"Settings": {"D4": "checked with the ministry"},
                                                       "Population": {"E5": "census 2020"}})
    assert load_workbook(workbook).inputs.settings["horizon"] == 100


def test_a_merged_range_hiding_an_input_cell_is_refused_naming_it(tmp_path, out):
    def merge(xml):
        xml = re.sub(rb'(<c r="B4"[^>]*>)<v>[^<]*</v>', rb"\g<1><v>40</v>", xml, count=1)
        return xml.replace(b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="A4:B4"/>'
                                            b"</mergeCells>", 1)
    workbook = rewrite(DEMO, tmp_path / "in.xlsx", _settings_xml(merge))
    refused(["valuate", workbook, "--out", out], r"Settings!A4: the cells A4:B4 are merged \(B4 holds '40', which "
                                                 r"Excel does not show\)", out)


def test_merged_title_and_notes_cells_are_accepted(tmp_path):
    def merge(xml):
        return xml.replace(b"</sheetData>", b'</sheetData><mergeCells count="2"><mergeCell ref="A1:D1"/>'
                                            b'<mergeCell ref="D4:D6"/></mergeCells>', 1)
    workbook = rewrite(DEMO, tmp_path / "case.xlsx", _settings_xml(merge))
    assert load_workbook(workbook).inputs.settings["horizon"] == 100


def test_a_damaged_deflate_stream_is_named_by_its_part_and_sheet(tmp_path, out):
    workbook = tmp_path / "case.xlsx"
    shutil.copy(DEMO, workbook)
    part = sheet_parts(DEMO)["Settings"]
    with zipfile.ZipFile(workbook) as z:
        info = z.getinfo(part)
    data = bytearray(workbook.read_bytes())
    data[info.header_offset + 30 + len(info.filename) + len(info.extra) + 200] ^= 0xFF
    workbook.write_bytes(bytes(data))
    refused(["valuate", workbook, "--out", out], rf"case.xlsx: the workbook is damaged: part {part} \(sheet "
                                                 r"Settings\) cannot be decompressed", out)


@pytest.mark.parametrize("cell, shown, expected", [
    ('<c r="B4" t="s"><v>99999</v></c>', "99999", "the index of a shared string"),
    ('<c r="B4" t="n"><v>abc</v></c>', "abc", "a number"),
])
def test_a_bad_stored_value_is_named_by_its_cell(tmp_path, cell, shown, expected):
    bad = lambda xml: re.sub(rb'<c r="B4"[^>]*>.*?</c>', cell.encode(), xml, count=1)
    workbook = rewrite(DEMO, tmp_path / "case.xlsx", _settings_xml(bad))
    with pytest.raises(InputError, match=rf"Settings!B4: the stored value '{shown}' cannot be read; expected "
                                         f"{expected}"):
        load_workbook(workbook)


@pytest.mark.parametrize("text, named", [("١٠٠", "arabic-indic digit one"), ("１００", "fullwidth digit one"),
                                         ("100\u00a0", "no-break space")])
def test_number_text_with_other_digits_or_a_no_break_space_is_refused(tmp_path, text, named):
    workbook = set_cells(DEMO, tmp_path / "case.xlsx", {"Settings": {"B4": text}})
    with pytest.raises(InputError, match=rf"Settings!B4: value '{text}' is not a number \(it holds {named}"):
        load_workbook(workbook)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero link"])
def test_a_workbook_path_that_is_not_a_regular_file_is_refused(tmp_path, out, kind):
    import os

    path = tmp_path / "case.xlsx"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    what = {"fifo": r"a FIFO \(named pipe\)", "dev-zero link": "a character device"}[kind]
    refused(["valuate", path, "--out", out], rf"case.xlsx: is {what}; expected a regular file", out)


def test_a_workbook_path_linking_to_a_workbook_is_read(tmp_path):
    path = tmp_path / "case.xlsx"
    path.symlink_to(DEMO)
    assert load_workbook(path).inputs.settings["horizon"] == 100


def test_an_output_name_too_long_for_a_file_name_is_refused_before_anything_is_computed(out):
    refused(["valuate", "--name", "数" * 80, "--out", out],
            r"the output name is too long: the file '数+-results.xlsx' would have a name of 253 bytes \(UTF-8\), and "
            r"this file system takes at most 255 bytes", out)


@pytest.mark.parametrize("ref, said", [("B4:B5", r"B5 holds '\d+', which Excel does not show"),
                                       ("A4:XFD1048576", r"B4 holds '\d+', which Excel does not show")])
def test_a_merged_range_down_or_over_the_whole_sheet_is_refused_at_once(tmp_path, ref, said):
    merge = lambda xml: xml.replace(b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="'
                                    + ref.encode() + b'"/></mergeCells>', 1)
    workbook = rewrite(DEMO, tmp_path / "case.xlsx", _settings_xml(merge))
    with pytest.raises(InputError, match=rf"Settings!{ref.split(':')[0]}: the cells {ref} are merged \({said}\)"):
        load_workbook(workbook)


@pytest.mark.parametrize("copy, said", [
    (lambda xml: re.sub(rb'(<c r="B4"[^>]*>.*?</c>)', lambda m: m.group(1) + m.group(1).replace(b"<v>", b"<v>4", 1),
                        xml, count=1, flags=re.S), "cell B4 appears twice"),
    (lambda xml: re.sub(rb'(<row r="4"[^>]*>.*?</row>)', lambda m: m.group(1) * 2, xml, count=1, flags=re.S),
     "row 4 appears twice"),
])
def test_a_cell_or_row_given_twice_is_refused(tmp_path, out, copy, said):
    """Two cells with one reference (or two rows with one number): Excel shows one, the reader could take the
    other, an input read unseen."""
    workbook = rewrite(DEMO, tmp_path / "in.xlsx", _settings_xml(copy))
    refused(["valuate", workbook, "--out", out], rf"part xl/worksheets/sheet\d+.xml \(sheet Settings\): {said}; "
                                                 r"Excel shows one of the two", out)


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_very_hidden_input_sheet_is_refused_a_hidden_one_read(tmp_path, state):
    """A sheet Excel's menus cannot show (state veryHidden: set by a macro or in the XML) would have its inputs read
    unseen by whoever reviews the workbook: refused, naming the sheet. A plain hidden sheet is one the user hid and
    can unhide from the sheet tabs: read as it is."""
    from actuary.valuation import DEMOLAND

    with zipfile.ZipFile(DEMOLAND / "valuation.xlsx") as z:
        parts = {n: z.read(n) for n in z.namelist()}
    book = parts["xl/workbook.xml"].decode("utf-8")
    book, n = re.subn(r'(<sheet\b[^>]*\bname="Settings"[^>]*\bstate=")visible"', rf'\1{state}"', book)
    assert n == 1
    parts["xl/workbook.xml"] = book.encode("utf-8")
    with zipfile.ZipFile(tmp_path / "case.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    if state == "hidden":
        assert load_workbook(tmp_path / "case.xlsx").inputs.settings["horizon"] == 100
        return
    with pytest.raises(InputError, match=r"case.xlsx: sheet 'Settings' is very hidden \(Excel's menus cannot show "
                                         r"it.*read unseen"):
        load_workbook(tmp_path / "case.xlsx")


def _book_xml(change) -> dict:
    """The parts of Demoland with its workbook part (xl/workbook.xml) passed through ``change`` (bytes -> bytes)."""
    with zipfile.ZipFile(DEMO) as z:
        return {"xl/workbook.xml": change(z.read("xl/workbook.xml"))}


def _cell_b4(ref: bytes):
    return lambda xml: xml.replace(b'<c r="B4"', b'<c r="' + ref + b'"', 1)


def _merged(ref: bytes):
    return lambda xml: xml.replace(b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="' + ref
                                   + b'"/></mergeCells>', 1)


def _dimension(ref: bytes):
    return lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + ref + b'"', xml, count=1)


def _defined_name(element: bytes):
    return lambda xml: xml.replace(b"<definedNames>", b"<definedNames>" + element, 1)


SETTINGS_PART = r"case.xlsx: part xl/worksheets/sheet\d+.xml \(sheet Settings\): "
DAMAGED = (r"The workbook was not saved by Excel or LibreOffice, or is damaged: save it again from Excel or "
           r"LibreOffice\.")

REFERENCES = {
    # class: (parts, the one message). Before, openpyxl raised on most (the generic "the workbook cannot be read
    # (ValueError: ...)") and read two without a word: a cell in column XFE and a row numbered 0 were dropped, the
    # horizon of Settings!B4 silently taken at its default (75 years instead of 100).
    "a cell beyond column XFD": (_settings_xml(_cell_b4(b"XFE4")),
                                 SETTINGS_PART + r"the cell reference 'XFE4' \(<c r> in row 4\) has the column XFE, "
                                 r"beyond the last column of a sheet \(XFD\); expected a cell of row 4 in columns "
                                 r"A\.\.XFD, such as B4\. " + DAMAGED),
    "a column of four letters": (_settings_xml(_cell_b4(b"AAAA4")),
                                 SETTINGS_PART + r"the cell reference 'AAAA4' .* has the column AAAA, beyond the last "
                                                 r"column"),
    "a reference that is not one": (_settings_xml(_cell_b4(b"4B")),
                                    SETTINGS_PART + r"the cell reference '4B' \(<c r> in row 4\) is not a cell "
                                                    r"reference"),
    "a cell in row 0": (_settings_xml(_cell_b4(b"B0")),
                        SETTINGS_PART + r"the cell reference 'B0' \(<c r> in row 4\) has the row 0, not a row of a "
                                        r"sheet \(1 to 1,048,576\)"),
    "a cell of another row": (_settings_xml(_cell_b4(b"B9")),
                              SETTINGS_PART + r"the cell reference 'B9' is inside row 4 \(<row r=\"4\">\); expected a "
                                              r"cell of that row, such as B4"),
    "a row numbered 0": (_settings_xml(lambda xml: xml.replace(b'<row r="4"', b'<row r="0"', 1)),
                         SETTINGS_PART + r"the row number '0' \(<row r>, after row 3\) is not a row of a sheet; "
                                         r"expected a whole number from 1 to 1,048,576 \(a row numbered below 1 is "
                                         r"not read at all\)\. " + DAMAGED),
    "a row numbered 4.5": (_settings_xml(lambda xml: xml.replace(b'<row r="4"', b'<row r="4.5"', 1)),
                           SETTINGS_PART + r"the row number '4.5' \(<row r>, after row 3\) is not a row of a sheet; "
                                           r"expected a whole number from 1 to 1,048,576\. " + DAMAGED),
    "a row number that is not a number": (_settings_xml(lambda xml: xml.replace(b'<row r="4"', b'<row r="x4"', 1)),
                                          SETTINGS_PART + r"the row number 'x4' \(<row r>, after row 3\) is not a "
                                                          r"number; expected a whole number from 1 to 1,048,576"),
    "a dimension that is not a range": (_settings_xml(_dimension(b"junk")),
                                        SETTINGS_PART + r"the sheet's dimension 'junk' \(<dimension ref>, the range "
                                        r"its cells are recorded in\) is not a range of cells .*; expected a range of "
                                        r"cells within A1:XFD1048576, such as A1:D26\. " + DAMAGED),
    "a dimension beyond column XFD": (_settings_xml(_dimension(b"A1:XFE26")),
                                      SETTINGS_PART + r"the sheet's dimension 'A1:XFE26' .* holds the cell 'XFE26', "
                                                      r"which has the column XFE, beyond the last column"),
    "a merged range that is not a range": (_settings_xml(_merged(b"junk")),
                                           SETTINGS_PART + r"the merged range 'junk' \(<mergeCell ref>\) is not a "
                                                           r"range of cells"),
    "a merged range bottom-right first": (_settings_xml(_merged(b"D1:A1")),
                                          SETTINGS_PART + r"the merged range 'D1:A1' \(<mergeCell ref>\) has its first "
                                          r"cell D1 right of or below its last, A1; expected a range of cells within "
                                          r"A1:XFD1048576, its top-left cell first, such as A1:D1"),
    "a merged range in row 0": (_settings_xml(_merged(b"A0:B0")),
                                SETTINGS_PART + r"the merged range 'A0:B0' .* holds the cell 'A0', which has the "
                                                r"row 0"),
    "a sheet state Excel does not have": (
        _book_xml(lambda xml: re.sub(rb'(<sheet\b[^>]*\bname="Settings"[^>]*\bstate=")visible"', rb'\1shown"', xml)),
        r"case.xlsx: sheet 'Settings' has the state 'shown' \(<sheet state> in xl/workbook.xml\); expected visible, "
        r"hidden or veryHidden\. " + DAMAGED),
    "a defined name without a name": (
        _book_xml(_defined_name(b"<definedName>Settings!$A$1</definedName>")),
        r"case.xlsx: the defined name \(<definedName> in xl/workbook.xml, referring to 'Settings!\$A\$1'\) has no "
        r"name; expected a name such as _xlnm.Print_Area"),
    "a defined name of a sheet the workbook does not have": (
        _book_xml(_defined_name(b'<definedName name="rates" localSheetId="99">Settings!$B$4</definedName>')),
        r"case.xlsx: the defined name 'rates' \(<definedName> in xl/workbook.xml, referring to 'Settings!\$B\$4'\) "
        r"belongs to the sheet numbered '99' \(localSheetId, counted from 0\); expected the number of one of the "
        r"workbook's \d+ sheets, 0 to \d+"),
}


@pytest.mark.parametrize("name", REFERENCES)
def test_a_reference_excel_could_not_have_written_is_refused_naming_it(name, tmp_path, out):
    """A bad row number, cell reference, merged range, dimension, sheet state or defined name in the workbook's XML
    (a workbook from another program, or damaged): exit 2, one message naming the sheet and the reference, never
    openpyxl's generic error nor a value silently dropped; nothing written."""
    parts, pattern = REFERENCES[name]
    workbook = rewrite(DEMO, tmp_path / "case.xlsx", parts)
    text = refused(["valuate", workbook, "--out", out], pattern, out)
    assert "cannot be read" not in text and "Warning" not in text


@pytest.mark.parametrize("parts", [
    _settings_xml(_cell_b4(b"b4")),                   # lower case: openpyxl reads it as B4
    _settings_xml(_dimension(b"A1:B2")),              # a dimension too small: a hint, every row is read
    _settings_xml(_dimension(b"A1")),
    _settings_xml(_merged(b"A1")),                    # a range of one cell
    _book_xml(_defined_name(b'<definedName name="rates">Settings!$XFE$1</definedName>')),   # a formula not read
], ids=["lower-case reference", "small dimension", "one-cell dimension", "one-cell merge", "defined name's formula"])
def test_references_excel_tolerates_are_read_as_before(tmp_path, parts):
    workbook = rewrite(DEMO, tmp_path / "case.xlsx", parts)
    assert load_workbook(workbook).inputs.settings["horizon"] == 100
