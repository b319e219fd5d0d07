"""Checks on labelled inputs.

Every failed check raises :class:`InputError` (a ``ValueError``) whose message names the input, the
coordinate of the offending cell (``year=1950, sex=male, age=3``) and the value, and says what was
expected. The functions return the input transposed to the requested dimension order so that the
kernels can take ``.values`` directly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

SEXES = ("male", "female")


class InputError(ValueError):
    """An input that cannot be used, with a message that names the field, the cell and the value.

    ``field`` (e.g. "economy.inflation") and ``where`` (e.g. {"year": 2031}) locate the offending
    cell for readers that map fields back to their source (the workbook names Sheet!Cell)."""

    def __init__(self, message: str, field: str | None = None, where: dict | None = None):
        super().__init__(message)
        self.field = field
        self.where = where or {}


def _labels(da: xr.DataArray, flat_index: int) -> dict:
    index = np.unravel_index(flat_index, da.shape)
    out = {}
    for dim, i in zip(da.dims, index):
        label = da[dim].values[i] if dim in da.coords else i
        out[dim] = label.item() if isinstance(label, np.generic) else label
    return out


def _where(da: xr.DataArray, flat_index: int) -> str:
    return ", ".join(f"{dim}={label}" for dim, label in _labels(da, flat_index).items())


def _cell_error(name: str, da: xr.DataArray, flat_index: int, text: str) -> InputError:
    """InputError for one cell: "Input 'name' at year=..., age=...: <text>", with field and where."""
    return InputError(f"Input '{name}' at {_where(da, flat_index)}: {text}", field=name,
                      where=_labels(da, flat_index))


def cell(da: xr.DataArray, flat_index: int) -> str:
    """Human-readable coordinate of a cell, e.g. ``year=1950, sex=male, age=3``."""
    return _where(da, flat_index)


def labelled(name: str, value, dims: Sequence[str]) -> xr.DataArray:
    """Require ``value`` to be a DataArray with exactly ``dims`` (any order); return it in that order."""
    if not isinstance(value, xr.DataArray):
        raise InputError(
            f"Input '{name}' must be an xarray.DataArray with dimensions {tuple(dims)}; "
            f"got {type(value).__name__}."
        )
    if set(value.dims) != set(dims) or len(value.dims) != len(dims):
        raise InputError(
            f"Input '{name}' has dimensions {tuple(value.dims)}; expected exactly {tuple(dims)}."
        )
    for dim in dims:
        if dim not in value.coords:
            raise InputError(f"Input '{name}' has no coordinate labels for dimension '{dim}'.")
    return value.transpose(*dims)


def finite(name: str, da: xr.DataArray) -> xr.DataArray:
    values = np.asarray(da.values)
    if not np.issubdtype(values.dtype, np.number):
        raise InputError(f"Input '{name}' must hold numbers; got values of type {values.dtype}.")
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _cell_error(name, da, i, f"value {values.flat[i]} is not a finite number; "
                                       "every cell must hold a number (fill missing cells explicitly).")
    return da


def nonnegative(name: str, da: xr.DataArray, what: str = "a count") -> xr.DataArray:
    finite(name, da)
    values = np.asarray(da.values)
    bad = values < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _cell_error(name, da, i, f"value {values.flat[i]} is negative; expected {what} >= 0.")
    return da


def probability(name: str, da: xr.DataArray, what: str = "a probability") -> xr.DataArray:
    finite(name, da)
    values = np.asarray(da.values)
    bad = (values < 0) | (values > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _cell_error(name, da, i, f"value {values.flat[i]} is outside [0, 1]; expected {what} between 0 and 1.")
    return da


def positive(name: str, da: xr.DataArray, what: str = "a positive number") -> xr.DataArray:
    finite(name, da)
    values = np.asarray(da.values)
    bad = values <= 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _cell_error(name, da, i, f"value {values.flat[i]} is not positive; expected {what} > 0.")
    return da


def integer_steps(name: str, da: xr.DataArray, dim: str, start: int | None = None) -> np.ndarray:
    """The coordinate ``dim`` must be integers increasing by exactly 1 (no gaps, no duplicates)."""
    labels = np.asarray(da[dim].values)
    if labels.size == 0:
        raise InputError(f"Input '{name}' has no {dim}s.")
    if not np.issubdtype(labels.dtype, np.number) or np.any(labels != np.round(labels)):
        raise InputError(f"Input '{name}': {dim} labels must be whole numbers; got {labels[:5].tolist()}...")
    labels = labels.astype(np.int64)
    if start is not None and labels[0] != start:
        raise InputError(f"Input '{name}': {dim}s must start at {start}; the first {dim} is {labels[0]}.")
    steps = np.diff(labels)
    bad = np.flatnonzero(steps != 1)
    if bad.size:
        i = int(bad[0])
        problem = "is repeated" if steps[i] == 0 else ("is out of order" if steps[i] < 0 else "leaves a gap")
        raise InputError(
            f"Input '{name}': {dim} {labels[i + 1]} after {dim} {labels[i]} {problem}; "
            f"{dim}s must be consecutive whole numbers in increasing order.", field=name, where={dim: int(labels[i + 1])}
        )
    return labels


def increasing(name: str, da: xr.DataArray, dim: str) -> np.ndarray:
    """The coordinate ``dim`` must be whole numbers in strictly increasing order (gaps allowed)."""
    labels = np.asarray(da[dim].values)
    if not np.issubdtype(labels.dtype, np.number) or np.any(labels != np.round(labels)):
        raise InputError(f"Input '{name}': {dim} labels must be whole numbers; got {labels[:5].tolist()}...")
    steps = np.diff(labels)
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        i = int(bad[0])
        problem = "is repeated" if steps[i] == 0 else "is out of order"
        raise InputError(f"Input '{name}': {dim} {labels[i + 1]} after {dim} {labels[i]} {problem}; "
                         f"{dim}s must increase.", field=name, where={dim: int(labels[i + 1])})
    return labels.astype(np.int64)


def sexes(name: str, da: xr.DataArray) -> xr.DataArray:
    labels = [str(s) for s in da["sex"].values]
    unknown = [s for s in labels if s not in SEXES]
    if unknown:
        raise InputError(f"Input '{name}': unknown sex '{unknown[0]}'; expected {' or '.join(SEXES)} (lower case).",
                         field=name,
                         where={"sex": unknown[0]})
    if sorted(labels) != sorted(SEXES):
        raise InputError(f"Input '{name}': sexes {labels}; expected exactly {list(SEXES)}, once each.")
    # (positions rather than labels: what sel would look up, without its index query)
    return da.copy() if labels == list(SEXES) else da.isel(sex=[labels.index(s) for s in SEXES])


def same_labels(name: str, da: xr.DataArray, dim: str, expected: np.ndarray, reference: str) -> None:
    labels = np.asarray(da[dim].values)
    if labels.shape != expected.shape or np.any(labels != expected):
        missing = [v for v in expected.tolist() if v not in set(labels.tolist())]
        extra = [v for v in labels.tolist() if v not in set(expected.tolist())]
        detail = []
        if missing:
            detail.append(f"missing {dim} {missing[:5]}")
        if extra:
            detail.append(f"unexpected {dim} {extra[:5]}")
        raise InputError(
            f"Input '{name}': {dim} labels do not match those of {reference} "
            f"({', '.join(detail) or 'different order'}); expected {dim}s {expected[0]}..{expected[-1]}."
        )


def covers_years(name: str, da: xr.DataArray, years: np.ndarray) -> xr.DataArray:
    """Select ``years`` from ``da``; every one must be present (extra years are allowed)."""
    labels = integer_steps(name, da, "year")
    missing = np.setdiff1d(years, labels)
    if missing.size:
        raise InputError(
            f"Input '{name}': year {missing[0]} is missing; the projection needs years "
            f"{years[0]}..{years[-1]} and '{name}' covers {labels[0]}..{labels[-1]}.", field=name
        )
    return da.sel(year=years)
