"""A worksheet's rows read straight from its XML part, as openpyxl's read-only worksheets give them, in one pass.

openpyxl's read-only parser builds an ElementTree element for every cell and value and reads each in Python; a
valuation sheet of 20,000 cells took a quarter of a second, and a sheet that may hold formulas was parsed a second
time to read them. :func:`sheet_rows` streams the part through expat (as :mod:`actuary.io.safety` does) and yields,
row by row, exactly what ``zip(values_ws.iter_rows(values_only=True), formulas_ws.iter_rows(values_only=True))``
yields for the sheet after ``reset_dimensions()`` (the workbook opened with ``data_only=True`` for values and
``data_only=False`` for formulas; ``()`` for the formulas when the sheet has none):

- a row is a tuple from column A to its last cell's column (a cell after it in the row is dropped, as openpyxl
  drops it), None where there is no cell; a missing row is ``[]``; a row numbered at or before one already read is
  skipped; a row or cell without a reference follows the previous one;
- values are converted by openpyxl's own rules and functions: numbers (int unless the text has ``.``, ``e`` or
  ``E``), dates and durations for cells whose style is a date or duration format (in the workbook's epoch), shared
  strings by index, inline strings (rich text through openpyxl's own parser), booleans, ``t="d"`` ISO dates, and
  any other type (``str``, ``e``) as its text;
- formulas are read in the same pass with openpyxl's own formula parser (shared formulas translated for the cells
  that use them, array formulas and data tables as its objects).

Anything in the part that this reader does not read the way openpyxl does (an element where a cell, value or row
is expected, a second value in a cell, a row outside ``sheetData``, an encoding other than UTF-8, XML that does not
parse) raises :class:`Unsupported` before any row that could differ: the caller reads the sheet with openpyxl
instead. A value that openpyxl cannot convert raises the exception openpyxl raises, at the same row. The rest of the
sheet (its properties before the rows, its validations and settings after them) is given to openpyxl's parser
as it would see it, before the first row and after the last, so a damaged element there fails as it did.
"""

from __future__ import annotations

import io
import re
from warnings import warn
from xml.etree.ElementTree import Element, SubElement, TreeBuilder
from xml.parsers import expat

from openpyxl.cell.text import Text
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS

from .safety import SCAN_CHUNK

_NS = SHEET_MAIN_NS + " "           # expat's names: "namespace local" (namespace_separator " ")
_ROW, _CELL, _VALUE, _FORMULA = _NS + "row", _NS + "c", _NS + "v", _NS + "f"
_INLINE, _TEXT, _SHEET_DATA = _NS + "is", _NS + "t", _NS + "sheetData"
_ET = "{" + SHEET_MAIN_NS + "}"     # ElementTree's names: "{namespace}local"
# elements openpyxl's parser reads wherever they are (WorkSheetParser.parse): inside an inline string they would not
# be read as text
_DISPATCHED = {_NS + local for local in (
    "col", "sheetProtection", "extLst", "conditionalFormatting", "legacyDrawing", "rowBreaks", "colBreaks",
    "customSheetViews", "printOptions", "pageMargins", "pageSetup", "headerFooter", "autoFilter", "dataValidations",
    "sheetPr", "sheetViews", "sheetFormatPr", "scenarios", "tableParts", "hyperlinks", "mergeCells", "row",
    "sheetData")}
_REFERENCE = re.compile(r"[A-Z]{1,3}[0-9]+")
_DIGITS = "0123456789"
_ENCODING = re.compile(rb"""^<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
MAX_HEAD_BYTES = 16 * 1024 ** 2     # what comes before the rows is kept to be given to openpyxl (a few kB)
KEPT_BYTES = 4096                   # kept while reading the rows (the end of the rows is in them)

# parser states
_OUTSIDE, _SHEET, _ROW_OPEN, _CELL_OPEN, _IN_VALUE, _IN_FORMULA, _IN_INLINE, _IN_TEXT, _IN_RICH, _AFTER = range(10)


class Unsupported(Exception):
    """The sheet holds something :func:`sheet_rows` does not read as openpyxl does: read it with openpyxl."""


class _Stop(Exception):
    """Ends the expat parse: a row's error or an unsupported element is queued."""


class _Fail:
    """A queued exception, raised when the rows before it have been given."""

    def __init__(self, error: BaseException):
        self.error = error


def _element_name(name: str) -> str:
    """An expat name ("namespace local") as ElementTree names it ("{namespace}local")."""
    namespace, _, local = name.rpartition(" ")
    return "{" + namespace + "}" + local if namespace else local


def _element_attributes(attrs: dict) -> dict:
    return {_element_name(k): v for k, v in attrs.items()} if any(" " in k for k in attrs) else dict(attrs)


def _tag_end(data: bytes, start: int) -> int:
    """The index of the ``>`` closing the tag that starts at ``data[start]`` (quoted attribute values skipped)."""
    quote = None
    for index in range(start, len(data)):
        byte = data[index]
        if quote is not None:
            if byte == quote:
                quote = None
        elif byte in (0x22, 0x27):
            quote = byte
        elif byte == 0x3E:
            return index
    raise Unsupported("a tag does not end")


def _read_with_openpyxl(document: bytes) -> None:
    """Let openpyxl's parser read the sheet's elements other than its rows (it raises on a damaged one)."""
    for _ in WorkSheetParser(io.BytesIO(document), [], data_only=True).parse():
        raise Unsupported("a row outside the sheet's data")


def sheet_rows(stream, shared_strings, epoch, date_formats, timedelta_formats, formulas: bool,
               chunk_size: int = SCAN_CHUNK):
    """The rows of a worksheet part (``stream``: the part, opened from the workbook's archive) as pairs (values,
    formulas), as zipping openpyxl's ``iter_rows(values_only=True)`` of the sheet read for values and (when
    ``formulas``) for formulas gives them (``()`` for formulas otherwise); ``shared_strings``, ``epoch``,
    ``date_formats`` and ``timedelta_formats`` as openpyxl read them from the workbook. Raises :class:`Unsupported`
    (before any row that could differ) when the part is not read as openpyxl reads it."""
    return _rows(stream, shared_strings, epoch, date_formats, timedelta_formats, formulas, chunk_size)


def _rows(stream, shared_strings, epoch, date_formats, timedelta_formats, formulas: bool, chunk_size: int):
    queue: list = []          # (row number, values, formulas), _Fail, or a callable run in turn
    empty = []                # openpyxl's missing row (one list, given for every missing row)
    columns: dict = {}        # column letters -> index
    formula_reader = WorkSheetParser(None, shared_strings, data_only=False) if formulas else None

    state = _OUTSIDE
    depth = 0                 # open elements outside the sheet's data
    text = None               # the list collecting character data, when it is kept
    row_number = 0            # openpyxl's row counter
    column_counter = 0        # openpyxl's column counter
    row_error = None          # the first exception of the open row (raised at its end, as openpyxl does)
    cells_columns: list = []
    cells_values: list = []
    cells_formulas: list = []  # (position in the row, the cell as an element) of cells with a formula
    add_column, add_value = cells_columns.append, cells_values.append
    dense = True              # the open row's cells are columns 1, 2, ... in order
    cell_attrs = None
    value_text = None
    formula_attrs = formula_text = None
    inline = None             # the inline string: None, its text (one plain <t>), or an element (rich text)
    text_attrs = None
    builder = None            # a TreeBuilder for an inline string read by openpyxl's rich text parser
    rich_depth = 0
    seen = 0                  # bit set of the open cell's children: 1 v, 2 f, 4 is
    chunks: list = []         # (offset, bytes) kept for the parts given to openpyxl
    positions = {}            # root, sheet_data, root_tag_end, tail

    def unsupported(why: str):
        nonlocal state
        state = -1
        queue.append(_Fail(Unsupported(why)))
        raise _Stop

    def index() -> int:
        return parser.CurrentByteIndex

    def start_rich(tag, attrs):
        """Read the open inline string with openpyxl's rich text parser from here on."""
        nonlocal builder, state, rich_depth, text
        builder = TreeBuilder()
        builder.start(_ET + "is", {})
        rich_depth = 0
        if state == _IN_TEXT or text_attrs is not None:
            builder.start(_ET + "t", _element_attributes(text_attrs))
            if inline:
                builder.data(inline)
            if state == _IN_TEXT:
                if text:
                    builder.data("".join(text))
                rich_depth = 1
            else:
                builder.end(_ET + "t")
        state = _IN_RICH
        text = _BuilderText(builder)
        rich_start(tag, attrs)

    def rich_start(tag, attrs):
        nonlocal rich_depth
        if tag in _DISPATCHED:
            unsupported(f"element {tag} in an inline string")
        builder.start(_element_name(tag), _element_attributes(attrs))
        rich_depth += 1

    def start(tag, attrs):
        nonlocal state, depth, text, row_number, column_counter, row_error, dense, cell_attrs, value_text, seen
        nonlocal formula_attrs, formula_text, inline, text_attrs, builder, rich_depth
        if state == _ROW_OPEN:
            if tag != _CELL:
                unsupported(f"element {tag} in a row")
            state, cell_attrs, value_text, seen, inline, text_attrs = _CELL_OPEN, attrs, None, 0, None, None
        elif state == _CELL_OPEN:
            if tag == _VALUE and not seen & 1:
                state, seen, text = _IN_VALUE, seen | 1, []
            elif tag == _FORMULA and not seen & 2:
                state, seen, formula_attrs, text = _IN_FORMULA, seen | 2, attrs, []
            elif tag == _INLINE and not seen & 4:
                seen |= 4
                if attrs:   # read by openpyxl's parser (which refuses most)
                    state, builder, rich_depth = _IN_RICH, TreeBuilder(), 0
                    builder.start(_ET + "is", _element_attributes(attrs))
                    text = _BuilderText(builder)
                else:
                    state = _IN_INLINE
            else:
                unsupported(f"element {tag} in a cell")
        elif state == _SHEET:
            if tag != _ROW:
                unsupported(f"element {tag} in the sheet's data")
            cells_columns.clear()
            cells_values.clear()
            cells_formulas.clear()
            state, dense, column_counter, row_error = _ROW_OPEN, True, 0, None
            try:
                number = attrs.get("r")
                if number is not None:
                    try:
                        row_number = int(number)
                    except ValueError:
                        val = float(number)
                        if val.is_integer():
                            row_number = int(val)
                        else:
                            raise ValueError(f"{number} is not a valid row number")
                else:
                    row_number += 1
            except Exception as error:   # raised at the row's end, before its cells' (as openpyxl does)
                row_error = error
        elif state == _IN_INLINE:
            if tag == _TEXT and text_attrs is None:
                state, text_attrs, text = _IN_TEXT, attrs, []
            else:
                start_rich(tag, attrs)
        elif state == _IN_TEXT:
            start_rich(tag, attrs)
        elif state == _IN_RICH:
            rich_start(tag, attrs)
        elif state in (_IN_VALUE, _IN_FORMULA):
            unsupported(f"element {tag} in a cell's value or formula")
        else:   # outside the sheet's data
            depth += 1
            if depth == 1:
                positions["root"] = index()
            if tag == _SHEET_DATA:
                if state != _OUTSIDE or depth != 2:
                    unsupported("sheetData where it is not expected")
                state = _SHEET
                positions["sheet_data"] = index()
                queue.append(head)
            elif tag == _ROW:
                unsupported("a row outside the sheet's data")

    def end(tag):
        nonlocal state, depth, text, value_text, formula_text, inline, rich_depth, column_counter, row_error, dense
        if state == _IN_VALUE:
            value_text, text, state = "".join(text), None, _CELL_OPEN
        elif state == _CELL_OPEN:   # the cell's end: its value, as openpyxl's parse_cell
            state = _ROW_OPEN
            if row_error is not None:
                return
            try:
                attrs = cell_attrs
                data_type = attrs.get("t", "n")
                style_id = attrs.get("s", 0)
                if style_id:
                    style_id = int(style_id)
                value = None if data_type == "inlineStr" else value_text or None
                reference = attrs.get("r")
                if reference:
                    letters = reference.rstrip(_DIGITS)   # (columns holds only letters A..ZZZ seen before)
                    column = columns.get(letters)
                    if column is None or len(letters) == len(reference):
                        column = coordinate_to_tuple(reference)[1]   # openpyxl's errors for what is not a reference
                        if _REFERENCE.fullmatch(reference):
                            columns[letters] = column
                    column_counter = column
                else:
                    column_counter += 1
                    column = column_counter
                if value is not None:
                    if data_type == "n":
                        value = float(value) if "." in value or "E" in value or "e" in value else int(value)
                        if style_id in date_formats:
                            try:
                                value = from_excel(value, epoch, timedelta=style_id in timedelta_formats)
                            except (OverflowError, ValueError):
                                warn(f"Cell {reference} is marked as a date but the serial value {value} is outside "
                                     "the limits for dates. The cell will be treated as an error.")
                                value = "#VALUE!"
                    elif data_type == "s":
                        value = shared_strings[int(value)]
                    elif data_type == "b":
                        value = bool(int(value))
                    elif data_type == "d":
                        value = from_ISO8601(value)
                elif data_type == "inlineStr" and seen & 4:
                    value = Text.from_tree(inline).content if isinstance(inline, Element) else inline
            except Exception as error:
                row_error = error
                return
            if dense and column != len(cells_columns) + 1:
                dense = False
            add_column(column)
            add_value(value)
            if seen & 2 and formula_reader is not None:
                cell = Element(_ET + "c", _element_attributes(attrs))
                formula = SubElement(cell, _ET + "f", _element_attributes(formula_attrs))
                formula.text = formula_text
                cells_formulas.append((len(cells_values) - 1, cell))
        elif state == _IN_FORMULA:
            formula_text, text, state = "".join(text) if text else None, None, _CELL_OPEN
        elif state == _IN_TEXT:
            inline, text, state = "".join(text), None, _IN_INLINE
        elif state == _IN_INLINE:   # </is> with one plain <t> (or none: no text)
            if text_attrs is None:
                inline = ""
            state = _CELL_OPEN
        elif state == _IN_RICH:
            if rich_depth:
                builder.end(_element_name(tag))
                rich_depth -= 1
            else:
                builder.end(_ET + "is")
                inline, text, state = builder.close(), None, _CELL_OPEN
        elif state == _ROW_OPEN:   # the row's end: openpyxl's _get_row
            state = _SHEET
            if row_error is not None:
                queue.append(_Fail(row_error))
                raise _Stop
            values = _placed(cells_columns, cells_values, dense)
            if formula_reader is None:
                queue.append((row_number, values, ()))
                return
            shown = list(cells_values)
            try:
                for position, cell in cells_formulas:
                    shown[position] = formula_reader.parse_formula(cell)
            except Exception as error:
                queue.append(_Fail(error))
                raise _Stop
            queue.append((row_number, values, _placed(cells_columns, shown, dense)))
        elif state == _SHEET:
            state = _AFTER
            depth -= 1
            positions["tail"] = index()
        else:
            depth -= 1

    def characters(data):
        if text is not None:
            text.append(data)

    def head():
        """Give openpyxl the sheet up to its rows (properties, views, columns) before the first row."""
        data = b"".join(chunk for _, chunk in chunks)
        root, sheet_data = positions["root"], positions["sheet_data"]
        positions["root_tag_end"] = _tag_end(data, root) + 1
        name = re.match(rb"<([^\s/>]+)", data[root:])
        if name is None:
            raise Unsupported("the root element cannot be named")
        positions["root_tag"] = data[:positions["root_tag_end"]]
        _read_with_openpyxl(data[:sheet_data] + b"</" + name.group(1) + b">")

    def tail():
        """Give openpyxl the sheet after its rows (validations, merged cells, page setup) after the last row."""
        first = chunks[0][0]
        data = b"".join(chunk for _, chunk in chunks)
        start = positions["tail"] - first   # expat: where </sheetData> starts, or where <sheetData/> ends
        if start < 0:
            raise Unsupported("the end of the sheet's data was not kept")
        opened = positions["sheet_data"] - first   # where <sheetData starts, if still kept
        closed = _tag_end(data, opened) if opened >= 0 else -1
        if closed + 1 == start and data[closed - 1:closed] == b"/":
            pass   # <sheetData/>: the sheet goes on right after it (perhaps with the root's own end tag)
        elif data.startswith(b"</", start):
            start = data.index(b">", start) + 1
        else:
            raise Unsupported("the end of the sheet's data cannot be found")
        _read_with_openpyxl(positions["root_tag"] + data[start:])

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, characters
    parser.buffer_text = True

    offset = 0
    counter = 1
    stopped = False
    while True:
        chunk = stream.read(chunk_size) if not stopped else b""
        if offset == 0 and chunk:
            declared = _ENCODING.match(chunk.removeprefix(b"\xef\xbb\xbf"))
            if not chunk.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(b"<") or (
                    declared is not None and declared.group(1).lower() not in (b"utf-8", b"utf8")):
                raise Unsupported("the part is not UTF-8 XML")
        if not stopped:
            chunks.append((offset, chunk))
            if state not in (_OUTSIDE, _AFTER):   # in the rows: only the last kB are kept (for </sheetData>)
                while len(chunks) > 2 and offset + len(chunk) - chunks[1][0] >= KEPT_BYTES:
                    del chunks[0]
            if state == _OUTSIDE and offset > MAX_HEAD_BYTES:
                raise Unsupported("the part has more than 16 MB before its rows")
            offset += len(chunk)
            try:
                parser.Parse(chunk, not chunk)
            except _Stop:
                stopped = True
            except expat.ExpatError as error:
                queue.append(_Fail(Unsupported(f"the XML does not parse ({error})")))
                stopped = True
        if not stopped and not chunk:
            if state != _AFTER:
                queue.append(_Fail(Unsupported("the part has no sheetData")))
            else:
                queue.append(tail)
        for item in queue:
            if type(item) is tuple:
                number, values, shown = item
                while counter < number:
                    counter += 1
                    yield empty, (empty if formulas else ())
                if counter <= number:
                    counter += 1
                    yield values, shown
            elif type(item) is _Fail:
                raise item.error
            else:
                item()
        queue.clear()
        if stopped or not chunk:
            return


class _BuilderText:
    """Character data of a rich inline string, given to its TreeBuilder."""

    def __init__(self, builder):
        self.append = builder.data


def _placed(columns: list, values: list, dense: bool) -> tuple:
    """A row as openpyxl's _get_row places its cells: from column 1 to the last cell's column."""
    if dense:
        return tuple(values)
    if not columns:
        return ()
    last = columns[-1]
    row = [None] * last
    for column, value in zip(columns, values):
        if 1 <= column <= last:
            row[column - 1] = value
    return tuple(row)
