"""A table input labelled as its field already (every table read from a workbook) is taken as it is, not selected
and broadcast again: the input is the same whichever way its table is given: sexes in either order, text labels
as objects (as pandas gives them) or as strings, with every label or as a scalar broadcast over them."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from actuary import Valuation


@pytest.fixture(scope="module")
def demo():
    return Valuation.demo()


def _given(da: xr.DataArray, order: tuple, labels_as_objects: bool) -> xr.DataArray:
    """``da`` (dims (sex, age)) with its sexes in ``order`` and its sex labels of dtype object or str."""
    da = da.sel(sex=list(order))
    return da.assign_coords(sex=np.array(list(order), dtype=object if labels_as_objects else str))


@pytest.mark.parametrize("order", [("male", "female"), ("female", "male")])
@pytest.mark.parametrize("labels_as_objects", [False, True])
def test_a_table_labelled_as_its_field_is_the_same_input_in_any_order_of_sexes(demo, order, labels_as_objects):
    field = demo.inputs.behaviour["probability_married"]
    assert field.dims == ("sex", "age")
    rng = np.random.default_rng(7)
    values = field.copy(data=rng.uniform(0.1, 0.9, field.shape))   # distinct values by sex and age
    given = _given(values, order, labels_as_objects)
    got = demo.replace(behaviour={"probability_married": given}).inputs.behaviour["probability_married"]
    xr.testing.assert_identical(got, values)
    assert got.coords["age"].dtype == field.coords["age"].dtype
    if order != ("male", "female"):   # (a table in the field's order is taken as given, its labels' dtype with it)
        assert got.coords["sex"].dtype == field.coords["sex"].dtype   # (the order of a workbook's table: sorted)
    assert got.values.flags.c_contiguous and not np.shares_memory(got.values, given.values)


def test_a_table_by_sex_and_age_broadcast_over_years_is_the_same_input(demo):
    """A (sex, age) table of a (year, sex, age) field is broadcast over the years, in the field's order of sexes."""
    field = demo.inputs.behaviour["participation"]
    assert field.dims == ("year", "sex", "age")
    rng = np.random.default_rng(8)
    table = field.isel(year=0, drop=True).copy(data=rng.uniform(0.0, 0.5, field.shape[1:]))
    got = demo.replace(behaviour={"participation": _given(table, ("female", "male"), True)})
    got = got.inputs.behaviour["participation"]
    assert got.dims == field.dims and got.coords["sex"].dtype == field.coords["sex"].dtype
    np.testing.assert_array_equal(got.values, np.broadcast_to(table.values, field.shape))
    np.testing.assert_array_equal(got["sex"].values, field["sex"].values)
