"""Reading member records from CSV, Parquet, xlsx or a SQL database into DuckDB, typed by a layout.

A source is a file path (``.csv``/``.txt``, ``.parquet``/``.pq``, ``.xlsx``) or a database URL
(SQLAlchemy, e.g. ``sqlite:///scheme.db`` or ``postgresql://user@host/db``) with a table name or a
``SELECT`` query. Every source becomes a DuckDB table with the layout's columns, typed
(``VARCHAR`` ids and codes, ``DATE`` dates, ``DOUBLE`` numbers), plus ``_row``: the record's
position in the source (1 = first data record). Dates that do not parse are kept as NULL with the
text in ``<column>_text`` and the flag ``<column>_bad`` (a data check counts them); anything that
makes the file itself unusable raises :class:`actuary.InputError` naming the file, the column and
the first bad row: a missing column, a number column holding text or a value of the wrong type,
an empty file, a file that is not UTF-8 (or the encoding given), a ragged CSV line, a database URL
that cannot be opened.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from contextlib import contextmanager
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
from openpyxl.utils import get_column_letter

from ..io.safety import PLAIN_NUMBER, file_kind
from ..validation import InputError
from .layouts import Layout

NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "FLOAT", "DOUBLE", "REAL")
XLSX_MAX_ROWS = 1_048_576
SQL_BATCH = 100_000


@dataclass
class Source:
    """Where records come from: a file path or a database URL (with ``table``: a table name or a
    SELECT query); ``date_format`` (strptime) for dates written as text; ``encoding`` of a CSV."""

    location: str
    table: str | None = None
    date_format: str = "%Y-%m-%d"
    encoding: str = "utf-8"

    @property
    def is_database(self) -> bool:
        return "://" in self.location

    @property
    def label(self) -> str:
        if self.is_database:
            try:
                from sqlalchemy.engine import make_url

                shown = make_url(self.location).render_as_string(hide_password=True)
            except Exception:  # an unparseable URL: show it without anything after '@'
                shown = re.sub(r"//[^@/]*@", "//***@", self.location)
            return f"{shown} ({self.table})" if self.table else shown
        return Path(self.location).name


DATE_FORMAT_EXPECTED = ("expected strptime codes for the dates written as text, such as %d/%m/%Y (day/month/year), "
                        "%m/%d/%Y or %Y-%m-%d (the default): %d day, %m month, %Y year (%y two digits), %b month "
                        "name, %% a literal %")
_YEAR_CODES = {"%Y", "%y", "%-y", "%G", "%c", "%x"}     # (%c and %x: the locale's date, with its year)


def check_date_format(text: str, what: str = "--date-format") -> None:
    """Refuse a date format that DuckDB's strptime does not take (an unknown code such as ``%Q``, a ``%`` at the
    end, an empty format: DuckDB would stop with its own exception once the records are read) or that has no year
    code (``dd/mm/yyyy``: every date would be unreadable or in 1900): an InputError naming ``what`` and the value.
    Cheap (no file read): the commands call it before anything else."""
    reason = None
    try:
        with duckdb.connect() as con:
            con.execute(f"SELECT try_strptime(NULL::VARCHAR, {_literal(text)})")
    except duckdb.Error as error:
        said = str(error).splitlines()[0] if str(error) else ""
        unknown = re.search(r"Unrecognized format for strftime/strptime: (\S+)", said)
        reason = (f"{unknown.group(1)} is not a strptime code" if unknown
                  else "the format is empty" if "Empty format" in said
                  else "a '%' with no letter after it" if "Trailing format character" in said
                  else said.split(": ", 1)[-1] or type(error).__name__)
    if reason is None and not _YEAR_CODES & set(re.findall(r"%-?.", text, re.S)):
        reason = "it has no year code (%Y or %y)"
    if reason is not None:
        raise InputError(f"{what} '{text}': not a date format: {reason}; {DATE_FORMAT_EXPECTED}.")


@dataclass
class Loaded:
    """A source read into the DuckDB table ``table``: its number of records and what was noticed."""

    source: Source
    layout: Layout
    table: str
    records: int
    unused_columns: list[str] = field(default_factory=list)
    row_label: str = "row"         # how rows are counted in messages ("line", "row", ...)
    row_offset: int = 0            # file line/row of record 1 minus 1
    row_suffix: str = ""           # e.g. " of sheet 'Members'"
    header: str = "the header"     # where the column names are
    read_info: tuple = ()          # what verify() and reading() need
    # where a record is, as the checks workbook gives it (row + row_offset): its column heading and what it means
    position: tuple[str, str] = ("row", "the record's position in the source (1 = first record)")

    def where(self, row: int) -> str:
        return f"{self.row_label} {row + self.row_offset}{self.row_suffix}"


def _fail(source: Source, text: str):
    raise InputError(f"{source.label}: {text}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# ------------------------------------------------------------------------------------------ raw

HEADER_BYTES = 1024 ** 2     # the header line is read from at most this many bytes of the file
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "latin-1": "latin-1", "latin1": "latin-1", "iso-8859-1": "latin-1",
             "utf-16": "utf-16"}
_GLOB = re.compile(r"([\[*?])")


def _literal_path(path: Path) -> str:
    """``path`` as DuckDB's readers take it literally: absolute, each glob character (``[``, ``*``, ``?``) as the
    one-character class matching only itself, so that ``m[ab].csv`` is that file and never ``ma.csv`` + ``mb.csv``."""
    return _literal(_GLOB.sub(r"[\1]", str(path.absolute())))


def _csv_header(source: Source, path: Path) -> tuple[list[str], str]:
    """Header names and delimiter (comma, semicolon or tab, whichever the header line uses most): the first line
    of the file in its encoding, ended by LF, CR LF or CR alone; a column named twice (case and spaces aside)
    is refused here, before the file is read."""
    with open(path, "rb") as handle:
        head = handle.read(HEADER_BYTES)
    if not head.strip():
        _fail(source, "the file is empty (no header line); expected a header with the columns "
                      "of the layout and one line per record.")
    try:
        text = codecs.getincrementaldecoder(source.encoding)(errors="strict").decode(head, final=False)
    except (UnicodeError, LookupError) as error:    # (UnicodeError: a UTF-16 file without its byte-order mark)
        text = None
        problem = error
    if text is not None:
        ends = [i for i in (text.find("\r"), text.find("\n")) if i >= 0]
        if not ends and len(head) >= HEADER_BYTES:
            _fail(source, f"line 1 (the header) is longer than {HEADER_BYTES // 1024 ** 2} MB; expected the column "
                          "names of the layout on the first line.")
        text = text[:min(ends)] if ends else text
    else:
        line = head.split(b"\n")[0]
        try:   # the header itself may be fine and only a later line not (reported by the reader with its line)
            text = line.decode(source.encoding).rstrip("\r")
        except (UnicodeError, LookupError):
            _fail(source, f"line 1 (the header) is not {source.encoding} text ({problem}); save the file as UTF-8 "
                          "or give its encoding.")
    text = text.lstrip("\ufeff")
    delimiter = max((",", ";", "\t"), key=text.count)
    names = [name if name.strip() else f"column {index}"          # a column without a name (a trailing comma)
             for index, name in enumerate(next(csv.reader([text], delimiter=delimiter), []), start=1)]
    seen = {}
    for index, original in enumerate(names, start=1):
        key = original.strip().lower()
        if key in seen:
            first = names[seen[key] - 1]
            how = "" if first == original else ", the same name apart from case and spaces"
            _fail(source, f"header line 1: column '{original.strip()}' (column {get_column_letter(index)}) appears "
                          f"twice (also column {get_column_letter(seen[key])}{how}); expected each column once.")
        seen[key] = index
    return names, delimiter


def _csv_text_lines(source: Source, path: Path):
    """The file as text records (Python's csv reader, line endings LF, CR LF or CR): yields (first line, last
    line, fields) of each record, blank lines skipped as DuckDB does; used only to explain an error."""
    with open(path, newline="", encoding=source.encoding, errors="replace") as handle:
        reader = csv.reader(handle, delimiter=_csv_header(source, path)[1], quotechar='"', doublequote=True,
                            strict=False)
        previous = 0
        try:
            for fields in reader:
                if fields:
                    yield previous + 1, reader.line_num, fields
                previous = reader.line_num
        except (csv.Error, UnicodeError):
            return


def _csv_record_lines(source: Source, path: Path, record: int) -> tuple[int, int, list[str]] | None:
    """(first line, last line, fields) of record ``record`` (1 = the header) as an editor shows the file."""
    for number, found in enumerate(_csv_text_lines(source, path), start=1):
        if number == record:
            return found
    return None


def _csv_bad_line(source: Source, path: Path, line: int, delimiter: str, names: list[str]) -> tuple[str, str]:
    """(column, text) of the first field of ``line`` that is not valid text in the encoding."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == line:
                break
        else:
            return "", ""
    fields = raw.rstrip(b"\r\n").split(delimiter.encode())
    for index, value in enumerate(fields):
        try:
            value.decode(source.encoding)
        except UnicodeDecodeError:
            column = names[index] if index < len(names) else f"field {index + 1}"
            return column, value.decode(source.encoding, errors="replace")
    return "", ""


def _read_csv(con, source: Source, path: Path, name: str) -> tuple[list[str], str, dict]:
    encoding = ENCODINGS.get(source.encoding.lower())
    if encoding is None:
        _fail(source, f"encoding '{source.encoding}' is not supported; expected utf-8, latin-1 or utf-16.")
    names, delimiter = _csv_header(source, path)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(names))) + "}"   # (names as DuckDB takes any)
    named = ", ".join(f"c{i} AS {_quote(n)}" for i, n in enumerate(names))
    sql = (f"SELECT row_number() OVER () AS _row, {named} FROM read_csv({_literal_path(path)}, header = true, "
           f"auto_detect = false, delim = {_literal(delimiter)}, quote = '\"', escape = '\"', columns = {columns}, "
           f"strict_mode = true, encoding = {_literal(encoding)})")
    con.execute(f"CREATE VIEW {name} AS {sql}")
    return names, "line", {"delimiter": delimiter, "offset": 1, "header": "header line 1", "linebreaks": True,
                           # (a record is one line: a blank line between records and a line break inside a value
                           # are refused, see verify; CR-only, LF and CR LF ends counted alike)
                           "position": ("line", "the line of the file as an editor shows it (the header is line 1)")}


def _read_parquet(con, source: Source, path: Path, name: str):
    try:
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
    except Exception as error:
        _fail(source, f"not a readable Parquet file ({type(error).__name__}: {error}).")
    con.execute(f"CREATE VIEW {name} AS SELECT file_row_number + 1 AS _row, * EXCLUDE (file_row_number) "
                f"FROM read_parquet({_literal_path(path)}, file_row_number = true)")
    return list(schema.names), "row", {"offset": 0, "header": "the file's schema",
                                       "position": ("record", "the record's position in the file (1 = first record)")}


def _cell_text(value):
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 2 ** 53:
            return str(int(value))
        return repr(value)
    return str(value)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _xlsx_sheet(source: Source, wb):
    """The worksheet to read: the one ``source.table`` names, else the only sheet if it is visible; several
    visible sheets, or a hidden first one, are refused naming them (reading one of them silently could read the
    wrong records)."""
    sheets = wb.worksheets
    shown = [f"'{ws.title}'" + ("" if ws.sheet_state == "visible" else f" ({ws.sheet_state})") for ws in sheets]
    if source.table:
        found = [ws for ws in sheets if ws.title == source.table] or \
                [ws for ws in sheets if ws.title.strip().lower() == source.table.strip().lower()]
        if len(found) != 1:
            _fail(source, f"the workbook has no sheet '{source.table}'; its sheets are {', '.join(shown)}.")
        return found[0]
    visible = [ws for ws in sheets if ws.sheet_state == "visible"]
    if len(sheets) == 1 and visible:
        return sheets[0]
    if not visible:
        _fail(source, "the workbook has no visible sheet; expected one sheet of records.")
    why = "the first sheet is hidden" if sheets[0].sheet_state != "visible" else "it has several sheets"
    _fail(source, f"{why} ({', '.join(shown)}); name the sheet of the records (--members-table / "
                  "--pensioners-table SHEET), or keep only that sheet in the workbook.")


def _read_xlsx(con, source: Source, path: Path, name: str):
    """One sheet of an .xlsx workbook (see :func:`_xlsx_sheet`), header in row 1: every cell as text (dates as
    ISO text). The container is checked first (:func:`actuary.io.safety.check_container` with a member workbook's
    limits: the file at most :data:`~actuary.io.safety.MEMBER_FILE_BYTES`, its worksheets, read streamed, at most
    :data:`~actuary.io.safety.MEMBER_SHEETS_BYTES` uncompressed; zip bombs, entities); the sheet is read a row at
    a time (:func:`actuary.io.sheet_rows.sheet_rows`, else openpyxl's read-only sheet) and kept as Arrow text
    :data:`XLSX_CHUNK_ROWS` rows at a time, so that memory follows the records' text, not the sheet's XML. A cell
    right of the header's last column, a cell of more than 32,767 characters (Excel's limit) or XML that breaks
    partway through is refused naming the sheet and the cell or row."""
    import zipfile

    from openpyxl import load_workbook

    from ..io.safety import MEMBER_FILE_BYTES, MEMBER_SHEETS_BYTES, check_container, xml_refusal
    from ..io.sheet_rows import Unsupported

    if not zipfile.is_zipfile(path):
        _fail(source, "not an Excel workbook (.xlsx).")
    if path.stat().st_size > MEMBER_FILE_BYTES:
        _fail(source, f"the file has {path.stat().st_size / 1024 ** 2:,.0f} MB; at most "
                      f"{MEMBER_FILE_BYTES / 1024 ** 2:,.0f} MB of .xlsx are read (a larger extract as CSV or "
                      "Parquet).")
    try:
        scans = check_container(path, streamed_sheets_bytes=MEMBER_SHEETS_BYTES,
                                why="(give a larger extract as CSV or Parquet)")
    except InputError as error:
        _fail(source, str(error).split(": ", 1)[-1])
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:
        refused = xml_refusal(error, source.label)
        if refused is not None:
            raise refused from None
        _fail(source, f"the workbook cannot be read ({type(error).__name__}: {error}).")
    progress = {"row": 1}
    sheet = "?"
    try:
        ws = _xlsx_sheet(source, wb)
        sheet = ws.title
        try:
            names, table = _xlsx_records(source, sheet, _xlsx_streamed_rows(path, wb, ws, scans), progress)
        except Unsupported:   # something the streamed reader does not read as openpyxl does: openpyxl reads it
            ws.reset_dimensions()          # never trust the stated used range: it could cut rows or columns
            progress["row"] = 1
            names, table = _xlsx_records(source, sheet, ws.iter_rows(values_only=True), progress)
    except InputError:
        raise
    except Exception as error:   # XML that breaks partway through the sheet, a damaged part
        refused = xml_refusal(error, source.label)
        if refused is not None:
            raise refused from None
        _fail(source, f"sheet '{sheet}' cannot be read after row {progress['row']} ({type(error).__name__}: "
                      f"{str(error).splitlines()[0] if str(error) else ''}); the file is damaged: save it again "
                      "from Excel or LibreOffice.")
    finally:
        wb.close()
    con.register(f"{name}_arrow", table)
    select = ", ".join(f"c{i} AS {_quote(n or f'column {i + 1}')}" for i, n in enumerate(names))
    con.execute(f"CREATE VIEW {name} AS SELECT _row{', ' + select if select else ''} FROM {name}_arrow")
    return names, "row", {"offset": 1, "suffix": f" of sheet '{sheet}'", "header": f"header row 1 of sheet '{sheet}'",
                          "position": ("sheet row", f"the row of sheet '{sheet}' (the header is row 1)")}


XLSX_CHUNK_ROWS = 50_000     # rows of a member sheet held as Python values before they become Arrow text


def _xlsx_streamed_rows(path: Path, wb, ws, scans: dict):
    """The sheet's rows as openpyxl's read-only ``iter_rows(values_only=True)`` gives them after
    ``reset_dimensions()``, read by :func:`actuary.io.sheet_rows.sheet_rows` from the part the container check
    scanned (raises :class:`~actuary.io.sheet_rows.Unsupported`, before any row that could differ, where openpyxl
    must read it)."""
    import zipfile

    from ..io.sheet_rows import Unsupported, sheet_rows

    part = getattr(ws, "_worksheet_path", None)
    scan = scans.get(part.lstrip("/")) if isinstance(part, str) else None
    if scan is None or scan.malformed:
        raise Unsupported("the part was not scanned, or does not parse")
    with zipfile.ZipFile(path) as archive, archive.open(part.lstrip("/")) as stream:
        for values, _ in sheet_rows(stream, ws._shared_strings, wb.epoch, wb._date_formats, wb._timedelta_formats,
                                    False):
            yield values


def _xlsx_records(source: Source, sheet: str, rows, progress: dict) -> tuple[list[str], pa.Table]:
    """(header names, records as an Arrow table of text columns c0, c1, ... and ``_row``, the sheet's row - 1) of
    the rows of a sheet (the first is the header); ``progress["row"]``: the sheet row reached (for a message)."""
    from ..io.safety import MAX_CELL_TEXT

    header = next(rows, None)
    if header is None or all(v is None for v in header):
        _fail(source, f"sheet '{sheet}' is empty (no header in row 1).")
    names = [str(v).strip() if v is not None else "" for v in header]
    while names and names[-1] == "":
        names.pop()
    width = len(names)
    schema = pa.schema([*(pa.field(f"c{i}", pa.string()) for i in range(width)), pa.field("_row", pa.int64())])
    batches, data, numbers, count = [], [[] for _ in names], [], 0

    def kept():   # the rows read so far as Arrow text (memory: their text, not Python objects)
        if numbers:
            batches.append(pa.record_batch([*(pa.array(values, type=pa.string()) for values in data),
                                            pa.array(numbers, type=pa.int64())], schema=schema))
            for values in data:
                values.clear()
            numbers.clear()

    for row_number, row in enumerate(rows, start=2):
        progress["row"] = row_number
        if row is None:
            continue
        if len(row) > width:
            extra = next((i for i, v in enumerate(row[width:], start=width) if v is not None), None)
            if extra is not None:
                _fail(source, f"sheet '{sheet}', cell {_column_letter(extra + 1)}{row_number}: value "
                              f"'{_cell_text(row[extra])[:40]}' is right of the table (the header in row 1 has "
                              f"columns A to {_column_letter(width)}); expected nothing right of the header's last "
                              "column: name the column in row 1 or clear the cell.")
        if all(v is None for v in row[:width]):
            continue
        if count >= XLSX_MAX_ROWS:
            _fail(source, f"sheet '{sheet}' has more than {XLSX_MAX_ROWS:,} rows.")
        count += 1
        numbers.append(row_number - 1)
        for i in range(width):
            text = _cell_text(row[i]) if i < len(row) else None
            if text is not None and len(text) > MAX_CELL_TEXT:
                _fail(source, f"sheet '{sheet}', cell {_column_letter(i + 1)}{row_number}: the value has "
                              f"{len(text):,} characters; at most {MAX_CELL_TEXT:,} (Excel's limit; a member "
                              "record's values are short).")
            data[i].append(text)
        if len(numbers) >= XLSX_CHUNK_ROWS:
            kept()
    kept()
    return names, pa.Table.from_batches(batches, schema=schema)


def _sql_column(values: list):
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([None if v is None else _cell_text(v) for v in values], type=pa.string())


# words that make a statement write (or lock) rather than read: a query using one is refused with a clear message;
# the database's own read-only mode (SQLite mode=ro, a PostgreSQL READ ONLY transaction) is the guarantee
SQL_WRITES = ("insert", "update", "delete", "merge", "upsert", "create", "drop", "alter", "truncate",
              "grant", "revoke", "attach", "detach", "pragma", "vacuum", "reindex", "copy", "call", "into", "lock",
              "set", "do", "execute", "begin", "commit", "rollback")
_SQL_SKIPPED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|--[^\n]*|/\*.*?\*/|\$(\w*)\$.*?\$\1\$", re.S)


def _read_only_query(source: Source, query: str) -> None:
    """Refuse anything but one SELECT (or WITH ... SELECT) statement: a second statement, or a word that writes
    (a data-modifying WITH such as ``WITH x AS (SELECT 1) DELETE FROM members``), naming the word."""
    bare = _SQL_SKIPPED.sub(" ", query).strip()      # string literals, quoted names and comments aside
    if ";" in bare.rstrip("; \t\r\n"):
        _fail(source, "the query holds more than one statement (a ';' before its end); expected one SELECT "
                      "statement (or WITH ... SELECT): the database is only read.")
    words = re.findall(r"[a-z_][a-z0-9_$]*", bare.lower())
    if not words or words[0] not in ("select", "with"):
        _fail(source, f"the query starts with '{words[0] if words else bare[:20]}'; expected a table name or one "
                      "SELECT statement (or WITH ... SELECT): the database is only read.")
    writes = [w for w in words if w in SQL_WRITES]
    if writes:
        _fail(source, f"the query uses '{writes[0].upper()}', which writes to or locks the database; expected one "
                      "SELECT statement (or WITH ... SELECT) that only reads: the database is only read, never "
                      "changed.")


def _sqlite_engine(source: Source, url):
    """An engine on the SQLite file of ``url`` opened read-only (URI ``mode=ro``, and ``query_only``): a URL that
    asks for anything else (``mode=rwc``, other parameters) or names no file is refused; ``immutable=1`` may be
    asked for (a file that nothing changes while it is read, e.g. on read-only media)."""
    import sqlite3
    from urllib.parse import parse_qsl, quote, unquote

    import sqlalchemy as sa

    database = url.database or ""
    params = {k: v for k, v in url.query.items() if k != "uri"}
    if database.startswith("file:"):
        database, _, asked = database[5:].partition("?")
        database = unquote(database)
        params.update(parse_qsl(asked))
    if database in ("", ":memory:"):
        _fail(source, "the URL names no SQLite database file; expected sqlite:///path/to/file.db (an extract is "
                      "read, never created).")
    for key, value in params.items():
        value = value[-1] if isinstance(value, tuple) else value
        if not ((key == "mode" and value == "ro") or (key == "immutable" and value in ("0", "1"))):
            _fail(source, f"the URL asks for {key}={value}; a member database is opened read-only (mode=ro) and "
                          "the URL may ask for nothing else (immutable=1 aside): an extract is read, never created "
                          "or changed.")
    path = Path(database)
    if not path.is_file():
        _fail(source, f"no such SQLite database file '{database}' (an extract is read, never created).")
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    if str(params.get("immutable", "0")) == "1":
        uri += "&immutable=1"

    def connect():
        connection = sqlite3.connect(uri, uri=True)
        connection.execute("PRAGMA query_only = ON")
        return connection

    return sa.create_engine("sqlite://", creator=connect)


def _read_database(con, source: Source, name: str):
    """A table or query of a SQL database (SQLAlchemy URL), fetched in batches into DuckDB. The database is only
    read: SQLite opened with ``mode=ro``, PostgreSQL in a READ ONLY transaction (checked before the query), other
    databases refused; a query must be one SELECT (or WITH ... SELECT) statement."""
    import sqlalchemy as sa

    if not source.table:
        _fail(source, "a database source needs a table name or a SELECT query (--members-table / "
                      "--pensioners-table).")
    query = source.table.strip()
    is_query = re.match(r"(?is)^\s*(select|with)\b", query) is not None   # otherwise a table name (quoted)
    try:
        url = sa.engine.make_url(source.location)
        backend = url.get_backend_name()
        if backend == "sqlite":
            engine = _sqlite_engine(source, url)
        else:
            engine = sa.create_engine(url)
    except InputError:
        raise
    except Exception as error:
        _fail(source, f"the database URL cannot be used ({type(error).__name__}: {error}); expected a "
                      "SQLAlchemy URL such as sqlite:///path/to/file.db or postgresql://user@host/database.")
    if backend not in ("sqlite", "postgresql"):
        engine.dispose()
        _fail(source, f"a {backend} database is not read: only SQLite and PostgreSQL databases, which actuary opens "
                      "read-only; export the records to CSV or Parquet.")
    if is_query:
        _read_only_query(source, query)
    try:
        with engine.connect() as connection:
            if backend == "postgresql":
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                if connection.exec_driver_sql("SHOW transaction_read_only").scalar() != "on":
                    _fail(source, "the PostgreSQL transaction could not be made read-only; the database is not "
                                  "read.")
            if is_query:
                statement = sa.text(query)
            else:
                if not sa.inspect(connection).has_table(query):
                    _fail(source, f"the database has no table '{query}'.")
                statement = sa.select(sa.text("*")).select_from(sa.table(query))
            result = connection.execution_options(stream_results=True).execute(statement)
            names = list(result.keys())
            batches, count = [], 0
            while True:
                rows = result.fetchmany(SQL_BATCH)
                if not rows:
                    break
                columns = list(zip(*rows))
                batch = {f"c{i}": _sql_column(list(values)) for i, values in enumerate(columns)}
                batch["_row"] = pa.array(range(count + 1, count + len(rows) + 1), type=pa.int64())
                batches.append(pa.table(batch))
                count += len(rows)
    except InputError:
        raise
    except Exception as error:
        message = str(error).split("\n")[0]
        _fail(source, f"the database cannot be read ({type(error).__name__}: {message}).")
    finally:
        engine.dispose()
    if batches:
        table = pa.concat_tables(batches, promote_options="permissive")
    else:
        table = pa.table({**{f"c{i}": pa.array([], type=pa.string()) for i in range(len(names))},
                          "_row": pa.array([], type=pa.int64())})
    con.register(f"{name}_arrow", table)
    select = ", ".join(f"c{i} AS {_quote(n)}" for i, n in enumerate(names))
    con.execute(f"CREATE VIEW {name} AS SELECT _row, {select} FROM {name}_arrow")
    return names, "row", {"offset": 0, "suffix": " of the query result", "header": "the query's columns",
                          "position": ("query row", "the row's position in the result of the table or query (1 = "
                                                    "first row; a query without ORDER BY may return them in another "
                                                    "order next time)")}


# ------------------------------------------------------------------------------------------ typed

# a number written as text (a CSV, an xlsx text cell, a text column of Parquet or a database): ASCII digits with at
# most one decimal point and an optional exponent, as a case folder reads them (PLAIN_NUMBER), around it only the
# whitespace DuckDB's cast skips (spaces are trimmed before); no separator of any kind: DuckDB's cast also takes
# digits grouped by underscores ('1_000' as 1000, '4_8210.5_5' as 48210.55), which a member file never means
NUMBER_TEXT = r"[\t\n\v\f\r ]*" + PLAIN_NUMBER + r"[\t\n\v\f\r ]*"


def _expression(source: Source, layout: Layout, column, raw: str, kind: str) -> list[str]:
    """SQL select expressions of one layout column from the raw column (of DuckDB type ``kind``)."""
    q = _quote(raw)
    text = f"NULLIF(trim(CAST({q} AS VARCHAR)), '')"
    if column.kind == "id":
        return [f"{text} AS {column.name}"]
    if column.kind == "code":
        case = "upper" if column.name == "sex" else "lower"
        return [f"{case}({text}) AS {column.name}"]
    if column.kind == "number":
        if kind in NUMERIC_TYPES or kind.startswith("DECIMAL"):
            value = f"CAST({q} AS DOUBLE)"
            bad = f"({q} IS NOT NULL AND NOT isfinite(CAST({q} AS DOUBLE)))"
        elif kind == "VARCHAR":   # a plain number only: DuckDB's cast alone also takes '1_000' (1000), '1_2' (12)
            value = f"TRY_CAST({text} AS DOUBLE)"
            bad = (f"({text} IS NOT NULL AND (NOT regexp_full_match({text}, {_literal(NUMBER_TEXT)}) OR "
                   f"NOT coalesce(isfinite({value}), false)))")
        else:
            _fail(source, f"column '{raw}' has type {kind}; expected numbers ({column.doc}).")
        return [f"CASE WHEN {bad} THEN NULL ELSE {value} END AS {column.name}", f"{bad} AS {column.name}_typebad"]
    # date
    if kind == "DATE":
        return [f"{q} AS {column.name}", f"false AS {column.name}_bad", f"NULL::VARCHAR AS {column.name}_text"]
    if kind.startswith("TIMESTAMP"):
        return [f"CAST({q} AS DATE) AS {column.name}", f"false AS {column.name}_bad",
                f"NULL::VARCHAR AS {column.name}_text"]
    if kind != "VARCHAR":
        _fail(source, f"column '{raw}' has type {kind}; expected dates ({column.units}).")
    parsed = f"CAST(try_strptime({text}, {_literal(source.date_format)}) AS DATE)"
    if source.date_format == "%Y-%m-%d":   # also a date written as a timestamp at midnight (database exports)
        parsed = (f"coalesce({parsed}, CASE WHEN {text} LIKE '% 00:00:00' "
                  f"THEN CAST(try_strptime({text}, '%Y-%m-%d %H:%M:%S') AS DATE) END)")
    bad = f"({text} IS NOT NULL AND {parsed} IS NULL)"
    return [f"{parsed} AS {column.name}", f"{bad} AS {column.name}_bad",
            f"CASE WHEN {bad} THEN {text} END AS {column.name}_text"]


@contextmanager
def _read_as_input(source: Source):
    """An OSError while ``source`` is read (a file that cannot be opened or read: permissions, a disk error) is
    the input's error, an InputError naming the file (exit 2), never taken for an output that could not be
    written."""
    try:
        yield
    except OSError as error:
        raise InputError(f"{source.label}: cannot be read ({error.strerror or error}).") from None


def load(con: duckdb.DuckDBPyConnection, source: Source, layout: Layout, table: str, required: bool = True,
         materialise: bool = True) -> Loaded:
    """Read ``source`` into the DuckDB table ``table`` with the layout's typed columns and ``_row``.

    ``required``: a source without any record is an error (otherwise it is allowed, e.g. a scheme
    without pensioners). ``materialise=False`` makes ``table`` a view over the source, to be read
    once by the caller's own table, which must then be passed to :func:`verify`."""
    with _read_as_input(source):
        return _load(con, source, layout, table, required, materialise)


def _load(con, source: Source, layout: Layout, table: str, required: bool, materialise: bool) -> Loaded:
    if any(c.kind == "date" for c in layout.columns):
        check_date_format(source.date_format, f"{source.label}: date format")
    raw = f"{table}_raw"
    if source.is_database:
        names, label, info = _read_database(con, source, raw)
    else:
        path = Path(source.location)
        if not path.exists():
            _fail(source, f"no such file ({path}).")
        if path.is_dir():
            _fail(source, f"{path} is a folder; expected a file.")
        kind = file_kind(path.stat().st_mode)
        if kind is not None:   # a FIFO (reading waits for a writer), /dev/zero (endless), a device
            _fail(source, f"{path} is {kind}; expected a regular file of member records.")
        suffix = path.suffix.lower()
        if path.stat().st_size == 0:
            _fail(source, "the file is empty; expected a header with the columns of the layout and one record "
                          "per line.")
        if suffix in (".csv", ".txt"):
            names, label, info = _read_csv(con, source, path, raw)
        elif suffix in (".parquet", ".pq"):
            names, label, info = _read_parquet(con, source, path, raw)
        elif suffix == ".xlsx":
            names, label, info = _read_xlsx(con, source, path, raw)
        else:
            _fail(source, f"files of type '{suffix}' are not read; expected .csv, .parquet, .xlsx or a database "
                          "URL.")
    loaded = Loaded(source, layout, table, 0, row_label=label, row_offset=info["offset"],
                    row_suffix=info.get("suffix", ""), header=info["header"], position=info["position"])
    by_name: dict[str, str] = {}
    for index, original in enumerate(names):
        key = str(original).strip().lower().lstrip("\ufeff")
        if key in by_name:
            _fail(source, f"column '{key}' appears twice in the header.")
        by_name[key] = original
    missing = [n for n in layout.names if n not in by_name]
    if missing:
        _fail(source, f"column '{missing[0]}' is missing ({loaded.header}); the {layout.name} layout "
                      f"has the columns {', '.join(layout.names)}.")
    loaded.unused_columns = [by_name[k] for k in by_name if k not in layout.names]
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {raw})").fetchall())
    select = ["_row"]
    for column in layout.columns:
        original = by_name[column.name]
        select += _expression(source, layout, column, original, str(types[original]).upper())
    if info.get("linebreaks"):   # a value holding a line break: a stray quote swallowing records (verify)
        tests = " OR ".join(f"contains({_quote(n)}, chr(10)) OR contains({_quote(n)}, chr(13))" for n in names)
        select.append(f"coalesce({tests}, false) AS _linebreak")
    loaded.read_info = (names, info, by_name, raw, required)
    if not materialise:
        con.execute(f"CREATE VIEW {table} AS SELECT {', '.join(select)} FROM {raw}")
        return loaded
    with reading(loaded):
        con.execute(f"CREATE TABLE {table} AS SELECT {', '.join(select)} FROM {raw}")
    verify(con, loaded, table)
    return loaded


@contextmanager
def reading(loaded: Loaded):
    """Turn DuckDB's errors while reading the source (a ragged CSV line, bad encoding) into the
    InputError naming the file, the column and the line."""
    try:
        with _read_as_input(loaded.source):
            yield
    except duckdb.Error as error:
        names, info, *_ = loaded.read_info
        _raise_read_error(loaded.source, loaded, error, names, info)


def verify(con, loaded: Loaded, table: str) -> None:
    """Count the records of ``table`` (read from the loaded source) and stop at the first number
    column holding text: the file, the column, the row and the value."""
    with _read_as_input(loaded.source):
        _verify(con, loaded, table)


def _verify(con, loaded: Loaded, table: str) -> None:
    names, info, by_name, raw, required = loaded.read_info
    numbers = [c for c in loaded.layout.columns if c.kind == "number"]
    linebreak = ", min(_row) FILTER (WHERE _linebreak)" if info.get("linebreaks") else ", NULL"
    counts = con.execute("SELECT count(*)" + linebreak + "".join(f", min(_row) FILTER (WHERE {c.name}_typebad)"
                                                                  for c in numbers) + f" FROM {table}").fetchall()[0]
    loaded.records = counts[0]
    source = loaded.source
    if counts[1] is not None:
        _linebreak_error(con, loaded, int(counts[1]), names, raw)
    if info.get("linebreaks"):
        _blank_line_error(loaded)
    counts = counts[:1] + counts[2:]
    if loaded.records == 0 and required:
        _fail(source, "the file has a header but no records; expected one record per line.")
    bad = [(row, i) for i, row in enumerate(counts[1:]) if row is not None]
    if bad:
        first, i = min(bad)
        column = numbers[i]
        value = con.execute(f"SELECT CAST({_quote(by_name[column.name])} AS VARCHAR) FROM {raw} "
                            f"WHERE _row = {int(first)}").fetchall()[0][0]
        underscore = " (an underscore is not a digit separator)" if "_" in str(value) else ""
        _fail(source, f"column '{column.name}', {loaded.where(first)}: value '{value}' is not a number; expected "
                      f"{column.doc} ({column.units}). Numbers are written with a decimal point and no thousands "
                      f"separator{underscore}.")


def _linebreak_error(con, loaded: Loaded, row: int, names: list[str], raw: str):
    """Refuse record ``row`` of a CSV file, which holds a line break inside a value: in member records (no
    free-text column) that is a stray double quote that made the reader take the following lines, up to the next
    quote, as part of one value: those records would be lost without a word."""
    source = loaded.source
    values = con.execute(f"SELECT * EXCLUDE (_row) FROM {raw} WHERE _row = {row}").fetchall()[0]
    index = next(i for i, v in enumerate(values) if v is not None and ("\n" in v or "\r" in v))
    found = _csv_record_lines(source, Path(source.location), row + 1)
    first, last = (found[0], found[1]) if found else (row + 1, row + 1 + values[index].count("\n"))
    _fail(source, f"column '{names[index]}', line {first}: a double quote opened in this value closes only on line "
                  f"{last}, so lines {first} to {last} would be read as one record (the lines between lost); expected "
                  "one record per line, without line breaks inside a value (the layout has no free-text column). "
                  "Remove the stray quote, or write a quote inside a value as two (\"\").")


def _csv_line_count(path: Path, encoding: str) -> int:
    """Lines of the file as an editor counts them (LF, CR LF or CR alone; a last line without an end counted). A
    UTF-8 or Latin-1 file is counted on its bytes (a line end is the same byte in both); a UTF-16 file on its text,
    decoded a chunk at a time (a byte 0x0A there may be half of another character)."""
    lf = cr = 0
    last = ""
    if ENCODINGS.get(encoding.lower()) in ("utf-8", "latin-1"):
        with open(path, "rb") as handle:
            while chunk := handle.read(16 * 1024 ** 2):
                lf += chunk.count(b"\n")
                cr += chunk.count(b"\r")
                last = chunk[-1:].decode("latin-1")
    else:
        with open(path, "r", encoding=ENCODINGS.get(encoding.lower(), encoding), errors="replace",
                  newline="") as handle:
            while chunk := handle.read(8 * 1024 ** 2):
                lf += chunk.count("\n")
                cr += chunk.count("\r")
                last = chunk[-1:]
    ends = lf if lf else cr
    return ends + (1 if last not in ("\n", "\r", "") else 0)


def _blank_line_error(loaded: Loaded) -> None:
    """Refuse a CSV file with a blank line between records: DuckDB skips it, so that every line number after it
    (in messages and in the checks workbook) would be one too low. Blank lines at the end are harmless."""
    source = loaded.source
    path = Path(source.location)
    lines = _csv_line_count(path, source.encoding)
    if lines <= loaded.records + 1:
        return
    blank = None
    with open(path, "r", encoding=source.encoding, errors="replace", newline=None) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                blank = blank or number
            elif blank is not None:
                _fail(source, f"line {blank} is blank; expected one record per line and no blank line between "
                              "records (the line numbers of every message and of the checks workbook after it would "
                              "be wrong). Remove the blank lines.")


def _csv_undecodable(source: Source, path: Path, delimiter: str, names: list[str]) -> tuple[int, str, str] | None:
    """(line, column, text) of the first value that is not text in the file's encoding, found on the decoded text
    (lines as an editor counts them: LF, CR LF or CR); for a file whose reader does not say the line (DuckDB's
    UTF-16: "File is not utf-16 encoded")."""
    with open(path, "r", encoding=ENCODINGS.get(source.encoding.lower(), source.encoding), errors="replace",
              newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if "\ufffd" in line:
                fields = line.rstrip("\r\n").split(delimiter)
                index = next(i for i, value in enumerate(fields) if "\ufffd" in value)
                return number, names[index] if index < len(names) else f"field {index + 1}", fields[index]
    return None


def _raise_read_error(source: Source, loaded: Loaded, error: Exception, names: list[str], info: dict):
    message = str(error)
    match = re.search(r"CSV Error on Line: (\d+)", message)
    if not match and "delimiter" in info and re.search(r"not utf-?16", message, re.IGNORECASE):
        found = _csv_undecodable(source, Path(source.location), info["delimiter"], names)
        if found is not None:   # said as a UTF-8 file's text that is not UTF-8 is said, with its line
            _fail(source, f"column '{found[1]}', line {found[0]}: the text '{found[2]}' is not {source.encoding}; "
                          "save the file as UTF-8 (or give its encoding).")
    if match and "delimiter" in info:
        record = int(match.group(1))           # DuckDB counts records (the header is 1), not lines
        path = Path(source.location)
        found = _csv_record_lines(source, path, record)
        line = found[0] if found else record
        if "unterminated quote" in message.lower():
            column = ""
            if found and found[2]:
                column = names[min(len(found[2]), len(names)) - 1]
            _fail(source, f"{('column ' + repr(column) + ', ') if column else ''}line {line}: a double quote opened "
                          "on this line is never closed, so the rest of the file would be read as one value; "
                          "expected each quoted value to end with a quote on the same line. Remove the stray quote, "
                          "or write a quote inside a value as two (\"\").")
        said = message.split("\n\n")[0].lower()     # (what is wrong: not the options after it, the file's path)
        if "unicode" in said or "utf" in said:
            column, text = _csv_bad_line(source, path, line, info["delimiter"], names)
            _fail(source, f"column '{column}', line {line}: the text '{text}' is not {source.encoding}; save the "
                          f"file as UTF-8 (or give its encoding).")
        found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
        size = re.search(r"Maximum line size of (\d+) bytes exceeded. Actual Size:\s*(\d+)", message)
        blocks = message.split("\n\n")     # "CSV Error on Line: N\nOriginal Line: ...\n<what is wrong>", ...
        detail = (f"it has {found.group(2)} fields where the header has {found.group(1)}" if found
                  else f"the record has {int(size.group(2)):,} bytes; at most {int(size.group(1)):,} are read (member "
                       "records are a few hundred)" if size
                  else blocks[0].split("\n")[-1].strip().rstrip(".") if blocks[0].count("\n") >= 2
                  else message.split("\n")[0])
        column = names[min(int(found.group(2)), len(names) - 1)] if found else ""
        _fail(source, f"{('column ' + repr(column) + ', ') if column else ''}line {line}: {detail}.")
    _fail(source, f"the records cannot be read ({message.splitlines()[0]}).")
