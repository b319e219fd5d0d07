"""Write ``demoland_pinned.nc``: a compact fingerprint of Demoland's full results (every variable of
``Valuation.demo().run()``'s projection and summary), read by ``tests/test_pinned_results.py``.

This file guards work that must change NO result (performance rewrites, refactoring): it is not
evidence that the results are right (the other tests are). Regenerate it ONLY when the results change
on purpose (a new convention, a corrected equation, a changed Demoland workbook), in the commit that
changes them, saying so in the commit message:

    .venv/bin/python tests/data/make_demoland_pinned.py

The fingerprint of a variable (see :func:`fingerprint`): its values in full when it has at most
two dimensions; otherwise its sums over the years (every other cell) and its sums over every other
dimension (every year): a change in any cell moves both.
"""

from pathlib import Path

import numpy as np
import xarray as xr

HERE = Path(__file__).resolve().parent
PINNED = HERE / "demoland_pinned.nc"


def fingerprint(results) -> xr.Dataset:
    """Projection variables as ``p__<name>`` (with ``__by_cell`` and ``__by_year`` parts for the variables
    of 3 or more dimensions) and summary variables as ``s__<name>``; plain arrays, no coordinates."""
    out = {}
    projection = results.projection
    for name, da in projection.data_vars.items():
        values = np.asarray(da.values, dtype=float)
        dims = [f"{name}_{d}" for d in da.dims]
        if da.ndim <= 2 or "year" not in da.dims:
            out[f"p__{name}"] = (dims, values)
            continue
        axis = da.dims.index("year")
        out[f"p__{name}__by_cell"] = ([d for i, d in enumerate(dims) if i != axis], values.sum(axis=axis))
        others = tuple(i for i in range(values.ndim) if i != axis)
        out[f"p__{name}__by_year"] = ([dims[axis]], values.sum(axis=others))
    for name, da in results.summary.data_vars.items():
        out[f"s__{name}"] = ([f"s_{name}_{d}" for d in da.dims], np.asarray(da.values, dtype=float))
    for name, da in results.summary.coords.items():
        out[f"c__{name}"] = ([f"c_{name}_{d}" for d in da.dims], np.asarray(da.values, dtype=float))
    return xr.Dataset(out)


def main():
    from actuary import Valuation

    data = fingerprint(Valuation.demo().run())
    data.to_netcdf(PINNED, engine="scipy")  # netCDF3: no per-variable HDF5 overhead
    print(f"{PINNED}: {PINNED.stat().st_size / 1e3:.0f} kB, {len(data.data_vars)} arrays")


if __name__ == "__main__":
    main()
