"""Streamed percentiles at point masses: a percentile whose rank falls among paths that take one value (the payable
share of 1 of every path not depleted, a reserve of 0 once depleted under settings.after_depletion payable) is that
value, not a value interpolated within the histogram bin that holds it; every other percentile stays within a bin's
width of the exact k-th smallest value (np.percentile(..., method="inverted_cdf"), the method StreamedPercentiles
documents)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from actuary import Valuation, load_workbook
from actuary.stochastic import PERCENTILES, StreamedPercentiles, simulate
from actuary.valuation import PROJECT_ROOT

DEMOLAND = PROJECT_ROOT / "valuations" / "demoland" / "valuation.xlsx"
PILOT = 200   # the paths simulate() takes the histogram ranges from


def _bin(values, reducer):
    """The histogram column of each value, as the kernel histogram_add computes it (0: below the range, bins + 1:
    at or above it)."""
    scaled = (values - reducer.low) / (reducer.high - reducer.low) * reducer.bins
    return np.clip(np.floor(scaled), -1, reducer.bins).astype(int) + 1


def _exact_where_it_must_be(paths, streamed, reducer, qs=PERCENTILES) -> int:
    """Check ``streamed`` (percentile, cells...) against the exact percentiles of ``paths`` (path, cells...): within
    a bin's width wherever the exact value is within the histogram's range (beyond it, between the least and the
    greatest value), equal wherever the exact value is the least or the greatest of all paths, or the only value of
    its bin; the number of such equal cells."""
    exact = np.percentile(paths, qs, axis=0, method="inverted_cdf")
    width = (reducer.high - reducer.low) / reducer.bins
    in_range = (exact >= reducer.low) & (exact < reducer.high)
    assert np.all(np.abs(streamed - exact)[in_range] <= np.broadcast_to(width, exact.shape)[in_range])
    assert np.all((streamed >= paths.min(axis=0)) & (streamed <= paths.max(axis=0)))
    columns = _bin(paths, reducer)
    must = np.zeros(exact.shape, dtype=bool)
    for i in range(len(qs)):
        column = _bin(exact[i], reducer)
        in_bin = columns == column
        alone = np.all(np.where(in_bin, paths == exact[i], True), axis=0)   # the bin holds only that value
        must[i] = alone | (exact[i] == paths.min(axis=0)) | (exact[i] == paths.max(axis=0))
    np.testing.assert_array_equal(streamed[must], exact[must])
    return int(must.sum())


def _paths_and_percentiles(ds):
    names = [str(v).removeprefix("path_") for v in ds.data_vars if str(v).startswith("path_")]
    paths = np.stack([ds[f"path_{n}"].values for n in names], axis=1)   # path, indicator, year
    streamed = np.stack([ds[n].values for n in names], axis=1)         # percentile, indicator, year
    reducer = StreamedPercentiles(paths[:PILOT])
    reducer.add(paths)
    # the run reduced its paths as this reducer does (the same ranges, counts, extremes)
    np.testing.assert_array_equal(reducer.percentiles(PERCENTILES), streamed)
    return names, paths, streamed, reducer


@pytest.fixture(scope="module")
def demoland():
    """`actuary stochastic valuations/demoland/valuation.xlsx --paths 500 --seed 1 --keep-paths`."""
    return simulate(load_workbook(DEMOLAND), 500, seed=1, keep_paths=True)


@pytest.fixture(scope="module")
def payable():
    """Demoland over 30 years paying only what the reserve and income allow once depleted: the reserve is then 0."""
    base = Valuation.demo().replace(settings={"after_depletion": "payable", "horizon": 30, "gap_horizons": (10, 30)})
    return simulate(base, 200, seed=3, chunk_size=64, keep_paths=True)


def test_the_payable_share_is_one_where_the_paths_not_depleted_are(demoland):
    """In 2029 6.4% of the 500 paths are depleted: P25 to P95 of the payable share are exactly 1 (they were
    0.99984 to 0.99999, interpolated within the bin that holds the 1s), P5 the exact 25th smallest value."""
    share = demoland.path_payable_share.sel(year=2029).values
    assert (share < 1).mean() == pytest.approx(0.064)
    streamed = demoland.payable_share.sel(year=2029).values
    assert list(streamed[1:]) == [1.0, 1.0, 1.0, 1.0]
    assert streamed[0] == np.sort(share)[24] < 1   # k = ceil(0.05 x 500) = 25


def test_every_percentile_of_a_run_against_the_exact_ones(demoland):
    """Every indicator and year: within a bin of the exact k-th value, equal to it at the point masses (the payable
    share of 1 in the years some paths are depleted, and any bin of one value)."""
    names, paths, streamed, reducer = _paths_and_percentiles(demoland)
    assert _exact_where_it_must_be(paths, streamed, reducer) > 0
    share = paths[:, names.index("payable_share")]
    mixed = (share == 1).any(axis=0) & (share < 1).any(axis=0)   # years with a point mass at 1 and depleted paths
    assert mixed.sum() >= 3
    exact = np.percentile(share[:, mixed], PERCENTILES, axis=0, method="inverted_cdf")
    np.testing.assert_array_equal(streamed[:, names.index("payable_share")][:, mixed][exact == 1], 1.0)


def test_a_point_mass_at_zero(payable):
    """Under after_depletion payable the reserve of a depleted path is 0 (and its reserve ratios): the percentiles
    whose rank falls among those paths are exactly 0, and the payable share's exactly 1 among the others."""
    names, paths, streamed, reducer = _paths_and_percentiles(payable)
    _exact_where_it_must_be(paths, streamed, reducer)
    for name, mass in (("reserve", 0.0), ("reserve_ratio", 0.0), ("trust_fund_ratio", 0.0), ("payable_share", 1.0)):
        values = paths[:, names.index(name)]
        mixed = (values == mass).any(axis=0) & (values != mass).any(axis=0)
        assert mixed.any(), name
        exact = np.percentile(values[:, mixed], PERCENTILES, axis=0, method="inverted_cdf")
        at_mass = exact == mass
        assert at_mass.any() and not at_mass.all(), name
        np.testing.assert_array_equal(streamed[:, names.index(name)][:, mixed][at_mass], mass, err_msg=name)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 400), shares=st.tuples(*[st.floats(0, 0.5)] * 3),
       chunk=st.integers(1, 97), qs=st.lists(st.integers(0, 100), min_size=1, max_size=6))
def test_streamed_percentiles_of_point_masses_and_neighbours(seed, n, shares, chunk, qs):
    """Values with point masses at 0, 1 and 0.37, values a millionth away from them (in the same bins) and values
    spread over (0, 1), added in chunks in any order: every percentile within a bin of the exact k-th value, and
    equal to it at a point mass at the least or the greatest value, or in a bin of one value."""
    rng = np.random.default_rng(seed)
    weights = np.array([*shares, 0.1, 0.1, 0.1, 0.3])
    kind = rng.choice(7, size=(n, 2, 3), p=weights / weights.sum())
    near = 1e-6 * rng.random((n, 2, 3))
    values = np.choose(kind, [np.zeros((n, 2, 3)), np.ones((n, 2, 3)), np.full((n, 2, 3), 0.37), near, 1 - near,
                              0.37 + near - 5e-7, rng.random((n, 2, 3))])
    values[:, 1] += rng.random((n, 3)) < 0.5   # another cell, another range
    reducer = StreamedPercentiles(values[:min(n, 50)])
    starts = list(range(0, n, chunk))
    rng.shuffle(starts)
    for start in starts:
        reducer.add(values[start:start + chunk])
    streamed = reducer.percentiles(qs)
    _exact_where_it_must_be(values, streamed, reducer, qs)
