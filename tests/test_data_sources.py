"""Sources of member records (CSV, Parquet, xlsx, SQLite, PostgreSQL) give the same initial state;
bad inputs exit 2 naming the file, the column and the first bad row, and change nothing."""

import datetime as dt
import glob
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook as open_workbook

from actuary import Valuation
from actuary.cli import main
from actuary.data.intake import check_and_aggregate, connection
from actuary.data import checks
from actuary.data.layouts import LAYOUTS, template_csv
from actuary.data.sources import Source
from actuary.data.synth import synthesize
from actuary.valuation import DEMOLAND

DATE = dt.date(2020, 1, 1)


@pytest.fixture(scope="session")
def small(tmp_path_factory):
    """A small clean extract (CSV) and a copy of the Demoland workbook."""
    folder = tmp_path_factory.mktemp("small")
    manifest = synthesize(Valuation.demo(), 3000, 11, folder)
    shutil.copy(DEMOLAND / "valuation.xlsx", folder / "case.xlsx")
    return folder, manifest


def _state(members: Source, pensioners: Source, weight: float):
    valuation = Valuation.demo()
    p = checks.Parameters.from_valuation(valuation, DATE, weight=weight)
    with connection() as con:
        result, state = check_and_aggregate(con, members, pensioners, valuation, p)
    return result, state


def _same(a, b):
    for name in ("active", "inactive", "pensioners", "average_pension", "salary_scale"):
        np.testing.assert_allclose(getattr(a, name).values, getattr(b, name).values, rtol=1e-9, atol=1e-6)


@pytest.fixture(scope="session")
def csv_state(small):
    folder, manifest = small
    return _state(Source(str(folder / "insured-2020.csv")), Source(str(folder / "pensioners-2020.csv")),
                  manifest["weight"])


def test_parquet_xlsx_and_sqlite_give_the_csv_state(small, csv_state, tmp_path):
    folder, manifest = small
    insured = pd.read_csv(folder / "insured-2020.csv", dtype=str, keep_default_na=False)
    pensioners = pd.read_csv(folder / "pensioners-2020.csv", dtype=str, keep_default_na=False)
    typed = {}
    for name, frame in (("insured", insured), ("pensioners", pensioners)):
        t = frame.copy()
        for column in LAYOUTS[name].columns:
            if column.kind == "date":
                t[column.name] = pd.to_datetime(t[column.name]).dt.date
            elif column.kind == "number":
                t[column.name] = pd.to_numeric(t[column.name])
        typed[name] = t
        t.to_parquet(tmp_path / f"{name}.parquet", index=False)
        wb = Workbook()
        ws = wb.active
        ws.append(list(t.columns))
        for row in t.itertuples(index=False):
            ws.append(list(row))
        wb.save(tmp_path / f"{name}.xlsx")
    database = tmp_path / "scheme.db"
    with sqlite3.connect(database) as db:
        typed["insured"].assign(**{c: typed["insured"][c].astype(str) for c in ("birth_date", "affiliation_date")}
                                ).to_sql("insured", db, index=False)
        typed["pensioners"].assign(**{c: typed["pensioners"][c].astype(str) for c in ("birth_date", "award_date")}
                                   ).to_sql("pensions", db, index=False)
    url = f"sqlite:///{database}"
    stamped = insured.assign(**{c: insured[c] + " 00:00:00" for c in ("birth_date", "affiliation_date")})
    stamped.to_csv(tmp_path / "stamped.csv", index=False)          # dates as a database exports them
    for members, pension in (
            (Source(str(tmp_path / "stamped.csv")), Source(str(folder / "pensioners-2020.csv"))),
            (Source(str(tmp_path / "insured.parquet")), Source(str(tmp_path / "pensioners.parquet"))),
            (Source(str(tmp_path / "insured.xlsx")), Source(str(tmp_path / "pensioners.xlsx"))),
            (Source(url, "insured"), Source(url, "SELECT * FROM pensions WHERE annual_amount > 0"))):
        result, state = _state(members, pension, manifest["weight"])
        assert result.hits_total == 0
        _same(state, csv_state[1])


def _postgres_binaries():
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server on a Unix socket in a temporary folder (no network), for the session."""
    bindir = _postgres_binaries()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install the 'postgresql' package "
                    "(.ci/run does when it can)")
    pytest.importorskip("psycopg")
    prefix = []
    if os.geteuid() == 0:   # the server refuses to run as root: run it as the postgres user
        try:
            import pwd

            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no 'postgres' user to run the PostgreSQL server as")
        prefix = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="actuary-pg-"))
    if prefix:
        os.chown(base, user.pw_uid, user.pw_gid)
    data = base / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = dict(check=True, capture_output=True, timeout=120)
    try:
        subprocess.run(prefix + [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "actuary",
                                 "--no-sync"], **run)
        subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"), "-o",
                                 f"-p {port} -k {base} -c listen_addresses=''", "start"], **run)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"the PostgreSQL server could not be started here: {error}")
    try:
        yield f"postgresql+psycopg://actuary@/postgres?host={base}&port={port}"
    finally:
        subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def test_postgresql_gives_the_csv_state(small, csv_state, postgres_url):
    import sqlalchemy as sa

    folder, manifest = small
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection_:
        for name, table in (("insured", "members"), ("pensioners", "pensions")):
            frame = pd.read_csv(folder / f"{name}-2020.csv", dtype=str, keep_default_na=False)
            for column in LAYOUTS[name].columns:
                if column.kind == "date":
                    frame[column.name] = pd.to_datetime(frame[column.name]).dt.date
                elif column.kind == "number":
                    frame[column.name] = pd.to_numeric(frame[column.name])
            frame.to_sql(table, connection_, index=False, if_exists="replace")
    engine.dispose()
    result, state = _state(Source(postgres_url, "members"), Source(postgres_url, "SELECT * FROM pensions"),
                           manifest["weight"])
    assert result.hits_total == 0
    _same(state, csv_state[1])


# ------------------------------------------------------------------------------------ bad inputs

def _run(small, tmp_path, members, pensioners=None, *extra):
    folder, manifest = small
    workbook = tmp_path / "case.xlsx"
    shutil.copy(folder / "case.xlsx", workbook)
    before = workbook.read_bytes()
    result = CliRunner().invoke(main, ["data", "--members", str(members), "--pensioners",
                                       str(pensioners or folder / "pensioners-2020.csv"), "--valuation-date",
                                       "2020-01-01", "--into", str(workbook), "--out", str(tmp_path / "out"),
                                       "--weight", str(manifest["weight"]), *extra])
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert "Traceback" not in text and result.exception is None or isinstance(result.exception, SystemExit)
    assert workbook.read_bytes() == before
    return text


def _lines(small):
    return (small[0] / "insured-2020.csv").read_text().splitlines()


def test_missing_column_exits_2(small, tmp_path):
    lines = _lines(small)
    frame = [",".join(line.split(",")[:-1]) for line in lines]          # drop earnings
    path = tmp_path / "members.csv"
    path.write_text("\n".join(frame) + "\n")
    text = _run(small, tmp_path, path)
    assert "members.csv: column 'earnings' is missing (header line 1)" in text


def test_text_in_a_number_column_exits_2(small, tmp_path):
    lines = _lines(small)
    fields = lines[37].split(",")
    fields[-1] = "abc"
    lines[37] = ",".join(fields)
    path = tmp_path / "members.csv"
    path.write_text("\n".join(lines) + "\n")
    text = _run(small, tmp_path, path)
    assert "members.csv: column 'earnings', line 38: value 'abc' is not a number" in text


def test_empty_file_and_header_only_exit_2(small, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "empty.csv: the file is empty" in _run(small, tmp_path, empty)
    header = tmp_path / "header.csv"
    header.write_text(template_csv(LAYOUTS["insured"]).splitlines()[0] + "\n")
    assert "header.csv: the file has a header but no records" in _run(small, tmp_path, header)


def test_wrong_encoding_exits_2(small, tmp_path):
    lines = _lines(small)
    raw = [line.encode() for line in lines]
    fields = raw[10].split(b",")
    fields[0] = "Jos\u00e9".encode("latin-1")
    raw[10] = b",".join(fields)
    path = tmp_path / "members.csv"
    path.write_bytes(b"\n".join(raw) + b"\n")
    text = _run(small, tmp_path, path)
    assert "members.csv: column 'id', line 11: the text 'Jos" in text and "is not utf-8" in text


def test_ragged_line_exits_2(small, tmp_path):
    lines = _lines(small)
    lines[5] = lines[5].rsplit(",", 2)[0]
    path = tmp_path / "members.csv"
    path.write_text("\n".join(lines) + "\n")
    text = _run(small, tmp_path, path)
    assert "members.csv: column 'contribution_months', line 6: it has 6 fields where the header has 8" in text


def test_wrong_type_in_parquet_and_xlsx_exit_2(small, tmp_path):
    frame = pd.read_csv(small[0] / "insured-2020.csv", dtype=str, keep_default_na=False)
    bad = frame.assign(birth_date=np.arange(len(frame)))
    bad.to_parquet(tmp_path / "members.parquet", index=False)
    text = _run(small, tmp_path, tmp_path / "members.parquet")
    assert "members.parquet: column 'birth_date' has type BIGINT; expected dates" in text
    wb = Workbook()
    ws = wb.active
    ws.append(list(frame.columns))
    for i, row in enumerate(frame.head(50).itertuples(index=False)):
        values = list(row)
        values[5] = float(values[5]) if i != 20 else "n/a"
        ws.append(values)
    wb.save(tmp_path / "members.xlsx")
    text = _run(small, tmp_path, tmp_path / "members.xlsx")
    assert "members.xlsx: column 'credited_service', row 22 of sheet 'Sheet': value 'n/a' is not a number" in text


def test_unreadable_database_url_exits_2(small, tmp_path):
    text = _run(small, tmp_path, "sqlite:///" + str(tmp_path / "missing" / "none.db"), None, "--members-table",
                "insured")
    assert "none.db" in text and "no such SQLite database file" in text
    text = _run(small, tmp_path, "nosuchdialect://user:secret@host/db", None, "--members-table", "insured")
    assert "the database URL cannot be used" in text and "secret" not in text
    database = tmp_path / "empty.db"
    sqlite3.connect(database).close()
    text = _run(small, tmp_path, f"sqlite:///{database}", None, "--members-table", "insured")
    assert "the database has no table 'insured'" in text


def test_valuation_date_must_be_the_workbooks(small, tmp_path):
    folder, manifest = small
    workbook = tmp_path / "case.xlsx"
    shutil.copy(folder / "case.xlsx", workbook)
    result = CliRunner().invoke(main, ["data", "--members", str(folder / "insured-2020.csv"), "--pensioners",
                                       str(folder / "pensioners-2020.csv"), "--valuation-date", "2020-06-30",
                                       "--into", str(workbook), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "expected 2020-01-01" in result.output


def test_fatal_control_stops_and_keeps_the_workbook(small, tmp_path):
    folder, manifest = small
    controls = pd.read_csv(folder / "controls.csv")
    controls.loc[controls["item"] == "contributors", "value"] *= 1.5
    controls.to_csv(tmp_path / "controls.csv", index=False)
    text = _run(small, tmp_path, folder / "insured-2020.csv", None, "--controls", str(tmp_path / "controls.csv"))
    assert "R01: contributors in the year before the valuation date" in text
    assert "(line 2 of the controls), a difference of -3" in text   # the line as an editor shows it
    tolerance = controls.loc[controls["item"] == "contributors", "tolerance"].item()   # (synth's, for 3,000 members)
    assert f"beyond the tolerance of {100 * tolerance:g}%" in text
    report = pd.read_excel(tmp_path / "out" / "case-data-checks.xlsx", sheet_name="Controls", header=1)
    assert report.loc[report["item"] == "contributors", "status"].item() == "outside (fatal)"


def test_record_text_never_becomes_a_formula(small, tmp_path):
    """A hostile id lands in the checks workbook as text, not as a live formula."""
    lines = _lines(small)
    fields = lines[3].split(",")
    fields[0], fields[1] = '"=HYPERLINK(""http://x"",""y"")"', "Q"      # and an unknown sex code (M203)
    lines[3] = ",".join(fields)
    path = tmp_path / "members.csv"
    path.write_text("\n".join(lines) + "\n")
    folder, manifest = small
    workbook = tmp_path / "case.xlsx"
    shutil.copy(folder / "case.xlsx", workbook)
    result = CliRunner().invoke(main, ["data", "--members", str(path), "--pensioners",
                                       str(folder / "pensioners-2020.csv"), "--valuation-date", "2020-01-01",
                                       "--into", str(workbook), "--out", str(tmp_path / "out"), "--weight",
                                       str(manifest["weight"])])
    assert result.exit_code == 0, result.output
    ws = open_workbook(tmp_path / "out" / "case-data-checks.xlsx")["Records"]
    cell = next(c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_templates_match_the_layouts(tmp_path):
    result = CliRunner().invoke(main, ["data", "--templates", str(tmp_path)])
    assert result.exit_code == 0, result.output
    docs = Path(__file__).resolve().parents[1] / "docs" / "templates"
    for name, layout in LAYOUTS.items():
        written = (tmp_path / f"{name}.csv").read_text()
        assert written == template_csv(layout) == (docs / f"{name}.csv").read_text()
        assert written.splitlines()[0].split(",") == list(layout.names)


def test_docs_describe_every_rule_and_column():
    text = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text()
    for code, rule in checks.RULES.items():
        assert f"| {code} | {rule.check} | {rule.text} | {rule.treatment_text} |" in text, code
    for layout in LAYOUTS.values():
        for column in layout.columns:
            assert f"| {column.name} | {column.kind}" in text and column.doc in text, column.name


def _records_sheet(path) -> tuple[list[str], list[dict]]:
    """The notes above the Records sheet's table and its rows (dicts by heading)."""
    ws = open_workbook(path)["Records"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(i for i, row in enumerate(rows) if row[0] == "rule")
    return [row[0] for row in rows[1:header]], [dict(zip(rows[header], row)) for row in rows[header + 1:]]


def _intake(small, tmp_path, members, pensioners):
    folder, manifest = small
    workbook = tmp_path / "case.xlsx"
    shutil.copy(folder / "case.xlsx", workbook)
    result = CliRunner().invoke(main, ["data", "--members", str(members), "--pensioners", str(pensioners),
                                       "--valuation-date", "2020-01-01", "--into", str(workbook), "--out",
                                       str(tmp_path / "out"), "--weight", str(manifest["weight"])])
    assert result.exit_code == 0, result.output
    return _records_sheet(tmp_path / "out" / "case-data-checks.xlsx")


def test_the_checks_workbook_gives_a_csv_records_line_as_an_editor_shows_it(small, tmp_path):
    """CR-only line ends (as the reader counts them), an unknown sex on record 40 = line 41 and a copy of record 7 (line
    8) as record 61 (line 62): the Records sheet gives the lines, under the heading 'line', as the error messages do
    (it gave the record numbers 40 and 61 under 'row', and 'first record at row 7')."""
    lines = _lines(small)[:80]
    fields = lines[40].split(",")
    fields[1] = "Q"                                        # M203 on line 41
    lines[40] = ",".join(fields)
    lines.insert(61, lines[7])                             # M401 on line 62, first at line 8
    path = tmp_path / "members.csv"
    path.write_bytes(("\r".join(lines) + "\r").encode())
    notes, rows = _intake(small, tmp_path, path, small[0] / "pensioners-2020.csv")
    hit = {row["rule"]: row for row in rows}
    assert hit["M203"]["line"] == 41 and hit["M203"]["value"] == "Q"
    assert hit["M401"]["line"] == 62 and hit["M401"]["detail"] == "first record at line 8"
    assert notes[0].startswith("line: where the record is in its source: in members.csv and pensioners-2020.csv, "
                               "the line of the file as an editor shows it (the header is line 1).")


def test_the_checks_workbook_gives_an_xlsx_records_sheet_row(small, tmp_path):
    """Pensioners in an xlsx sheet with a blank row (row 6) before a pension of sex 'Q' in row 13 (record 11): the
    Records sheet gives row 13 of the sheet (it gave 12: the sheet's row - 1); with the insured in a CSV file the heading says both
    ('line / sheet row') and the note which is which."""
    from openpyxl import Workbook

    frame = pd.read_csv(small[0] / "pensioners-2020.csv", dtype=str).head(400)
    wb = Workbook()
    ws = wb.active
    ws.title = "Pensions"
    ws.append(list(frame.columns))
    for i, record in enumerate(frame.itertuples(index=False)):
        if i == 4:
            ws.append([])                                  # row 6 blank
        values = list(record)
        if i == 10:
            values[list(frame.columns).index("sex")] = "Q"   # row 13
        ws.append(values)
    path = tmp_path / "pensions.xlsx"
    wb.save(path)
    notes, rows = _intake(small, tmp_path, small[0] / "insured-2020.csv", path)
    hit = {row["rule"]: row for row in rows}
    assert hit["P203"]["line / sheet row"] == 13
    assert notes[0].startswith("line / sheet row: where the record is in its source: in insured-2020.csv, the line "
                               "of the file as an editor shows it (the header is line 1); in pensions.xlsx, the row "
                               "of sheet 'Pensions' (the header is row 1).")
