"""Files are hostile until checked: limits on workbook containers, output names that cannot leave the
output folder, and input text written to output workbooks as literal text (never a live formula).

Limits on a workbook (.xlsx) before any XML is parsed (a workbook saved by Excel or LibreOffice is far
inside them; Demoland's is 0.3 MB, 1.3 MB uncompressed, at most 10:1):

- the file itself at most :data:`MAX_FILE_BYTES` (200 MB);
- at most :data:`MAX_PARTS` parts (10,000);
- all parts together at most :data:`MAX_UNCOMPRESSED_BYTES` (200 MB) uncompressed;
- every part larger than :data:`RATIO_FLOOR_BYTES` (1 MB) uncompressed at most :data:`MAX_RATIO`
  (100) times its compressed size (zip bombs);
- no XML part declares a document type (``<!DOCTYPE``) anywhere in it (every XML part is read through once,
  streamed, before any is parsed for its content): Excel and LibreOffice never write one, and
  entity declarations are how "billion laughs" expansions and external entities (XXE) work. The
  parser (openpyxl with ``defusedxml``) refuses entities as a second line;
- no row holds more than :data:`MAX_ROW_CELLS` (16,384, Excel's columns) cells and no row is numbered
  beyond :data:`MAX_ROWS` (1,048,576, Excel's rows): a sheet is read a row at a time, so this bounds the
  memory one row takes whatever the file's size;
- every part decompresses (a damaged deflate stream or checksum is named by its part);
- in a worksheet, every row number (``<row r>``), cell reference (``<c r>``), merged range (``<mergeCell ref>``)
  and the sheet's dimension (``<dimension ref>``) that is given is one Excel could have written: a row from 1 to
  :data:`MAX_ROWS`, a column from A to XFD, a cell in the row that holds it, a range whose first cell is its top
  left; in the workbook part, every sheet's state is visible, hidden or veryHidden and every defined name has a
  name and, if it belongs to a sheet, the number of one (see :func:`_check_reference`). A reference openpyxl
  reads otherwise (or not at all) is refused naming its sheet and text, never left to a generic error or to a
  value silently dropped (a cell in column XFE, a row numbered 0).

A member workbook of ``actuary data`` (records, read a row at a time: see :mod:`actuary.data.sources`) has its own
limits on the file and its sheets, :data:`MEMBER_FILE_BYTES` (1 GB) and :data:`MEMBER_SHEETS_BYTES` (4 GB
uncompressed, all its worksheets together): a worksheet part is never held whole (it is read streamed, its rows
kept as the records' text), so its size bounds the time a read takes, not the memory. Every other part (shared
strings, styles, the workbook: read whole) stays within :data:`MAX_UNCOMPRESSED_BYTES` together, and the ratio,
parts, document-type and row limits above apply to every part as they do to a valuation workbook.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ..validation import InputError

MAX_FILE_BYTES = 200 * 1024 ** 2
MAX_UNCOMPRESSED_BYTES = 200 * 1024 ** 2
MAX_RATIO = 100
RATIO_FLOOR_BYTES = 1024 ** 2
MAX_PARTS = 10_000
MEMBER_FILE_BYTES = 1024 ** 3               # a member workbook (actuary data): the file
MEMBER_SHEETS_BYTES = 4 * 1024 ** 3         # ... its worksheets together, uncompressed (read streamed)
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
PROLOG_BYTES = 64 * 1024
MAX_CELL_TEXT = 32_767                      # Excel's limit on the characters of one cell
MAX_ROW_CELLS = 16_384                      # Excel's columns (A..XFD): the most cells a row it writes has
MAX_ROWS = 1_048_576                        # Excel's rows
MAX_MERGED = 10_000                         # merged ranges kept per part (a valuation workbook has a few)
MAX_COLUMNS = 16_384                        # Excel's columns, A..XFD
SHEET_STATES = ("visible", "hidden", "veryHidden")   # the states a sheet can have (ECMA-376 ST_SheetState)
SCAN_CHUNK = 256 * 1024

NAME_CHARACTERS = "letters, digits, '.', '_' and '-'"
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY|<\x00!\x00D\x00O\x00C\x00|\x00<\x00!\x00D\x00O\x00C", re.IGNORECASE)
_XML_SUFFIXES = (".xml", ".rels", ".vml")


def output_name(name: str, what: str = "--name") -> str:
    """``name`` if it can name output files inside the output folder: letters (any script), digits,
    '.', '_', '-'; not starting with '.', no '..'. Anything else (a path separator, an absolute path)
    raises :class:`InputError` naming ``what``."""
    text = str(name)
    problem = None
    if not text:
        problem = "is empty"
    elif any(not (c.isalnum() or c in "._-") for c in text):
        bad = next(c for c in text if not (c.isalnum() or c in "._-"))
        problem = f"contains {bad!r}"
    elif text.startswith("."):
        problem = "starts with '.'"
    elif ".." in text:
        problem = "contains '..'"
    elif len(text) > 100:
        problem = f"has {len(text)} characters (at most 100)"
    if problem:
        raise InputError(f"{what} '{text}' {problem}; an output name may contain only {NAME_CHARACTERS}, "
                         "may not start with '.' or contain '..', so that outputs stay in the output folder.")
    return text


def literal_text(value) -> str:
    """Input-derived text as it will be stored in an output cell: characters that XML cannot hold
    removed, cut to Excel's 32,767 characters."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return text if len(text) <= MAX_CELL_TEXT else text[:MAX_CELL_TEXT - 1] + "…"


# The first characters of a text a spreadsheet opening a CSV file may evaluate as a formula (Excel also a tab or a
# carriage return), and a plain number, which a spreadsheet reads as a number, never a formula (CSV injection: the
# records CSV of the data commands, a case folder's report_text.csv)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?"


def text_cell(ws, row: int, column: int, value):
    """Write ``value`` (text from an input: a case name, scenario name, note, file name, command line)
    as a literal text cell: ``=HYPERLINK(...)``, ``+1+1`` or ``@SUM(A1)`` stay the same characters and
    never become a formula (data type "s", quote prefix as Excel sets for typed-in text). Returns the cell."""
    cell = ws.cell(row=row, column=column)
    cell.value = literal_text(value)
    cell.data_type = "s"
    if cell.value[:1] in ("=", "+", "-", "@"):
        cell.quotePrefix = True
    return cell


def file_kind(mode: int) -> str | None:
    """What a file that is not a regular file is ("a symbolic link", "a FIFO (named pipe)", ...); None for a
    regular file."""
    for test, kind in ((stat.S_ISREG, None), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def regular_file_bytes(path, limit: int, name: str | None = None, why: str = "", follow_links: bool = False) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes: a symbolic link (it can point anywhere:
    /dev/zero, another user's files), a FIFO (reading it waits for a writer), a device or a folder is refused
    before it is opened, and the file is opened without following links and without waiting, checked again once
    open (it may have been swapped) and read no further than ``limit`` + 1 bytes (it may grow). Errors are
    :class:`InputError` naming ``name`` (default: the file's name); ``why`` says what the limit is for.
    ``follow_links``: a path the user gave on the command line may be a link (their choice), but what it
    points at must be a regular file (a link to /dev/zero or to a FIFO is refused all the same)."""
    path = Path(path)
    name = name or path.name
    try:
        kind = file_kind((os.stat if follow_links else os.lstat)(path).st_mode)
    except OSError as error:
        raise InputError(f"{name}: cannot be read ({error.strerror or error}).") from None
    if kind is not None:
        raise InputError(f"{name}: is {kind}; expected a regular file" + (
            f"{' (it is a symbolic link to ' + repr(os.path.realpath(path)) + ')' if path.is_symlink() else ''}."
            if follow_links else " (files are read only from the folder itself: copy the file in instead of linking "
                                 "to it)."))
    flags = os.O_RDONLY | (0 if follow_links else getattr(os, "O_NOFOLLOW", 0)) | getattr(os, "O_NONBLOCK", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise InputError(f"{name}: cannot be read ({error.strerror or error}).") from None
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        kind = file_kind(info.st_mode)
        if kind is not None:   # replaced between the check and the opening
            raise InputError(f"{name}: is {kind}; expected a regular file.")
        try:   # (a read that fails, a disk error say, is the input's: never taken for an output not written)
            data = stream.read(limit + 1) if info.st_size <= limit else None
        except OSError as error:
            raise InputError(f"{name}: cannot be read ({error.strerror or error}).") from None
    if data is None or len(data) > limit:
        size = f"{info.st_size / 1024 ** 2:,.1f} MB" if data is None else f"more than {limit / 1024 ** 2:,.0f} MB"
        raise InputError(f"{name}: the file has {size}; at most {limit / 1024 ** 2:,.0f} MB are read{why}.")
    return data


def check_container(path, data: bytes | None = None, streamed_sheets_bytes: int | None = None,
                    why: str = "(a valuation workbook is a few MB)") -> dict:
    """Refuse a workbook whose zip container breaks the limits above (before any XML is parsed); returns what
    the read through each part found (part name -> :class:`PartScan`). ``streamed_sheets_bytes``: the workbook's
    worksheets are read streamed (a member workbook): together they may expand to this many bytes, outside
    :data:`MAX_UNCOMPRESSED_BYTES`, which then bounds the other parts (those read whole); ``why`` is said when the
    total is too large."""
    import io

    scans = {}

    name = getattr(path, "name", str(path))
    source = io.BytesIO(data) if data is not None else path
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InputError(f"{name}: not an Excel workbook (.xlsx): the zip container cannot be read ({error}).") \
            from None
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_PARTS:
            raise InputError(f"{name}: the workbook has {len(parts):,} parts; at most {MAX_PARTS:,} are read. "
                             "It was not saved by Excel or LibreOffice, or is not a valuation workbook.")
        names = [p.filename for p in parts]
        if len(set(names)) != len(names):
            twice = next(n for n in names if names.count(n) > 1)
            raise InputError(f"{name}: the workbook's zip container holds the part {twice} twice; programs differ "
                             "in which copy they show, so it is not read. Save the workbook again from Excel or "
                             "LibreOffice.")
        streamed = _worksheet_parts(archive) if streamed_sheets_bytes is not None else set()
        sheets = sum(p.file_size for p in parts if p.filename in streamed)
        total = sum(p.file_size for p in parts if p.filename not in streamed)
        if total > MAX_UNCOMPRESSED_BYTES:
            whole = ("'s parts other than its worksheets (shared strings, styles: parts read whole)"
                     if streamed_sheets_bytes is not None else "")
            raise InputError(f"{name}: the workbook{whole} expand{'' if whole else 's'} to "
                             f"{total / 1024 ** 2:,.0f} MB; at most {MAX_UNCOMPRESSED_BYTES / 1024 ** 2:,.0f} MB "
                             f"uncompressed are read {why}.")
        if streamed_sheets_bytes is not None and sheets > streamed_sheets_bytes:
            raise InputError(f"{name}: the workbook's worksheets expand to {sheets / 1024 ** 2:,.0f} MB; at most "
                             f"{streamed_sheets_bytes / 1024 ** 2:,.0f} MB uncompressed are read {why}.")
        for part in parts:
            if part.file_size > RATIO_FLOOR_BYTES and part.file_size > MAX_RATIO * max(part.compress_size, 1):
                raise InputError(f"{name}: part {part.filename} expands {part.file_size / max(part.compress_size, 1):,.0f} "
                                 f"times ({part.compress_size:,} -> {part.file_size:,} bytes); at most {MAX_RATIO}:1 "
                                 "is accepted (a zip bomb?).")
        labels = _sheet_labels(archive)
        # a shared string is shown only by a cell that names it, and a cell takes at least CELL_BYTES of a worksheet's
        # XML: a table of more strings than the worksheets have room for holds strings no cell shows (a bomb of
        # millions of them inside the size limits costs gigabytes of memory once read)
        room = sum(p.file_size for p in parts if p.filename in labels) if labels else sum(p.file_size for p in parts)
        max_strings = room // CELL_BYTES + SPARE_STRINGS
        for part in parts:
            if part.is_dir():
                continue
            scans[part.filename] = _scan_part(archive, part, name, labels.get(part.filename), max_strings)
    return scans


CELL_BYTES = 20          # the least XML a cell naming a shared string takes: <c t="s"><v>0</v></c>
SPARE_STRINGS = 1_000    # shared strings beyond the worksheets' room that are still read


@dataclass
class PartScan:
    """What the streamed read of one XML part found: its cells (children of rows, as openpyxl reads them),
    whether it may hold a formula (an element named f), its merged ranges (at most :data:`MAX_MERGED` + 1 kept)."""
    cells: int = 0
    formulas: bool = False
    merged: list = field(default_factory=list)
    malformed: str | None = None     # the XML error where reading stopped (the parser names it later)


class _Refusal(Exception):
    pass


def _worksheet_parts(archive) -> set:
    """The parts that are worksheets of the workbook (the targets of its sheets, as its relationship part gives
    them) and declared as such in ``[Content_Types].xml``: the parts read streamed. A part declared as anything else
    (shared strings, which are read whole, named like a sheet) is not one of them."""
    try:
        types = archive.read("[Content_Types].xml")[:1024 ** 2].decode("utf-8", "replace")
    except Exception:
        return set()
    declared, other = set(), set()
    for tag in re.findall(r"<(?:\w+:)?Override\b[^>]*>", types):
        part, kind = re.search(r'\bPartName="([^"]*)"', tag), re.search(r'\bContentType="([^"]*)"', tag)
        if part:
            (declared if kind and kind.group(1).strip() == WORKSHEET_TYPE else other).add(part.group(1).lstrip("/"))
    return {part for part in _sheet_labels(archive) if part in declared and part not in other}


def _sheet_labels(archive) -> dict:
    """Part name -> "sheet NAME" for the worksheets of a workbook, as far as its small workbook and relationship
    parts tell (for messages only; {} when they cannot be read)."""
    try:
        book = archive.read("xl/workbook.xml")[:1024 ** 2].decode("utf-8", "replace")
        rels = archive.read("xl/_rels/workbook.xml.rels")[:1024 ** 2].decode("utf-8", "replace")
    except Exception:
        return {}
    targets = {}
    for tag in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", rels):
        rid, target = re.search(r'\bId="([^"]*)"', tag), re.search(r'\bTarget="([^"]*)"', tag)
        if rid and target:
            path = target.group(1).lstrip("/")
            targets[rid.group(1)] = path if path.startswith("xl/") else "xl/" + path
    labels = {}
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", book):
        sheet, rid = re.search(r'\bname="([^"]*)"', tag), re.search(r'\b(?:\w+:)?id="([^"]*)"', tag)
        if sheet and rid and rid.group(1) in targets:
            labels[targets[rid.group(1)]] = f"sheet {sheet.group(1)}"
    return labels


DAMAGED = "The workbook was not saved by Excel or LibreOffice, or is damaged: save it again from Excel or LibreOffice."
_REFERENCE = re.compile(r"([A-Za-z]+)([0-9]+)")
_COLUMNS: dict = {}   # column letters (A..XFD) -> number, as computed
_DIGITS = "0123456789"
_WATCHED = frozenset(("row", "f", "mergeCell", "dimension"))   # the elements _scan_part looks at, cells aside
_WATCHED_BOOK = _WATCHED | {"sheet", "definedName"}             # ... in the workbook part


def _check_reference(text: str) -> tuple[int, int]:
    """(row, column) of a cell reference as a worksheet's XML gives it ('B4'; no '$'): raises ValueError saying
    what is wrong with it when it is not a cell Excel could have written (a column beyond XFD, row 0)."""
    letters = text.rstrip(_DIGITS)
    column = _COLUMNS.get(letters)   # (the quick way, for the columns seen before)
    if column is not None and len(letters) < len(text) < len(letters) + 8:
        row = int(text[len(letters):])
        if 1 <= row <= MAX_ROWS:
            return row, column
    match = _REFERENCE.fullmatch(text)
    if match is None:
        raise ValueError("is not a cell reference (a column's letters, then the row's number)")
    letters, digits = match.groups()
    column = _COLUMNS.get(letters)
    if column is None:
        column = 0
        for letter in letters[:4].upper():
            column = column * 26 + ord(letter) - 64
        if len(_COLUMNS) < 20_000 and column <= MAX_COLUMNS:   # (a sheet names a few columns, on every row)
            _COLUMNS[letters] = column
    if column > MAX_COLUMNS:
        raise ValueError(f"has the column {letters[:10]}, beyond the last column of a sheet (XFD)")
    row = int(digits[:8])
    if not 1 <= row <= MAX_ROWS:
        raise ValueError(f"has the row {digits[:10]}, not a row of a sheet (1 to {MAX_ROWS:,})")
    return row, column


def _valid(reference: str) -> bool:
    try:
        _check_reference(reference)
    except ValueError:
        return False
    return True


def _check_range(text: str, merged: bool) -> None:
    """A range of cells as a worksheet's XML gives it ('A1:D26' or 'A1'): raises ValueError saying what is wrong
    with it; a merged range also has its top-left cell first (openpyxl refuses one that does not)."""
    first, colon, last = text.partition(":")
    if not all(_REFERENCE.fullmatch(cell) for cell in ((first, last) if colon else (first,))):
        raise ValueError("is not a range of cells (two cell references joined by ':', or one)")
    try:
        top, left = _check_reference(first)
        bottom, right = _check_reference(last) if colon else (top, left)
    except ValueError as error:
        cell = first if not _valid(first) else last
        raise ValueError(f"holds the cell '{cell[:20]}', which {error}") from None
    if merged and (bottom < top or right < left):
        raise ValueError(f"has its first cell {first} right of or below its last, {last}")


def _scan_part(archive, part, name: str, label: str | None, max_strings: int | None = None) -> PartScan:
    """Read one part through (streamed: memory is a chunk's whatever its size): a part that does not decompress
    is the workbook damaged; an XML part is scanned with expat for a document type anywhere in it, rows of more
    than :data:`MAX_ROW_CELLS` cells or numbered beyond :data:`MAX_ROWS`, and what :class:`PartScan` keeps."""
    from xml.parsers import expat

    where = f"part {part.filename}" + (f" ({label})" if label else "")
    scan = PartScan()
    depth, row_depth, row_cells, row = 0, -1, 0, 0   # row_depth: the depth of the open row element (-1: none)
    worksheet = label is not None             # a sheet of the workbook: its references are checked
    row_given = False                         # the open row has its number (r)
    book = part.filename == "xl/workbook.xml"
    sheets: list = []                         # the workbook part's sheet names, in order
    defined: dict | None = None               # the open definedName's attributes and text
    row_refs: set = set()     # the cell references of the open row
    rows_seen: set = set()    # the row numbers given (a sheet has at most MAX_ROWS)
    row_text, row_digits = "", 0   # the open row's number (r) as text and its length, when given
    watched = _WATCHED_BOOK if book else _WATCHED   # the elements other than cells that are looked at
    strings = -1              # the shared strings (<si> of a root <sst>) counted so far (-1: not a shared strings part)

    def twice(what: str):
        raise _Refusal(f"{name}: {where}: {what} appears twice; Excel shows one of the two and actuary could read the "
                       "other: the workbook was not saved by Excel or LibreOffice.")

    def start(tag, attrs):
        nonlocal depth, row_depth, row_cells, row, row_given, defined, row_text, row_digits, strings
        depth += 1
        if depth == row_depth + 1:   # a cell: any child of a row (openpyxl reads each as one)
            row_cells += 1
            if row_cells > MAX_ROW_CELLS:
                raise _Refusal(f"{name}: {where}: row {row:,} has more than {MAX_ROW_CELLS:,} cells (the columns "
                               "A..XFD of Excel); the workbook was not saved by Excel or LibreOffice.")
            ref = attrs.get("r")
            if ref is not None:
                if ref in row_refs:
                    twice(f"cell {ref[:20]}")
                row_refs.add(ref)
                if worksheet and ref:   # (an empty r is read as no r: the next column)
                    # the quick way, for nearly every cell: the open row's own number after the letters of a column
                    # seen before (_COLUMNS holds only letters A..XFD), what _check_reference accepts in this row
                    if row_given and ref.endswith(row_text) and ref[:-row_digits] in _COLUMNS:
                        return
                    try:
                        cell_row = _check_reference(ref)[0]
                    except ValueError as error:
                        raise _Refusal(f"{name}: {where}: the cell reference '{ref[:30]}' (<c r> in row {row:,}) "
                                       f"{error}; expected a cell of row {row:,} in columns A..XFD, such as "
                                       f"B{row}. {DAMAGED}") from None
                    if row_given and cell_row != row:
                        raise _Refusal(f"{name}: {where}: the cell reference '{ref[:30]}' is inside row {row:,} "
                                       f"(<row r=\"{row}\">); expected a cell of that row, such as B{row}: programs "
                                       f"differ in the row they read its value in. {DAMAGED}")
            return
        local = tag[tag.rfind(" ") + 1:]
        if depth <= 2 and max_strings is not None:
            if depth == 1 and local == "sst":
                strings = 0
            elif depth == 2 and strings >= 0 and local == "si":
                strings += 1
                if strings > max_strings:
                    raise _Refusal(f"{name}: {where}: the shared strings table holds more than {max_strings:,} "
                                   f"strings, more than the workbook's worksheets have cells to show "
                                   f"({max_strings - SPARE_STRINGS:,} at most in their "
                                   f"{(max_strings - SPARE_STRINGS) * CELL_BYTES / 1024 ** 2:,.1f} MB, with "
                                   f"{SPARE_STRINGS:,} to spare): strings no cell shows are not read. {DAMAGED}")
        if local not in watched:   # (a cell's value, an inline string's text, ...)
            return
        if local == "row":
            scan.cells += row_cells
            row_depth, row_cells = depth, 0
            number = attrs.get("r")
            row_refs.clear()
            previous, row_given, row_digits = row, number is not None, 0
            try:
                row = int(float(number)) if number is not None else row + 1
            except (ValueError, OverflowError):
                if worksheet:
                    raise _Refusal(f"{name}: {where}: the row number '{number[:30]}' (<row r>, after row "
                                   f"{previous:,}) is not a number; expected a whole number from 1 to {MAX_ROWS:,}. "
                                   f"{DAMAGED}") from None
                row += 1   # (the parser names the bad row number)
            if worksheet and number is not None and (row < 1 or row != float(number)):
                raise _Refusal(f"{name}: {where}: the row number '{number[:30]}' (<row r>, after row {previous:,}) "
                               f"is not a row of a sheet; expected a whole number from 1 to {MAX_ROWS:,}"
                               + (" (a row numbered below 1 is not read at all)" if row < 1 else "") + f". {DAMAGED}")
            if number is not None and row <= MAX_ROWS:
                if row in rows_seen:
                    twice(f"row {row:,}")
                rows_seen.add(row)
                if worksheet and row >= 1:   # (a whole number from 1 to MAX_ROWS: checked above)
                    row_text = str(row)
                    row_digits = len(row_text)
            if row > MAX_ROWS:
                raise _Refusal(f"{name}: {where}: row {row:,} is beyond the last row of a sheet ({MAX_ROWS:,}); the "
                               "workbook was not saved by Excel or LibreOffice.")
        elif local == "f":
            scan.formulas = True
        elif local == "mergeCell" and len(scan.merged) <= MAX_MERGED:
            ref = str(attrs.get("ref", ""))
            if worksheet:
                try:
                    _check_range(ref, merged=True)
                except ValueError as error:
                    raise _Refusal(f"{name}: {where}: the merged range '{ref[:40]}' (<mergeCell ref>) {error}; "
                                   "expected a range of cells within A1:XFD1048576, its top-left cell first, such as "
                                   f"A1:D1. {DAMAGED}") from None
            scan.merged.append(ref)
        elif local == "dimension" and worksheet and depth == 2 and attrs.get("ref"):   # (none or empty: unknown)
            ref = str(attrs.get("ref", ""))
            try:
                _check_range(ref, merged=False)
            except ValueError as error:
                raise _Refusal(f"{name}: {where}: the sheet's dimension '{ref[:40]}' (<dimension ref>, the range its "
                               f"cells are recorded in) {error}; expected a range of cells within A1:XFD1048576, "
                               f"such as A1:D26. {DAMAGED}") from None
        elif book and local == "sheet":
            sheets.append(str(attrs.get("name", ""))[:40])
            state = attrs.get("state")
            if state is not None and state not in SHEET_STATES:
                raise _Refusal(f"{name}: sheet '{sheets[-1]}' has the state '{state[:30]}' (<sheet state> in "
                               f"{part.filename}); expected visible, hidden or veryHidden. {DAMAGED}")
        elif book and local == "definedName":
            defined = {"attrs": attrs, "text": []}

    def end(tag):
        nonlocal depth, row_depth, defined
        if depth == row_depth:
            row_depth = -1
        depth -= 1
        if defined is not None and tag[tag.rfind(" ") + 1:] == "definedName":
            check_defined_name(defined["attrs"], "".join(defined["text"]))
            defined = None

    def text(data):
        if defined is not None and len(defined["text"]) < 100:
            defined["text"].append(data)

    def check_defined_name(attrs, formula: str):
        """A defined name (a print area, print titles, a name the user gave): it has a name, and the sheet it
        belongs to (localSheetId, counted from 0) is one of the workbook's. Its formula is not read by actuary."""
        label = f"the defined name '{str(attrs.get('name', ''))[:40]}' (<definedName> in {part.filename}, " \
                f"referring to '{formula[:60]}')"
        if not str(attrs.get("name", "")).strip():
            raise _Refusal(f"{name}: {label.replace(' ' + repr(''), '', 1)} has no name; expected a name such as "
                           f"_xlnm.Print_Area or one the user gave. {DAMAGED}")
        sheet = attrs.get("localSheetId")
        if sheet is not None and not (sheet.strip().isdigit() and int(sheet) < len(sheets)):
            raise _Refusal(f"{name}: {label} belongs to the sheet numbered '{sheet[:20]}' (localSheetId, counted "
                           f"from 0); expected the number of one of the workbook's {len(sheets)} sheets, 0 to "
                           f"{len(sheets) - 1}. {DAMAGED}")

    def doctype(*args):
        raise _Refusal(f"{name}: {where} declares a document type or XML entities (<!DOCTYPE/<!ENTITY); workbooks "
                       "saved by Excel or LibreOffice never do, and entities are refused (they can expand without "
                       "bound or read other files).")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler = start, end
    if book:
        parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = doctype
    xml = part.filename.lower().endswith(_XML_SUFFIXES)
    first = True
    try:
        with archive.open(part) as stream:
            while True:
                chunk = stream.read(SCAN_CHUNK)
                if first:
                    first = False
                    xml = xml or chunk.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \r\n\t").startswith((b"<?xml", b"<\x00?\x00x"))
                    if xml and _DOCTYPE.search(chunk[:PROLOG_BYTES]):
                        doctype()
                if xml and scan.malformed is None:
                    try:
                        parser.Parse(chunk, not chunk)
                    except expat.ExpatError as error:
                        scan.malformed = str(error)
                if not chunk:
                    break
        scan.cells += row_cells
    except _Refusal as refusal:
        raise InputError(str(refusal)) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError) \
            as error:
        raise InputError(f"{name}: the workbook is damaged: {where} cannot be decompressed ({error}). Save it again "
                         "from Excel or LibreOffice, or take an earlier copy.") from None
    return scan


def xml_refusal(error: Exception, name: str) -> InputError | None:
    """The InputError for an entity refused by defusedxml while openpyxl parses (None for other errors)."""
    try:
        from defusedxml import DefusedXmlException
    except ImportError:  # pragma: no cover - defusedxml is a dependency
        return None
    while error is not None and not isinstance(error, DefusedXmlException):  # openpyxl may wrap it
        error = error.__cause__ or error.__context__
    if error is not None:
        return InputError(f"{name}: the workbook's XML declares entities or a document type ({error}); they are "
                          "refused (they can expand without bound or read other files). Save it again from Excel "
                          "or LibreOffice.")
    return None


def stem_name(source: Path) -> str:
    """The output name taken from an input file (its stem; a folder's name): characters other than
    letters, digits, '.', '_', '-' become '_' (so ``=1+1 x.xlsx`` gives ``1_1_x``)."""
    source = Path(source)
    stem = source.name if source.is_dir() else source.stem
    cleaned = re.sub(r"\.{2,}", ".", re.sub(r"[^\w.-]+", "_", stem)).lstrip("._") or "case"
    return output_name(cleaned[:100], f"the name '{stem}' taken from {source.name}")

