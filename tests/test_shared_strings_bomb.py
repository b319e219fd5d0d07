"""A shared strings table larger than the worksheets could show is refused before it is read: a workbook inside every
size limit whose shared strings part held 8.5 million strings no cell named cost 1.6 GB of memory and four minutes
(openpyxl keeps each string as an object). A cell naming a shared string takes at least 20 bytes of a worksheet's XML
(<c t="s"><v>0</v></c>), so a table of more strings than the worksheets' bytes / 20 (and 1,000 to spare) holds
strings no cell shows; a workbook whose cells use their strings is read as before."""

from __future__ import annotations

import io
import zipfile

import pytest

from actuary import InputError
from actuary.io import safety

from .xlsx_edit import one_sheet_workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _with_strings(book: bytes, n: int) -> bytes:
    """``book`` with a shared strings part of ``n`` strings no cell names."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != "xl/sharedStrings.xml":
                target.writestr(item, source.read(item.filename))
        body = "".join(f"<si><t>s{i:07d}</t></si>" for i in range(n))
        target.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}" count="{n}" uniqueCount="{n}">{body}</sst>')
    return out.getvalue()


def _book(cells: int) -> bytes:
    """A workbook whose one sheet shows ``cells`` distinct shared strings, one a cell, ten cells a row, as Excel
    writes them (cells of type s naming a string of the table by its index)."""
    rows = "".join(f'<row r="{r + 1}">' + "".join(f'<c r="{"ABCDEFGHIJ"[c]}{r + 1}" t="s"><v>{10 * r + c}</v></c>'
                                                  for c in range(min(10, cells - 10 * r))) + "</row>"
                   for r in range((cells + 9) // 10))
    strings = "".join(f"<si><t>text {i}</t></si>" for i in range(cells))
    table = f'<sst xmlns="{MAIN}" count="{cells}" uniqueCount="{cells}">{strings}</sst>'
    return one_sheet_workbook(rows, {"xl/sharedStrings.xml": table})


def _room(book: bytes) -> int:
    """The most shared strings the worksheets of ``book`` could show, worked out here from the sizes of its parts."""
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        sheets = sum(p.file_size for p in archive.infolist() if p.filename.startswith("xl/worksheets/"))
    return sheets // 20 + 1_000


def test_strings_no_cell_could_show_are_refused_before_they_are_read():
    book = _book(50)
    room = _room(book)
    with pytest.raises(InputError, match=rf"part xl/sharedStrings.xml: the shared strings table holds more than "
                                         rf"{room:,} strings"):
        safety.check_container("case.xlsx", _with_strings(book, room + 1))
    safety.check_container("case.xlsx", _with_strings(book, room))   # at the bound: read


def test_a_workbook_that_shows_its_strings_is_read():
    book = _book(20_000)   # every string in a cell: the table is as long as the cells showing it (more than the spare)
    assert "xl/sharedStrings.xml" in safety.check_container("case.xlsx", book)
