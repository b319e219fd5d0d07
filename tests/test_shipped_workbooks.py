"""The workbooks shipped under valuations/ are in the layout actuary writes today (the layout docs/workbook.md
describes): a user who opens one sees the sheets, the rows and the columns the documentation names. Each is read
and written again by the writer (Valuation.to_workbook), and the two compared sheet by sheet: sheet names, the
title and header rows, the label of every row (column A) and the units (the units column of a sheet of one row per
input, the units row of a table). A difference means the writer's layout moved and the shipped workbook did not:
rebuild it with its build script (valuations/*/build.py). The notes column is left out (descriptions are reworded
more often than the layout moves)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from actuary import load_workbook
from actuary.valuation import PROJECT_ROOT

SHIPPED = sorted(p.relative_to(PROJECT_ROOT).as_posix() for folder in ("valuations", "assumptions")
                 for p in (PROJECT_ROOT / folder).rglob("*.xlsx"))


def layout(path: Path) -> dict:
    """Sheet name -> what a user sees of its layout (titles, headers, row labels, units); "sheets": their order."""
    book = openpyxl.load_workbook(path, read_only=True)
    out = {"sheets": list(book.sheetnames)}
    for ws in book.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        for row in rows:
            while row and row[-1] is None:
                row.pop()
        cell = lambda r, c: rows[r][c] if r < len(rows) and c < len(rows[r]) else None
        headers = rows[1] if len(rows) > 1 else []
        one_per_input = headers[:3] == ["field", "value", "units"]
        out[ws.title] = {
            "title": cell(0, 0),
            "headers": headers,
            "row labels": [cell(r, 0) for r in range(len(rows))],
            "units": [cell(r, 2) for r in range(2, len(rows))] if one_per_input else (rows[2] if len(rows) > 2
                                                                                       else []),
        }
    return out


def test_the_shipped_workbooks_are_found():
    assert {"valuations/demoland/valuation.xlsx", "valuations/demoland-floor/valuation.xlsx",
            "valuations/demoland-floor/floor-only.xlsx"} <= set(SHIPPED)


@pytest.mark.parametrize("shipped", SHIPPED)
def test_a_shipped_workbook_is_in_the_writers_layout(shipped, tmp_path):
    path = PROJECT_ROOT / shipped
    written = tmp_path / path.name
    load_workbook(path).to_workbook(written)
    have, want = layout(path), layout(written)
    build = f"python {Path(shipped).parent.as_posix()}/build.py"
    assert have["sheets"] == want["sheets"], f"{shipped}: its sheets differ from the writer's; rebuild it ({build})"
    for sheet in want["sheets"]:
        for part in ("title", "headers", "row labels", "units"):
            a, b = have[sheet][part], want[sheet][part]
            if a != b:
                first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b))) \
                    if isinstance(a, list) and isinstance(b, list) else None
                where = {"row labels": f" from row {first + 1}" if first is not None else "",
                         "headers": f" from column {first + 1}" if first is not None else ""}.get(part, "")
                pytest.fail(f"{shipped}: sheet '{sheet}': the {part} differ from the writer's{where} "
                            f"(shipped {a if first is None else a[first:first + 3]}, written "
                            f"{b if first is None else b[first:first + 3]}); rebuild it ({build})")
