"""Random damage to the Demoland workbook (a cell's type, sign, magnitude, a blank, a deleted row or
column): the workbook is either refused with one message naming the sheet and cell, or it runs and
every projected number is finite (a ratio may be undefined, NaN, where its denominator is zero: e.g.
the benefit ratio of a scheme without old-age pensioners; never infinite). Never another exception."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from actuary import InputError, load_workbook
from actuary.valuation import DEMOLAND

from .xlsx_edit import edit, set_cells

# sheet: (first data row, last data row, last column) of the Demoland workbook
SHEETS = {
    "Settings": (3, 15, 2), "Scheme": (3, 42, 2), "Economy": (3, 4, 2), "Initial state": (3, 3, 2),
    "Schedules": (4, 103, 14), "Retirement ages": (4, 203, 4), "Accrual": (4, 54, 2), "Population": (4, 245, 4),
    "Demographic rates": (4, 245, 12), "Fertility": (4, 124, 2), "Labour force": (4, 215, 9),
    "Decrements": (4, 215, 6), "Insured": (4, 2763, 5), "Pensioners": (4, 409, 5),
}
VALUES = st.one_of(
    st.none(),                                                        # blank
    st.sampled_from(["abc", "inf", "-inf", "nan", "1e999", "0,5", "", " ", "=1+1", "TRUE", "none", "[/]"]),
    st.booleans(),
    st.sampled_from([0, -1, 1, 2, 0.5, -0.5, 1e-12, 1e12, 1e300, -1e300, 15, 120, 2020]),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
CELL_MESSAGE = re.compile(r"^([^!:]+![A-Z]+\d+|[^:]+\.xlsx): ")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """Demoland without the balance-sheet reruns (one projection per example keeps the test quick)."""
    path = tmp_path_factory.mktemp("mutations") / "base.xlsx"
    return set_cells(DEMOLAND / "valuation.xlsx", path, {"Settings": {"B15": "no"}})


@st.composite
def mutations(draw):
    sheet = draw(st.sampled_from(sorted(SHEETS)))
    first, last, columns = SHEETS[sheet]
    kind = draw(st.sampled_from(["cell", "cell", "cell", "row", "column"]))
    if kind == "row":
        return sheet, "row", draw(st.integers(1, last + 1)), None
    if kind == "column":
        return sheet, "column", draw(st.integers(1, columns + 1)), None
    row = draw(st.integers(first, last))
    column = draw(st.integers(1 if first == 4 else 2, columns))
    return sheet, "cell", f"{get_column_letter(column)}{row}", draw(VALUES)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations())
@example(mutation=("Scheme", "row", 15, None))   # the maximum pension's row deleted: no maximum (infinite), as documented
@example(mutation=("Scheme", "cell", "B23", 13478978560.0))   # an indexation lag that asked for 100 GiB of history
def test_damaged_workbook_is_refused_with_a_cell_or_runs_finite(mutation, base, tmp_path):
    sheet, kind, where, value = mutation
    path = tmp_path / "damaged.xlsx"
    if kind == "cell":
        set_cells(base, path, {sheet: {where: value}})
    else:
        edit(base, path, {sheet: (lambda s: s.delete_row(where)) if kind == "row" else
                          (lambda s: s.delete_column(where))})
    try:
        valuation = load_workbook(path)
    except InputError as error:
        assert CELL_MESSAGE.match(str(error)), (mutation, str(error))
        assert "\n" not in str(error)
        return
    projection = valuation.run().projection
    for name, variable in projection.data_vars.items():
        if variable.dtype.kind == "f":
            values = variable.values
            if name == "maximum_pension" and np.isinf(valuation.inputs.scheme["maximum_pension"]).all():
                assert np.isposinf(values).all(), mutation   # no maximum (its row deleted: the default)
                continue
            ratio = variable.attrs.get("units") not in ("currency", "persons", "index")
            assert np.isfinite(values[~np.isnan(values)] if ratio else values).all(), (mutation, name)
