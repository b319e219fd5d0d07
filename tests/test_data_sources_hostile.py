"""Member-data sources read as hostile: a file is read whole or refused with one paragraph naming the file, the
line (as an editor shows it), the column, the value and what was expected; a database is only read."""

import duckdb
import pytest

from actuary.data.layouts import INSURED
from actuary.data.sources import Source, load
from actuary.validation import InputError

from .test_data_sources import postgres_url  # noqa: F401  (a PostgreSQL server for the session, or a skip)

HEADER = ",".join(INSURED.names)


def _record(i: int) -> str:
    return f"{100000 + i},F,1980-01-01,2005-01-01,active,10.5,12,30000"


def _lines(n: int = 300) -> list[str]:
    return [HEADER] + [_record(i) for i in range(n)]


def _load(location, **kw):
    with duckdb.connect() as con:
        return load(con, Source(str(location), **kw), INSURED, "insured").records


def _refused(location, **kw) -> str:
    with pytest.raises(InputError) as error:
        _load(location, **kw)
    text = str(error.value)
    assert "\n" not in text.strip() and "Traceback" not in text
    return text


# ------------------------------------------------------------------------------------------ CSV

def test_a_stray_quote_that_swallows_records_is_refused_naming_its_line(tmp_path):
    """Finding 8: a quote before an id on line 11, closed on line 202: 191 records would merge into one id."""
    lines = _lines(400)
    lines[10] = '"' + lines[10]
    first, rest = lines[201].split(",", 1)
    lines[201] = first + '",' + rest
    path = tmp_path / "members.csv"
    path.write_text("\n".join(lines) + "\n")
    text = _refused(path)
    assert "members.csv: column 'id', line 11: a double quote opened in this value closes only on line 202" in text
    assert "lines 11 to 202" in text


def test_a_quoted_line_break_is_refused_and_later_lines_are_counted_as_the_file_shows_them(tmp_path):
    """Finding 18: after a quoted line break the reported line was one too low."""
    lines = _lines(50)
    lines[5] = lines[5].replace(",F,", ',"F\n",', 1)          # a value over lines 6-7
    path = tmp_path / "members.csv"
    path.write_text("\n".join(lines) + "\n")
    assert "column 'sex', line 6: a double quote opened in this value closes only on line 7" in _refused(path)
    lines = _lines(50)
    lines[5] = lines[5].replace(",F,", ',"F\n",', 1)
    lines[20] = lines[20].rsplit(",", 2)[0]                     # file line 22: a ragged line after it
    path.write_text("\n".join(lines) + "\n")
    assert "column 'contribution_months', line 22: it has 6 fields where the header has 8" in _refused(path)


def test_an_unclosed_quote_names_its_line_and_what_is_wrong(tmp_path):
    """Finding 18: an unbalanced quote gave 'line 2002: .' and no detail."""
    lines = _lines(100)
    lines[60] = '"' + lines[60]
    path = tmp_path / "members.csv"
    path.write_text("\n".join(lines) + "\n")
    text = _refused(path)
    assert "members.csv: column 'id', line 61: a double quote opened on this line is never closed" in text


def test_a_path_is_read_literally_never_as_a_pattern(tmp_path):
    """Finding 9: DuckDB globbed m[ab].csv into ma.csv + mb.csv; also '*' and '?'."""
    (tmp_path / "m[ab].csv").write_text("\n".join(_lines(30)) + "\n")
    (tmp_path / "ma.csv").write_text("\n".join(_lines(5)) + "\n")
    (tmp_path / "mb.csv").write_text("\n".join(_lines(7)) + "\n")
    assert _load(tmp_path / "m[ab].csv") == 30
    (tmp_path / "m*.csv").write_text("\n".join(_lines(11)) + "\n")
    assert _load(tmp_path / "m*.csv") == 11
    (tmp_path / "m?.csv").write_text("\n".join(_lines(13)) + "\n")
    assert _load(tmp_path / "m?.csv") == 13


def test_a_parquet_path_is_read_literally(tmp_path):
    import pandas as pd

    frame = pd.read_csv(__import__("io").StringIO("\n".join(_lines(30))), dtype=str)
    frame.to_parquet(tmp_path / "m[ab].parquet", index=False)
    frame.head(4).to_parquet(tmp_path / "ma.parquet", index=False)
    assert _load(tmp_path / "m[ab].parquet") == 30


def test_cr_only_line_endings_are_read(tmp_path):
    """Finding 12: CR-only line endings (old Mac) gave a _csv.Error traceback."""
    path = tmp_path / "members.csv"
    path.write_bytes(("\r".join(_lines(40)) + "\r").encode())
    assert _load(path) == 40
    lines = _lines(40)
    lines[9] = lines[9].replace("30000", "abc")
    path.write_bytes(("\r".join(lines) + "\r").encode())
    assert "column 'earnings', line 10: value 'abc' is not a number" in _refused(path)


def test_utf16_files_are_read(tmp_path):
    """Finding 17: the header was read with readline() on raw bytes, cutting UTF-16's newline in half."""
    path = tmp_path / "members.csv"
    for ending in ("\n", "\r\n"):
        path.write_bytes((ending.join(_lines(40)) + ending).encode("utf-16"))
        assert _load(path, encoding="utf-16") == 40


def test_a_column_named_twice_is_refused_before_reading(tmp_path):
    """Finding 13: a repeated column (exactly or in another case) gave DuckDB's BinderException."""
    for extra in ("id", "ID", " Id "):
        lines = [HEADER + "," + extra] + [line + ",x" for line in _lines(5)[1:]]
        path = tmp_path / "members.csv"
        path.write_text("\n".join(lines) + "\n")
        text = _refused(path)
        assert f"members.csv: header line 1: column '{extra.strip()}' (column I) appears twice (also column A" in text
        # "apart from case and spaces" only when the names differ so
        assert ("the same name apart from case and spaces" in text) == (extra != "id")


def test_an_overlong_record_is_said_in_words(tmp_path):
    lines = _lines(10)
    lines[5] = "9" * 3_000_000 + lines[5]
    path = tmp_path / "members.csv"
    path.write_text("\n".join(lines) + "\n")
    text = _refused(path)
    assert "line 6: the record has 3,000,0" in text and "bytes; at most 2,000,000 are read" in text


# ------------------------------------------------------------------------------------------ databases

def _database(tmp_path, n: int = 40):
    import sqlite3

    path = tmp_path / "m.db"
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE members ({', '.join(n + ' TEXT' for n in INSURED.names)})")
        db.executemany(f"INSERT INTO members VALUES ({', '.join('?' * len(INSURED.names))})",
                       [line.split(",") for line in _lines(n)[1:]])
    db.close()
    return path


def _rows(path) -> int:
    import sqlite3

    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT count(*) FROM members").fetchone()[0]
    finally:
        db.close()


def test_a_query_that_writes_is_refused_and_the_database_kept(tmp_path):
    """Finding 2: 'WITH x AS (SELECT 1) DELETE FROM members RETURNING *' read 40 records and deleted them all."""
    path = _database(tmp_path)
    url = f"sqlite:///{path}"
    for query, word in (("WITH x AS (SELECT 1) DELETE FROM members RETURNING *", "DELETE"),
                        ("with x as (select 1) update members set earnings = '0' returning *", "UPDATE"),
                        ("SELECT * FROM members /* ; */ WHERE id <> ';'; DROP TABLE members", None),
                        ("SELECT * INTO copy FROM members", "INTO")):
        text = _refused(url, table=query)
        assert (f"the query uses '{word}', which writes" in text) if word else "more than one statement" in text
        assert _rows(path) == 40
    assert _load(url, table="SELECT * FROM members WHERE status = 'active' -- delete") == 40
    assert _load(url, table="WITH m AS (SELECT * FROM members) SELECT * FROM m WHERE id <> 'drop'") == 40
    assert _load(url, table="members") == 40 and _rows(path) == 40


def test_sqlite_is_opened_read_only(tmp_path, monkeypatch):
    """Finding 2: the database itself refuses a write even when the statement passes the parse."""
    from actuary.data import sources

    path = _database(tmp_path)
    monkeypatch.setattr(sources, "_read_only_query", lambda source, query: None)
    text = _refused(f"sqlite:///{path}", table="WITH x AS (SELECT 1) DELETE FROM members RETURNING *")
    assert "the database cannot be read" in text and "readonly" in text.replace(" ", "").lower()
    assert _rows(path) == 40


def test_a_sqlite_url_asking_to_create_or_write_is_refused(tmp_path):
    """Finding 2: sqlite:///file:/tmp/x.db?mode=rwc&uri=true created a database file."""
    created = tmp_path / "x.db"
    text = _refused(f"sqlite:///file:{created}?mode=rwc&uri=true", table="members")
    assert "the URL asks for mode=rwc" in text and not created.exists()
    path = _database(tmp_path)
    assert "asks for mode=rw" in _refused(f"sqlite:///file:{path}?mode=rw&uri=true", table="members")
    assert _load(f"sqlite:///file:{path}?mode=ro&uri=true", table="members") == 40
    assert _load(f"sqlite:///file:{path}?immutable=1&uri=true", table="members") == 40
    assert "names no SQLite database file" in _refused("sqlite://", table="members")


def test_postgresql_is_read_in_a_read_only_transaction(postgres_url):
    """Finding 2 on PostgreSQL: a data-modifying WITH is refused by the parse; a SELECT calling a function that
    deletes (which no parse can see) fails in the READ ONLY transaction; the rows are all still there."""
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url)
    with engine.begin() as db:
        db.exec_driver_sql("DROP TABLE IF EXISTS hostile_members")
        db.exec_driver_sql(f"CREATE TABLE hostile_members ({', '.join(n + ' TEXT' for n in INSURED.names)})")
        db.exec_driver_sql("CREATE OR REPLACE FUNCTION wipe() RETURNS int AS "
                           "'DELETE FROM hostile_members; SELECT 1' LANGUAGE sql")
        for line in _lines(25)[1:]:
            db.execute(sa.text(f"INSERT INTO hostile_members VALUES ({', '.join(f':v{i}' for i in range(8))})"),
                       {f"v{i}": v for i, v in enumerate(line.split(","))})

    def rows():
        with engine.connect() as db:
            return db.exec_driver_sql("SELECT count(*) FROM hostile_members").scalar()

    query = "WITH x AS (DELETE FROM hostile_members RETURNING *) SELECT * FROM x"
    assert "the query uses 'DELETE', which writes" in _refused(postgres_url, table=query)
    assert rows() == 25
    assert "read-only transaction" in _refused(postgres_url, table="SELECT *, wipe() FROM hostile_members")
    assert rows() == 25
    assert _load(postgres_url, table="hostile_members") == 25
    engine.dispose()


# ------------------------------------------------------------------------------------------ xlsx

def _workbook(path, sheets, hidden=()):
    """Sheets {title: rows} (the first is the workbook's first sheet); ``hidden``: titles hidden."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        if title in hidden:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


def _table(n: int) -> list[list]:
    return [line.split(",") for line in _lines(n)]


def test_xlsx_with_a_hidden_first_sheet_or_several_sheets_is_refused_unless_one_is_named(tmp_path):
    """Finding 10: a hidden first sheet of 100 rows was read instead of the visible 'Members' of 2000."""
    path = _workbook(tmp_path / "m.xlsx", {"old": _table(10), "Members": _table(30)}, hidden=("old",))
    text = _refused(path)
    assert "m.xlsx: the first sheet is hidden ('old' (hidden), 'Members'); name the sheet of the records" in text
    assert _load(path, table="Members") == 30
    assert "the workbook has no sheet 'Nope'; its sheets are 'old' (hidden), 'Members'" in _refused(path, table="Nope")
    path = _workbook(tmp_path / "two.xlsx", {"A": _table(10), "B": _table(20)})
    assert "it has several sheets ('A', 'B')" in _refused(path)
    assert _load(path, table="B") == 20
    assert _load(_workbook(tmp_path / "one.xlsx", {"Only": _table(7)})) == 7


def test_xlsx_values_right_of_the_table_are_refused_naming_the_cell(tmp_path):
    """Finding 10: values right of the header were skipped without a word (also a row holding only them)."""
    rows = _table(20)
    rows[12] = rows[12] + [None, "surprise"]
    text = _refused(_workbook(tmp_path / "m.xlsx", {"Members": rows}))
    assert "sheet 'Members', cell J13: value 'surprise' is right of the table (the header in row 1 has columns A " \
           "to H)" in text
    rows = _table(20)
    rows[5] = [None] * 8 + ["100999"]
    assert "cell I6: value '100999' is right of the table" in _refused(_workbook(tmp_path / "n.xlsx", {"M": rows}))


def test_xlsx_rows_are_counted_as_the_sheet_shows_them_after_a_gap(tmp_path):
    rows = _table(20)
    rows[15][7] = "n/a"
    rows = rows[:10] + [[None] * 8, [None] * 8] + rows[10:]           # two blank rows: the bad value in row 18
    path = _workbook(tmp_path / "m.xlsx", {"Members": rows})
    assert "column 'earnings', row 18 of sheet 'Members': value 'n/a' is not a number" in _refused(path)


def test_xlsx_container_is_checked_and_a_cell_text_bounded(tmp_path):
    """Finding 5: the member xlsx reader had no container limits (a 0.4 MB file held 300 MB of one string)."""
    import zipfile

    rows = _table(5)
    rows[2][0] = "BIGSTRING"
    plain = _workbook(tmp_path / "plain.xlsx", {"Members": rows})
    bomb = tmp_path / "bomb.xlsx"

    def rewritten(path, text: bytes):
        with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                zout.writestr(item, zin.read(item.filename).replace(b"BIGSTRING", text),
                              compress_type=zipfile.ZIP_DEFLATED)
        return path

    text = _refused(rewritten(bomb, b"A" * (20 * 1024 ** 2)))
    assert "bomb.xlsx: part xl/" in text and "at most 100:1 is accepted" in text
    text = _refused(rewritten(tmp_path / "long.xlsx", b"A" * 40_000))   # (openpyxl cuts what it writes)
    assert "sheet 'Members', cell A3: the value has 40,000 characters; at most 32,767" in text


def test_xlsx_broken_partway_through_is_refused_in_words(tmp_path):
    """Finding 15: malformed XML partway through the sheet gave an ElementTree.ParseError traceback."""
    import zipfile

    plain = _workbook(tmp_path / "plain.xlsx", {"Members": _table(200)})
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                at = data.index(b'<row r="150"')
                data = data[:at] + b"<row><c></row>" + data[at:]
            zout.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    text = _refused(broken)
    assert "broken.xlsx: sheet 'Members' cannot be read after row 149 (ParseError" in text and "damaged" in text


def test_a_blank_line_between_records_is_refused(tmp_path):
    """DuckDB skips a blank line: every line number after it would be one too low. Blank lines at the end are
    harmless."""
    lines = _lines(30)
    lines.insert(12, "")
    lines[20] = lines[20].replace("30000", "abc")
    path = tmp_path / "members.csv"
    for ending in ("\n", "\r\n", "\r"):
        path.write_bytes((ending.join(lines) + ending).encode())
        assert "members.csv: line 13 is blank; expected one record per line and no blank line" in _refused(path)
    path.write_text("\n".join(_lines(30)) + "\n\n\n")
    assert _load(path) == 30
    path.write_text("\n".join(_lines(30)))
    assert _load(path) == 30


def test_a_file_not_in_utf16_read_as_utf16_is_refused_in_words(tmp_path):
    """--encoding utf-16 applies to every file: a UTF-8 one gave a UnicodeError traceback (no byte-order mark)."""
    path = tmp_path / "members.csv"
    path.write_text("\n".join(_lines(10)) + "\n")
    assert "members.csv: line 1 (the header) is not utf-16 text" in _refused(path, encoding="utf-16")


def test_columns_without_a_name_are_read_as_unused(tmp_path):
    """A trailing comma on every line (spreadsheet exports) gave DuckDB's BinderException; a header name with a
    quote in it as well."""
    path = tmp_path / "members.csv"
    path.write_text("\n".join(line + ",," for line in _lines(12)) + "\n")
    with duckdb.connect() as con:
        loaded = load(con, Source(str(path)), INSURED, "insured")
    assert loaded.records == 12 and loaded.unused_columns == ["column 9", "column 10"]
    path.write_text("\n".join([HEADER + ",note's \"x\""] + [line + ",y" for line in _lines(12)[1:]]) + "\n")
    with duckdb.connect() as con:
        loaded = load(con, Source(str(path)), INSURED, "insured")
    assert loaded.records == 12 and loaded.unused_columns == ["note's \"x\""]


def test_a_fifo_or_a_device_is_refused_before_it_is_read(tmp_path):
    """A FIFO named members.csv would wait for a writer; a link to /dev/zero is endless."""
    import os

    fifo = tmp_path / "members.csv"
    os.mkfifo(fifo)
    assert "members.csv is a FIFO (named pipe); expected a regular file" in _refused(fifo)
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    assert "zero.csv is a character device; expected a regular file" in _refused(zero)


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_a_utf16_file_is_refused_as_the_same_file_in_utf8_with_the_same_line_numbers(tmp_path, ending):
    """The same file written in UTF-8 and in UTF-16 gives the same message: a blank line between records (UTF-16
    was not checked: DuckDB skipped the line and every line number after it was one too low), text in a number
    column, a ragged line, a stray quote, each named at the line an editor shows."""
    def variants():
        lines = _lines(30)
        lines.insert(12, "")
        lines[20] = lines[20].replace("30000", "abc")
        yield lines                                                  # blank line 13 (before the bad value)
        lines = _lines(30)
        lines[20] = lines[20].replace("30000", "abc")
        yield lines                                                  # text in a number column, line 21
        lines = _lines(30)
        lines[17] = lines[17].rsplit(",", 2)[0]
        yield lines                                                  # a ragged line 18
        lines = _lines(60)
        lines[10] = '"' + lines[10]
        first, rest = lines[41].split(",", 1)
        lines[41] = first + '",' + rest
        yield lines                                                  # a quote from line 11 to line 42

    expected = ["line 13 is blank; expected one record per line and no blank line",
                "column 'earnings', line 21: value 'abc' is not a number",
                "column 'contribution_months', line 18: it has 6 fields where the header has 8",
                "column 'id', line 11: a double quote opened in this value closes only on line 42"]
    for lines, words in zip(variants(), expected):
        text = ending.join(lines) + ending
        (tmp_path / "utf8").mkdir(exist_ok=True)
        (tmp_path / "utf16").mkdir(exist_ok=True)
        (tmp_path / "utf8" / "members.csv").write_bytes(text.encode("utf-8"))
        (tmp_path / "utf16" / "members.csv").write_bytes(text.encode("utf-16"))
        in_utf8 = _refused(tmp_path / "utf8" / "members.csv")
        in_utf16 = _refused(tmp_path / "utf16" / "members.csv", encoding="utf-16")
        assert words in in_utf8, in_utf8
        assert in_utf16 == in_utf8
    text = ending.join(_lines(30)) + ending * 3                   # blank lines at the end: harmless in both
    (tmp_path / "utf16" / "members.csv").write_bytes(text.encode("utf-16"))
    assert _load(tmp_path / "utf16" / "members.csv", encoding="utf-16") == 30


def _members_workbook(path, n: int):
    """A member workbook of ``n`` records, written as Excel writes one (ids and amounts as numbers, the codes and
    dates as shared strings)."""
    rows = [INSURED.names] + [[100000 + i, "F" if i % 2 else "M", "1980-01-01", "2005-01-01", "active", 10.5, 12,
                               30000 + i] for i in range(n)]
    return _workbook(path, {"Members": rows})


def test_a_member_workbook_beyond_the_workbook_limit_is_read_streamed(tmp_path, monkeypatch):
    """A member sheet is read a row at a time, its records kept as text in chunks: the limit on what a workbook
    expands to (200 MB, lowered here to 1 MB) bounds only the parts read whole, so that a scheme of a million
    members in .xlsx is read; the worksheets have their own, larger limit (lowered here too)."""
    from actuary.data import sources
    from actuary.io import safety

    path = _members_workbook(tmp_path / "members.xlsx", 20_000)
    import zipfile

    with zipfile.ZipFile(path) as archive:
        sheet = archive.getinfo("xl/worksheets/sheet1.xml").file_size
    assert sheet > 1024 ** 2
    monkeypatch.setattr(safety, "MAX_UNCOMPRESSED_BYTES", 1024 ** 2)
    monkeypatch.setattr(sources, "XLSX_CHUNK_ROWS", 3_000, raising=False)
    with duckdb.connect() as con:
        loaded = load(con, Source(str(path)), INSURED, "insured")
        assert loaded.records == 20_000
        assert con.execute("SELECT min(_row), max(_row), sum(earnings), count(DISTINCT id), "
                           "count(*) FILTER (WHERE sex = 'M') FROM insured").fetchall()[0] == \
            (1, 20_000, 20_000 * 30000 + 20_000 * 19_999 / 2, 20_000, 10_000)
        assert con.execute("SELECT id, birth_date FROM insured WHERE _row = 4567").fetchall()[0] == \
            ("104566", __import__("datetime").date(1980, 1, 1))
    monkeypatch.setattr(safety, "MEMBER_SHEETS_BYTES", sheet - 1)
    text = _refused(path)
    assert (f"members.xlsx: the workbook's worksheets expand to {sheet / 1024 ** 2:,.0f} MB; at most "
            f"{(sheet - 1) / 1024 ** 2:,.0f} MB uncompressed are read (give a larger extract as CSV or Parquet)"
            in text), text


def test_a_member_workbook_read_by_openpyxl_where_the_streamed_reader_cannot(tmp_path, monkeypatch):
    """The streamed reader gives up (before any row that could differ): the sheet is read again by openpyxl, from
    its first row, with the same records."""
    from actuary.data import sources
    from actuary.io.sheet_rows import Unsupported

    path = _members_workbook(tmp_path / "members.xlsx", 500)
    streamed = sources._xlsx_streamed_rows

    def gives_up(*args):
        rows = streamed(*args)
        yield next(rows)
        yield next(rows)
        raise Unsupported("something else")

    monkeypatch.setattr(sources, "_xlsx_streamed_rows", gives_up)
    assert _load(path) == 500


def test_a_zip_bomb_in_a_member_sheet_or_in_the_parts_read_whole_is_still_refused(tmp_path, monkeypatch):
    """The worksheets' own limit does not open the door to zip bombs: a sheet part that expands more than 100 times
    is refused, and so are shared strings (read whole) beyond the workbook limit, even in a part named and
    related as a worksheet."""
    import zipfile

    from actuary.io import safety

    plain = _members_workbook(tmp_path / "plain.xlsx", 50)

    def rewritten(target, change):
        with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                zout.writestr(item.filename, change(item.filename, zin.read(item.filename)),
                              compress_type=zipfile.ZIP_DEFLATED)
        return target

    bomb = rewritten(tmp_path / "bomb.xlsx", lambda name, data: data.replace(
        b"</sheetData>", b"</sheetData>" + b" " * (30 * 1024 ** 2)) if name == "xl/worksheets/sheet1.xml" else data)
    text = _refused(bomb)
    assert "bomb.xlsx: part xl/worksheets/sheet1.xml expands" in text and "at most 100:1 is accepted (a zip bomb?)" \
        in text, text
    # the parts read whole beyond their limit (lowered to what the plain workbook's take), also the worksheet where
    # it is declared as shared strings too (openpyxl would read it whole as the shared strings)
    posed = rewritten(tmp_path / "posed.xlsx", lambda name, data: data.replace(b"</Types>", (
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sharedStrings+xml"/></Types>').encode()) if name == "[Content_Types].xml" else data)
    with zipfile.ZipFile(plain) as archive:
        assert safety._worksheet_parts(archive) == {"xl/worksheets/sheet1.xml"}
        whole = sum(p.file_size for p in archive.infolist() if p.filename != "xl/worksheets/sheet1.xml")
    with zipfile.ZipFile(posed) as archive:
        assert safety._worksheet_parts(archive) == set()
    monkeypatch.setattr(safety, "MAX_UNCOMPRESSED_BYTES", whole + 200)
    assert _load(plain) == 50
    text = _refused(posed)
    assert "posed.xlsx: the workbook's parts other than its worksheets (shared strings, styles: parts read whole) " \
           "expand to 0 MB; at most 0 MB uncompressed are read (give a larger extract as CSV or Parquet)" in text, text


def test_text_not_in_utf16_is_named_at_its_line_as_in_utf8(tmp_path):
    """A UTF-16 file holding a broken character (a lone surrogate) on line 11: named at its line and column as a
    UTF-8 file's byte that is not UTF-8 is (DuckDB's UTF-16 reader says only "File is not utf-16 encoded")."""
    lines = _lines(30)
    lines[10] = lines[10].replace("100009", "Jos@", 1)
    text = "\n".join(lines) + "\n"
    (tmp_path / "members.csv").write_bytes(text.encode("utf-8").replace(b"@", b"\xe9"))
    in_utf8 = _refused(tmp_path / "members.csv")
    (tmp_path / "members.csv").write_bytes(text.encode("utf-16").replace("@".encode("utf-16-le"), b"\x00\xd8"))
    in_utf16 = _refused(tmp_path / "members.csv", encoding="utf-16")
    assert "members.csv: column 'id', line 11: the text 'Jos\ufffd' is not utf-8" in in_utf8, in_utf8
    assert in_utf16 == in_utf8.replace("not utf-8", "not utf-16"), in_utf16
