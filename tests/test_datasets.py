"""labelled_dataset builds what xr.Dataset(variables, coords, attrs) builds (variables, coordinates, indexes,
attributes, dimension order), and refuses what it refuses; the results' small array helpers give NumPy's
values bit for bit."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from actuary.datasets import labelled_dataset
from actuary.projection import ratio_where_positive


def _case(n_years=4):
    years = np.arange(2025, 2025 + n_years)
    variables = {
        "reserve": (("year",), np.linspace(1.0, 2.0, n_years), {"units": "currency", "description": "end"}),
        "active": (("year", "sex", "age"), np.arange(n_years * 2 * 3, dtype=float).reshape(n_years, 2, 3),
                   {"units": "persons"}),
        "count": (("sex",), np.array([1, 2])),
        "flag": (("year",), np.arange(n_years) % 2 == 0),
        "listed": ("year", list(range(n_years))),
        "at_valuation": ((), np.float64(3.5), {"units": "currency"}),
        "number": ((), 2.5, {"units": "share"}),
        "whole": ((), 3),
        "by_year": ("year", [0.5] * n_years),
        "years_listed": ("year", list(range(2025, 2025 + n_years))),
        "labels": ("sex", ["m", "f"]),
        "given": xr.Variable(("age",), np.array([0.1, 0.2, 0.3]), {"units": "share"}),
    }
    coords = {"year": years, "sex": ["male", "female"], "age": np.arange(3),
              "year_end": ("year", years + 1)}
    return variables, coords, {"valuation_year": 2025}


def test_the_same_dataset_as_xarray_builds():
    for n_years in (4, 7):
        variables, coords, attrs = _case(n_years)
        built = labelled_dataset(variables, coords, attrs)
        expected = xr.Dataset(variables, coords=coords, attrs=attrs)
        xr.testing.assert_identical(built, expected)
        assert list(built.sizes.items()) == list(expected.sizes.items())
        assert list(built.variables) == list(expected.variables)
        assert set(built.xindexes) == set(expected.xindexes)
        for name in built.variables:
            assert built.variables[name].dtype == expected.variables[name].dtype, name
        built.reserve.attrs["units"] = "changed"          # attributes are the Dataset's own
        assert variables["reserve"][2]["units"] == "currency"


def test_disagreeing_sizes_and_dimensions_are_refused():
    variables, coords, attrs = _case()
    with pytest.raises(ValueError, match="conflicting sizes"):
        labelled_dataset(dict(variables, short=(("year",), np.zeros(3))), coords, attrs)
    with pytest.raises(ValueError):
        labelled_dataset(dict(variables, wrong=(("year", "sex"), np.zeros(4))), coords, attrs)
    with pytest.raises(ValueError):
        labelled_dataset(variables, dict(coords, year=np.arange(5)), attrs)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 50))
def test_ratio_where_positive_is_numpys_where_exactly(seed, size):
    """The average pension's ratio: n / d where d > 0, else 0 (zero, negative and NaN denominators), bit for bit
    np.where's."""
    rng = np.random.default_rng(seed)
    numerator = rng.normal(size=(size, 3)) * 10.0 ** rng.integers(-5, 6, (size, 3))
    denominator = rng.choice([0.0, -1.0, np.nan, 1e-300, 2.5, 1e6], (size, 3)) * rng.uniform(0.5, 2.0, (size, 3))
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(denominator > 0, numerator / denominator, 0.0)
    assert np.array_equal(ratio_where_positive(numerator, denominator), expected)
