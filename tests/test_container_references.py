"""The container check's cell references (actuary.io.safety): a worksheet's rows and cells, numbered and lettered at
random, are refused exactly when a reference is one Excel could not have written, derived here independently of the
checker (letters then digits, a column from A to XFD, a row from 1 to 1,048,576, the row that holds it). The check
takes a quick way for the references of a row it has seen the letters of; these cells exercise both ways."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from actuary import InputError
from actuary.io import safety

from .xlsx_edit import one_sheet_workbook

SHEET = "xl/worksheets/sheet1.xml"


def _column(letters: str) -> int:
    """The column number of ``letters`` (A = 1, Z = 26, AA = 27, any case), by base 26 without a zero digit."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(letter) + 1
    return number


def _excel_could_write(ref: str, row: int) -> bool:
    if ref == "":   # an empty r is read as no r (r is optional: the cell is the row's next column)
        return True
    match = re.fullmatch(r"([A-Za-z]+)([0-9]+)", ref)
    return bool(match) and _column(match.group(1)) <= 16_384 and int(match.group(2)) == row


def _scan(rows: list[tuple[int, list[str]]]):
    """check_container of a one-sheet workbook holding ``rows`` (row number, its cells' references)."""
    sheet = "".join(f'<row r="{number}">' + "".join(f'<c r="{ref}"><v>1</v></c>' for ref in refs) + "</row>"
                    for number, refs in rows)
    return safety.check_container("case.xlsx", one_sheet_workbook(sheet))


LETTERS = st.sampled_from(["A", "B", "Z", "AA", "XFD", "XFE", "ZZZ", "AAAA", "b", "xfd", "Xfd", "B1", ""])
DIGITS = st.sampled_from(["", "0", "00", "04", "1", "4", "14", "41", "1048576", "1048577", "99999999"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([1, 4, 14, 41, 1048576]),
                          st.lists(st.tuples(LETTERS, DIGITS | st.just("ROW")), min_size=1, max_size=4)),
                min_size=1, max_size=3, unique_by=lambda row: row[0]).map(sorted))
def test_cell_references_are_refused_exactly_when_excel_could_not_have_written_them(rows):
    rows = [(number, list(dict.fromkeys(letters + (str(number) if digits == "ROW" else digits)
                                        for letters, digits in cells)))
            for number, cells in rows]
    bad = next((ref for number, refs in rows for ref in refs if not _excel_could_write(ref, number)), None)
    if bad is None:
        assert SHEET in _scan(rows)
    else:
        with pytest.raises(InputError, match=rf"the cell reference '{re.escape(bad)}'"):
            _scan(rows)


def test_a_cell_of_another_row_with_the_same_last_digits_is_refused():
    """B14 in row 4 ends as row 4's number does, after letters (B1) that are not a column's."""
    _scan([(4, ["A4", "B4"])])   # the letters A and B seen before
    with pytest.raises(InputError, match=r"the cell reference 'B14' is inside row 4"):
        _scan([(4, ["A4", "B14"])])
    with pytest.raises(InputError, match=r"the cell reference 'AB4' is inside row 14"):   # (row 14 ends as 4 does)
        _scan([(14, ["A14", "AB4"])])
