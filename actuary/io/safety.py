"""Files are hostile until checked: limits on workbook containers, output names that cannot leave the
output folder, and input text written to output workbooks as literal text (never a live formula).

Limits on a workbook (.xlsx) before any XML is parsed (a workbook saved by Excel or LibreOffice is far
inside them; Demoland's is 0.3 MB, 1.3 MB uncompressed, at most 10:1):

- the file itself at most :data:`MAX_FILE_BYTES` (200 MB);
- at most :data:`MAX_PARTS` parts (10,000);
- all parts together at most :data:`MAX_UNCOMPRESSED_BYTES` (200 MB) uncompressed;
- every part larger than :data:`RATIO_FLOOR_BYTES` (1 MB) uncompressed at most :data:`MAX_RATIO`
  (100) times its compressed size (zip bombs);
- no XML part declares a document type (``<!DOCTYPE``): Excel and LibreOffice never write one, and
  entity declarations are how "billion laughs" expansions and external entities (XXE) work. The
  parser (openpyxl with ``defusedxml``) refuses entities as a second line.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ..validation import InputError

MAX_FILE_BYTES = 200 * 1024 ** 2
MAX_UNCOMPRESSED_BYTES = 200 * 1024 ** 2
MAX_RATIO = 100
RATIO_FLOOR_BYTES = 1024 ** 2
MAX_PARTS = 10_000
PROLOG_BYTES = 64 * 1024
MAX_CELL_TEXT = 32_767                      # Excel's limit on the characters of one cell

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


def regular_file_bytes(path, limit: int, name: str | None = None, why: str = "") -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes: a symbolic link (it can point anywhere:
    /dev/zero, another user's files), a FIFO (reading it waits for a writer), a device or a folder is refused
    before it is opened, and the file is opened without following links and without waiting, checked again once
    open (it may have been swapped) and read no further than ``limit`` + 1 bytes (it may grow). Errors are
    :class:`InputError` naming ``name`` (default: the file's name); ``why`` says what the limit is for."""
    path = Path(path)
    name = name or path.name
    try:
        kind = file_kind(os.lstat(path).st_mode)
    except OSError as error:
        raise InputError(f"{name}: cannot be read ({error.strerror or error}).") from None
    if kind is not None:
        raise InputError(f"{name}: is {kind}; expected a regular file (files are read only from the folder itself: "
                         "copy the file in instead of linking to it).")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise InputError(f"{name}: cannot be read ({error.strerror or error}).") from None
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        kind = file_kind(info.st_mode)
        if kind is not None:   # replaced between the check and the opening
            raise InputError(f"{name}: is {kind}; expected a regular file.")
        data = stream.read(limit + 1) if info.st_size <= limit else None
    if data is None or len(data) > limit:
        size = f"{info.st_size / 1024 ** 2:,.1f} MB" if data is None else f"more than {limit / 1024 ** 2:,.0f} MB"
        raise InputError(f"{name}: the file has {size}; at most {limit / 1024 ** 2:,.0f} MB are read{why}.")
    return data


def check_container(path, data: bytes | None = None) -> None:
    """Refuse a workbook whose zip container breaks the limits above (before any XML is parsed)."""
    import io

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
        total = sum(p.file_size for p in parts)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise InputError(f"{name}: the workbook expands to {total / 1024 ** 2:,.0f} MB; at most "
                             f"{MAX_UNCOMPRESSED_BYTES / 1024 ** 2:,.0f} MB uncompressed are read (a "
                             "valuation workbook is a few MB).")
        for part in parts:
            if part.file_size > RATIO_FLOOR_BYTES and part.file_size > MAX_RATIO * max(part.compress_size, 1):
                raise InputError(f"{name}: part {part.filename} expands {part.file_size / max(part.compress_size, 1):,.0f} "
                                 f"times ({part.compress_size:,} -> {part.file_size:,} bytes); at most {MAX_RATIO}:1 "
                                 "is accepted (a zip bomb?).")
        for part in parts:
            if part.is_dir():
                continue
            try:
                with archive.open(part) as stream:
                    head = stream.read(PROLOG_BYTES)
            except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, EOFError) as error:
                raise InputError(f"{name}: part {part.filename} cannot be read ({error}); the file is damaged.") \
                    from None
            xml = part.filename.lower().endswith(_XML_SUFFIXES) or head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \r\n\t") \
                .startswith((b"<?xml", b"<\x00?\x00x"))
            if xml and _DOCTYPE.search(head):
                raise InputError(f"{name}: part {part.filename} declares a document type or XML entities "
                                 "(<!DOCTYPE/<!ENTITY); workbooks saved by Excel or LibreOffice never do, and "
                                 "entities are refused (they can expand without bound or read other files).")


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

