"""Hypothesis strategies producing valid, labelled inputs of the real input objects."""

import numpy as np
import xarray as xr
from hypothesis import strategies as st

SEXES = ["male", "female"]


@st.composite
def population_inputs(draw, max_years=12, max_ages=25):
    n_years = draw(st.integers(1, max_years))
    n_ages = draw(st.integers(3, max_ages))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2000 + n_years)
    ages = np.arange(n_ages)
    base = xr.DataArray(rng.uniform(0, 1e5, (2, n_ages)), dims=("sex", "age"), coords={"sex": SEXES, "age": ages})
    survival = xr.DataArray(rng.uniform(0.5, 1.0, (n_years, 2, n_ages)), dims=("year", "sex", "age"),
                            coords={"year": years, "sex": SEXES, "age": ages})
    fert = rng.uniform(0, 0.3, (n_years, n_ages))
    fert[:, 0] = 0.0
    fertility = xr.DataArray(fert, dims=("year", "age"), coords={"year": years, "age": ages})
    srb = xr.DataArray(rng.uniform(0.9, 1.2, n_years), dims="year", coords={"year": years})
    migration = xr.DataArray(rng.uniform(-500, 2000, (n_years, 2, n_ages)), dims=("year", "sex", "age"),
                             coords=survival.coords)
    timing = draw(st.sampled_from(["end", "even"]))
    return dict(base=base, survival=survival, fertility=fertility, sex_ratio_at_birth=srb,
                net_migration=migration, migration_timing=timing)
