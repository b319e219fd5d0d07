"""Labelled arrays at the cost of their values. The results Datasets are built as ``xr.Dataset(variables,
coords, attrs)`` would build them but without xarray's merge of the variables, with the coordinates and
their indexes built once per set of labels (a valuation builds its Datasets from plain arrays whose
shapes match by construction; building the indexes and merging cost more than the projection's Python
code); an input's values in a given order of dimensions are read without transposing it when they are
already in that order."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import xarray as xr


def labelled_dataset(variables: dict, coords: dict, attrs: dict | None = None) -> xr.Dataset:
    """``xr.Dataset(variables, coords=coords, attrs=attrs)`` (the same variables, in the same order, with the
    same coordinates, indexes and attributes), built directly.

    ``variables``: name -> (dims, values[, attrs]) or an ``xr.Variable``; ``coords``: dimension -> labels (an
    indexed coordinate) or name -> (dims, values) (a coordinate without an index). Dimension sizes are
    checked (a variable whose shape disagrees with another's raises ValueError)."""
    built = {name: v.copy(deep=False) if isinstance(v, xr.Variable) else variable(*v) for name, v in variables.items()}
    indexed = {name: labels for name, labels in coords.items() if not isinstance(labels, tuple)}
    key = tuple((name, *_labels_key(labels)) for name, labels in indexed.items())
    template_variables, indexes = _coordinate_template(key)
    for name, labels in coords.items():
        if name in built:
            raise ValueError(f"'{name}' is both a variable and a coordinate")
        built[name] = xr.Variable(*labels) if isinstance(labels, tuple) else template_variables[name].copy(deep=False)
    return xr.Dataset._construct_direct(built, set(coords), dims=dimension_sizes(built) if _DIRECT else None,
                                        attrs=dict(attrs) if attrs else None, indexes=dict(indexes))


def dimension_sizes(variables: dict) -> dict:
    """Dimension -> size of the variables (what ``xr.Dataset`` computes, read from their slots; ValueError if
    two variables disagree on a dimension's size or a dimension is also a scalar variable)."""
    sizes = {}
    for name, v in variables.items():
        for dim, size in zip(v._dims, v._data.shape):
            if sizes.setdefault(dim, size) != size:
                raise ValueError(f"conflicting sizes for dimension {dim!r}: length {size} on {name!r} and length "
                                 f"{sizes[dim]} on another variable")
    scalar = [name for name, v in variables.items() if not v._dims and name in sizes]
    if scalar:
        raise ValueError(f"dimension {scalar[0]!r} already exists as a scalar variable")
    return sizes


# an xr.Variable is its dimensions, data, attributes and encoding (its slots): a Variable of numbers in a NumPy
# array is built by setting them, which is what its constructor does for them after converting nothing
_VARIABLE_SLOTS = {"_dims", "_data", "_attrs", "_encoding"}
_DIRECT = set(xr.Variable.__slots__) | set(getattr(xr.Variable.__mro__[1], "__slots__", ())) == _VARIABLE_SLOTS


def variable(dims, values, attrs=None) -> xr.Variable:
    """``xr.Variable(dims, values, attrs)``; numbers in a NumPy array are taken as they are (what xarray's
    conversion of the data would return for them), and so are a number or a list of numbers as an array."""
    if isinstance(values, (float, int, list, np.generic)):
        values = np.asarray(values)
    numeric = isinstance(values, np.ndarray) and type(values) is np.ndarray and values.dtype.kind in "biuf"
    if not (numeric and _DIRECT):
        return xr.Variable(dims, values, attrs, fastpath=numeric)
    dims = (dims,) if isinstance(dims, str) else tuple(dims)
    if len(dims) != values.ndim or len(set(dims)) < len(dims):
        return xr.Variable(dims, values, attrs, fastpath=True)   # its error (or warning) for these dimensions
    built = object.__new__(xr.Variable)
    built._dims, built._data, built._attrs, built._encoding = dims, values, dict(attrs) if attrs else None, None
    return built


def values_in_order(da: xr.DataArray, *dims: str) -> np.ndarray:
    """``da.transpose(*dims).values``, without building the transposed array when the dimensions are already in
    that order (validated inputs are in their field's order)."""
    return da.values if da.dims == dims else da.transpose(*dims).values


def _labels_key(labels) -> tuple:
    """(dtype, the labels' bytes), or for Python objects (dtype, the labels as a tuple)."""
    array = np.ascontiguousarray(labels)
    return array.dtype.str, tuple(array.tolist()) if array.dtype.hasobject else array.tobytes()


@lru_cache(maxsize=64)
def _coordinate_template(key: tuple) -> tuple[dict, dict]:
    """The coordinate variables and indexes of a Dataset with these labels (name, dtype, values: their bytes or
    a tuple of them)."""
    coords = {name: np.array(values, dtype=dtype) if isinstance(values, tuple)
              else np.frombuffer(values, dtype=dtype).copy() for name, dtype, values in key}
    template = xr.Dataset(coords=coords)
    return dict(template._variables), dict(template._indexes)
