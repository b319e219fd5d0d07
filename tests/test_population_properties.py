"""Invariants of the cohort-component projection (hypothesis over random valid inputs)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from actuary.demography import project_population

from .strategies import population_inputs

SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(population_inputs())
def test_kernel_matches_numpy_reference(inputs):
    kernel = project_population(**inputs)
    reference = project_population(**inputs, engine="reference")
    for name in ("population", "births", "deaths"):
        np.testing.assert_allclose(kernel[name], reference[name], rtol=1e-10, atol=1e-6)


@SETTINGS
@given(population_inputs())
def test_no_fertility_no_migration_never_grows(inputs):
    inputs["fertility"] = inputs["fertility"] * 0
    inputs["net_migration"] = inputs["net_migration"] * 0
    total = project_population(**inputs).population.sum(["sex", "age"]).values
    assert np.all(np.diff(total) <= 1e-9 * total[:-1])


@SETTINGS
@given(population_inputs(), st.floats(0.01, 100.0))
def test_scaling_base_and_migration_scales_every_count(inputs, k):
    result = project_population(**inputs)
    inputs["base"] = inputs["base"] * k
    inputs["net_migration"] = inputs["net_migration"] * k
    scaled = project_population(**inputs)
    for name in ("population", "births", "deaths"):
        np.testing.assert_allclose(scaled[name], k * result[name], rtol=1e-10, atol=1e-6 * k)


@SETTINGS
@given(population_inputs())
def test_demographic_balance(inputs):
    """P(t+1) = P(t) + births - deaths + net migrants, by sex, every year (people are conserved)."""
    result = project_population(**inputs)
    years = result.year.values[:-1]
    start = result.population.sel(year=years).sum("age")
    end = result.population.sel(year=years + 1).sum("age").assign_coords(year=years)
    migrants = inputs["net_migration"].sel(year=years).sum("age")
    np.testing.assert_allclose(end, start + result.births.sel(year=years) - result.deaths.sel(year=years) + migrants,
                               rtol=1e-10, atol=1e-6)


def test_even_timing_exposes_half_the_migrants_to_the_year():
    """One open group, survival s, no births: 'even' ends with (P + M/2) s + M/2, 'end' with P s + M."""
    import xarray as xr

    coords = {"year": [2000], "sex": ["male", "female"], "age": [0, 1, 2]}
    base = xr.DataArray(np.array([[0, 0, 100.0], [0, 0, 100.0]]), dims=("sex", "age"),
                        coords={"sex": coords["sex"], "age": coords["age"]})
    survival = xr.DataArray(np.full((1, 2, 3), 0.9), dims=("year", "sex", "age"), coords=coords)
    migration = xr.zeros_like(survival)
    migration[0, :, 2] = 10.0
    fertility = xr.DataArray(np.zeros((1, 3)), dims=("year", "age"), coords={"year": [2000], "age": [0, 1, 2]})
    srb = xr.DataArray([1.05], dims="year", coords={"year": [2000]})
    end = project_population(base, survival, fertility, srb, migration, "end")
    even = project_population(base, survival, fertility, srb, migration, "even")
    np.testing.assert_allclose(end.population.sel(year=2001, age=2), 100 * 0.9 + 10)
    np.testing.assert_allclose(even.population.sel(year=2001, age=2), 105 * 0.9 + 5)
    np.testing.assert_allclose(even.deaths.sel(year=2000), 105 * 0.1)
