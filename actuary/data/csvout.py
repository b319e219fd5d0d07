"""CSV outputs of the data commands that hold text from member records (``<name>-data-checks-records.csv``).

A spreadsheet opening a CSV evaluates a field that starts with ``=``, ``+``, ``-`` or ``@`` (and Excel one that
starts with a tab or a carriage return) as a formula: ``=HYPERLINK("http://...","click")`` in a member's id
would become a live link, ``=1+1`` a computed 2 (CSV injection). As OWASP's advice on CSV injection says, such a
text field is written with a leading apostrophe (``'=HYPERLINK(...)``): the spreadsheet shows it as text, the
characters after the apostrophe are those read. A field that is a plain number (``-2.5``, ``+1e3``, the value of
a negative amount as read) is a number to the spreadsheet, never a formula, and is written as it is; numeric
columns (the record's row) are numbers. The neutralising is a SQL expression per text column inside DuckDB's
``COPY``, so that millions of records hit are written streaming, never held in memory.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import duckdb

from ..io.files import atomic_path
from ..io.safety import FORMULA_START, PLAIN_NUMBER

_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)


def neutral_text(value: str) -> str:
    """``value`` as a CSV field no spreadsheet evaluates: a leading apostrophe when it starts with one of
    :data:`FORMULA_START` and is not a plain number (the same rule as :func:`neutral_sql`)."""
    if value[:1] in FORMULA_START and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutral_sql(column: str) -> str:
    """The SQL expression of the text column ``column`` (a quoted identifier) neutralised as :func:`neutral_text`
    does (NULL stays NULL)."""
    starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_START)
    return (f"CASE WHEN left({column}, 1) IN ({starts}) AND NOT regexp_full_match({column}, '{PLAIN_NUMBER}') "
            f"THEN '''' || {column} ELSE {column} END")


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_csv(con, query: str, path) -> None:
    """Write the rows of ``query`` (DuckDB SQL) to the CSV file ``path`` with a header, streaming, every text column
    neutralised (:func:`neutral_sql`), other columns as they are. The file is written beside ``path`` and renamed
    onto it only if complete (:func:`actuary.io.files.atomic_path`). The path reaches DuckDB's ``COPY ... TO``
    (which takes no parameter for it) absolute (no ``~`` or URL scheme is read into it) and quoted as a SQL
    string literal, so that any character of ``--out`` (an apostrophe: ``d_o'q``) is the file name's."""
    from .sources import _literal

    described = con.execute(f"DESCRIBE {query}").fetchall()   # (name, type, ...) of each column
    columns = []
    for name, kind, *_ in described:
        quoted = _identifier(name)
        columns.append(f"{neutral_sql(quoted)} AS {quoted}" if kind == "VARCHAR" else quoted)
    try:
        with atomic_path(Path(path)) as temporary:
            target = _literal(os.path.abspath(temporary))
            con.execute(f"COPY (SELECT {', '.join(columns)} FROM ({query})) TO {target} (FORMAT CSV, HEADER)")
    except duckdb.IOException as error:   # a full disk: an OSError, as any other file that could not be written
        number = re.search(r'"errno":\s*"?(\d+)', str(error))   # DuckDB says the system's error number, if any
        code = int(number.group(1)) if number else errno.EIO
        raise OSError(code, os.strerror(code) if number else str(error).split("\n")[0], str(path)) from None
