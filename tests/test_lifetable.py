"""Life tables rebuilt from WPP's q_x and a_x (and m_x) reproduce WPP's own L_x, S_x and e_x."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from actuary import InputError
from actuary.lifetable import (
    infant_separation_factor,
    life_table_from_mx,
    improved_mortality,
    life_expectancy,
    life_table_columns,
    life_table_from_qx,
    project_mortality,
    scaled_mortality,
    survival_ratios,
    survival_ratios_from_qx,
)


def _rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))


def test_life_table_from_qx_and_ax_reproduces_wpp(wpp_canada):
    wpp = wpp_canada["life_table"]
    table = life_table_from_qx(wpp["qx"], wpp["ax"])
    for column in ("lx", "Lx", "Sx", "Tx", "ex"):
        assert _rel(table[column], wpp[column]) <= 1e-6, column
    # the open age group is included in the comparison above; check it explicitly as well
    assert _rel(table["Sx"].sel(age=100), wpp["Sx"].sel(age=100)) <= 1e-6
    assert _rel(table["ex"].sel(age=100), wpp["ex"].sel(age=100)) <= 1e-6


def test_life_table_from_mx_reproduces_wpp_below_open_age(wpp_canada):
    wpp = wpp_canada["life_table"]
    table = life_table_from_mx(wpp["mx"], wpp["ax"])
    assert _rel(table["qx"].sel(age=slice(0, 99)), wpp["qx"].sel(age=slice(0, 99))) <= 1e-8
    assert _rel(table["Lx"], wpp["Lx"]) <= 1e-6
    assert _rel(table["Sx"], wpp["Sx"]) <= 1e-6


def test_constant_force_closed_form():
    """Constant m at every age with a_x = 1/2: q = m/(1+m/2), l_x = (1-q)^x, e_ω = 1/m."""
    m = 0.05
    ages = np.arange(0, 101)
    mx = xr.DataArray(np.full(ages.size, m), dims="age", coords={"age": ages})
    ax = xr.full_like(mx, 0.5)
    ax[-1] = 1 / m
    table = life_table_from_mx(mx, ax, radix=1.0)
    q = m / (1 + m / 2)
    np.testing.assert_allclose(table.lx, (1 - q) ** ages, rtol=1e-12)
    np.testing.assert_allclose(table.ex.sel(age=100), 1 / m, rtol=1e-12)
    # S_x = L_x / L_{x-1} = 1 - q for 1 <= x < ω
    np.testing.assert_allclose(table.Sx.sel(age=slice(1, 99)), 1 - q, rtol=1e-12)


def test_default_ax_uses_andreev_kingkade_at_age_0():
    m0 = xr.DataArray([0.01, 0.05, 0.1], dims="sex_case").expand_dims(sex=["male", "female"]).copy()
    a0 = infant_separation_factor(m0)
    np.testing.assert_allclose(a0.sel(sex="male"), [0.14929 - 1.99545 * 0.01, 0.02832 + 3.26201 * 0.05, 0.29915])
    np.testing.assert_allclose(a0.sel(sex="female"), [0.14903 - 2.05527 * 0.01, 0.04667 + 3.88089 * 0.05, 0.31411])


def test_default_ax_from_qx_is_consistent(wpp_canada):
    """With no a_x, a_0 is solved jointly with m_0 so that m_0 = q_0 / (1 - (1 - a_0) q_0)."""
    qx = wpp_canada["life_table"]["qx"].sel(year=2000)
    table = life_table_from_qx(qx)
    a0 = table.ax.sel(age=0)
    m0 = table.qx.sel(age=0) / (1 - (1 - a0) * table.qx.sel(age=0))
    np.testing.assert_allclose(a0, infant_separation_factor(m0).transpose(*a0.dims), rtol=1e-10)
    np.testing.assert_allclose(table.ax.sel(age=50), 0.5)


def test_mortality_improvement_closed_form():
    ages = np.arange(0, 5)
    qx = xr.DataArray([[0.01, 0.02, 0.03, 0.04, 1.0]] * 2, dims=("sex", "age"),
                      coords={"sex": ["male", "female"], "age": ages})
    improvement = xr.DataArray([[0.01] * 5, [0.02] * 5], dims=("sex", "age"), coords=qx.coords)
    projected = project_mortality(qx, improvement, years=np.arange(2020, 2031))
    np.testing.assert_allclose(projected.sel(year=2030, sex="male"), qx.sel(sex="male") * 0.99 ** 10)
    np.testing.assert_allclose(projected.sel(year=2025, sex="female"), qx.sel(sex="female") * 0.98 ** 5)
    # year-dependent rates: cumulative product of the rates of the years after the base year
    by_year = improvement.expand_dims(year=np.arange(2021, 2031)).copy()
    by_year.loc[dict(year=2021)] = 0.5
    projected = project_mortality(qx, by_year, years=np.arange(2020, 2031))
    np.testing.assert_allclose(projected.sel(year=2022, sex="male"), qx.sel(sex="male") * 0.5 * 0.99)


def test_survival_ratios_need_valid_probabilities():
    qx = xr.DataArray([0.1, 1.2, 1.0], dims="age", coords={"age": [0, 1, 2]})
    with pytest.raises(InputError, match=r"'qx' at age=1: value 1.2 is outside \[0, 1\]"):
        survival_ratios_from_qx(qx, xr.full_like(qx, 0.5))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(2, 40), st.floats(0.3, 8.0))
def test_survival_ratios_are_the_life_tables_column_exactly(seed, n_years, n_ages, power):
    """The survival ratios computed table by table are bit for bit the S column of the whole-array life
    table (same a_x, same fixed point for a_0, same l, L, S), zeros and certain deaths included."""
    rng = np.random.default_rng(seed)
    q = rng.uniform(0.0, 1.0, (n_years, 2, n_ages)) ** power
    q[rng.uniform(size=q.shape) < 0.1] = 0.0
    q[rng.uniform(size=q.shape) < 0.02] = 1.0
    male = np.broadcast_to(rng.integers(0, 2, 2).astype(bool), (n_years, 2))
    table = life_table_columns(q, male)
    assert np.array_equal(survival_ratios(q, male), table["Sx"], equal_nan=True)
    for age in range(1, n_ages - 1):   # e_x from the ages x and above alone: T_x / l_x of the whole table
        alive = table["lx"][..., age] > 1e-200
        np.testing.assert_allclose(life_expectancy(q, age)[alive], table["ex"][..., age][alive], rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(0, 5), st.integers(2, 12))
def test_improved_and_scaled_mortality_are_the_numpy_products_exactly(seed, n_years, tail, n_ages):
    """q(t) = clip(q(t0) x cumulative product of (1 - AI) over the years (the last year's rates held for the
    tail), q_ω = 1, and the benefit groups' q = clip(q x factor), bit for bit as NumPy's cumprod and clip give
    them (deterioration, negative improvement, and factors taking q past 1 included)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.0, 0.6, (2, n_ages))
    improvement = rng.uniform(-0.3, 0.2, (n_years, 2, n_ages))
    factor = np.ones((n_years + tail, 2, n_ages))
    factor[1:n_years] = 1.0 - improvement[1:]
    factor[n_years:] = 1.0 - improvement[-1]
    expected = np.clip(base * np.cumprod(factor, axis=0), 0.0, 1.0)
    expected[..., -1] = 1.0
    q = improved_mortality(base, improvement, tail)
    assert np.array_equal(q, expected)
    factors = rng.uniform(0.5, 3.0, (4, 2, n_ages))
    scaled = np.clip(q[:, None] * factors[None], 0.0, 1.0)
    scaled[..., -1] = 1.0
    assert np.array_equal(scaled_mortality(q, factors), scaled)
